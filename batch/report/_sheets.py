"""Streaming one outcome's rows into its sheet: the input's own columns first, then the result.

Rows are written as they come (xlsxwriter's constant-memory mode flushes each finished row to
disk), so memory stays flat however long the run; only a small sample is held back to size the
columns and decide which of them wrap. Everything a row needs is written in that one pass, in
row order as constant-memory mode demands: its height (when a wrapped text needs more than one
line), its cells, and on `Fix` the highlighted cells with their comments. Formats are created
once per workbook (`Styles`). Every row is checked on its way through: it must belong to this
sheet and must not have been written before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

from batch.i18n import N_, _
from batch.records import CANONICAL_FIELDS, RESULT_COLUMNS, UDB_TEXT_COLUMN, CellValue, Outcome
from batch.report._cells import (
    EXCEL_EXACT,
    Styles,
    column_widths,
    excel_serial,
    write_value,
)
from batch.report._heights import RowHeights, row_pixels
from batch.report._model import ReportIntegrityError
from batch.report._rowxml import PlainRows
from batch.report._sent import sent_columns, sent_values

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

    from batch.records import RowResult
    from batch.report._layout import Layout

__all__ = [
    "EXCEL_MAX_ROWS",
    "LINE_POINTS",
    "MAX_COMMENTED_ROWS",
    "TAB_COLORS",
    "RowSheets",
    "print_setup",
    "text_lines",
]

EXCEL_MAX_ROWS = 1_048_576  # per sheet, header included
_SAMPLE_ROWS = 200  # rows looked at to size the columns
TAB_COLORS = {  # the Summary's chart uses the same colours, so chart and tabs speak alike
    Outcome.ACCEPTED: "#63BE7B",
    Outcome.READY: "#63BE7B",
    Outcome.FIX: "#FFC000",
    Outcome.DROP: "#C00000",
    Outcome.RETRY: "#5B9BD5",
    Outcome.UNCHANGED: "#A5A5A5",
}
_RESULT_CODE, _RESULT_TEXT, _UDB_TEXT = (
    RESULT_COLUMNS.index(c) for c in ("Result code", "Result text", UDB_TEXT_COLUMN)
)
_TIME_FIELDS = frozenset(name for name in CANONICAL_FIELDS if name.endswith("Registreringstid"))
_IDENTIFYING = 3  # a CPR column among the first three is frozen with the columns before it
LINE_POINTS, _MAX_ROW_POINTS = 15.0, 409.0  # Calibri 11's line; Excel's tallest row
_COMMENT_CHARS = 48  # characters per line of a comment box at x_scale 2.5
# xlsxwriter holds comments in memory until the workbook closes (about 0.7 KB each): the first
# this many Fix rows get theirs, the rest are highlighted only (their Result text says the same).
MAX_COMMENTED_ROWS = 10_000
PAGE_FOOTER = N_("Page &P of &N")
_NONE_MARKED: dict[int, str | None] = {}  # a row that is not on the Fix sheet
_KNOWN_TEXTS = 4_096  # wrapped texts whose line count a sheet remembers, per column


def print_setup(sheet: Worksheet, *, landscape: bool, header_rows: int = 0) -> None:
    """A4, one page wide, the header row on every page, the sheet's name and page numbers."""
    if landscape:
        sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.7)
    sheet.set_header("&L&A&R&F")
    sheet.set_footer("&C" + _(PAGE_FOOTER))
    if header_rows:
        sheet.repeat_rows(0, header_rows - 1)
        sheet.hide_gridlines(0)  # gridlines on paper too: rows of data are read across


