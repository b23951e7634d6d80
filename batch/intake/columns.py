"""Header names -> the spec's canonical field names: built-in aliases, mapping files, checks.

Matching ignores case, spaces, punctuation, accents and how Danish letters are spelled (see
`batch.intake.keys`), because the same column is written a dozen ways in municipal exports and
hand-made spreadsheets.

Which columns a file must have (checked before any row is read, so a bad file stops the run):
  - `CPRNr`;
  - `KommuneInstitutionNummer`, unless the institution number is configured;
  - every required column of at least one group: the contact (`KontaktNavn`, `KontaktMail`,
    `KontaktRegistreringstid`), the job wish (`JobOnsker`, `JobRegistreringstid`) or the
    education wish (`UddannelsesOnsker`, `UddannelsesRegistreringstid`).
A group whose columns are only partly there is not a file error: the rows that use it get an
issue each, and rows using a complete group still go through.

How a header comes to feed a field (its `Match.rule`), strongest first: a mapping-file entry
("mapping"; one column may feed several fields), the exact canonical name or a built-in alias
("alias"), and a near miss of a field's name or alias ("fuzzy": a typo such as `KontaktNavm`,
scored 0..1 by difflib). A fuzzy match feeds a field only when its score is at least
`FUZZY_FEEDS`, its key has six letters or more, no other header names that field and no other
header comes as close; a weaker resemblance (from `FUZZY_SUGGESTS`) is only a suggestion on an
ignored header. Two headers at the same level for one field are an error (a mapping entry
`"Header" = "ignore"` leaves a column alone, e.g. the young person's own phone number); the
weaker of two is "duplicate". The result workbook's own columns are "result" and never read.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch.errors import InputError
from batch.i18n import _, every_translation
from batch.intake.keys import ALIASES, CANONICAL_BY_KEY, header_key
from batch.intake.mapping import IGNORE, FieldMapping, MappedFields, load_mapping
from batch.records import RESULT_COLUMNS, CellValue

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "ALIASES",
    "FIELD_SETTINGS",
    "FUZZY_FEEDS",
    "FUZZY_SUGGESTS",
    "GROUPS",
    "IGNORE",
    "ColumnMap",
    "FieldMapping",
    "Match",
    "accepted_headers",
    "column_letter",
    "header_key",
    "header_matcher",
    "load_mapping",
    "map_columns",
    "missing_fields",
    "setting_hint",
    "unique_headers",
]

# The required fields of each optional group of the request (spec 4.1.2-4.1.4).
GROUPS: dict[str, tuple[str, ...]] = {
    "contact": ("KontaktNavn", "KontaktMail", "KontaktRegistreringstid"),
    "job": ("JobOnsker", "JobRegistreringstid"),
    "education": ("UddannelsesOnsker", "UddannelsesRegistreringstid"),
}

# Fields a setting can give instead of a column: the setting's name in batch.config.OPTIONS.
FIELD_SETTINGS = {"KommuneInstitutionNummer": "institution", "ModtagerSystemID": "system_id"}

FUZZY_FEEDS = 0.88  # a near miss this close (and unrivalled) feeds its field
FUZZY_SUGGESTS = 0.6  # a near miss this close is named as a suggestion
_FUZZY_MIN_KEY = 6  # shorter keys ("tlf2") are too easily close to something
_MAPPED, _CANONICAL, _ALIAS, _FUZZY = 3, 2, 1, 0  # precedence of the ways to name a field
_RULES = {_MAPPED: "mapping", _CANONICAL: "alias", _ALIAS: "alias", _FUZZY: "fuzzy"}

# The result workbook's own columns, in any language: ignored on the way back in (the Fix sheet
# fed to a run); each key names its column by the English msgid.
_RESULT_NAMES = {
    header_key(name): column for column in RESULT_COLUMNS for name in every_translation(column)
}
_RESULT_KEYS = frozenset(_RESULT_NAMES)
_ALIAS_KEYS = {
    field: (header_key(field), *(header_key(alias) for alias in aliases))
    for field, aliases in ALIASES.items()
}


def _as_fields(value: MappedFields) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def _known(mapping: Mapping[str, MappedFields]) -> dict[str, tuple[tuple[str, ...], int]]:
    """Header key -> (fields or (IGNORE,), precedence), aliases first so stronger entries win."""
    known: dict[str, tuple[tuple[str, ...], int]] = {
        header_key(alias): ((field,), _ALIAS) for field, names in ALIASES.items() for alias in names
    }
    known.update({key: ((name,), _CANONICAL) for key, name in CANONICAL_BY_KEY.items()})
    known.update({header_key(h): (_as_fields(f), _MAPPED) for h, f in mapping.items()})
    return known


def header_matcher(mapping: Mapping[str, MappedFields]) -> Callable[[Sequence[CellValue]], int]:
    """A function counting how many cells of a row name a known field (for header detection)."""
    keys = {key for key, (fields, _level) in _known(mapping).items() if fields != (IGNORE,)}

    def count(cells: Sequence[CellValue]) -> int:
        return len({header_key(c) for c in cells if isinstance(c, str) and c.strip()} & keys)

    return count


def unique_headers(cells: Sequence[CellValue], first_column: int = 0) -> tuple[str, ...]:
    """The header row as text, unnamed columns named by letter, repeats numbered `X (2)`."""
    seen: dict[str, int] = {}
    names: list[str] = []
    for index, cell in enumerate(cells):
        # Not translated: the name is the column's key in the journal and the Fix sheet.
        text = " ".join(_cell_text(cell).split()) or f"Column {column_letter(first_column + index)}"
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


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the column letter a spreadsheet shows."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


@dataclass(frozen=True, slots=True)
class Match:
    """What became of one header: the fields it feeds and by which rule (see the module doc)."""

    fields: tuple[str, ...]  # empty: the column is data only
    rule: str  # "mapping" | "alias" | "fuzzy" | "ignored" | "duplicate" | "result"
    score: float | None = None  # a fuzzy match's score, 0..1
    suggestion: str | None = None  # an ignored header's closest field
    level: int = 0  # precedence of the claim: mapping 3, canonical name 2, alias 1, fuzzy 0


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Where each canonical field is in a file: field -> position and the header as written."""

    headers: tuple[str, ...]  # the file's own headers, unique, result columns excluded
    positions: tuple[int, ...]  # position in the raw row of each entry of `headers`
    fields: dict[str, int]  # canonical field -> index into `headers` (several may share one)
    matches: tuple[Match, ...] = ()  # one per header of the file, result columns included
    results: dict[str, int] = dataclasses.field(
        default_factory=dict
    )  # result column -> raw position

    def header(self, field: str) -> str | None:
        """The column header the file uses for `field`, or None when the file has none."""
        index = self.fields.get(field)
        return None if index is None else self.headers[index]

    def mapping(self) -> FieldMapping:
        """The mapping in use as a mapping file would say it: every kept header, field or ignore."""
        used: FieldMapping = {}
        for name, position in zip(self.headers, self.positions, strict=True):
            fields = self.matches[position].fields if self.matches else ()
            used[name] = (fields[0] if len(fields) == 1 else fields) if fields else IGNORE
        return used


