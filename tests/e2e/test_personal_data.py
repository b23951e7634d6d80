"""End to end: the memory per service, the purge and `batch history`, through the real command."""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from batch.journal import JOURNAL_NAME
from tests.e2e.helpers import UNMASKED_CPR, run_cli, summary_of, workbook_of
from tests.journal.fixtures.make_v1_journal import HEADER, SECOND

EXAMPLES = Path(__file__).resolve().parents[2] / "input_examples"
FIXTURE = Path(__file__).resolve().parents[1] / "journal" / "fixtures" / "journal-v1.sqlite3"
pytestmark = pytest.mark.slow


def _cprs(path: Path) -> set[str]:
    """The CPR numbers (ten digits) at the start of each data line of a CSV example."""
    text = path.read_text(encoding="cp1252")
    return {m.replace("-", "") for m in re.findall(r"^(\d{6}-?\d{4})", text, flags=re.MULTILINE)}


def _files_holding(folders: list[Path], cprs: set[str]) -> list[str]:
    """Every file under `folders` whose bytes hold one of `cprs`, with or without hyphen."""
    needles = [n.encode() for cpr in cprs for n in (cpr, f"{cpr[:6]}-{cpr[6:]}")]
    return [
        str(path)
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file() and any(n in path.read_bytes() for n in needles)
    ]


def _row_digests(state: Path) -> list[bytes]:
    """The keyed digests the journal keeps of single rows' cells: Fix/Drop rows seen, links."""
    with contextlib.closing(sqlite3.connect(state / JOURNAL_NAME)) as conn:
        found = conn.execute(
            "SELECT digest FROM issues_seen UNION SELECT content_hash FROM fix_links "
            "WHERE content_hash IS NOT NULL"
        ).fetchall()
    return [bytes(digest) for (digest,) in found]


def _files_holding_bytes(folder: Path, needles: list[bytes]) -> list[str]:
    """Every file under `folder` whose bytes hold one of `needles`."""
    return [
        str(path)
        for path in folder.rglob("*")
        if path.is_file() and any(n in path.read_bytes() for n in needles)
    ]


def test_rehearsal_then_another_service_sends_every_row(simulator, tmp_path):
    """The built-in simulator's memory does not make rows Unchanged at another address."""
    state, reports = tmp_path / "state", tmp_path / "reports"
    source = EXAMPLES / "historik-migrering.csv"
    rehearsal = run_cli(
        "run", source, "--system-id", "KUI-TEST", state_dir=state, report_dir=reports
    )
    assert rehearsal.code == 0, rehearsal.output
    service = ["--wsdl", simulator.wsdl_url, "--system-id", "KUI-TEST", "--rate", "200"]
    real = run_cli("run", source, *service, state_dir=state, report_dir=reports)
    assert real.code == 0, real.output
    summary = summary_of(workbook_of(reports))
    assert (summary["accepted"], summary["unchanged"]) == (7, 0)
    assert "first run against http://127.0.0.1:" in real.stderr
    assert "the memory of simulator (built-in) is kept apart" in real.stderr
    again = run_cli("run", source, *service, state_dir=state, report_dir=reports)
    assert "first run against" not in again.output
    assert summary_of(workbook_of(reports))["unchanged"] == 7
    status = run_cli("status", state_dir=state, report_dir=reports)
    assert "simulator (built-in)" in status.stdout
    assert "http://127.0.0.1:" in status.stdout


def test_purge_leaves_no_cpr_and_the_memory_still_works(tmp_path):
    """After `purge --older-than 0` no CPR is in any file; history and Unchanged still work."""
    state, reports = tmp_path / "state", tmp_path / "reports"
    source = EXAMPLES / "kommune-export.csv"
    first = run_cli("run", source, "--rate", "200", state_dir=state, report_dir=reports)
    accepted = summary_of(workbook_of(reports))["accepted"]
    assert first.code == 1, first.output  # the example has rows to fix and to drop
    assert _files_holding([state], _cprs(source))  # within retention the rows are kept
    digests = _row_digests(state)  # the Fix and Drop rows reported, by keyed digest
    assert digests
    purged = run_cli("purge", "--older-than", "0", state_dir=state, report_dir=reports)
    assert purged.code == 0, purged.output
    assert "bytes after" in purged.stdout
    assert _files_holding([state, reports], _cprs(source)) == []
    assert _files_holding_bytes(state, digests) == []  # nothing left of a row, not even hashed
    assert list(reports.glob("*.xlsx")) == []
    rebuilt = run_cli("report", state_dir=state, report_dir=reports)
    assert rebuilt.code == 2
    assert "cannot be written again" in rebuilt.stderr
    found = run_cli("history", state_dir=state, report_dir=reports, stdin="091005-4836\n")
    assert found.code == 0, found.output
    assert "a report accepted on" in found.stdout
    assert not UNMASKED_CPR.search(found.stdout.replace("091005-XXXX", ""))
    rerun = run_cli("run", source, "--rate", "200", state_dir=state, report_dir=reports)
    summary = summary_of(workbook_of(reports))
    assert (summary["accepted"], summary["unchanged"]) == (0, accepted), rerun.output


def test_a_schema_1_journal_keeps_its_memory(tmp_path):
    """The journal written by the previous schema opens, and its accepted rows stay Unchanged."""
    state, reports = tmp_path / "state", tmp_path / "reports"
    state.mkdir(mode=0o700)
    shutil.copyfile(FIXTURE, state / JOURNAL_NAME)
    source = tmp_path / "night2.csv"
    source.write_text(HEADER + SECOND, encoding="utf-8")
    rerun = run_cli("run", source, "--rate", "200", state_dir=state, report_dir=reports)
    assert rerun.code == 0, rerun.output
    summary = summary_of(workbook_of(reports))
    assert (summary["accepted"], summary["unchanged"]) == (0, 4)


def test_bad_retention_is_a_clear_error(tmp_path):
    """retention_days of 0 stops with exit 2, naming the setting and the way to purge now."""
    done = run_cli(
        "purge",
        state_dir=tmp_path / "s",
        report_dir=tmp_path / "r",
        env={"BATCH_RETENTION_DAYS": "0"},
    )
    assert done.code == 2
    assert "retention_days" in done.stderr
    assert "--older-than 0" in done.stderr
    assert "Traceback" not in done.output
