"""Hidden rows and columns are found in `.ods` and `.xls` sheets too, not only in `.xlsx`."""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

import openpyxl
import pytest
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableColumn, TableRow, TableRowGroup
from odf.text import P

from batch.intake.hidden import Hidden, hidden_cells

if TYPE_CHECKING:
    from pathlib import Path


def _ods_sheet(name: str, rows: list[tuple[str, dict[str, str]]]) -> Table:
    """A sheet of one-cell rows, each with its own row attributes (visibility, repeats)."""
    table = Table(name=name)
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    table.addElement(TableColumn(visibility="collapse"))  # C, hidden by hand
    table.addElement(TableColumn())
    group = TableRowGroup()  # rows grouped (outline) after the first: counted all the same
    for number, (text, attributes) in enumerate(rows):
        row = TableRow(**attributes)
        cell = TableCell(valuetype="string")
        cell.addElement(P(text=text))
        row.addElement(cell)
        (table if number == 0 else group).addElement(row)
    table.addElement(group)
    return table


def test_an_ods_sheet_tells_its_hidden_rows_and_columns(tmp_path: Path):
    """Rows hidden by hand (repeats, a row group), a hidden column, only the sheet asked for."""
    book = OpenDocumentSpreadsheet()
    book.spreadsheet.addElement(_ods_sheet("Andet", [("x", {"visibility": "collapse"})]))
    rows = [
        ("CPR", {}),
        ("a", {"numberrowsrepeated": "2"}),  # rows 2-3
        ("b", {"visibility": "collapse"}),  # row 4, hidden by hand
        ("c", {"visibility": "collapse", "numberrowsrepeated": "2"}),  # rows 5-6
        ("d", {}),
    ]
    book.spreadsheet.addElement(_ods_sheet("Unge & co", rows))
    path = tmp_path / "unge.ods"
    book.save(str(path))

    assert hidden_cells(path, "Unge & co") == Hidden(
        frozenset({4, 5, 6}), frozenset({2}), filtered=False
    )
    assert hidden_cells(path, "Andet") == Hidden(frozenset({1}), frozenset({2}), filtered=False)
    assert hidden_cells(path, "Mangler") is None


def test_an_ods_filter_is_told_apart_from_hiding_by_hand(tmp_path: Path):
    """A row LibreOffice's filter hid (`visibility="filter"`): hidden, by a filter."""
    book = OpenDocumentSpreadsheet()
    rows = [("CPR", {}), ("a", {}), ("b", {"visibility": "filter"})]
    book.spreadsheet.addElement(_ods_sheet("Unge", rows))
    path = tmp_path / "unge.ods"
    book.save(str(path))

    assert hidden_cells(path, "Unge") == Hidden(frozenset({3}), frozenset({2}), filtered=True)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
@pytest.mark.parametrize("kind", ["ods", "xls"])
def test_a_workbook_saved_again_by_libreoffice_keeps_what_is_hidden(tmp_path: Path, kind: str):
    """An Excel file with a filter and a hidden column, saved as .ods/.xls: the same found."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Unge"
    for row in (["CPR", "Navn", "Note"], ["1", "a", ""], ["2", "b", ""], ["3", "c", ""]):
        sheet.append(row)
    sheet.row_dimensions[3].hidden = True
    sheet.column_dimensions["C"].hidden = True
    sheet.auto_filter.ref = "A1:C4"
    book.save(tmp_path / "unge.xlsx")
    profile = f"-env:UserInstallation=file://{tmp_path / 'profile'}"
    subprocess.run(
        ["soffice", "--headless", profile, "--convert-to", kind, "--outdir", str(tmp_path),
         str(tmp_path / "unge.xlsx")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip

    found = hidden_cells(tmp_path / f"unge.{kind}", "Unge")

    assert found is not None
    assert (found.rows, found.columns, found.filtered) == ({3}, {2}, True)