def map_columns(
    headers: Sequence[str],
    mapping: Mapping[str, MappedFields],
    *,
    institution_configured: bool,
    source: str,
    strict: bool = True,
) -> ColumnMap:
    """Map a file's unique headers to fields; an `InputError` when a required one is missing.

    `strict=False` (for `batch columns`) neither checks the required fields nor refuses a tie:
    the first of tied headers wins and the others show as "duplicate".
    """
    keys = _header_keys(headers, mapping)
    matches = _matches(keys, _known(mapping))
    kept = [pos for pos, key in enumerate(keys) if key not in _RESULT_KEYS]
    fields: dict[str, int] = {}
    for field, claims in _claims(matches).items():
        best = max(level for level, _pos in claims)
        winners = [pos for level, pos in claims if level == best]
        if len(winners) > 1 and best == _FUZZY:
            continue  # two near misses for one field: neither is trusted, both are suggestions
        if len(winners) > 1 and strict:
            raise InputError(_tie_message(field, [headers[pos] for pos in winners], source))
        fields[field] = kept.index(winners[0])
    matches = _settle(matches, fields, kept)
    columns = ColumnMap(
        headers=tuple(headers[pos] for pos in kept),
        positions=tuple(kept),
        fields=fields,
        matches=tuple(matches),
        results={
            _RESULT_NAMES[key]: pos
            for pos, key in enumerate(keys)
            if key in _RESULT_NAMES and pos not in kept
        },
    )
    if strict:
        _check_required(columns, institution_configured=institution_configured, source=source)
    return columns


_REPEAT = re.compile(r"(.*) \((\d+)\)")  # `unique_headers` numbers a repeated header `X (n)`


def _header_keys(headers: Sequence[str], mapping: Mapping[str, MappedFields]) -> list[str]:
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


def _matches(keys: list[str], known: dict[str, tuple[tuple[str, ...], int]]) -> list[Match]:
    """Each header's own claim, before claims on one field are weighed against each other."""
    matches: list[Match] = []
    for key in keys:
        if key in _RESULT_KEYS:
            matches.append(Match((), "result"))
        elif key in known:
            fields, level = known[key]
            matches.append(Match(() if fields == (IGNORE,) else fields, _RULES[level], level=level))
        else:
            matches.append(_fuzzy(key))
    return matches


