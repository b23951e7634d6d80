"""A workbook people can work in: opened as a user would, in openpyxl, LibreOffice and on paper."""

from __future__ import annotations

import contextvars
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from batch.i18n import use_language
from batch.intake import InputOptions, open_input
from batch.records import Outcome, RowResult
from batch.report import InputSheet, RunSummary, write_report
from batch.report._cells import DATETIME_FORMAT

HEADERS = ("CPRNr", "KontaktNavn", "KontaktMail", "KontaktRegistreringstid", "JobOnsker",
           "JobRegistreringstid", "Bemærkning")  # fmt: skip
STARTED = datetime(2026, 11, 27, 8, 15, tzinfo=UTC)
LONG_WISH = (
    "Tømrerlærling i en mindre virksomhed tæt på bopælen, gerne med mulighed for at tage "
    "svendeprøven efter fire år og senere læse videre til bygningskonstruktør"
)
FIX_ROWS = 13


def _cells(n: int) -> dict[str, object]:
    return {
        "CPRNr": f"0{n % 9 + 1}0108{4100 + n}",
        "KontaktNavn": f"Kontakt {n}",
        "KontaktMail": f"kontakt{n}@kommune.example" if n % 3 else "kontakt(at)kommune",
        "KontaktRegistreringstid": datetime(2026, 1, 5, 10, n, tzinfo=UTC),
        "JobOnsker": LONG_WISH if n % 2 else "Smed",
        "JobRegistreringstid": datetime(2026, 1, 5, 0, 0),
        "Bemærkning": None,
    }


def _fix(n: int) -> RowResult:
    """Every third row has a bad e-mail (named by the issue); the others UDB's 280."""
    local = n % 3 == 0
    return RowResult(
        source_file="kommune.csv",
        source_row=n + 2,
        cells=_cells(n),
        outcome=Outcome.FIX,
        code="contact-mail-invalid" if local else "280",
        text='Column "KontaktMail" is not a valid e-mail address: correct it.'
        if local
        else "The registration time is later than now: set it to the moment it was "
        "registered, then send the row again.",
        attempts=0 if local else 1,
        last_attempt=None if local else STARTED,
        answer_text=None if local else "Registreringstid ... må ikke fremdateres",
        fix_cells={"KontaktMail": "not a valid e-mail address"} if local else {},
    )


def _accepted(n: int) -> RowResult:
    return RowResult("kommune.csv", n + 2, _cells(n), Outcome.ACCEPTED, attempts=1,
                     last_attempt=STARTED)  # fmt: skip


def _write(tmp_path: Path, language: str = "en") -> Path:
    rows = {
        Outcome.ACCEPTED: [_accepted(n) for n in range(FIX_ROWS, FIX_ROWS + 3)],
        Outcome.FIX: [_fix(n) for n in range(FIX_ROWS)],
    }
    total = sum(len(items) for items in rows.values())
    summary = RunSummary(
        run_id="run-0002", dry_run=False, started=STARTED,
        finished=STARTED + timedelta(seconds=40), status="finished", message=None,
        inputs=(InputSheet("kommune.csv", None, HEADERS, total, 0),),
        settings={"rate": "5"}, counts={outcome: len(items) for outcome, items in rows.items()},
    )  # fmt: skip

    def write() -> Path:
        use_language(language)
        rows_for = lambda outcome: iter(rows.get(outcome, ()))  # noqa: E731
        return write_report(tmp_path / "reports", summary, rows_for).workbook

    return contextvars.copy_context().run(write)  # the language stays inside the test


@pytest.fixture
def book_path(tmp_path: Path) -> Path:
    """The English workbook of 3 accepted rows and 13 rows to fix."""
    return _write(tmp_path)


def _column(sheet, header: str) -> int:
    return next(cell.column for cell in sheet[1] if cell.value == header)


def _width(sheet, column: int) -> float:
    """A column's width; openpyxl files equal neighbours under the first one's letter."""
    for dimension in sheet.column_dimensions.values():
        if dimension.min is not None and dimension.min <= column <= dimension.max:
            return float(dimension.width)
    raise AssertionError(f"column {column} has no width of its own")


def _filled(cell) -> bool:
    return cell.fill.fgColor.rgb not in (None, "00000000")


def test_cells_to_fix_are_highlighted_with_the_message_as_comment(book_path):
    """A Fix row's named column is filled and carries the issue as a comment; others do not."""
    sheet = openpyxl.load_workbook(book_path)["Fix"]
    mail, name = _column(sheet, "KontaktMail"), _column(sheet, "KontaktNavn")
    row = 2  # source row 2: n = 0, a bad e-mail
    assert _filled(sheet.cell(row, mail))
    assert sheet.cell(row, mail).comment.text.startswith("not a valid e-mail address")
    assert not _filled(sheet.cell(row, name))
    assert sheet.cell(row, name).comment is None
    assert _filled(sheet.cell(row, _column(sheet, "Result text")))


