"""One chunk of validated rows kept as columns, from reading to the journal's insert.

A million rows as a million `Row`s (each with its dict of cells and a `Report` of three more
objects) cost four times as much as reading and checking them (BENCHMARKS.md, measurement 2).
The journal needs no objects: it writes each row's cells and payload as JSON made column by
column (`batch.journal._columnar`). So a chunk stays columnar, and `RowBatch` is still a
`Sequence[Row]`: a consumer that handles rows one at a time (the web app's checked rows, a
reconciliation) gets each `Row` built when it asks for it, the same `Row` as before.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pandas as pd
import pyarrow as pa

from batch.intake.table import cell_values
from batch.intake.times import python_datetimes
from batch.records import CellValue, Contact, Issue, Report, Row, Wish

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from datetime import datetime

__all__ = ["TEXT_FIELDS", "TIME_FIELDS", "CameFrom", "RowBatch", "cell_lists", "collector_paused"]

# The normalized fields a batch carries, by the spec's names: what a `Report` is made of.
TEXT_FIELDS = (
    "CPRNr",
    "KommuneInstitutionNummer",
    "KontaktNavn",
    "KontaktMail",
    "KontaktTelefon",
    "JobOnsker",
    "UddannelsesOnsker",
    "ModtagerSystemID",
)
TIME_FIELDS = ("KontaktRegistreringstid", "JobRegistreringstid", "UddannelsesRegistreringstid")
CameFrom = tuple[str, int, str | None] | None


@dataclass(frozen=True, slots=True)
class _Lists:
    """A batch's columns as Python values, made once when the first `Row` is asked for."""

    cells: list[tuple[CellValue, ...]]  # by row
    text: dict[str, list[Any]]
    times: dict[str, list[datetime | None]]


class RowBatch(Sequence[Row]):
    """Consecutive rows of one input: row numbers, the user's cells and the normalized fields.

    `cells` holds one raw column per header (as read: pyarrow text from a CSV, Python objects
    from a workbook); `text` the normalized text fields (pandas text, missing as NA); `times`
    the registration times (tz-aware, NaT where none); `issues` each row's issues, an empty
    tuple when the row may be sent; `came_from` where each row of a fed-back Fix sheet was
    read before (None: not a Fix sheet).
    """

    __slots__ = (
        "_lists",
        "came_from",
        "cells",
        "headers",
        "issues",
        "numbers",
        "sheet",
        "source_file",
        "text",
        "times",
    )

    def __init__(
        self,
        *,
        source_file: str,
        sheet: str | None,
        headers: tuple[str, ...],
        numbers: list[int],
        cells: Sequence[pd.Series],
        issues: list[tuple[Issue, ...]],
        text: Mapping[str, pd.Series],
        times: Mapping[str, pd.Series],
        came_from: list[CameFrom] | None = None,
    ) -> None:
        self.source_file = source_file
        self.sheet = sheet
        self.headers = headers
        self.numbers = numbers
        self.cells = list(cells)
        self.issues = issues
        self.text = dict(text)
        self.times = dict(times)
        self.came_from = came_from
        self._lists: _Lists | None = None

    def __len__(self) -> int:
        return len(self.numbers)

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self._row(index % len(self))

    def __iter__(self) -> Iterator[Row]:
        for index in range(len(self)):
            yield self._row(index)

    def sendable(self) -> np.ndarray:
        """Rows without issues (each gets a `Report`), as a numpy bool array."""
        return np.fromiter((not issues for issues in self.issues), dtype=bool, count=len(self))

    def _row(self, index: int) -> Row:
        lists = self._python()
        came_from = None if self.came_from is None else self.came_from[index]
        cells = dict(zip(self.headers, lists.cells[index], strict=True))
        report = None if self.issues[index] else _report(lists, index)
        return Row(
            self.source_file,
            self.numbers[index],
            cells,
            report,
            self.issues[index],
            self.sheet,
            came_from,
        )

    def _python(self) -> _Lists:
        if self._lists is None:
            with collector_paused():
                text = {name: series.tolist() for name, series in self.text.items()}
                moments = python_datetimes(*(self.times[name] for name in TIME_FIELDS))
                times = dict(zip(TIME_FIELDS, moments, strict=True))
                cells = list(zip(*cell_lists(self.cells), strict=True))
                self._lists = _Lists(cells, text, times)
        return self._lists


def _report(lists: _Lists, index: int) -> Report:
    """The `Report` of a row without issues: its groups are those with a registration time."""
    text, times = lists.text, lists.times
    contact_time = times["KontaktRegistreringstid"][index]
    job_time = times["JobRegistreringstid"][index]
    education_time = times["UddannelsesRegistreringstid"][index]
    phone = text["KontaktTelefon"][index]
    return Report(
        text["ModtagerSystemID"][index],
        text["CPRNr"][index],
        int(text["KommuneInstitutionNummer"][index]),
        None
        if contact_time is None
        else Contact(
            text["KontaktNavn"][index],
            text["KontaktMail"][index],
            int(phone) if isinstance(phone, str) else None,
            contact_time,
        ),
        None if job_time is None else Wish(text["JobOnsker"][index], job_time),
        None if education_time is None else Wish(text["UddannelsesOnsker"][index], education_time),
    )


def cell_lists(columns: Sequence[pd.Series]) -> list[list[CellValue]]:
    """The user's own values of each column, as read (empty cells are None)."""
    return [_cell_values(column) for column in columns]


def _cell_values(column: pd.Series) -> list[CellValue]:
    if isinstance(column.dtype, pd.StringDtype):  # CSV text, empty cells are null
        values: list[CellValue] = pa.array(column).to_numpy(zero_copy_only=False).tolist()
        return values
    return cell_values(column.tolist())


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a chunk's objects are built.

    A chunk builds about ten objects a row, none of them in a cycle; the collector would scan
    them again and again for nothing (measured: a fifth of the CPU time on a large file).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
