"""Hidden rows in the team's workbook saved as .ods or .xls are said and followed as in .xlsx."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.e2e.helpers import read_rows, run_cli, summary_of, workbook_of
from tests.e2e.team_kit import person_row, team_workbook

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) missing"),
]


@pytest.mark.parametrize("kind", ["ods", "xls"])
def test_a_filtered_sheet_saved_by_libreoffice_is_read_with_its_hidden_rows(tmp_path, kind):
    """Excel file with a filter -> LibreOffice "Save as" .ods/.xls -> validate --hidden-rows skip.

    The hidden rows are named on the console, go to Fix unsent, and the JSON summary lists
    them; the totals row under the data is left out as in the .xlsx.
    """
    rows = [person_row(i) for i in range(4)]
    original = team_workbook(
        tmp_path / "unge.xlsx", rows, hidden_rows=(1, 2), totals=True, use_filter=True
    )
    profile = f"-env:UserInstallation=file://{tmp_path / 'profile'}"
    subprocess.run(
        ["soffice", "--headless", profile, "--convert-to", kind, "--outdir", str(tmp_path / kind),
         str(original)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    path = tmp_path / kind / f"unge.{kind}"

    done = run_cli("validate", path, "--hidden-rows", "skip",
                   state_dir=tmp_path / "state", report_dir=tmp_path / "r")  # fmt: skip

    assert done.code == 1, done.output
    assert "2 rows were hidden by a filter (3-4)" in done.stderr
    book = workbook_of(tmp_path / "r")
    fix = read_rows(book)["Fix"]
    assert sorted(int(str(row["Source row"])) for row in fix) == [3, 4]
    assert {row["Result code"] for row in fix} == {"hidden-row"}
    summary = summary_of(book)
    assert (summary["hidden_rows"], summary["totals_rows"]) == (2, 1)
    assert summary["inputs"][0]["hidden_checked"] is True
