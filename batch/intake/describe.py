"""What a file's columns become: for every header the field it feeds, by which rule, an example.

`describe_columns` is what `batch columns` prints and the web app's Columns page shows: it reads
the header (and only the first rows, for an example value per column), maps it as a run would,
and says for every header the field(s) it feeds or that it is ignored, the rule that matched,
the first non-blank value and that value as it would be sent; for every field no header feeds,
the headers it accepts and the setting that can stand in for it. It never stops at a missing
field (a run does): the report is how the user finds out what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from batch.intake import text as text_cells
from batch.intake import times as time_cells
from batch.intake.columns import (
    FIELD_SETTINGS,
    ColumnMap,
    accepted_headers,
    column_letter,
    header_matcher,
    map_columns,
    missing_fields,
    unique_headers,
)
from batch.intake.load import open_table
from batch.intake.table import cell_values
from batch.records import CANONICAL_FIELDS

if TYPE_CHECKING:
    from pathlib import Path

    from batch.intake import InputOptions
    from batch.intake.mapping import FieldMapping
    from batch.intake.table import RawChunk, Table

__all__ = [
    "ColumnReport",
    "FieldNeed",
    "HeaderUse",
    "describe_columns",
    "describe_table",
    "normalized_value",
]

_EXAMPLE_ROWS = 200  # rows read for the example values: the first non-blank is usually early


@dataclass(frozen=True, slots=True)
class HeaderUse:
    """One header of the file and what became of it."""

    column: str  # the column letter as Excel shows it ("A")
    header: str  # the header text as in the file (unique: a repeat is numbered "X (2)")
    field: str | None  # the canonical field it feeds (first one if several); None: ignored
    fields: tuple[str, ...]  # every field it feeds (a mapping may send one column to several)
    rule: str  # "alias" | "mapping" | "fuzzy" | "ignored" | "duplicate" | "result"
    score: float | None  # the fuzzy match's score, 0..1
    example: str | None  # the first non-blank value, as text (unmasked: callers mask)
    normalized: str | None  # that value as it would be sent (None: not sendable as it is)
    suggestion: str | None  # for an ignored header that resembles a field: that field


@dataclass(frozen=True, slots=True)
class FieldNeed:
    """A field no header feeds: whether the file must have it, what would feed it."""

    field: str
    required: bool
    accepts: tuple[str, ...]  # headers that would feed it (name, built-in aliases, mapping)
    setting: str | None  # the setting that gives it for every row instead, e.g. "system_id"
    configured: bool = False  # that setting is set, so the field is not missing


@dataclass(frozen=True, slots=True)
class ColumnReport:
    """A file's header and what each column becomes; the mapping a run would use."""

    source_file: str
    sheet: str | None
    sheets: tuple[str, ...]  # every sheet of a workbook (empty for CSV)
    header_row: int  # 1-based, as Excel shows it
    headers: tuple[HeaderUse, ...]
    missing: tuple[FieldNeed, ...]
    mapping: FieldMapping  # header -> field(s) or "ignore": the mapping in use, to save

    @property
    def usable(self) -> bool:
        """Whether a run could read the file: no required field is missing."""
        return not any(need.required for need in self.missing)


def describe_columns(path: Path, options: InputOptions) -> ColumnReport:
    """Read the header (and the first rows) of `path` and say what each column becomes.

    An `InputError` only when the file cannot be read or has no header at all.
    """
    table = open_table(
        path,
        sheet=options.sheet,
        score=header_matcher(options.mapping),
        header_row=options.header_row,
    )
    return describe_table(table, options, _sheet_names(path, table))


def _sheet_names(path: Path, table: Table) -> tuple[str, ...]:
    if table.sheet is None:
        return ()
    import python_calamine  # noqa: PLC0415 - only workbooks have sheets

    with path.open("rb") as file:
        return tuple(python_calamine.CalamineWorkbook.from_filelike(file).sheet_names)


def describe_table(table: Table, options: InputOptions, sheets: tuple[str, ...]) -> ColumnReport:
    """`describe_columns` for a table already opened."""
    headers = unique_headers(table.header, table.first_column)
    columns = map_columns(
        headers,
        options.mapping,
        institution_configured=options.institution is not None,
        source=table.source_file,
        strict=False,
    )
    first = next(iter(table.read(_EXAMPLE_ROWS)), None)
    uses = tuple(
        _use(columns, position, name, table.first_column, _example(first, position), options)
        for position, name in enumerate(headers)
    )
    return ColumnReport(
        source_file=table.source_file,
        sheet=table.sheet,
        sheets=sheets,
        header_row=table.header_row,
        headers=uses,
        missing=_needs(columns, options),
        mapping=columns.mapping(),
    )


def _example(chunk: RawChunk | None, position: int) -> Any:  # noqa: ANN401 - a raw cell
    if chunk is None or position >= len(chunk.columns):
        return None
    values = cell_values(chunk.columns[position].tolist())
    return next((v for v in values if v is not None and str(v).strip()), None)


def _use(  # noqa: PLR0917 - one call site, every argument a different kind
    columns: ColumnMap,
    position: int,
    name: str,
    first_column: int,
    example: Any,  # noqa: ANN401 - a raw cell
    options: InputOptions,
) -> HeaderUse:
    match = columns.matches[position]
    field = match.fields[0] if match.fields else None
    return HeaderUse(
        column=column_letter(first_column + position),
        header=name,
        field=field,
        fields=match.fields,
        rule=match.rule,
        score=match.score,
        example=None if example is None else _as_text(example),
        normalized=None if field is None else normalized_value(field, example, options),
        suggestion=match.suggestion,
    )


def _as_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    return str(value)


def normalized_value(field: str, value: object, options: InputOptions) -> str | None:
    """One cell as it would go into the request's `field` (None: not sendable as it is).

    The same column functions a run uses, over a column of one: what is shown is what is sent.
    """
    if value is None:
        return None
    column = pd.Series([value], dtype=object)
    if field in {"KontaktRegistreringstid", "JobRegistreringstid", "UddannelsesRegistreringstid"}:
        moments = time_cells.datetimes(column, options.date_only_time).moments
        (moment,) = time_cells.python_datetimes(moments)[0]
        return None if moment is None else moment.isoformat()
    cleaners = {
        "CPRNr": text_cells.cpr,
        "KontaktTelefon": text_cells.phone,
        "KommuneInstitutionNummer": text_cells.integer,
    }
    result = cleaners.get(field, text_cells.text)(column).iloc[0]
    return None if pd.isna(result) else str(result)


def _needs(columns: ColumnMap, options: InputOptions) -> tuple[FieldNeed, ...]:
    required = set(
        missing_fields(list(columns.fields), institution_configured=options.institution is not None)
    )
    configured = {
        "KommuneInstitutionNummer": options.institution is not None,
        "ModtagerSystemID": bool(options.system_id.strip()),
    }
    return tuple(
        FieldNeed(
            field=field,
            required=field in required,
            accepts=accepted_headers(field, options.mapping),
            setting=FIELD_SETTINGS.get(field),
            configured=configured.get(field, False),
        )
        for field in CANONICAL_FIELDS
        if field not in columns.fields
    )
