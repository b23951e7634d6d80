"""Migrating a history: send only the newest, stop and resume, watch it, check it from UDB's side.

The real `batch` command against the simulator over loopback HTTP, with the simulator's
request log (`log_requests`, the `--log-requests` of `batch simulator`) as the service's view.
"""

from __future__ import annotations

import stat
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.e2e.helpers import placed_rows, read_rows, run_cli, summary_of, workbook_of
from tests.e2e.history_kit import (
    groups_of,
    logged_requests,
    progress_events,
    write_history,
)

pytestmark = pytest.mark.slow
CPH = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def setup(tmp_path, fresh_simulator):
    """A history file, a simulator logging its requests, and the test's own folders."""
    history = write_history(tmp_path / "historik.csv")
    log = tmp_path / "requests.jsonl"
    sim = fresh_simulator(log_requests=log)
    return history, sim, log, tmp_path / "state", tmp_path / "reports"


def _run(setup, *args: object):
    history, sim, _log, state, reports = setup
    service = ("--wsdl", sim.wsdl_url, "--system-id", "KUI-TEST", "--rate", "200")
    return run_cli("run", history.path, *args, *service, state_dir=state, report_dir=reports)


def _every_row_once(setup) -> dict[str, list[dict[str, object]]]:
    history, _sim, _log, _state, reports = setup
    sheets = read_rows(workbook_of(reports))
    placed = placed_rows(sheets)
    assert sorted(placed) == sorted(("historik.csv", n) for n in range(2, history.rows + 2))
    return sheets


def test_newest_only_sends_one_request_per_person_and_group(setup):
    """--newest-only sends each newest contact and job wish once; a rerun sends nothing."""
    history, _sim, log, _state, _reports = setup
    result = _run(setup, "--newest-only")
    assert result.code == 1, result.output  # unknown CPRs (14) and the aged (15) are in Drop
    requests = logged_requests(log)
    pairs = Counter((str(r["cpr"]), group) for r in requests for group in groups_of(r))
    assert set(pairs.values()) == {1}
    sent = {(str(r["cpr"]), group): when for r in requests for group, when in groups_of(r).items()}
    assert sent == history.newest
    assert {str(r["cpr"]) for r in requests} == set(history.sendable_people)
    sheets = _every_row_once(setup)
    superseded = [r for r in sheets["Unchanged"] if "superseded by row" in str(r["Result text"])]
    assert len(superseded) == history.rows - history.old_rows - len(requests)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600

    again = _run(setup, "--newest-only")  # accepted: Unchanged; rejected for good: Drop
    assert again.code == 1, again.output
    assert len(logged_requests(log)) == len(requests)  # not one request more
    drops = _every_row_once(setup)["Drop"]
    assert drops
    assert all("UDB rejected this same data on" in str(r["Result text"]) for r in drops)


