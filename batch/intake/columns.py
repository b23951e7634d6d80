"""Header names -> the spec's canonical field names: built-in aliases, mapping files, checks.

Matching ignores case, spaces, punctuation, accents and how Danish letters are spelled (`ø`, `o`
and `oe` are one letter here, as are `æ`/`ae` and `å`/`aa`), because the same column is written
a dozen ways in municipal exports and hand-made spreadsheets.

Which columns a file must have (checked before any row is read, so a bad file stops the run):
  - `CPRNr`;
  - `KommuneInstitutionNummer`, unless the institution number is configured;
  - every required column of at least one group: the contact (`KontaktNavn`, `KontaktMail`,
    `KontaktRegistreringstid`), the job wish (`JobOnsker`, `JobRegistreringstid`) or the
    education wish (`UddannelsesOnsker`, `UddannelsesRegistreringstid`).
A group whose columns are only partly there is not a file error: the rows that use it get an
issue each, and rows using a complete group still go through.

Precedence when several headers name one field: a mapping-file entry beats the exact canonical
name, which beats a built-in alias; two headers at the same level are an error (a mapping entry
`"Header" = "ignore"` leaves a column alone, e.g. the young person's own phone number).
"""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from batch.errors import ConfigError, InputError
from batch.privacy import mask_cpr
from batch.records import CANONICAL_FIELDS, CellValue, result_column_names

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "ALIASES",
    "GROUPS",
    "IGNORE",
    "ColumnMap",
    "header_key",
    "header_matcher",
    "load_mapping",
    "map_columns",
    "unique_headers",
]

IGNORE = "ignore"  # a mapping-file value: keep the column as data, never read it as a field

# The required fields of each optional group of the request (spec 4.1.2-4.1.4).
GROUPS: dict[str, tuple[str, ...]] = {
    "contact": ("KontaktNavn", "KontaktMail", "KontaktRegistreringstid"),
    "job": ("JobOnsker", "JobRegistreringstid"),
    "education": ("UddannelsesOnsker", "UddannelsesRegistreringstid"),
}

ALIASES: dict[str, tuple[str, ...]] = {
    "CPRNr": ("cpr", "cprnr", "cpr-nr.", "cprnummer", "cpr nummer", "personnummer"),
    "KommuneInstitutionNummer": (
        "institutionsnummer",
        "institutionnummer",
        "instnr",
        "inst.nr.",
        "kommuneinstitutionsnummer",
    ),
    "KontaktNavn": ("kontaktperson", "kontakt navn", "kontaktpersonens navn"),
    "KontaktMail": ("kontakt e-mail", "kontaktemail", "kontakt mail", "e-mail", "email", "mail"),
    "KontaktTelefon": (
        "mobil",
        "mobilnummer",
        "mobilnr",
        "telefon",
        "telefonnummer",
        "tlf",
        "tlf.nr.",
        "kontakt telefon",
        "kontakt mobil",
    ),
    "KontaktRegistreringstid": ("kontakt registreret", "kontakt registreringstid"),
    "JobOnsker": ("jobønske", "jobønsker"),
    "JobRegistreringstid": (
        "jobønske registreret",
        "jobønsker registreret",
        "jobønske registreringstid",
    ),
    "UddannelsesOnsker": ("uddannelsesønske", "uddannelsesønsker"),
    "UddannelsesRegistreringstid": (
        "uddannelsesønske registreret",
        "uddannelsesønsker registreret",
        "uddannelsesønske registreringstid",
    ),
    "ModtagerSystemID": ("systemid", "modtagersystem"),
}

_MAPPED, _CANONICAL, _ALIAS = 3, 2, 1  # precedence of the ways a header can name a field
_NOT_WORD = re.compile(r"[\W_]+")
_DANISH = str.maketrans({"æ": "ae", "ø": "o", "å": "aa"})


