"""Mapping files: your own headers -> the spec's field names, read from TOML and written back.

A mapping file is a TOML table `[columns]` of `"Header in the file" = "Field"`; a value may be
any spelling of a field name (matched like headers), `"ignore"` (keep the column as data, never
read it as a field), or a list of fields: one column feeding several fields, e.g. a single
`"Registreringsdato" = ["KontaktRegistreringstid", "JobRegistreringstid",
"UddannelsesRegistreringstid"]`. `mapping_text` writes the mapping a run used in the same form,
so `batch columns --save-mapping` (and the web app's saved mappings) give a file the next run
can take with `--mapping`.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from batch.errors import ConfigError
from batch.i18n import _
from batch.intake.keys import CANONICAL_BY_KEY, header_key
from batch.privacy import mask_cpr
from batch.records import CANONICAL_FIELDS

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["IGNORE", "FieldMapping", "MappedFields", "load_mapping", "mapping_text"]

IGNORE = "ignore"  # a mapping-file value: keep the column as data, never read it as a field

MappedFields = str | tuple[str, ...]  # one field, IGNORE, or several fields fed by one column
FieldMapping = dict[str, MappedFields]


def load_mapping(path: Path) -> FieldMapping:
    """Read a TOML mapping file: `[columns]` with `"Header in the file" = "CanonicalField"`.

    Values may be any spelling of a canonical name (matched like headers), "ignore", or a list
    of names for a column that feeds several fields.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        message = _("mapping file {path}: cannot be read: {error}")
        raise ConfigError(mask_cpr(message.format(path=path, error=error))) from error
    table = data.get("columns", data)
    if not isinstance(table, dict):
        message = _('mapping file {path}: [columns] must be a table of "Header" = "Field"')
        raise ConfigError(message.format(path=path))
    return {str(header): _mapped(path, header, value) for header, value in table.items()}


def _mapped(path: Path, header: str, value: object) -> MappedFields:
    if isinstance(value, list) and value:
        fields = tuple(dict.fromkeys(_mapped_field(path, header, item) for item in value))
        if IGNORE in fields:
            message = _('mapping file {path}: "{header}": "ignore" cannot stand in a list')
            raise ConfigError(mask_cpr(message.format(path=path, header=header)))
        return fields[0] if len(fields) == 1 else fields
    return _mapped_field(path, header, value)


def _mapped_field(path: Path, header: str, value: object) -> str:
    if isinstance(value, str) and value.strip().casefold() == IGNORE:
        return IGNORE
    field = CANONICAL_BY_KEY.get(header_key(value)) if isinstance(value, str) else None
    if field is None:
        close = difflib.get_close_matches(str(value), CANONICAL_FIELDS, n=1, cutoff=0.5)
        hint = (
            _("did you mean {field}?").format(field=close[0])
            if close
            else _("use one of {fields}").format(fields=", ".join(CANONICAL_FIELDS))
        )
        message = _('mapping file {path}: "{header}" = {value} is not a field name; {hint}')
        raise ConfigError(
            mask_cpr(message.format(path=path, header=header, value=repr(value), hint=hint))
        )
    return field


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c >= " " or c == "\t" else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def mapping_text(mapping: Mapping[str, MappedFields], *, comment: str = "") -> str:
    """A mapping file's text for `mapping` (header -> field, fields or "ignore"), loadable again.

    `comment` (e.g. which file the mapping was made from) goes above the table, one `#` line
    per line of it.
    """
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines.append("[columns]")
    for header, fields in mapping.items():
        if isinstance(fields, tuple):
            value = "[" + ", ".join(_toml_string(f) for f in fields) + "]"
        else:
            value = _toml_string(fields)
        lines.append(f"{_toml_string(header)} = {value}")
    return "\n".join(lines) + "\n"
