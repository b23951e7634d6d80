"""A purge killed with SIGKILL loses nothing it was to keep, and the next purge finishes it.

The real command runs in a process of its own on a real journal; it is killed at a seeded point
(before it writes, as soon as its WAL appears, a little later). Whatever the moment, the rows it
was to keep are all there afterwards, the ones it was to remove are either all there or all
gone (one transaction), and a second purge removes them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from batch.journal import JOURNAL_NAME, Journal
from batch.records import Issue, Row
from tests.rows_kit import report, row

if TYPE_CHECKING:
    from pathlib import Path

SETTLED = 20_000
UNSETTLED = 50


def _journal(state: Path) -> None:
    """Settled rows (Fix, at once) in one run; rows left in Retry in another."""
    issue = Issue("cpr_format", "CPR must be 10 digits.", column="CPR")
    with Journal.open(state) as journal:
        done = journal.start_run(inputs=["a.csv"], settings={})
        bad = [Row("a.csv", n + 2, {"CPR": "x", "n": n}, None, (issue,)) for n in range(SETTLED)]
        for start in range(0, SETTLED, 2000):
            journal.add_rows(done, bad[start : start + 2000])
        journal.finish_run(done, status="finished")
        failed = journal.start_run(inputs=["b.csv"], settings={})
        cprs = [f"0101{n % 90 + 10:02d}4{n:03d}" for n in range(UNSETTLED)]
        journal.add_rows(failed, [row(n + 2, report(cpr)) for n, cpr in enumerate(cprs)])
        journal.mark_unsent_as_retry(failed, "the service was down")
        journal.finish_run(failed, status="broken")


def _rows(state: Path) -> tuple[int, int]:
    """(settled Fix rows, unsettled Retry rows) left in the journal."""
    with Journal.open(state) as journal:
        first, second = [info.run_id for info in journal.runs()]
        return len(journal.row_states(first)), len(journal.row_states(second))


def _purge(state: Path, reports: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BATCH_STATE_DIR": str(state), "BATCH_REPORT_DIR": str(reports)}
    return subprocess.Popen(
        [sys.executable, "-m", "batch", "purge", "--older-than", "0", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_wal(state: Path, child: subprocess.Popen[bytes]) -> None:
    """Until the child has begun writing (its WAL holds something), or has ended."""
    wal = state / f"{JOURNAL_NAME}-wal"
    while child.poll() is None and not (wal.exists() and wal.stat().st_size > 0):
        time.sleep(0.001)


@pytest.mark.parametrize("moment", ["start", "wal", "wal+20ms"])
def test_killed_purge_keeps_what_it_must_and_the_next_finishes(tmp_path, moment):
    """SIGKILL at any point: unsettled rows all stay; settled all or none; a rerun removes them."""
    state, reports = tmp_path / "state", tmp_path / "reports"
    _journal(state)
    child = _purge(state, reports)
    if moment != "start":
        _wait_for_wal(state, child)
    if moment == "wal+20ms":
        time.sleep(0.02)  # a seeded point further in; nothing asserted depends on it
    child.send_signal(signal.SIGKILL)
    child.wait()
    settled, unsettled = _rows(state)
    assert unsettled == UNSETTLED
    assert settled in (0, SETTLED)
    again = _purge(state, reports)
    assert again.wait() == 0
    assert _rows(state) == (0, UNSETTLED)