def header_key(text: str) -> str:
    """The form two headers share when a case worker would call them the same column."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_DANISH)
    bare = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return _NOT_WORD.sub("", bare).replace("oe", "o")


# The result workbook's own columns, in any language: ignored on the way back in (the Fix sheet
# fed to a run).
_RESULT_KEYS = frozenset(header_key(name) for name in result_column_names())
_CANONICAL_BY_KEY = {header_key(name): name for name in CANONICAL_FIELDS}


def _known(mapping: Mapping[str, str]) -> dict[str, tuple[str, int]]:
    """Header key -> (field or IGNORE, precedence), aliases first so stronger entries win."""
    known = {
        header_key(alias): (field, _ALIAS) for field, names in ALIASES.items() for alias in names
    }
    known.update({key: (name, _CANONICAL) for key, name in _CANONICAL_BY_KEY.items()})
    known.update({header_key(header): (field, _MAPPED) for header, field in mapping.items()})
    return known


def header_matcher(mapping: Mapping[str, str]) -> Callable[[Sequence[CellValue]], int]:
    """A function counting how many cells of a row name a known field (for header detection)."""
    keys = {key for key, (field, _) in _known(mapping).items() if field != IGNORE}

    def count(cells: Sequence[CellValue]) -> int:
        return len({header_key(c) for c in cells if isinstance(c, str) and c.strip()} & keys)

    return count


def unique_headers(cells: Sequence[CellValue], first_column: int = 0) -> tuple[str, ...]:
    """The header row as text, unnamed columns named by letter, repeats numbered `X (2)`."""
    seen: dict[str, int] = {}
    names: list[str] = []
    for index, cell in enumerate(cells):
        text = " ".join(_cell_text(cell).split()) or f"Column {_letters(first_column + index)}"
        count = seen.get(text.casefold(), 0) + 1
        seen[text.casefold()] = count
        names.append(text if count == 1 else f"{text} ({count})")
    return tuple(names)


def _cell_text(cell: CellValue) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the column letter a spreadsheet shows."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Where each canonical field is in a file: field -> position and the header as written."""

    headers: tuple[str, ...]  # the file's own headers, unique, result columns excluded
    positions: tuple[int, ...]  # position in the raw row of each entry of `headers`
    fields: dict[str, int]  # canonical field -> index into `headers`

    def header(self, field: str) -> str | None:
        """The column header the file uses for `field`, or None when the file has none."""
        index = self.fields.get(field)
        return None if index is None else self.headers[index]


def map_columns(
    headers: Sequence[str],
    mapping: Mapping[str, str],
    *,
    institution_configured: bool,
    source: str,
) -> ColumnMap:
    """Map a file's unique headers to fields; an `InputError` when a required one is missing."""
    known = _known(mapping)
    keys = _header_keys(headers, mapping)
    kept = [(pos, name) for pos, name in enumerate(headers) if keys[pos] not in _RESULT_KEYS]
    claims: dict[str, list[tuple[int, int]]] = {}
    for index, (pos, _) in enumerate(kept):
        field, level = known.get(keys[pos], (IGNORE, 0))
        if field != IGNORE:
            claims.setdefault(field, []).append((level, index))
    fields = {field: _one_claim(field, found, kept, source) for field, found in claims.items()}
    columns = ColumnMap(
        headers=tuple(name for _, name in kept),
        positions=tuple(pos for pos, _ in kept),
        fields=fields,
    )
    _check_required(columns, institution_configured=institution_configured, source=source)
    return columns


_REPEAT = re.compile(r"(.*) \((\d+)\)")  # `unique_headers` numbers a repeated header `X (n)`


def _header_keys(headers: Sequence[str], mapping: Mapping[str, str]) -> list[str]:
    """Each header's key, a repeat `X (2)` keyed as `X` so that it claims X's field too.

    Without this, two columns both headed CPRNr would be CPRNr and an unknown `CPRNr (2)`, and
    the first would be used silently. A mapping entry for the numbered name itself still wins,
    so `"CPRNr (2)" = "ignore"` resolves the tie as the error message suggests.
    """
    mapped = {header_key(header) for header in mapping}
    earlier: set[str] = set()
    keys: list[str] = []
    for name in headers:
        key = header_key(name)
        repeat = _REPEAT.fullmatch(name)
        if repeat and repeat[1].casefold() in earlier and key not in mapped:
            key = header_key(repeat[1])
        earlier.add(name.casefold())
        keys.append(key)
    return keys