def test_udb_280_highlights_the_registration_times(book_path):
    """UDB names no column: for its 280 the row's registration times are highlighted."""
    sheet = openpyxl.load_workbook(book_path)["Fix"]
    row = 3  # n = 1: UDB's 280
    for header in ("KontaktRegistreringstid", "JobRegistreringstid"):
        cell = sheet.cell(row, _column(sheet, header))
        assert _filled(cell)
        assert "registration time" in cell.comment.text
    assert not _filled(sheet.cell(row, _column(sheet, "KontaktMail")))
    assert sheet.cell(row, _column(sheet, "UDB text")).value.startswith("Registreringstid")


def test_every_moment_has_one_format_in_columns_wide_enough(book_path):
    """Each datetime, midnight or not, shows dd-mm-yyyy hh:mm, in a column wide enough for it."""
    book = openpyxl.load_workbook(book_path)
    moments = [
        (sheet, cell)
        for sheet in book
        for line in sheet.iter_rows()
        for cell in line
        if isinstance(cell.value, datetime)
    ]
    assert len(moments) > FIX_ROWS * 2
    assert {cell.number_format for _sheet, cell in moments} == {DATETIME_FORMAT}
    for sheet, cell in moments:
        assert _width(sheet, cell.column) >= len("dd-mm-yyyy hh:mm") + 1


