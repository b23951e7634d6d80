"""Row heights through `RowHeights`: the same workbook as `set_row`, without its memory."""

from __future__ import annotations

import zipfile

import xlsxwriter

from batch.report._heights import RowHeights

ROWS, COMMENTED = 300, 40
NOTE = "Registreringstid må ikke fremdateres. " * 6  # a comment box several rows tall


def _height(line: int) -> float | None:
    return None if line % 4 == 0 else 15.0 * (1 + line % 3)


def _book(path, *, lean: bool) -> dict[str, bytes]:
    """A constant-memory sheet: heights on most rows, comments on the first rows only."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet()
    heights = RowHeights(sheet, commented=True)
    for line in range(1, ROWS):
        heights.commented = line <= COMMENTED
        if (points := _height(line)) is not None:
            if lean:
                heights.set(line, points)
            else:
                sheet.set_row(line, points)
        sheet.write_string(line, 0, f"row {line}")
        if line <= COMMENTED and line % 5 == 0:
            sheet.write_comment(line, 0, NOTE, {"x_scale": 2.5, "y_scale": 3.0})
            heights.comment(line, 3.0)
    book.close()
    with zipfile.ZipFile(path) as parts:
        return {name: parts.read(name) for name in parts.namelist() if "docProps" not in name}


def test_the_workbook_is_the_one_set_row_writes(tmp_path):
    """Sheet XML, comments and VML anchors are byte for byte those `set_row` gives."""
    lean = _book(tmp_path / "lean.xlsx", lean=True)
    plain = _book(tmp_path / "plain.xlsx", lean=False)
    assert lean.keys() == plain.keys()
    assert "xl/drawings/vmlDrawing1.vml" in lean
    for name, data in plain.items():
        assert lean[name] == data, name


def test_rows_on_disk_are_forgotten(tmp_path):
    """Without comments, a sheet keeps no sizes and only the rows not yet written out."""
    book = xlsxwriter.Workbook(str(tmp_path / "book.xlsx"), {"constant_memory": True})
    sheet = book.add_worksheet()
    heights = RowHeights(sheet, commented=False)
    for line in range(1, ROWS):
        heights.set(line, 30.0)
        sheet.write_string(line, 0, "x")
    assert sorted(sheet.row_info) == [ROWS - 2, ROWS - 1]
    assert sheet.row_sizes == {}
    book.close()


def test_sizes_are_kept_up_to_the_last_comments_reach(tmp_path):
    """After the last comment, only the rows its box may reach keep their sizes."""
    book = xlsxwriter.Workbook(str(tmp_path / "book.xlsx"), {"constant_memory": True})
    sheet = book.add_worksheet()
    heights = RowHeights(sheet, commented=True)
    for line in range(1, ROWS):
        heights.commented = line <= COMMENTED
        heights.set(line, 30.0)
        sheet.write_string(line, 0, "x")
        if line == COMMENTED:
            heights.comment(line, 1.0)
    kept = max(sheet.row_sizes)
    assert COMMENTED < kept < COMMENTED + 10
    assert sorted(sheet.row_sizes) == list(range(1, kept + 1))
    book.close()