def _fuzzy(key: str) -> Match:
    """The field whose name or alias `key` is closest to: a claim, a suggestion or nothing."""
    best, score = None, 0.0
    for field, names in _ALIAS_KEYS.items():
        for name in names:
            ratio = difflib.SequenceMatcher(None, key, name).ratio()
            if ratio > score:
                best, score = field, ratio
    score = round(score, 2)
    if best is not None and score >= FUZZY_FEEDS and len(key) >= _FUZZY_MIN_KEY:
        return Match((best,), "fuzzy", score)
    if best is not None and score >= FUZZY_SUGGESTS:
        return Match((), "ignored", score, best)
    return Match((), "ignored")


def _claims(matches: list[Match]) -> dict[str, list[tuple[int, int]]]:
    claims: dict[str, list[tuple[int, int]]] = {}
    for pos, match in enumerate(matches):
        for field in match.fields:
            claims.setdefault(field, []).append((match.level, pos))
    return claims


def _settle(matches: list[Match], fields: dict[str, int], kept: list[int]) -> list[Match]:
    """Each header's final match: the fields it won; a lost claim is a duplicate or a hint."""
    won: dict[int, list[str]] = {}
    for field, index in fields.items():
        won.setdefault(kept[index], []).append(field)
    settled: list[Match] = []
    for pos, match in enumerate(matches):
        mine = tuple(f for f in match.fields if f in won.get(pos, ()))
        if mine or not match.fields:
            settled.append(Match(mine, match.rule, match.score, match.suggestion, match.level))
        elif match.rule == "fuzzy":
            settled.append(Match((), "ignored", match.score, match.fields[0]))
        else:
            settled.append(Match((), "duplicate", None, match.fields[0]))
    return settled


def _tie_message(field: str, names: list[str], source: str) -> str:
    quoted = ", ".join(f'"{name}"' for name in names)
    return _(
        "{source}: the columns {names} all look like {field}; keep one, or name the one to use "
        'in a mapping file (e.g. "{first}" = "{field}", and "{second}" = "ignore")'
    ).format(source=source, names=quoted, field=field, first=names[0], second=names[1])


def missing_fields(present: Sequence[str], *, institution_configured: bool) -> list[str]:
    """The required fields a file lacks, given the fields its headers feed."""
    missing = [] if "CPRNr" in present else ["CPRNr"]
    if not institution_configured and "KommuneInstitutionNummer" not in present:
        missing.append("KommuneInstitutionNummer")
    if not any(all(f in present for f in group) for group in GROUPS.values()):
        group = max(GROUPS.values(), key=lambda g: sum(f in present for f in g))
        missing.extend(f for f in group if f not in present)
    return missing


def accepted_headers(field: str, mapping: Mapping[str, MappedFields]) -> tuple[str, ...]:
    """The headers that feed `field`: its own name, the built-in aliases, the mapping's entries."""
    mapped = [h for h, fields in mapping.items() if field in _as_fields(fields)]
    return tuple(dict.fromkeys([field, *ALIASES.get(field, ()), *mapped]))


def setting_hint(field: str) -> str | None:
    """Where to set a field for every row instead of a column, e.g. `--institution`."""
    name = FIELD_SETTINGS.get(field)
    if name is None:
        return None
    return _("--{flag}, {env} or {name} in the config file").format(
        flag=name.replace("_", "-"), env=f"BATCH_{name.upper()}", name=name
    )


def _check_required(columns: ColumnMap, *, institution_configured: bool, source: str) -> None:
    missing = missing_fields(list(columns.fields), institution_configured=institution_configured)
    if missing:
        raise InputError(_missing_message(columns, missing, source))


def _missing_message(columns: ColumnMap, missing: list[str], source: str) -> str:
    unmapped = [h for i, h in enumerate(columns.headers) if i not in columns.fields.values()]
    parts = []
    for field in missing:
        accepts = ", ".join(f'"{h}"' for h in accepted_headers(field, {})[:4])
        part = _("{field} (a column headed e.g. {accepts})").format(field=field, accepts=accepts)
        if (hint := setting_hint(field)) is not None:
            part += " " + _("or set {where}").format(where=hint)
        parts.append(part)
    hints = [hint for field in missing if (hint := _closest(field, unmapped))]
    found = ", ".join(f'"{h}"' for h in columns.headers) or _("none")
    advice = (
        _("closest: {hints}; map them in a mapping file (--mapping)").format(hints=", ".join(hints))
        if hints
        else _("add the column, or map your own header to it in a mapping file (--mapping)")
    )
    return _(
        "{source}: missing required column {fields} (headers found: {found}); {advice}; "
        "`batch columns FILE` shows what each header feeds"
    ).format(source=source, fields="; ".join(parts), found=found, advice=advice)


def _closest(field: str, headers: Sequence[str]) -> str | None:
    """The unmapped header most like `field` or one of its aliases, as `"header" -> field`."""
    by_key = {header_key(h): h for h in headers}
    for name in _ALIAS_KEYS.get(field, (header_key(field),)):
        match = difflib.get_close_matches(name, list(by_key), n=1, cutoff=FUZZY_SUGGESTS)
        if match:
            return f'"{by_key[match[0]]}" -> {field}'
    return None