def test_long_texts_wrap_in_rows_tall_enough(book_path):
    """A long wish wraps, and its row is tall enough for every line; a short row is not raised."""
    sheet = openpyxl.load_workbook(book_path)["Fix"]
    col = _column(sheet, "JobOnsker")
    width = _width(sheet, col)
    long_row, short_row = 3, 2  # n = 1 has the long wish, n = 0 "Smed"
    assert sheet.cell(long_row, col).alignment.wrap_text
    lines = -(-len(LONG_WISH) // int(width - 1))
    assert sheet.row_dimensions[long_row].height >= lines * 15
    assert width < 41
    assert sheet.row_dimensions[short_row].height is None or (
        sheet.row_dimensions[short_row].height < sheet.row_dimensions[long_row].height
    )


def test_frozen_filtered_and_set_up_for_printing(book_path):
    """Header row and CPR column frozen, an autofilter, landscape A4, one page wide, numbered."""
    book = openpyxl.load_workbook(book_path)
    for name in ("Accepted", "Fix"):
        sheet = book[name]
        assert sheet.freeze_panes == "B2"
        last = sheet.cell(sheet.max_row, sheet.max_column).coordinate
        assert sheet.auto_filter.ref == f"A1:{last}"
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.paperSize == 9
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        # 1 page wide is the file format's default, so it may be left out (None); 0 is "any"
        assert (sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (1, 0)
        assert sheet.print_title_rows == "$1:$1"
        assert sheet.oddFooter.center.text == "Page &P of &N"


def test_summary_opens_with_a_chart_of_the_rows_per_sheet(book_path):
    """A native chart sits above the table it draws: one bar per sheet, from its row count."""
    with zipfile.ZipFile(book_path) as archive:
        names = archive.namelist()
        charts = [name for name in names if re.fullmatch(r"xl/charts/chart\d+\.xml", name)]
        assert len(charts) == 1
        chart = archive.read(charts[0]).decode("utf-8")
        drawing = archive.read("xl/drawings/drawing1.xml").decode("utf-8")
        rels = archive.read("xl/worksheets/_rels/sheet1.xml.rels").decode("utf-8")
    assert "<c:barChart>" in chart
    assert "../drawings/drawing1.xml" in rels  # the drawing belongs to sheet 1, the Summary
    values = re.search(r"<c:val><c:numRef><c:f>Summary!\$B\$(\d+):\$B\$(\d+)</c:f>", chart)
    assert values is not None
    first, last = int(values.group(1)), int(values.group(2))
    summary = openpyxl.load_workbook(book_path)["Summary"]
    assert summary.cell(first - 1, 1).value == "Sheet"  # the table's header, under the chart
    counts = [summary.cell(line, 2).value for line in range(first, last + 1)]
    assert counts == [3, FIX_ROWS, 0, 0, 0, 0]  # Drop's line, then Aged 25+
    chart_top = int(re.search(r"<xdr:from><xdr:col>\d+</xdr:col><xdr:colOff>\d+</xdr:colOff>"
                              r"<xdr:row>(\d+)</xdr:row>", drawing).group(1))  # fmt: skip
    assert chart_top < first - 2  # zero-based anchor row above the table's header


def test_a_danish_workbook_speaks_danish(tmp_path):
    """language=da: Danish sheet names, result headers, Result texts' frame and Summary labels."""
    book = openpyxl.load_workbook(_write(tmp_path, "da"))
    assert book.sheetnames == [
        "Oversigt", "Godkendt", "Ret", "Afvist", "25 år eller ældre", "Prøv igen", "Uændret",
    ]  # fmt: skip
    header = [cell.value for cell in book["Ret"][1]]
    assert header == [*HEADERS, "Kildefil", "Kilderække", "Oprindelse", "Resultatkode",
                      "Resultattekst", "Tekst fra UDB", "Forsøg", "Seneste forsøg"]  # fmt: skip
    summary = [cell.value for line in book["Oversigt"].iter_rows() for cell in line]
    assert {"Status", "Færdig", "Ark", "Rækker", "Hvad det betyder", "I alt"} <= set(summary)
    assert "Resultat af kørsel run-0002" in summary
    assert book["Ret"].oddFooter.center.text == "Side &P af &N"


def test_the_fix_sheet_of_a_danish_workbook_is_found_as_fix(tmp_path):
    """`--sheet Fix` reads a Danish workbook's `Ret` sheet; its result columns are left out."""
    path = _write(tmp_path, "da")
    table = open_input(path, InputOptions(system_id="TEST", institution=751001, sheet="Fix"))
    assert table.sheet == "Ret"
    assert "Resultattekst" not in table.headers
    assert set(HEADERS) <= set(table.headers)


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text.split("\f")[:-1]


@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
    reason="LibreOffice (soffice) or poppler-utils (pdftotext, pdftoppm) not installed",
)
@pytest.mark.slow
def test_a_13_row_fix_sheet_prints_on_one_page(book_path, tmp_path):
    """In LibreOffice the 13-row Fix sheet prints on one landscape page, header and page no.

    Slow (a few seconds): LibreOffice starts a whole office suite, headless. The page is also
    rendered to PNG, as a person would look at it; the test checks the picture is drawn.
    """
    out = tmp_path / "pdf"
    profile = f"-env:UserInstallation=file://{tmp_path}/lo-profile"
    subprocess.run(
        ["soffice", "--headless", profile, "--convert-to", "pdf", "--outdir", str(out),
         str(book_path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = out / f"{book_path.stem}.pdf"
    pages = _pages(pdf)
    fix = [n for n, page in enumerate(pages, start=1) if page.lstrip().startswith("Fix")]
    assert len(fix) == 1, f"the Fix sheet printed on pages {fix}"
    page = pages[fix[0] - 1]
    assert "KontaktMail" in page
    assert "Source row" in page
    assert f"Page {fix[0]} of {len(pages)}" in page  # numbered as the whole workbook
    assert all(f"{n + 2} " in page or f"{n + 2}\n" in page for n in range(FIX_ROWS))
    info = subprocess.run(
        ["pdfinfo", "-f", str(fix[0]), "-l", str(fix[0]), str(pdf)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    size = re.search(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    assert size is not None
    assert float(size.group(1)) > float(size.group(2))  # landscape
    subprocess.run(
        ["pdftoppm", "-r", "50", "-f", str(fix[0]), "-l", str(fix[0]), "-png", str(pdf),
         str(out / "fix")],
        check=True, capture_output=True,
    )  # fmt: skip
    assert next(out.glob("fix*.png")).stat().st_size > 1000


def test_comments_stop_after_the_first_rows_but_highlighting_goes_on(tmp_path):
    """Past the comment limit (memory), Fix cells are still highlighted, only without a comment."""
    from batch.report import _write_report

    rows = {Outcome.FIX: [_fix(n) for n in range(FIX_ROWS)]}
    summary = RunSummary(
        run_id="run-0003", dry_run=False, started=STARTED, finished=STARTED,
        status="finished", message=None,
        inputs=(InputSheet("kommune.csv", None, HEADERS, FIX_ROWS, 0),),
        settings={}, counts={Outcome.FIX: FIX_ROWS},
    )  # fmt: skip
    paths = _write_report(
        tmp_path, summary, lambda outcome: iter(rows.get(outcome, ())), max_rows=100,
        max_commented=4,
    )  # fmt: skip
    sheet = openpyxl.load_workbook(paths.workbook)["Fix"]
    mail = _column(sheet, "KontaktMail")
    bad_mail_rows = [n + 2 for n in range(FIX_ROWS) if n % 3 == 0]  # spreadsheet rows
    assert [sheet.cell(line, mail).comment is not None for line in bad_mail_rows] == [
        True, True, False, False, False,
    ]  # fmt: skip
    assert all(_filled(sheet.cell(line, mail)) for line in bad_mail_rows)