def _one_claim(
    field: str, found: list[tuple[int, int]], kept: list[tuple[int, str]], source: str
) -> int:
    best = max(level for level, _ in found)
    winners = [index for level, index in found if level == best]
    if len(winners) > 1:
        names = ", ".join(f'"{kept[i][1]}"' for i in winners)
        raise InputError(
            f"{source}: the columns {names} all look like {field}; keep one, or name the one to "
            f'use in a mapping file (e.g. "{kept[winners[0]][1]}" = "{field}", and '
            f'"{kept[winners[1]][1]}" = "{IGNORE}")'
        )
    return winners[0]


def _check_required(columns: ColumnMap, *, institution_configured: bool, source: str) -> None:
    missing = [] if "CPRNr" in columns.fields else ["CPRNr"]
    if not institution_configured and "KommuneInstitutionNummer" not in columns.fields:
        missing.append("KommuneInstitutionNummer")
    if not any(all(f in columns.fields for f in group) for group in GROUPS.values()):
        group = max(GROUPS.values(), key=lambda g: sum(f in columns.fields for f in g))
        missing.extend(f for f in group if f not in columns.fields)
    if missing:
        raise InputError(_missing_message(columns, missing, source))


def _missing_message(columns: ColumnMap, missing: list[str], source: str) -> str:
    unmapped = [h for i, h in enumerate(columns.headers) if i not in columns.fields.values()]
    hints = [hint for field in missing if (hint := _closest(field, unmapped))]
    found = ", ".join(f'"{h}"' for h in columns.headers) or "none"
    advice = (
        f"; closest: {', '.join(hints)}; map them in a mapping file (--mapping)"
        if hints
        else "; add the column, or map your own header to it in a mapping file (--mapping)"
    )
    return (
        f"{source}: missing required column {', '.join(missing)} (headers found: {found}){advice}"
    )


def _closest(field: str, headers: Sequence[str]) -> str | None:
    """The unmapped header most like `field` or one of its aliases, as `"header" -> field`."""
    by_key = {header_key(h): h for h in headers}
    names = [header_key(field), *(header_key(alias) for alias in ALIASES.get(field, ()))]
    for name in names:
        match = difflib.get_close_matches(name, list(by_key), n=1, cutoff=0.6)
        if match:
            return f'"{by_key[match[0]]}" -> {field}'
    return None


def load_mapping(path: Path) -> dict[str, str]:
    """Read a TOML mapping file: `[columns]` with `"Header in the file" = "CanonicalField"`.

    Values may be any spelling of a canonical name (matched like headers) or "ignore".
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(mask_cpr(f"mapping file {path}: cannot be read: {error}")) from error
    table = data.get("columns", data)
    if not isinstance(table, dict):
        raise ConfigError(f'mapping file {path}: [columns] must be a table of "Header" = "Field"')
    return {str(header): _mapped_field(path, header, value) for header, value in table.items()}


def _mapped_field(path: Path, header: str, value: object) -> str:
    if isinstance(value, str) and value.strip().casefold() == IGNORE:
        return IGNORE
    field = _CANONICAL_BY_KEY.get(header_key(value)) if isinstance(value, str) else None
    if field is None:
        close = difflib.get_close_matches(str(value), CANONICAL_FIELDS, n=1, cutoff=0.5)
        hint = (
            f"; did you mean {close[0]}?"
            if close
            else f"; use one of {', '.join(CANONICAL_FIELDS)}"
        )
        raise ConfigError(
            mask_cpr(f'mapping file {path}: "{header}" = {value!r} is not a field name{hint}')
        )
    return field
