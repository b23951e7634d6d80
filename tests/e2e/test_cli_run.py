"""End to end: the real `batch` command against the simulator over real HTTP on loopback."""

from __future__ import annotations

import os
import shutil
import stat
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from batch.simulator import FaultConfig
from tests.e2e.helpers import (
    SUMMARY_KEYS,
    UNMASKED_CPR,
    Run,
    csv_data_rows,
    placed_rows,
    read_rows,
    run_cli,
    summary_of,
    workbook_of,
    xlsx_data_rows,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "input_examples"
pytestmark = pytest.mark.slow


@pytest.fixture
def dirs(tmp_path):
    state, reports = tmp_path / "state", tmp_path / "reports"
    return state, reports


def _service(sim) -> list[str]:
    return ["--wsdl", sim.wsdl_url, "--system-id", "KUI-TEST", "--rate", "200"]


def _run(sim, dirs: tuple[Path, Path], *args: object) -> Run:
    """`batch run ARGS` against `sim`, with the test's own state and report folders."""
    state, reports = dirs
    return run_cli("run", *args, *_service(sim), state_dir=state, report_dir=reports)


def _second_night(sim, dirs: tuple[Path, Path]) -> Run:
    """The export and the hand-made spreadsheet: every outcome, a row UDB keeps failing on."""
    files = (EXAMPLES / "kommune-export.csv", EXAMPLES / "ungeliste-haandlavet.xlsx")
    return _run(sim, dirs, *files, "--institution", "751001", "--max-attempts", "2")


def test_two_nights_of_examples_place_every_row_once(simulator, dirs):
    """The bundled examples: every input row lands in exactly one sheet with its source row."""
    reports = dirs[1]
    first = _run(simulator, dirs, EXAMPLES / "historik-migrering.csv")
    assert first.code == 0, first.output
    first_book = workbook_of(reports)
    assert summary_of(first_book)["accepted"] == 7

    second = _second_night(simulator, dirs)
    assert second.code == 3, second.output  # a row UDB kept failing on is in Retry
    book = workbook_of(reports)
    assert book != first_book
    sheets = read_rows(book)
    expected = sorted(
        [
            ("kommune-export.csv", row)
            for row in csv_data_rows(EXAMPLES / "kommune-export.csv", "cp1252", ";")
        ]
        + [
            ("ungeliste-haandlavet.xlsx", row)
            for row in xlsx_data_rows(EXAMPLES / "ungeliste-haandlavet.xlsx", header_row=3)
        ]
    )
    assert sorted(placed_rows(sheets)) == expected  # each exactly once: no loss, no duplicate
    summary = summary_of(book)
    assert set(summary) >= SUMMARY_KEYS
    parts = sum(int(summary[key]) for key in ("accepted", "fix", "drop", "retry", "unchanged"))
    assert parts == summary["rows"] == len(expected)
    assert summary["blank"] == 1
    for name in ("Accepted", "Fix", "Drop", "Retry", "Unchanged"):
        assert sheets[name], f"sheet {name} is empty"
    assert {row["Result code"] for row in sheets["Drop"]} >= {"14", "86"}
    assert {row["Result code"] for row in sheets["Aged 25+"]} == {"15"}  # need nobody: apart


def test_workbook_is_owner_only_and_formulas_stay_text(simulator, dirs):
    """Workbook and summary are 0600; a cell that looks like a formula is stored as text."""
    state, reports = dirs
    result = _run(simulator, dirs, EXAMPLES / "kommune-export.csv")
    assert result.code in (1, 3), result.output
    book_path = workbook_of(reports)
    for path in (book_path, book_path.with_suffix(".json")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    book = load_workbook(book_path)
    formula_cells = [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert formula_cells == []
    texts = [
        cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith("=HYPERLINK")
    ]
    assert len(texts) == 1


def test_logs_and_console_never_show_a_cpr(simulator, dirs):
    """JSON logs and console output of a run with every outcome hold no unmasked CPR number."""
    result = _second_night(simulator, dirs)
    assert result.code == 3
    assert "run finished" in result.stderr
    assert UNMASKED_CPR.findall(result.output) == []


def test_second_run_sends_only_what_changed(simulator, dirs, tmp_path):
    """Running the same file again sends nothing; changing one field sends exactly that row."""
    reports = dirs[1]
    source = tmp_path / "nightly.csv"
    shutil.copy(EXAMPLES / "historik-migrering.csv", source)
    assert _run(simulator, dirs, source).code == 0
    before = len(simulator.received())
    again = _run(simulator, dirs, source)
    assert again.code == 0, again.output
    assert len(simulator.received()) == before
    assert summary_of(workbook_of(reports))["unchanged"] == 7
    text = source.read_text(encoding="utf-8-sig").replace("Smed", "Smed og svejser")
    source.write_text(text, encoding="utf-8-sig")
    changed = _run(simulator, dirs, source)
    assert changed.code == 0, changed.output
    received = simulator.received()[before:]
    assert len(received) == 1
    assert received[0].fields.get("JobOnsker") == "Smed og svejser"


def test_fix_sheet_round_trips_as_input(simulator, dirs):
    """Correcting the Fix sheet in place and feeding it back sends the corrected rows."""
    reports = dirs[1]
    result = _run(simulator, dirs, EXAMPLES / "kommune-export.csv")
    assert result.code in (1, 3)
    book_path = workbook_of(reports)
    book = load_workbook(book_path)
    sheet = book["Fix"]
    header = [cell.value for cell in sheet[1]]
    yesterday = (datetime.now() - timedelta(days=1)).strftime("%d.%m.%Y %H.%M")
    mail, name = header.index("Kontakt e-mail"), header.index("Kontaktperson")
    phone, when = header.index("Mobil"), header.index("Kontakt registreret")
    for row in sheet.iter_rows(min_row=2):
        row[mail].value = "rettet@kui.example-kommune.dk"
        row[name].value = row[name].value or "Rettet Navn"
        row[phone].value = "20 30 40 50"
        row[when].value = yesterday  # newer than what UDB has, never in the future
        row[header.index("Result code")].value = "edited by a person"
    fixed = book_path.parent / "fixed.xlsx"
    book.save(fixed)
    rows_to_fix = sheet.max_row - 1
    again = _run(simulator, dirs, fixed, "--sheet", "Fix")
    assert again.code == 0, again.output
    summary = summary_of(workbook_of(reports))
    assert summary["rows"] == summary["accepted"] == rows_to_fix


def test_unreadable_file_stops_before_sending(simulator, dirs, tmp_path):
    """Binary garbage named .csv: one clear line, exit 2, no traceback, nothing sent."""
    garbage = tmp_path / "export.csv"
    garbage.write_bytes(bytes(range(256)) * 40)
    before = len(simulator.received())
    result = _run(simulator, dirs, EXAMPLES / "historik-migrering.csv", garbage)
    assert result.code == 2
    assert "export.csv" in result.stderr
    assert "Traceback" not in result.output
    assert len(simulator.received()) == before


def test_header_only_file_is_a_quiet_night(simulator, dirs, tmp_path):
    """A file with a header and no rows is not an error: zero rows, exit 0, a workbook."""
    reports = dirs[1]
    empty = tmp_path / "empty.csv"
    empty.write_text(
        "CPRNr;KommuneInstitutionNummer;JobOnsker;JobRegistreringstid\n", encoding="utf-8"
    )
    result = _run(simulator, dirs, empty)
    assert result.code == 0, result.output
    assert summary_of(workbook_of(reports))["rows"] == 0


def test_dead_service_leaves_rows_in_retry(fresh_simulator, dirs):
    """With the service answering 503 to all, the run ends with exit 3 and every row in Retry."""
    reports = dirs[1]
    sim = fresh_simulator(faults=FaultConfig(outage=True))
    result = _run(sim, dirs, EXAMPLES / "historik-migrering.csv", "--max-attempts", "2")
    assert result.code == 3, result.output
    summary = summary_of(workbook_of(reports))
    assert summary["retry"] == summary["rows"] == 7


def test_validate_is_a_dry_run(simulator, dirs):
    """`batch validate` writes a Ready sheet, sends nothing and leaves no journal behind."""
    state, reports = dirs
    before = len(simulator.received())
    result = run_cli(
        "validate", EXAMPLES / "kommune-export.csv", state_dir=state, report_dir=reports
    )
    assert result.code == 1, result.output  # rows to fix and drop (checked before sending)
    sheets = read_rows(workbook_of(reports))
    assert "Ready" in sheets
    assert "Accepted" not in sheets
    assert sheets["Ready"]
    assert len(simulator.received()) == before
    assert not state.exists()


def test_report_and_status_read_the_journal(simulator, dirs):
    """`batch report` rebuilds the last workbook; `batch status` lists the run."""
    state, reports = dirs
    run = _run(simulator, dirs, EXAMPLES / "historik-migrering.csv")
    assert run.code == 0
    first = workbook_of(reports)
    rebuilt = run_cli("report", state_dir=state, report_dir=reports)
    assert rebuilt.code == 0, rebuilt.output
    second = workbook_of(reports)
    assert second != first
    assert sorted(placed_rows(read_rows(second))) == sorted(placed_rows(read_rows(first)))
    status = run_cli("status", state_dir=state, report_dir=reports)
    assert status.code == 0
    assert summary_of(first)["run_id"] in status.stdout


def test_inbox_moves_files_when_done(simulator, dirs, tmp_path):
    """--inbox processes each file and moves it to done/ or failed/."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(EXAMPLES / "historik-migrering.csv", inbox / "a.csv")
    (inbox / "b.csv").write_bytes(b"\x00\x01\x02garbage")
    settled = time.time() - 120  # older than the minute a file may still be being written in
    for path in inbox.iterdir():
        os.utime(path, (settled, settled))
    result = _run(simulator, dirs, "--inbox", inbox)
    assert result.code == 2, result.output
    assert [p.name[:2] for p in (inbox / "done").iterdir()] == ["a-"]
    assert [p.name[:2] for p in (inbox / "failed").iterdir()] == ["b-"]
    assert not list(inbox.glob("*.csv"))
