"""The row sheets' hot loop: xlsxwriter's undecorated writers, text heights, moments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import xlsxwriter
from xlsxwriter.utility import _datetime_to_excel_datetime

from batch.report._cells import excel_datetime, excel_serial
from batch.report._sheets import LINE_POINTS, _CellWriters, _Plan, text_lines

LONG = "Gymnasium (STX), gerne med naturvidenskabelig studieretning og udlandsophold"


def test_cell_writers_are_xlsxwriters_undecorated_twins(tmp_path):
    """With xlsxwriter as installed, the loop calls the twins past the A1-notation wrapper."""
    book = xlsxwriter.Workbook(str(tmp_path / "book.xlsx"), {"constant_memory": True})
    sheet = book.add_worksheet()
    cells = _CellWriters.of(sheet)
    assert cells.string == sheet._write_string
    assert cells.number == sheet._write_number
    assert cells.datetime == sheet._write_datetime
    book.close()


def test_cell_writers_fall_back_to_the_public_writers():
    """A worksheet without the undecorated twins is written through its public methods."""

    class PublicOnly:
        def write_string(self, row, col, value, cell_format=None):
            return ("string", row, col, value, cell_format)

        def write_number(self, row, col, value, cell_format=None):
            return ("number", row, col, value, cell_format)

        def write_datetime(self, row, col, value, cell_format=None):
            return ("datetime", row, col, value, cell_format)

    cells = _CellWriters.of(PublicOnly())
    assert cells.string(1, 2, "x", None) == ("string", 1, 2, "x", None)
    assert cells.number(1, 3, 7, None) == ("number", 1, 3, 7, None)


def test_a_remembered_height_is_the_measured_one():
    """A wrapped text seen again gets the same height as when it was first measured."""
    plan = _Plan([10.0, 20.0], frozenset({1}))
    first = plan.height(["a", LONG])
    again = plan.height(["b", LONG])
    assert first == again == text_lines(LONG, 20.0) * LINE_POINTS
    assert plan.height(["c", "short"]) is None


def test_the_same_text_in_two_wrapped_columns_is_measured_for_each():
    """A text remembered for a wide column is measured anew in a narrow one."""
    plan = _Plan([40.0, 20.0], frozenset({0, 1}))
    wide_only = plan.height([LONG, None])
    both = plan.height([LONG, LONG])
    assert wide_only == text_lines(LONG, 40.0) * LINE_POINTS
    assert both == text_lines(LONG, 20.0) * LINE_POINTS
    assert both > wide_only


def test_a_moments_serial_is_the_one_xlsxwriter_stores():
    """A moment written as its serial number is, to the last bit, what write_datetime stores."""
    moments = [
        datetime(1900, 1, 1, 0, 0),
        datetime(1900, 1, 1, 23, 59, 59, 999999),
        datetime(1900, 2, 28, 12, 0),
        datetime(1900, 3, 1, 6, 30),
        datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),  # Danish summer time begins at 01:00
        datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 in Copenhagen, twice that night
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2026, 11, 27, 8, 15, 2, 123456, tzinfo=timezone(timedelta(hours=-5))),
        datetime(9999, 12, 31, 23, 59, 59),
    ]
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    moments += [start + timedelta(seconds=7 * n, microseconds=n) for n in range(999)]
    for moment in moments:
        stored = _datetime_to_excel_datetime(
            excel_datetime(moment), date_1904=False, remove_timezone=False
        )
        assert excel_serial(moment) == stored, moment


def test_a_moment_before_1900_has_no_serial():
    """Excel holds no date before 1900: the loop leaves such a moment to write_value."""
    assert excel_serial(datetime(1899, 12, 31, 23, 59)) is None
    assert excel_serial(datetime(1899, 12, 31, 22, 0, tzinfo=UTC)) is None  # 23:00 in Denmark
