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
    "Styles",
    "column_widths",
    "excel_datetime",
    "write_value",
]

DANISH_TIME = ZoneInfo("Europe/Copenhagen")

_MIN_WIDTH, _MAX_WIDTH, _MAX_TEXT_WIDTH = 6, 60, 90
_FILTER_BUTTON = 3  # the autofilter arrow covers the end of the header
_EXCEL_EXACT = 10**15  # Excel shows 15 significant digits; larger numbers go as text
_CPR_RANGE = range(10**8, 10**10)  # nine or ten digits: a CPR, maybe without its leading zero
_EXCEL_FIRST_YEAR = 1900


@dataclass(frozen=True, slots=True)
class Styles:
    """The few cell formats a workbook needs, created once per workbook."""

    header: Format
    fill: Format
    date: Format
    datetime: Format
    fill_date: Format
    fill_datetime: Format
    bold: Format
    wrap: Format
    link: Format

    @classmethod
    def create(cls, book: Workbook) -> Styles:
        """Register the formats with `book`."""
        fill = {"bg_color": "#FFEB9C", "font_color": "#9C5700"}  # Excel's own "Neutral" style
        date, stamp = {"num_format": "yyyy-mm-dd"}, {"num_format": "yyyy-mm-dd hh:mm:ss"}
        return cls(
            header=book.add_format({"bold": True, "bottom": 1, "bg_color": "#DDEBF7"}),
            fill=book.add_format(fill),
            date=book.add_format(date),
            datetime=book.add_format(stamp),
            fill_date=book.add_format({**fill, **date}),
            fill_datetime=book.add_format({**fill, **stamp}),
            bold=book.add_format({"bold": True}),
            wrap=book.add_format({"text_wrap": True, "valign": "top"}),
            link=book.add_format({"font_color": "blue", "underline": 1}),
        )


def excel_datetime(value: datetime) -> datetime:
    """Danish local wall-clock time without tzinfo: what Excel can hold and users expect."""
    if value.tzinfo is None:
        return value
    return value.astimezone(DANISH_TIME).replace(tzinfo=None)


def write_value(
    sheet: Worksheet,
    row: int,
    col: int,
    value: CellValue,
    styles: Styles,
    *,
    highlight: bool = False,
    cpr: bool = False,
) -> None:
    """Write one value as the Excel cell type that matches it."""
    fill = styles.fill if highlight else None
    if isinstance(value, str):
        sheet.write_string(row, col, value, fill)
    elif value is None:
        if highlight:
            sheet.write_blank(row, col, None, fill)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fill)
    elif isinstance(value, datetime):
        _write_datetime(sheet, row, col, value, styles, highlight=highlight)
    elif isinstance(value, int | float):
        _write_number(sheet, row, col, value, fill, cpr=cpr)
    else:  # not a CellValue, but never lose it
        sheet.write_string(row, col, str(value), fill)


def _write_datetime(
    sheet: Worksheet, row: int, col: int, value: datetime, styles: Styles, *, highlight: bool
) -> None:
    local = excel_datetime(value)
    if local.year < _EXCEL_FIRST_YEAR:  # before Excel's epoch: keep it readable as text
        sheet.write_string(row, col, local.isoformat(sep=" "), styles.fill if highlight else None)
        return
    midnight = local == local.replace(hour=0, minute=0, second=0, microsecond=0)
    if highlight:
        style = styles.fill_date if midnight else styles.fill_datetime
    else:
        style = styles.date if midnight else styles.datetime
    sheet.write_datetime(row, col, local, style)


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
    elif abs(value) >= _EXCEL_EXACT:
        sheet.write_string(row, col, str(value), fill)
    else:
        sheet.write_number(row, col, value, fill)


def _display_width(value: CellValue) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 19
    if isinstance(value, str):
        return max((len(line) for line in value.splitlines()), default=0)
    return len(str(value))


def column_widths(
    headers: Sequence[str], samples: Iterable[Sequence[CellValue]], wide: frozenset[int]
) -> list[float]:
    """Widths from the headers and a sample of rows; columns in `wide` may grow further."""
    widths = [len(header) + _FILTER_BUTTON for header in headers]
    for values in samples:
        for col, value in enumerate(values):
            widths[col] = max(widths[col], _display_width(value) + 1)
    return [
        float(min(max(width, _MIN_WIDTH), _MAX_TEXT_WIDTH if col in wide else _MAX_WIDTH))
        for col, width in enumerate(widths)
    ]
