"""Workbooks (.xlsx, .xls, .ods): real cell types, sheets, title rows, the Fix sheet fed back."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from intake_kit import DANISH_HEADER, ROW_FULL, SYSTEM_ID, read, write_xlsx

from batch.intake.times import COPENHAGEN
from batch.records import RESULT_COLUMNS, Contact, Report, Wish
from input_examples.generate import SHEET_HEADERS

# The hand-made example spreadsheet's header, and a column of notes no field claims.
HEADER = [*SHEET_HEADERS, "Note"]
SUMMER = datetime(2025, 6, 15, 14, 30)  # a naive Excel datetime: Danish local time
WINTER = datetime(2025, 1, 3, 8, 0)
SERIAL_SUMMER = 45823 + (14 * 60 + 30) / (24 * 60)  # 15-06-2025 14:30 as an Excel serial


def _report(cpr: str, *, phone: int | None, when: datetime, education: str | None) -> Report:
    moment = when.replace(tzinfo=COPENHAGEN)
    return Report(
        system_id=SYSTEM_ID,
        cpr=cpr,
        institution=751001,
        contact=Contact("Anne Friis", "anne.friis@kui.ungekommune.dk", phone, moment),
        education=None if education is None else Wish(education, moment),
    )


def _sheet_rows() -> list[list[object]]:
    return [
        ["Ungeliste \u2013 efterår 2025"],
        [],
        HEADER,
        [
            303064561,
            "Anne Friis",
            "anne.friis@kui.ungekommune.dk",
            51234567,
            SUMMER,
            "Pædagogisk assistent",
            SUMMER,
            "CPR mistede sit 0",
        ],
        [
            "2412084170",
            "Anne Friis",
            "anne.friis@kui.ungekommune.dk",
            "51 23 45 67",
            WINTER,
            None,
            None,
            None,
        ],
        [],
        [
            1701114593,
            "Anne Friis",
            "anne.friis@kui.ungekommune.dk",
            None,
            SERIAL_SUMMER,
            "Handelsskole",
            "15.06.2025 14:30",
            7,
        ],
    ]


EXPECTED = {
    4: _report("0303064561", phone=51234567, when=SUMMER, education="Pædagogisk assistent"),
    5: _report("2412084170", phone=51234567, when=WINTER, education=None),
    7: _report("1701114593", phone=None, when=SUMMER, education="Handelsskole"),
}


def test_xlsx_keeps_types_repairs_cpr_and_numbers_rows(tmp_path):
    """Numeric CPRs get their 0 back, datetimes and serials are read, rows are numbered as shown."""
    path = write_xlsx(tmp_path / "unge.xlsx", _sheet_rows(), formats={"E4": "dd-mm-yyyy hh:mm"})

    result = read(path, institution=751001)

    assert result.file.sheet == "Ark1"
    assert result.file.headers == tuple(HEADER)
    assert {row.source_row: row.report for row in result.rows} == EXPECTED
    assert (result.file.rows, result.file.blank) == (3, 1)
    first = result.by_row()[4]
    assert first.cells["Personnummer"] == 303064561  # the user's own value, unrepaired
    assert first.cells["Kontakt registreringstid"] == SUMMER
    assert result.by_row()[7].cells["Note"] == 7
    assert all(row.sheet == "Ark1" for row in result.rows)


def test_xlsx_data_starting_in_a_later_column(tmp_path):
    """A sheet whose table starts in column C still numbers rows and reads cells correctly."""
    rows = [[None, None, *row] for row in _sheet_rows()]
    path = write_xlsx(tmp_path / "forskudt.xlsx", rows)

    result = read(path, institution=751001)

    assert {row.source_row: row.report for row in result.rows} == EXPECTED


def test_sheet_by_name_index_and_first_with_header(tmp_path):
    """--sheet picks by name (any case) or index; by default the first sheet with a header."""
    path = write_xlsx(
        tmp_path / "ark.xlsx",
        [["Forside"], ["intet her"]],
        sheet="Forside",
        extra_sheets={"Data": _sheet_rows(), "Andet": [HEADER, list(_sheet_rows()[3])]},
    )

    assert read(path, institution=751001).file.sheet == "Data"
    assert read(path, institution=751001, sheet="data").file.sheet == "Data"
    by_index = read(path, institution=751001, sheet=2)
    assert by_index.file.sheet == "Andet"
    assert [row.source_row for row in by_index.rows] == [2]


def test_xls_legacy_workbook(tmp_path):
    """A legacy .xls workbook is read with its datetimes and row numbers."""
    xlwt = pytest.importorskip("xlwt", reason="xlwt writes the .xls fixture")
    book = xlwt.Workbook()
    sheet = book.add_sheet("Unge")
    date_style = xlwt.easyxf(num_format_str="dd-mm-yyyy hh:mm")
    for index, row in enumerate(_sheet_rows()):
        for column, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write(index, column, value, date_style)
            elif value is not None:
                sheet.write(index, column, value)
    path = tmp_path / "gammel.xls"
    book.save(str(path))

    result = read(path, institution=751001)

    assert result.file.sheet == "Unge"
    assert {row.source_row: row.report for row in result.rows} == EXPECTED


def test_ods_workbook(tmp_path):
    """An OpenDocument spreadsheet is read like a workbook."""
    path = tmp_path / "unge.ods"
    rows = _sheet_rows()
    width = len(HEADER)
    frame = pd.DataFrame([list(row) + [None] * (width - len(row)) for row in rows])
    with pd.ExcelWriter(path, engine="odf") as writer:
        frame.to_excel(writer, sheet_name="Unge", header=False, index=False)

    result = read(path, institution=751001)

    assert {row.source_row: row.report for row in result.rows} == EXPECTED


def test_fix_sheet_fed_back_ignores_result_columns(tmp_path):
    """The result workbook's Fix sheet read back: result columns ignored, corrected data sent."""
    fixed = ROW_FULL.copy()
    header = [*DANISH_HEADER, *RESULT_COLUMNS]
    results = ["eksport.csv", 2, "contact-mail-invalid", "Rettet af bruger", "kunstig", "x"]
    broken = ROW_FULL.copy()
    broken[3] = "mette.holm(at)kommune"
    path = write_xlsx(
        tmp_path / "resultat.xlsx",
        [header, [*fixed, *results], [*broken, *results]],
        sheet="Fix",
        extra_sheets={"Accepted": [header]},
    )

    result = read(path, sheet="Fix")

    assert result.file.headers == tuple(DANISH_HEADER)
    assert [row.source_row for row in result.rows] == [2, 3]
    assert result.rows[0].report is not None
    assert result.rows[0].report.cpr == "0910054836"
    assert set(result.rows[0].cells) == set(DANISH_HEADER)
    assert [issue.slug for issue in result.rows[1].issues] == ["contact-mail-invalid"]


