"""The row sheets' columns: one per field the inputs share, every other header as it was named.

Inputs of one run often name the same field differently (`CPR-nr.` in the municipal export,
`Personnummer` in a hand-made spreadsheet). Side by side, both columns would make the `Fix`
sheet unreadable as input: two columns claiming one field is an input error. So headers that
name the same field in different inputs share one column, titled as the first input names it;
every other header keeps a column of its own, shared by inputs that use the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch.i18n import _
from batch.intake.columns import ALIASES, IGNORE, header_key
from batch.records import CANONICAL_FIELDS, RESULT_COLUMNS, CellValue, result_column_names

if TYPE_CHECKING:
    from collections.abc import Mapping

    from batch.report._model import InputSheet

__all__ = ["Layout", "column_layout", "fields_of"]

CPR_FIELD = "CPRNr"
_CANONICAL = {header_key(name): name for name in CANONICAL_FIELDS}
_ALIAS = {header_key(alias): field for field, names in ALIASES.items() for alias in names}


@dataclass(frozen=True, slots=True)
class Layout:
    """The input columns (title, and the headers whose values they show), then the results."""

    titles: tuple[str, ...]
    members: tuple[tuple[str, ...], ...]
    cpr: frozenset[int]  # input columns holding CPR numbers
    fields: tuple[str | None, ...] = ()  # the canonical field each input column holds, if any

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column title of a row sheet, in order; the result's in the current language."""
        return (*self.titles, *(_(name) for name in RESULT_COLUMNS))

    def holding(self, fields: frozenset[str]) -> tuple[int, ...]:
        """The input columns that hold one of `fields` (canonical names)."""
        return tuple(i for i, name in enumerate(self.fields) if name in fields)

    def values(self, cells: Mapping[str, CellValue]) -> list[CellValue]:
        """A row's input values in column order (a row holds one member of each column at most)."""
        return [
            cells.get(names[0])
            if len(names) == 1
            else next((cells[name] for name in names if name in cells), None)
            for names in self.members
        ]

    def index(self, header: str) -> int | None:
        """The column showing `header`'s values, if any."""
        return next((i for i, names in enumerate(self.members) if header in names), None)


def fields_of(sheet: InputSheet) -> dict[str, str]:
    """Header -> field for one input: as the run mapped it, else by the built-in names.

    Within one input the exact canonical name beats an alias, as when the file was read; the
    losing header is plain data and keeps its own column.
    """
    if sheet.fields:
        return {header: field for header, field in sheet.fields.items() if field != IGNORE}
    best: dict[str, tuple[int, str]] = {}
    for header in sheet.headers:
        key = header_key(header)
        level, field = (2, _CANONICAL[key]) if key in _CANONICAL else (1, _ALIAS.get(key))
        if field is not None and level > best.get(field, (0, ""))[0]:
            best[field] = (level, header)
    return {header: field for field, (_, header) in best.items()}


def column_layout(inputs: tuple[InputSheet, ...]) -> Layout:
    """Columns in order of first appearance; result columns of a fed-back workbook left out."""
    members: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    results = result_column_names()
    for sheet in inputs:
        fields = fields_of(sheet)
        for header in sheet.headers:
            if header in results:
                continue
            key = f"field:{fields[header]}" if header in fields else f"header:{header}"
            titles.setdefault(key, header)
            if header not in members.setdefault(key, []):
                members[key].append(header)
    cpr = frozenset(
        index
        for index, key in enumerate(titles)
        if key == f"field:{CPR_FIELD}" or "cpr" in titles[key].casefold()
    )
    held = tuple(key.removeprefix("field:") if key.startswith("field:") else None for key in titles)
    return Layout(tuple(titles.values()), tuple(tuple(m) for m in members.values()), cpr, held)
