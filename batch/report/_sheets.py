"""Streaming one outcome's rows into its sheet: the input's own columns first, then the result.

Rows are written as they come (xlsxwriter's constant-memory mode flushes each finished row to
disk), so memory stays flat however long the run; only a small sample is held back to size the
columns. Every row is checked on its way through: it must belong to this sheet and must not
have been written before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain, islice
from typing import TYPE_CHECKING

from batch.records import RESULT_COLUMNS, CellValue, Outcome, RowResult
from batch.report._cells import Styles, column_widths, write_value
from batch.report._model import ReportIntegrityError
from batch.report._sent import SENT_COLUMNS, sent_values

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

    from batch.report._layout import Layout

__all__ = ["EXCEL_MAX_ROWS", "RowSheets"]

EXCEL_MAX_ROWS = 1_048_576  # per sheet, header included
_SAMPLE_ROWS = 200  # rows looked at to size the columns
_TAB_COLORS = {
    Outcome.ACCEPTED: "#63BE7B",
    Outcome.READY: "#63BE7B",
    Outcome.FIX: "#FFC000",
    Outcome.DROP: "#C00000",
    Outcome.RETRY: "#5B9BD5",
}
_RESULT_CODE, _RESULT_TEXT = (RESULT_COLUMNS.index(c) for c in ("Result code", "Result text"))


@dataclass
class RowSheets:
    """Writes the row sheets of one workbook, remembering which rows it has already placed."""

    book: Workbook
    styles: Styles
    layout: Layout
    max_rows: int = EXCEL_MAX_ROWS
    _seen: set[int] = field(default_factory=set)
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = self.layout.columns

    def write(self, name: str, outcome: Outcome, rows: Iterable[RowResult]) -> int:
        """Write `rows` to sheet `name` (continued on `name 2`, ... past Excel's limit)."""
        self.columns = self.layout.columns
        if outcome is Outcome.READY:  # a dry run: the request's fields as they would be sent
            self.columns = (*self.columns, *SENT_COLUMNS)
        iterator = iter(rows)
        sample = list(islice(iterator, _SAMPLE_ROWS))
        wide = frozenset({len(self.layout.titles) + _RESULT_TEXT})
        widths = column_widths(self.columns, (self._values(r) for r in sample), wide)
        sheets = self._sheets(name, outcome, widths)
        sheet, line, written = next(sheets), 0, 0
        for result in chain(sample, iterator):
            if line == self.max_rows - 1:
                self._finish(sheet, line)
                sheet, line = next(sheets), 0
            self._check(result, outcome)
            line += 1
            self._write_row(sheet, line, result, highlight=outcome is Outcome.FIX)
            written += 1
        self._finish(sheet, line)
        return written

    def _sheets(self, name: str, outcome: Outcome, widths: list[float]) -> Iterator[Worksheet]:
        """The sheet, then its continuations, each with its header row."""
        part = 1
        while True:
            sheet = self.book.add_worksheet(name if part == 1 else f"{name} {part}")
            if outcome in _TAB_COLORS:
                sheet.set_tab_color(_TAB_COLORS[outcome])
            for col, width in enumerate(widths):
                sheet.set_column(col, col, width)
            for col, header in enumerate(self.columns):
                sheet.write_string(0, col, header, self.styles.header)
            sheet.freeze_panes(1, 0)
            yield sheet
            part += 1

    def _finish(self, sheet: Worksheet, last_line: int) -> None:
        sheet.autofilter(0, 0, last_line, len(self.columns) - 1)

    def _check(self, result: RowResult, outcome: Outcome) -> None:
        where = f"{result.source_file} row {result.source_row}"
        if result.outcome is not outcome:
            raise ReportIntegrityError(
                f"{where} is {result.outcome.value} but was handed over as {outcome.value}"
            )
        key = hash((result.source_file, result.sheet, result.source_row))
        if key in self._seen:
            raise ReportIntegrityError(f"{where} was handed over twice")
        self._seen.add(key)

    def _values(self, result: RowResult) -> list[CellValue]:
        source = result.source_file
        if result.sheet is not None:
            source = f"{source} [{result.sheet}]"
        return [
            *self.layout.values(result.cells),
            source,
            result.source_row,
            result.code,
            result.text,
            result.attempts,
            result.last_attempt,
            *sent_values(result),
        ]

    def _write_row(
        self, sheet: Worksheet, line: int, result: RowResult, *, highlight: bool
    ) -> None:
        marked = self._marked(result) if highlight else frozenset()
        styles, cpr = self.styles, self.layout.cpr
        for col, value in enumerate(self._values(result)):
            if col in marked:
                write_value(sheet, line, col, value, styles, highlight=True, cpr=col in cpr)
            elif type(value) is str:  # the common case, kept short: most cells are text
                sheet.write_string(line, col, value)
            elif value is not None:
                write_value(sheet, line, col, value, styles, cpr=col in cpr)

    def _marked(self, result: RowResult) -> frozenset[int]:
        """The cells to highlight on a Fix row: its result, and the columns its issues name."""
        inputs = len(self.layout.titles)
        marked = {inputs + _RESULT_CODE, inputs + _RESULT_TEXT}
        for header in result.extra.get("fix_columns", ()):
            if (index := self.layout.index(header)) is not None:
                marked.add(index)
        return frozenset(marked)