@dataclass(frozen=True, slots=True)
class _Plan:
    """One sheet's column widths and which columns wrap: decided once, from the sample."""

    widths: list[float]
    wrap: frozenset[int]
    # Each wrapped column: its index, the length from which a text may wrap, and the line
    # counts of the texts measured in it so far.
    _wrapped: tuple[tuple[int, float, dict[str, int]], ...] = field(
        init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        wrapped: tuple[tuple[int, float, dict[str, int]], ...] = tuple(
            (col, self.widths[col] - 1, {}) for col in sorted(self.wrap)
        )
        object.__setattr__(self, "_wrapped", wrapped)

    def height(self, values: list[CellValue]) -> float | None:
        """The row height that shows every wrapped text whole; None for one line.

        A sheet's long texts repeat (the result's texts, UDB's, the common wishes), so each
        text's line count is kept once measured, for the first `_KNOWN_TEXTS` texts of a column.
        """
        lines = 1
        for col, wraps_from, known in self._wrapped:
            value = values[col]
            if type(value) is str and (len(value) >= wraps_from or "\n" in value):
                count = known.get(value)
                if count is None:
                    count = text_lines(value, self.widths[col])
                    if len(known) < _KNOWN_TEXTS:
                        known[value] = count
                lines = max(lines, count)
        return None if lines == 1 else min(lines * LINE_POINTS, _MAX_ROW_POINTS)


def text_lines(text: str, width: float) -> int:
    """Lines a text wraps to in a column: LibreOffice keeps the row heights a file gives.

    Text is narrower than the digits a width counts, and wrapping at words loses a little of
    each line; the two about cancel out.
    """
    per_line = max(int(width) - 1, 1)
    return sum(max(math.ceil(len(part) / per_line), 1) for part in text.split("\n"))


def _where(result: RowResult) -> str:
    """A row as an integrity error names it (only then: every row passes the checks)."""
    return f"{result.source_file} row {result.source_row}"


@lru_cache(maxsize=1_024)
def _comment_size(text: str) -> dict[str, Any]:
    """A comment box tall enough for its text; one dict per text (xlsxwriter only reads it).

    A sheet's comments repeat (one message per kind of issue), so each is measured once.
    """
    lines = sum(max(math.ceil(len(p) / _COMMENT_CHARS), 1) for p in text.split("\n")) + 1
    return {"x_scale": 2.5, "y_scale": max(lines * LINE_POINTS * 1.33 / 74, 1.0)}


@dataclass(frozen=True, slots=True)
class _CellWriters:
    """One sheet's cell-writing methods, looked up once for all its cells.

    xlsxwriter's public `write_string`, `write_number` and `write_datetime` first try
    `int(row)` to accept "A1" notation, then call an undecorated twin with the same arguments
    (its own `write_row` calls the twins). Row sheets always pass numbers, so they call the
    twins: the wrapper alone is about a tenth of bare xlsxwriter's CPU on 14 columns
    (BENCHMARKS.md, 3b). A version of xlsxwriter without a twin gets the public method, which
    writes the same cell. The sheet's row heights go through `RowHeights`.
    """

    sheet: Worksheet
    string: Callable[[int, int, str, Format | None], object]
    number: Callable[[int, int, float, Format | None], object]
    datetime: Callable[[int, int, datetime, Format | None], object]
    heights: RowHeights
    plain: PlainRows | None  # rows without marked cells, straight to the row file

    @classmethod
    def of(cls, sheet: Worksheet, plain: PlainRows | None = None) -> _CellWriters:
        """The twins of `sheet`'s writers, or its public writers where a twin is missing."""
        names = ("write_string", "write_number", "write_datetime")
        string, number, stamp = (getattr(sheet, f"_{name}", getattr(sheet, name)) for name in names)
        return cls(sheet, string, number, stamp, RowHeights(sheet, commented=False), plain)


@dataclass
class RowSheets:
    """Writes the row sheets of one workbook, remembering which rows it has already placed."""

    book: Workbook
    styles: Styles
    layout: Layout
    max_rows: int = EXCEL_MAX_ROWS
    max_commented: int = MAX_COMMENTED_ROWS
    _seen: set[int] = field(default_factory=set)
    columns: tuple[str, ...] = field(init=False)
    _times: tuple[int, ...] = field(init=False)  # the registration times' columns
    _names: tuple[str, ...] = field(init=False)  # one header a column: read by `map`, else ()

    def __post_init__(self) -> None:
        self.columns = self.layout.columns
        self._times = self.layout.holding(_TIME_FIELDS)
        members = self.layout.members
        single = all(len(names) == 1 for names in members)
        self._names = tuple(names[0] for names in members) if single and members else ()

    def write(self, name: str, outcome: Outcome, rows: Iterable[RowResult]) -> int:
        """Write `rows` to sheet `name` (continued on `name 2`, ... past Excel's limit)."""
        self.columns = self.layout.columns
        if outcome is Outcome.READY:  # a dry run: the request's fields as they would be sent
            self.columns = (*self.columns, *sent_columns())
        iterator = iter(rows)
        sample = list(islice(iterator, _SAMPLE_ROWS))
        inputs = len(self.layout.titles)
        wide = frozenset({inputs + _RESULT_TEXT, inputs + _UDB_TEXT})
        plan = _Plan(*column_widths(self.columns, (self._values(r) for r in sample), wide))
        sheets = self._sheets(name, outcome, plan)
        fix = outcome is Outcome.FIX
        cells, line, written = self._writers(next(sheets), fix=fix), 0, 0
        for result in chain(sample, iterator):
            if line == self.max_rows - 1:
                self._finish(cells.sheet, line)
                cells, line = self._writers(next(sheets), fix=fix), 0
            self._check(result, outcome)
            line += 1
            notes = cells.heights.commented = fix and written < self.max_commented
            self._write_row(cells, line, result, plan, fix=fix, notes=notes)
            written += 1
        self._finish(cells.sheet, line)
        return written

    def _sheets(self, name: str, outcome: Outcome, plan: _Plan) -> Iterator[Worksheet]:
        """The sheet, then its continuations, each with its header row and page set-up."""
        styles, part = self.styles, 1
        cpr = min(self.layout.cpr, default=_IDENTIFYING)
        frozen = cpr + 1 if cpr < _IDENTIFYING else 0
        while True:
            sheet = self.book.add_worksheet(name if part == 1 else f"{name} {part}")
            sheet.set_tab_color(TAB_COLORS[outcome])
            for col, width in enumerate(plan.widths):
                # Only wrapped columns get a column format: a format on every cell costs the
                # writer about a tenth of its speed (benchmarks/report_bench.py).
                sheet.set_column(col, col, width, styles.wrap if col in plan.wrap else None)
            for col, header in enumerate(self.columns):
                sheet.write_string(0, col, header, styles.header)
            sheet.freeze_panes(1, frozen)
            print_setup(sheet, landscape=True, header_rows=1)
            sheet.set_comments_author("batch")
            yield sheet
            part += 1

    def _writers(self, sheet: Worksheet, *, fix: bool) -> _CellWriters:
        """A sheet's cell writers; every sheet but Fix (highlights, comments) writes plain rows."""
        plain = None if fix else PlainRows.of(sheet, self.styles.datetime, self.layout.cpr)
        return _CellWriters.of(sheet, plain)

    def _finish(self, sheet: Worksheet, last_line: int) -> None:
        sheet.autofilter(0, 0, last_line, len(self.columns) - 1)

    def _check(self, result: RowResult, outcome: Outcome) -> None:
        if result.outcome is not outcome:
            raise ReportIntegrityError(
                f"{_where(result)} is {result.outcome.value} but was handed over as {outcome.value}"
            )
        key = hash((result.source_file, result.sheet, result.source_row))
        if key in self._seen:
            raise ReportIntegrityError(f"{_where(result)} was handed over twice")
        self._seen.add(key)

    def _values(self, result: RowResult) -> list[CellValue]:
        source = result.source_file
        if result.sheet is not None:
            source = f"{source} [{result.sheet}]"
        cells = result.cells
        values = list(map(cells.get, self._names)) if self._names else self.layout.values(cells)
        values += (
            source,
            result.source_row,
            result.extra.get("origin"),
            result.code,
            result.text,
            result.answer_text,
            result.attempts,
            result.last_attempt,
        )
        values += sent_values(result)
        return values

    def _write_row(
        self,
        cells: _CellWriters,
        line: int,
        result: RowResult,
        plan: _Plan,
        *,
        fix: bool,
        notes: bool,
    ) -> None:
        """One row: its height first, then its cells; on a Fix row the marked ones highlighted.

        This loop runs for every cell of the workbook, so the common types are decided first
        and go straight to xlsxwriter's methods bound once per sheet (`_CellWriters`); marked
        cells and the rarer types go through `write_value`.
        """
        values = self._values(result)
        height = plan.height(values)
        plain = cells.plain
        if plain is not None and plain.write(line, values, row_pixels(height)):
            return
        if height is not None:
            cells.heights.set(line, height)
        marked = self._marked(result, values) if fix else _NONE_MARKED
        string, number = cells.string, cells.number
        cpr, datetime_format = self.layout.cpr, self.styles.datetime
        for col, value in enumerate(values):
            if col in marked:
                note = marked[col] if notes else None
                self._write_marked(cells, line, col, value, wrap=col in plan.wrap, note=note)
            elif isinstance(value, str):
                string(line, col, value, None)
            elif value is None:
                continue
            elif type(value) is int and col not in cpr and -EXCEL_EXACT < value < EXCEL_EXACT:
                number(line, col, value, None)
            elif isinstance(value, datetime) and (serial := excel_serial(value)) is not None:
                number(line, col, serial, datetime_format)  # the cell write_datetime writes
            else:
                write_value(
                    cells.sheet,
                    line,
                    col,
                    value,
                    None,
                    datetime_format=datetime_format,
                    cpr=col in cpr,
                )

    def _write_marked(
        self,
        cells: _CellWriters,
        line: int,
        col: int,
        value: CellValue,
        *,
        wrap: bool,
        note: str | None,
    ) -> None:
        """A cell to fix: highlighted (wrapped if its column wraps), with its comment if any."""
        styles = self.styles
        mark = styles.mark_wrap if wrap else styles.mark
        write_value(
            cells.sheet,
            line,
            col,
            value,
            mark,
            datetime_format=styles.mark_datetime,
            cpr=col in self.layout.cpr,
        )
        if note:
            size = _comment_size(note)
            cells.sheet.write_comment(line, col, note, size)
            cells.heights.comment(line, size["y_scale"])

    def _marked(self, result: RowResult, values: list[CellValue]) -> dict[int, str | None]:
        """The cells to highlight on a Fix row, each with its comment (None: no comment).

        The result's code and text always; then the columns the row's issues name, with what
        is wrong in each. UDB names no column, so for its answers the columns are found from
        the code (280 is about registration times) or the fields the text names.
        """
        inputs = len(self.layout.titles)
        marked: dict[int, str | None] = {inputs + _RESULT_CODE: None, inputs + _RESULT_TEXT: None}
        for header, message in result.fix_cells.items():
            if (index := self.layout.index(header)) is not None:
                marked[index] = message
        if len(marked) == 2 and result.text:  # noqa: PLR2004 - only the result's two cells
            columns = self._times if result.code == "280" else ()
            named = [name for name in CANONICAL_FIELDS if name in result.text]
            if named:
                columns = (*columns, *self.layout.holding(frozenset(named)))
            for index in columns:
                if values[index] is not None:
                    marked[index] = result.text
        return marked
