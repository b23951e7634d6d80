"""The row sheets' hot loop: xlsxwriter's undecorated writers, remembered text heights."""

from __future__ import annotations

import xlsxwriter

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
