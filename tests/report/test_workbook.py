"""The result workbook, read back with openpyxl as a user's spreadsheet program would."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from batch.records import RESULT_COLUMNS, Outcome
from batch.report import SHEET_NAMES, InputSheet, ReportIntegrityError, write_report

ROW_SHEETS = ("Accepted", "Fix", "Drop", "Aged 25+", "Retry", "Unchanged")
# The CSV's "CPR-nummer" and the workbook's "CPR" name one field: they share a column.
ALL_HEADERS = ("CPR-nummer", "Navn på kontakt", "Jobønske", "Registreret", "Uddannelsesønske",
               "Bemærkning", *RESULT_COLUMNS)  # fmt: skip


def _records(sheet) -> list[dict[str, object]]:
    header, *body = sheet.iter_rows(values_only=True)
    return [dict(zip(header, values, strict=True)) for values in body]


def _load(path: Path):
    return openpyxl.load_workbook(path)


def test_sheets_in_order(written):
    """A real run's workbook has Summary, Accepted, Fix, Drop, Aged 25+, Retry, Unchanged."""
    assert _load(written.workbook).sheetnames == ["Summary", *ROW_SHEETS]


def test_dry_run_has_ready_instead_of_accepted(tmp_path, rows, make_summary, make_streamer):
    """A dry run's first row sheet is Ready, holding the rows that would be sent."""
    ready = [replace(r, outcome=Outcome.READY) for r in rows.pop(Outcome.ACCEPTED)]
    dry = {Outcome.READY: ready, **rows}
    paths = write_report(tmp_path, make_summary(dry, dry_run=True), make_streamer(dry))
    book = _load(paths.workbook)
    assert book.sheetnames == ["Summary", "Ready", "Fix", "Drop", "Aged 25+", "Retry", "Unchanged"]
    assert [r["Source row"] for r in _records(book["Ready"])] == [2, 3]


def test_every_row_in_exactly_one_sheet(written, rows):
    """Each input row appears once, on its outcome's sheet, with its source file and row."""
    book = _load(written.workbook)
    placed = [
        (name, record["Source file"], record["Source row"])
        for name in ROW_SHEETS
        for record in _records(book[name])
    ]
    expected = [
        (name, r.source_file + (f" [{r.sheet}]" if r.sheet else ""), r.source_row)
        for outcome in rows
        for name in [SHEET_NAMES[outcome]]
        for r in rows[outcome]
    ]
    assert sorted(placed) == sorted(expected)
    assert len({(file, row) for _, file, row in placed}) == len(placed)


def test_columns_are_the_inputs_then_the_result(written):
    """Row sheets show the inputs' columns in order of first appearance, then the results."""
    book = _load(written.workbook)
    for name in ROW_SHEETS:
        assert next(book[name].iter_rows(values_only=True)) == ALL_HEADERS


def test_original_values_and_result_kept(written):
    """Input cells come back as the user wrote them; the result columns say what happened."""
    accepted, fix = (_records(_load(written.workbook)[n]) for n in ("Accepted", "Fix"))
    assert accepted[0]["Navn på kontakt"] == "Anne Andersen"
    assert accepted[0]["Registreret"] == datetime(2026, 1, 5, 10, 30)
    assert accepted[0]["Last attempt"] == datetime(2026, 6, 1, 14, 0)  # UTC 12:00, CEST
    assert accepted[1]["Attempts"] == 2
    assert accepted[1]["Bemærkning"] is None
    assert fix[0]["Result code"] == "280"
    assert fix[0]["Result text"].startswith("The registration time is later")
    assert fix[1]["Result code"] == "cpr-invalid, missing-time"


def test_aware_datetimes_become_danish_wall_clock(written):
    """An aware datetime is shown in Copenhagen time, as a real Excel datetime."""
    sheet = _load(written.workbook)["Retry"]
    cell = sheet.cell(row=2, column=ALL_HEADERS.index("Registreret") + 1)
    assert cell.value == datetime(2026, 3, 2, 6, 0)  # 00:00 at UTC-5 is 06:00 in Copenhagen
    assert cell.is_date
    assert "yyyy" in cell.number_format


def test_formula_like_cells_stay_text(written):
    """Cells beginning with = + - @ are text, never formulas, anywhere in the workbook."""
    book = _load(written.workbook)
    cells = [cell for sheet in book for line in sheet.iter_rows() for cell in line]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    texts = {cell.value for cell in cells if cell.data_type == "s"}
    assert {'=HYPERLINK("http://x")', "=1+1", "@SUM(1)", "+45 12 34 56 78", "-"} <= texts


def test_numeric_cpr_is_ten_digit_text(written):
    """A CPR that Excel had stored as a number is shown as text with its leading zero."""
    record = _records(_load(written.workbook)["Accepted"])[1]
    assert record["CPR-nummer"] == "0101084123"
    assert _records(_load(written.workbook)["Unchanged"])[0]["Bemærkning"] == 3.5


def test_excel_friendly_layout(written):
    """Row sheets have a frozen header, an autofilter over the data, and sized columns."""
    book = _load(written.workbook)
    for name in ROW_SHEETS:
        sheet = book[name]
        assert sheet.freeze_panes == "B2"  # the header row and the CPR column
        assert sheet.auto_filter.ref.startswith("A1:")
        assert sheet.column_dimensions["A"].width >= len("CPR-nummer")
    assert book["Fix"].auto_filter.ref == "A1:N3"  # the input's columns, eight result columns


