"""What both input formats share: the chunk and table types, the header rules, cell conversion.

The CSV reader (`batch.intake.csv_file`) and the workbook reader (`batch.intake.workbook`) both
hand on `RawChunk`s through a `Table`, look for the header in the same first rows, and word a
missing header the same way; `batch.intake.load` chooses between them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from batch.i18n import _
from batch.privacy import mask_cpr
from batch.records import CellValue

if TYPE_CHECKING:
    import pandas as pd

    from batch.intake.hidden import Hidden

__all__ = [
    "HEADER_SEARCH_ROWS",
    "MIN_HEADER_MATCHES",
    "SAMPLE_BYTES",
    "HeaderScore",
    "RawChunk",
    "RawValue",
    "Table",
    "cell_value",
    "cell_values",
    "no_header_message",
]

HEADER_SEARCH_ROWS = 20
MIN_HEADER_MATCHES = 2
SAMPLE_BYTES = 256 * 1024  # the head of a file: its kind, a CSV's encoding sample and header

# What load hands on: pyarrow strings from a CSV, calamine's Python values from a workbook.
RawValue = CellValue | date | time | timedelta
HeaderScore = Callable[[Sequence[Any]], int]


@dataclass(frozen=True, slots=True)
class RawChunk:
    """Consecutive records of one table: their row numbers and their raw cells by position."""

    rows: list[int]  # as a spreadsheet program shows them (the header row counts)
    columns: list[pd.Series]  # one per header position: str dtype (CSV) or object (workbook)
    overlong: frozenset[int]  # indices into `rows` of CSV records with data beyond the header
    blank: int  # fully blank records dropped (summed over a file's chunks: the file's count)


@dataclass(frozen=True, slots=True)
class Table:
    """An opened input: where its header is and how to stream its records after the header."""

    source_file: str
    sheet: str | None
    header_row: int
    header: tuple[CellValue, ...]
    first_column: int  # 0-based column of the first cell (workbooks skip empty left columns)
    read: Callable[[int], Iterator[RawChunk]]  # chunk size in rows -> chunks
    hidden: Hidden | None = None  # hidden rows and columns of a sheet; None: not checked


def cell_values(values: Sequence[RawValue]) -> list[CellValue]:
    """`cell_value` over a column; floats (most numbers in a workbook) in one numpy pass."""
    kinds = set(map(type, values))
    if kinds <= {str}:  # all text
        return [value or None for value in values]  # type: ignore[misc]
    cells: list[Any] = [(v or None) if type(v) is str else v for v in values]
    if kinds - {str, float, int, bool, datetime}:  # dates, times, durations: one by one
        cells = [cell_value(v) if type(v) in _CONVERTED else v for v in cells]
    if float in kinds:
        where = [i for i, value in enumerate(values) if type(value) is float]
        floats = np.fromiter((values[i] for i in where), dtype=np.float64, count=len(where))
        for index, number in zip(where, _whole_numbers(floats), strict=True):
            cells[index] = number
    return cells


def _whole_numbers(floats: np.ndarray) -> list[int | float]:
    """Whole floats as ints (a CPR number or a phone typed into Excel), the rest unchanged."""
    whole = np.isfinite(floats) & (np.abs(floats) < 2**53)
    whole[whole] = np.floor(floats[whole]) == floats[whole]
    if whole.all():
        numbers: list[int | float] = floats.astype(np.int64).tolist()
        return numbers
    numbers = floats.tolist()
    for index, number in zip(
        np.flatnonzero(whole).tolist(), floats[whole].astype(np.int64).tolist(), strict=True
    ):
        numbers[index] = number
    return numbers


_CONVERTED = frozenset({date, time, timedelta})


def cell_value(value: RawValue) -> CellValue:
    """A workbook value as an input cell: empty text is None, a date is a datetime at 0:00."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, datetime | bool | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)  # noqa: DTZ001 - a naive sheet value
    if value is None:
        return None
    return str(value)


def no_header_message(where: str, first: Sequence[Any]) -> str:
    """The error for a table with no header: where, and what its first row holds (CPRs masked)."""
    shown = ", ".join(f'"{mask_cpr(str(c))}"' for c in first[:6] if str(c).strip())
    return _(
        "{where}: no header row in the first {count} rows (the first row holds {first}); the "
        "header must name at least two known columns such as CPRNr and KontaktNavn, or map "
        "your headers in a mapping file (--mapping), or give the row with --header-row"
    ).format(where=where, count=HEADER_SEARCH_ROWS, first=shown or _("nothing"))
