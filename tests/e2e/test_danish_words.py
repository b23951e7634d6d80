"""A Danish data team reads Danish: the errors that stop a command, the workbook's titles."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.e2e.helpers import run_cli, workbook_of
from tests.e2e.team_kit import person_row, team_workbook

pytestmark = pytest.mark.slow


def test_a_bad_setting_in_the_config_file_is_said_in_danish(tmp_path):
    """LANG=da_DK and `rate = 0` in the config file: one Danish line naming the file, exit 2."""
    config = tmp_path / "batch.toml"
    config.write_text("[service]\nrate = 0\n", encoding="utf-8")
    path = team_workbook(tmp_path / "unge.xlsx", [person_row(0)])

    done = run_cli(
        "validate", path, "--config", config,
        state_dir=tmp_path / "state", report_dir=tmp_path / "reports",
        env={"LANG": "da_DK.UTF-8", "BATCH_LOG_FORMAT": "console"},
    )  # fmt: skip

    assert done.code == 2, done.output
    assert f"konfigurationsfilen {config}: rate skal være større end 0" in done.stderr
    assert "Traceback" not in done.output


def test_a_backup_onto_an_existing_file_is_refused_in_danish(tmp_path):
    """`batch backup FILE --language da` with FILE already there: refused in Danish, exit 2."""
    path = team_workbook(tmp_path / "unge.xlsx", [person_row(0)])
    state, reports = tmp_path / "state", tmp_path / "reports"
    run = run_cli("run", path, "--rate", "200", state_dir=state, report_dir=reports)
    assert run.code == 0, run.output
    target = tmp_path / "kopi.sqlite3"
    target.write_text("", encoding="utf-8")

    done = run_cli("backup", target, "--language", "da", state_dir=state, report_dir=reports,
                   env={"BATCH_LOG_FORMAT": "console"})  # fmt: skip

    assert done.code == 2, done.output
    assert "findes allerede: en backup overskriver aldrig en fil" in done.stderr


def test_the_ready_sheet_titles_the_request_in_danish(tmp_path):
    """`batch validate --language da`: the sheet Klar shows the request under "Sendes: <field>"."""
    path = team_workbook(tmp_path / "unge.xlsx", [person_row(0)])

    done = run_cli("validate", path, "--language", "da",
                   state_dir=tmp_path / "state", report_dir=tmp_path / "reports")  # fmt: skip

    assert done.code == 0, done.output
    book = load_workbook(workbook_of(tmp_path / "reports"), read_only=True)
    titles = next(book["Klar"].iter_rows(max_row=1, values_only=True))
    book.close()
    assert "Sendes: CPRNr" in titles
    assert "Sendes: KontaktRegistreringstid" in titles
    assert not any(str(title).startswith("Sent: ") for title in titles)