def test_fix_cells_highlighted(written):
    """On Fix, the result and the columns an issue names are filled; other cells are not."""
    sheet = _load(written.workbook)["Fix"]

    def filled(header: str) -> bool:
        cell = sheet.cell(row=2, column=ALL_HEADERS.index(header) + 1)
        return cell.fill.fgColor.rgb not in (None, "00000000")

    assert filled("Result code")
    assert filled("Result text")
    assert filled("Registreret")
    assert not filled("Navn på kontakt")


def test_files_owner_only_and_nothing_left_behind(written):
    """Workbook and summary are readable by their owner only; no temporary files remain."""
    for path in (written.workbook, written.summary):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in written.workbook.parent.iterdir()) == sorted(
        [written.workbook.name, written.summary.name]
    )


def test_name_from_first_input_and_danish_start_time(written):
    """The name is the first input's stem, how many more, and the start in Danish time."""
    assert written.workbook.name == "kommune-and-1-more-20261127-091502.xlsx"
    assert written.summary == written.workbook.with_suffix(".json")


def test_never_overwrites(tmp_path, rows, make_summary, make_streamer):
    """A second report with the same name gets a suffix; the first stays untouched."""
    first = write_report(tmp_path, make_summary(rows), make_streamer(rows))
    before = first.workbook.read_bytes()
    second = write_report(tmp_path, make_summary(rows), make_streamer(rows))
    assert second.workbook.name == first.workbook.stem + "-2.xlsx"
    assert second.summary.name == first.workbook.stem + "-2.json"
    assert first.workbook.read_bytes() == before


def test_result_workbook_fed_back_is_named_afresh(tmp_path, rows, make_summary, make_streamer):
    """Feeding a result workbook back in does not stack run times in the new name."""
    fix = {Outcome.FIX: rows[Outcome.FIX]}
    summary = make_summary(fix)
    fed_back = replace(
        summary, inputs=(InputSheet("kommune-20261126-101010.xlsx", "Fix", (), 2, 0),)
    )
    paths = write_report(tmp_path, fed_back, make_streamer(fix))
    assert paths.workbook.name == "kommune-20261127-091502.xlsx"


def test_counts_must_add_up_to_rows_read(tmp_path, rows, make_summary, make_streamer):
    """Counts that differ from the rows read raise, and no file is written."""
    counts = {outcome: len(items) for outcome, items in rows.items()}
    counts[Outcome.DROP] += 1
    with pytest.raises(ReportIntegrityError, match="add up"):
        write_report(tmp_path / "r", make_summary(rows, counts=counts), make_streamer(rows))
    assert not (tmp_path / "r").exists()


def test_rows_streamed_must_match_counts(tmp_path, rows, make_summary, make_streamer):
    """A sheet that receives fewer rows than counted raises and leaves nothing behind."""
    summary = make_summary(rows)
    short = {**rows, Outcome.RETRY: []}
    with pytest.raises(ReportIntegrityError, match="1 rows were counted as retry but 0"):
        write_report(tmp_path, summary, make_streamer(short))
    assert list(tmp_path.iterdir()) == []


def test_row_on_the_wrong_sheet_raises(tmp_path, rows, make_summary, make_streamer):
    """A row handed over for another outcome than its own is a bug, not a workbook."""
    swapped = {**rows, Outcome.DROP: rows[Outcome.RETRY], Outcome.RETRY: rows[Outcome.DROP]}
    with pytest.raises(ReportIntegrityError, match="row 6 is retry but was handed over as drop"):
        write_report(tmp_path, make_summary(rows), make_streamer(swapped))
    assert list(tmp_path.iterdir()) == []


def test_row_handed_over_twice_raises(tmp_path, rows, make_summary, make_streamer):
    """The same input row twice on one sheet raises, even when the count matches."""
    twice = {**rows, Outcome.FIX: [rows[Outcome.FIX][0], rows[Outcome.FIX][0]]}
    with pytest.raises(ReportIntegrityError, match=r"kommune\.csv row 3 was handed over twice"):
        write_report(tmp_path, make_summary(rows), make_streamer(twice))


def test_outcome_without_a_sheet_raises(tmp_path, rows, make_summary, make_streamer):
    """Accepted rows in a dry run (or Ready rows in a real one) cannot be placed: raise."""
    with pytest.raises(ReportIntegrityError, match="impossible in a dry run"):
        write_report(tmp_path, make_summary(rows, dry_run=True), make_streamer(rows))


def test_interrupted_streaming_leaves_nothing(tmp_path, rows, make_summary):
    """An error from the journal mid-sheet propagates and leaves no file behind."""

    def broken(outcome):
        if outcome is Outcome.DROP:
            msg = "journal gone"
            raise OSError(msg)
        return iter(rows.get(outcome, ()))

    with pytest.raises(OSError, match="journal gone"):
        write_report(tmp_path, make_summary(rows), broken)
    assert list(tmp_path.iterdir()) == []


def test_rows_that_need_nobody_are_apart(tmp_path, rows, make_summary, make_streamer):
    """Drop rows of people aged 25+ (code 15) have their own sheet and their own count."""
    aged = replace(rows[Outcome.DROP][0], source_row=9, code="15", text="25 or more")
    data = {**rows, Outcome.DROP: [*rows[Outcome.DROP], aged]}
    paths = write_report(tmp_path, make_summary(data, aged=1), make_streamer(data))
    book = _load(paths.workbook)
    assert [r["Source row"] for r in _records(book["Aged 25+"])] == [9]
    assert [r["Result code"] for r in _records(book["Drop"])] == ["14"]
    lines = {line[0]: line for line in book["Summary"].iter_rows(values_only=True)}
    assert (lines["Drop"][1], lines["Aged 25+"][1]) == (1, 1)
    document = json.loads(paths.summary.read_text("utf-8"))
    assert (document["drop"], document["aged"]) == (2, 1)
