"""What the data team meets the second time round: the fixed rows remembered, in every count.

A real `batch` (a child process) on workbooks made with openpyxl, against the simulator over
real HTTP on loopback where something is sent.
"""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook

from tests.e2e.helpers import read_rows, run_cli, summary_of, workbook_of
from tests.e2e.team_kit import person_row, team_workbook

pytestmark = pytest.mark.slow

_SHOWN_TIME = re.compile(r"Fixed on \d\d-\d\d-\d{4} \d\d:\d\d through the Fix sheet \(run \S+\)")


def _fix_mail_in(book_path, mail: str) -> None:
    """Correct the e-mail cell of the one Fix row, as a person does in Excel."""
    book = load_workbook(book_path)
    fix = book["Fix"]
    titles = [cell.value for cell in fix[1]]
    fix.cell(2, titles.index("Kontakt e-mail") + 1).value = mail
    book.save(book_path)


def test_validate_knows_a_row_fixed_through_the_fix_sheet(tmp_path, fresh_simulator):
    """Run -> fix -> run the Fix sheet -> validate the same export: the row is Unchanged, fixed.

    The dry run reads the real journal's memory of fixed rows as a run does, shows when it was
    fixed as dd-mm-yyyy hh:mm, and the JSON summary counts it as still wrong in the source.
    """
    sim = fresh_simulator()
    state, reports = tmp_path / "state", tmp_path / "reports"
    rows = [person_row(0), person_row(1, mail="vejleder(at)kui.dk"), person_row(2)]
    export = team_workbook(tmp_path / "eksport.xlsx", rows)
    service = ["--wsdl", sim.wsdl_url, "--system-id", "KUI-TEST", "--rate", "200"]

    first = run_cli("run", export, *service, state_dir=state, report_dir=reports)
    assert first.code == 1, first.output
    result_book = workbook_of(reports)
    _fix_mail_in(result_book, "vejleder@kui.dk")
    second = run_cli("run", result_book, state_dir=state, report_dir=reports)
    assert second.code == 0, second.output

    checked = run_cli("validate", export, *service, state_dir=state, report_dir=reports)

    assert checked.code == 0, checked.output
    book = workbook_of(reports)
    sheets = read_rows(book)
    again = next(row for row in sheets["Unchanged"] if row["Source row"] == 3)
    assert again["Result code"] == "fixed"
    assert _SHOWN_TIME.search(str(again["Result text"])), again["Result text"]
    assert "Fix" not in sheets or not sheets["Fix"]
    summary = summary_of(book)
    assert summary["dry_run"] is True
    assert summary["still_wrong"] == 1
    assert "1 row was fixed here earlier but is still wrong" in checked.stderr


def test_the_json_summary_counts_hidden_and_totals_rows(tmp_path):
    """A filtered sheet with hidden rows and a totals row: the JSON has the Summary's counts."""
    rows = [person_row(i) for i in range(4)]
    path = team_workbook(
        tmp_path / "unge.xlsx", rows, hidden_rows=(1, 2), totals=True, use_filter=True
    )

    done = run_cli("validate", path, state_dir=tmp_path / "state", report_dir=tmp_path / "r")

    assert done.code == 0, done.output
    summary = summary_of(workbook_of(tmp_path / "r"))
    assert (summary["hidden_rows"], summary["totals_rows"], summary["still_wrong"]) == (2, 1, 0)
    (sheet,) = summary["inputs"]
    assert sheet["hidden_checked"] is True
    assert sheet["hidden_rows"] == [3, 4]
    assert sheet["totals_rows"] == [6]
    assert sheet["hidden_skipped"] is False