def test_max_rows_and_until_stop_cleanly_and_resume(setup):
    """--max-rows and a passed --until stop with exit 3 and the workbook; a rerun finishes."""
    history, _sim, log, _state, reports = setup
    first = _run(setup, "--max-rows", "4", "--progress-interval", "0.01")
    assert first.code == 3, first.output
    assert len(logged_requests(log)) == 4
    sheets = _every_row_once(setup)
    assert sheets["Retry"]
    assert summary_of(workbook_of(reports))["status"] == "stopped"
    assert summary_of(workbook_of(reports))["requests"] == 4  # requests, not rows
    events = progress_events(first.stderr)
    assert events[0]["to_go"] == history.rows - history.old_rows
    assert events[-1]["final"] is True
    assert events[-1]["sent"] == 4
    assert {
        "accepted",
        "fix",
        "drop",
        "retry",
        "to_go",
        "requests_per_second",
        "eta_seconds",
    } <= set(events[-1])

    past = (datetime.now(CPH) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    second = _run(setup, "--until", past)
    assert second.code == 3, second.output
    assert len(logged_requests(log)) == 4  # nothing sent after the --until time
    _every_row_once(setup)

    third = _run(setup)
    assert third.code == 1, third.output  # done; the unknown and the aged are in Drop
    final = _every_row_once(setup)
    assert not final["Retry"]
    accepted = Counter(
        (r["cpr"], r["payload_digest"]) for r in logged_requests(log) if r["ok"] is True
    )
    assert max(accepted.values()) == 1  # no accepted row was sent twice


def test_settings_are_checked_before_any_file_is_read(setup):
    """--wsdl without --system-id fails at once with exit 2 and leaves no run in the journal."""
    history, sim, _log, state, reports = setup
    result = run_cli(
        "run", history.path, "--wsdl", sim.wsdl_url, state_dir=state, report_dir=reports
    )
    assert result.code == 2, result.output
    assert "system_id" in result.stderr
    assert not (state / "journal.sqlite3").exists()


def test_status_shows_danish_time_with_its_zone(setup):
    """`batch status` shows each run's start in Danish local time and names the zone."""
    _history, _sim, _log, state, reports = setup
    _run(setup, "--max-rows", "1")
    status = run_cli("status", state_dir=state, report_dir=reports)
    assert status.code == 0, status.output
    assert "CET" in status.stdout or "CEST" in status.stdout


def test_validate_counts_what_the_next_run_sends(setup):
    """`batch validate --newest-only`: its Ready rows are the requests the next run makes."""
    history, sim, log, state, reports = setup
    dry = run_cli("validate", history.path, "--newest-only", state_dir=state, report_dir=reports)
    assert dry.code in (0, 1), dry.output
    ready = summary_of(workbook_of(reports))["ready"]
    _every_row_once(setup)
    assert not (state / "journal.sqlite3").exists()  # nothing recorded
    sent = _run(setup, "--newest-only")
    assert sent.code == 1, sent.output
    assert len(logged_requests(log)) == ready
    # Now the memory knows what was accepted and what was rejected for good: nothing to send.
    # The same service and system id as the run: the memory is kept per service, and the
    # payload names the system id.
    same = ("--newest-only", "--system-id", "KUI-TEST", "--wsdl", sim.wsdl_url)
    dry = run_cli("validate", history.path, *same, state_dir=state, report_dir=reports)
    assert summary_of(workbook_of(reports))["ready"] == 0, dry.output
    _run(setup, "--newest-only")
    assert len(logged_requests(log)) == ready


def _reconciled(setup):
    """`batch reconcile` of the history: its exit code and the Summary's line for the file."""
    history, _sim, _log, state, reports = setup
    done = run_cli("reconcile", history.path, state_dir=state, report_dir=reports)
    assert done.code in (0, 3), done.output
    book = max(reports.glob("reconcile-*.xlsx"), key=lambda p: p.stat().st_mtime_ns)
    assert stat.S_IMODE(book.stat().st_mode) == 0o600
    summary = list(load_workbook(book)["Summary"].iter_rows(values_only=True))
    header, line = summary[0], summary[1]
    return done, dict(zip(header, line, strict=True))


def test_reconcile_adds_up_after_an_interrupted_and_resumed_migration(setup):
    """Every row has one final outcome across runs; the totals add up to the rows in the file."""
    history, _sim, log, _state, _reports = setup
    assert _run(setup, "--newest-only", "--max-rows", "3").code == 3
    done, totals = _reconciled(setup)
    assert done.code == 3, done.output  # rows not yet sent
    parts = ("accepted", "unchanged", "fix", "drop", "aged 25+ (needs nobody)", "not yet sent")
    assert sum(totals[part] for part in parts) == totals["Rows"] == history.rows
    assert totals["aged 25+ (needs nobody)"] == history.old_rows
    assert totals["not yet sent"] > 0
    assert _run(setup, "--newest-only").code == 1
    _run(setup, "--newest-only")  # a third run lists what was accepted as Unchanged
    done, totals = _reconciled(setup)
    assert done.code == 0, done.output
    assert sum(totals[part] for part in parts) == totals["Rows"] == history.rows
    assert totals["not yet sent"] == 0
    accepted = [r for r in logged_requests(log) if r["ok"] is True]
    assert totals["accepted"] == len(accepted)  # not double-counted across runs