def test_cell_values_keep_types_and_whole_numbers_become_ints():
    """Workbook cells: empty text is None, whole floats ints, dates datetimes, times text."""
    from datetime import date, time, timedelta

    from batch.intake.table import cell_values

    values = ["", "x", 1.0, 2.5, float("nan"), True, 3, SUMMER, date(2025, 6, 15), time(10, 30)]
    values.append(timedelta(hours=1))

    cells = cell_values(values)

    assert cells[:4] == [None, "x", 1, 2.5]
    assert type(cells[2]) is int
    assert cells[4] != cells[4]  # NaN stays a (not-a-)number
    assert cells[5:] == [True, 3, SUMMER, datetime(2025, 6, 15), "10:30:00", "1:00:00"]
    assert cell_values([101054836.0, 2.0]) == [101054836, 2]
    assert cell_values(["a", ""]) == ["a", None]


def test_whitespace_rows_are_blank_and_columns_beyond_the_header_unread(tmp_path):
    """A row of spaces is blank; cells right of the last named header are not read."""
    rows = _sheet_rows()
    rows.insert(4, ["   ", " ", None, "\t"])
    rows[3] = [*rows[3], None, "outside the header"]
    path = write_xlsx(tmp_path / "ekstra.xlsx", rows)

    result = read(path, institution=751001)

    assert (result.file.rows, result.file.blank) == (3, 2)
    assert result.file.headers == tuple(HEADER)
    assert "outside the header" not in result.by_row()[4].cells.values()
