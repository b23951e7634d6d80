"""One value into one Excel cell that the user recognises and that can never run as a formula.

Strings always go through `write_string` (never a formula, whatever they begin with), numbers
stay numbers, datetimes become real Excel datetimes in Danish local time (Excel has no time
zones). Two exceptions keep data intact: a whole number in a column of CPR numbers is
written as ten-digit text (Excel had dropped its leading zero), and a number too large for
Excel's doubles is written as text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

    from batch.records import CellValue

__all__ = [
    "DANISH_TIME",
    "DATETIME_WIDTH",
    "EXCEL_EXACT",
    "EXCEL_FIRST_YEAR",
    "Styles",
    "column_widths",
    "excel_datetime",
    "excel_serial",
    "write_value",
]

DANISH_TIME = ZoneInfo("Europe/Copenhagen")
# One display for every moment in the workbook, as a Danish case worker writes it. Midnight
# too: the times here are moments (registrations, attempts), and one format reads calmly.
DATETIME_FORMAT = r"dd\-mm\-yyyy hh\:mm"  # escaped: literal, whatever the reader's locale
DATETIME_WIDTH = 18  # "dd-mm-yyyy hh:mm" and a margin: never `###` in Excel or LibreOffice

_MIN_WIDTH, _MAX_WIDTH, _MAX_TEXT_WIDTH = 6, 40, 60
_FILTER_BUTTON = 3  # the autofilter arrow covers the end of the header
EXCEL_EXACT = 10**15  # Excel shows 15 significant digits; larger numbers go as text
_CPR_RANGE = range(10**8, 10**10)  # nine or ten digits: a CPR, maybe without its leading zero
EXCEL_FIRST_YEAR = 1900
_DANISH_EPOCH = datetime(1899, 12, 31, tzinfo=DANISH_TIME)  # Excel's day 0 (no 1904 dates)
_EPOCH = _DANISH_EPOCH.replace(tzinfo=None)  # the same, for naive wall-clock times
_DAY_SECONDS, _LEAP_DAY = 60 * 60 * 24, 59  # Excel counts a 29-02-1900 that never was
_MARK = {"bg_color": "#FFEB9C", "font_color": "#9C5700", "border": 1, "border_color": "#C65911"}


@dataclass(frozen=True, slots=True)
class Styles:
    """The cell formats a workbook needs, created once per workbook (never per cell).

    Every body format aligns to the top, so a row made tall by one wrapped text still reads
    from its first line. `mark*` is Excel's own "Neutral" look with a border: a cell to fix.
    """

    header: Format
    body: Format
    wrap: Format
    datetime: Format
    mark: Format
    mark_wrap: Format
    mark_datetime: Format
    bold: Format
    title: Format
    link: Format

    @classmethod
    def create(cls, book: Workbook) -> Styles:
        """Register the formats with `book`."""
        top, wrap = {"valign": "top"}, {"valign": "top", "text_wrap": True}
        stamp = {"valign": "top", "num_format": DATETIME_FORMAT}
        return cls(
            header=book.add_format(
                {"bold": True, "bottom": 1, "bg_color": "#DDEBF7", "valign": "top"}
            ),
            body=book.add_format(top),
            wrap=book.add_format(wrap),
            datetime=book.add_format(stamp),
            mark=book.add_format({**_MARK, **top}),
            mark_wrap=book.add_format({**_MARK, **wrap}),
            mark_datetime=book.add_format({**_MARK, **stamp}),
            bold=book.add_format({"bold": True, "valign": "top"}),
            title=book.add_format({"bold": True, "font_size": 14}),
            link=book.add_format({"font_color": "blue", "underline": 1, "valign": "top"}),
        )


def excel_datetime(value: datetime) -> datetime:
    """Danish local wall-clock time without tzinfo: what Excel can hold and users expect."""
    if value.tzinfo is None:
        return value
    return value.astimezone(DANISH_TIME).replace(tzinfo=None)


def excel_serial(value: datetime) -> float | None:
    """The number xlsxwriter's `write_datetime` stores for `excel_datetime(value)`.

    None before 1900, which Excel cannot hold.

    Every row has its moments: making each a naive datetime (`replace`) for xlsxwriter to
    convert again (type checks, a new epoch, `isocalendar`) costs more than this, which does
    the same arithmetic in the same order, so the cell is the same to the last bit. Two aware
    datetimes with one tzinfo subtract as wall-clock times, so no naive copy is needed.
    """
    if value.tzinfo is None:
        if value.year < EXCEL_FIRST_YEAR:
            return None
        delta = value - _EPOCH
    else:
        local = value.astimezone(DANISH_TIME)
        if local.year < EXCEL_FIRST_YEAR:
            return None
        delta = local - _DANISH_EPOCH
    serial = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / _DAY_SECONDS
    if delta.days == 1:  # 01-01-1900: xlsxwriter's correction for time-only values
        serial -= 1
    if serial > _LEAP_DAY:
        serial += 1
    return serial


def write_value(
    sheet: Worksheet,
    row: int,
    col: int,
    value: CellValue,
    cell_format: Format | None,
    *,
    datetime_format: Format,
    cpr: bool = False,
) -> None:
    """Write one value as the Excel cell type that matches it.

    `cell_format` is for text and numbers (None: the column's own format applies),
    `datetime_format` for moments; a highlighted cell passes the marked variants of both.
    """
    if isinstance(value, str):
        sheet.write_string(row, col, value, cell_format)
    elif value is None:
        if cell_format is not None:
            sheet.write_blank(row, col, None, cell_format)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, cell_format)
    elif isinstance(value, datetime):
        local = excel_datetime(value)
        if local.year < EXCEL_FIRST_YEAR:  # before Excel's epoch: keep it readable as text
            sheet.write_string(row, col, local.isoformat(sep=" "), cell_format)
        else:
            sheet.write_datetime(row, col, local, datetime_format)
    elif isinstance(value, int | float):
        _write_number(sheet, row, col, value, cell_format, cpr=cpr)
    else:  # not a CellValue, but never lose it
        sheet.write_string(row, col, str(value), cell_format)


def _write_number(
    sheet: Worksheet, row: int, col: int, value: float, fill: Format | None, *, cpr: bool
) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        if not math.isnan(value):
            sheet.write_string(row, col, str(value), fill)
        elif fill is not None:
            sheet.write_blank(row, col, None, fill)
        return
    whole = isinstance(value, int) or value.is_integer()
    if cpr and whole and int(value) in _CPR_RANGE:
        sheet.write_string(row, col, f"{int(value):010d}", fill)
    elif abs(value) >= EXCEL_EXACT:
        sheet.write_string(row, col, str(value), fill)
    else:
        sheet.write_number(row, col, value, fill)


def _display_width(value: CellValue) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return DATETIME_WIDTH
    if isinstance(value, str):
        return max((len(line) for line in value.splitlines()), default=0)
    return len(str(value))


def column_widths(
    headers: Sequence[str], samples: Iterable[Sequence[CellValue]], wide: frozenset[int]
) -> tuple[list[float], frozenset[int]]:
    """Widths from the headers and a sample of rows, and the columns whose texts must wrap.

    Columns in `wide` (the result's texts) may grow further and always wrap; any other column
    wraps when its longest sampled text is wider than the column may be.
    """
    widths = [len(header) + _FILTER_BUTTON for header in headers]
    for values in samples:
        for col, value in enumerate(values):
            widths[col] = max(widths[col], _display_width(value) + 1)
    limits = [_MAX_TEXT_WIDTH if col in wide else _MAX_WIDTH for col in range(len(widths))]
    wrap = frozenset(col for col, width in enumerate(widths) if col in wide or width > limits[col])
    return [
        float(min(max(width, _MIN_WIDTH), limit))
        for width, limit in zip(widths, limits, strict=True)
    ], wrap
