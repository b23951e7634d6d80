"""Rows that are not data although they hold cells: a totals row under the data.

A spreadsheet made by hand often ends in a row of sums or a row labelled "I alt" / "Total".
It is not a young person and not a row to fix: it is recognised and left out (counted, with
its row number, like blank rows). Only the last rows of a file are candidates, and only rows
without a CPR number (a row with a CPR number is always data):
  - a cell reading a totals label ("I alt", "Total", "Sum", "Samlet", "Totaler", with or
    without a colon), or
  - every filled cell a number (a row of sums; an Excel sum of the column above), one of
    them outside the columns that hold numbers as data (institution, phone): a row with only
    an institution number is a row to fix, not a sum.
At most `_MAX_TRAILING` rows are taken off (e.g. "I alt" and "Gennemsnit" under it).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from batch.intake.table import RawChunk, cell_values

if TYPE_CHECKING:
    from collections.abc import Sequence

    from batch.records import CellValue

__all__ = ["drop_rows", "totals_rows"]

_MAX_TRAILING = 3
_LABEL = re.compile(
    r"^\s*(i\s*alt|total(er|s)?|sum(\s*i\s*alt)?|samlet|gennemsnit|average|grand\s+total)"
    r"\s*:?\s*$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\s*-?\d[\d.,\s]{0,14}")
_CPR_LIKE = re.compile(r"\d{6}-?\d{4}")


def totals_rows(
    raw: RawChunk, cpr_position: int | None, number_positions: Sequence[int] = ()
) -> list[int]:
    """Indices (into `raw.rows`) of the trailing totals rows of the file's last chunk.

    `number_positions`: the columns whose numbers are data (institution, phone).
    """
    found: list[int] = []
    for index in range(len(raw.rows) - 1, max(len(raw.rows) - 1 - _MAX_TRAILING, -1), -1):
        cells = cell_values([column.iloc[index] for column in raw.columns])
        if not _is_totals(cells, cpr_position, frozenset(number_positions)):
            break
        found.append(index)
    return sorted(found)


def _is_totals(
    cells: Sequence[CellValue], cpr_position: int | None, number_positions: frozenset[int]
) -> bool:
    if cpr_position is not None and cpr_position < len(cells):
        cpr = cells[cpr_position]
        if cpr is not None and _CPR_LIKE.search(str(cpr)) is not None:
            return False
    filled = {i: c for i, c in enumerate(cells) if c is not None and str(c).strip()}
    if not filled:
        return False
    if any(isinstance(c, str) and _LABEL.match(c) for c in filled.values()):
        return True
    return all(_is_number(c) for c in filled.values()) and bool(set(filled) - number_positions)


def _is_number(cell: CellValue) -> bool:
    if isinstance(cell, bool):
        return False
    if isinstance(cell, int | float):
        return True
    if isinstance(cell, str):
        return _NUMBER.fullmatch(cell) is not None
    return False


def drop_rows(raw: RawChunk, indices: Sequence[int]) -> RawChunk:
    """The chunk without the rows at `indices`."""
    if not indices:
        return raw
    gone = set(indices)
    keep = [i for i in range(len(raw.rows)) if i not in gone]
    columns = [
        pd.Series(column.iloc[keep].to_numpy(), dtype=column.dtype) for column in raw.columns
    ]
    overlong = frozenset(keep.index(i) for i in raw.overlong if i not in gone)
    return RawChunk([raw.rows[i] for i in keep], columns, overlong, raw.blank)
