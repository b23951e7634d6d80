"""Crash test: the engine is killed at a random moment, and the next run finishes the work."""

from __future__ import annotations

import contextlib
import json
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from batch.errors import JournalLockedError
from batch.journal import JOURNAL_NAME, Journal
from batch.records import Outcome
from batch.simulator import FaultConfig
from tests.rows_kit import fictitious_cprs, write_registry

ROOT = Path(__file__).resolve().parents[2]
CHILD = "tests.pipeline.crash_child"  # run as a module from the root: it imports tests.rows_kit
CONCURRENCY = 8
ROWS = 3000
KNOWN = 2500
FAULTS = FaultConfig(error_503_rate=0.03, udb_101_rate=0.03, drop_rate=0.01, seed=11)


class Child:
    """The engine in a child process; its output is read in a thread so it never blocks."""

    def __init__(self, state: Path, wsdl: str) -> None:
        args = [str(state), wsdl, str(CONCURRENCY), str(ROWS), str(KNOWN)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", CHILD, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        self.lines: list[str] = []
        self.ingested = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())
            if line.strip() == "ingested":
                self.ingested.set()

    def wait(self) -> int:
        """Wait for the child to end; return its exit code (negative: killed by that signal)."""
        code = self.process.wait(timeout=240)
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


def journal_rows(state: Path) -> list[tuple[str, str, str | None]]:
    """(run_id, status, outcome) of every row, read without taking the journal's lock."""
    uri = f"file:{state / JOURNAL_NAME}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        return conn.execute("SELECT run_id, status, outcome FROM rows ORDER BY id").fetchall()


@pytest.mark.slow
def test_killed_run_is_finished_by_the_next_without_duplicates(tmp_path, fresh_simulator):
    """SIGKILL mid-run, rerun: every row ends once; each accepted payload arrived once.

    Exceptions allowed: at most `concurrency` rows that were in flight at the kill. Slow
    (two runs of 3,000 rows against a simulator with injected faults), hence marked.
    """
    registry = write_registry(tmp_path / "registry.csv", fictitious_cprs(KNOWN))
    sim = fresh_simulator(registry=registry, faults=FAULTS)
    state = tmp_path / "state"
    kill_after = random.Random(20261127).randint(300, 2500)  # requests received before the kill

    first = Child(state, sim.wsdl_url)
    assert first.ingested.wait(timeout=120)
    with pytest.raises(JournalLockedError, match=f"pid {first.process.pid}"):
        Journal.open(state)  # the running child holds the state directory
    while len(sim.received()) < kill_after and first.process.poll() is None:
        time.sleep(0.01)
    first.process.send_signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    after_kill = Counter(status for _, status, _ in journal_rows(state))
    assert after_kill["in_flight"] <= CONCURRENCY
    assert after_kill["final"] > 0
    assert after_kill["pending"] > 0
    assert sum(after_kill.values()) == ROWS

    second = Child(state, sim.wsdl_url)
    assert second.wait() == 0
    counts = json.loads(second.lines[-1].removeprefix("done "))

    rows = journal_rows(state)
    runs = sorted({run_id for run_id, _, _ in rows})
    assert len(runs) == 2
    assert {status for _, status, _ in rows} == {"final"}  # the killed run was closed, too
    assert sum(counts.values()) == ROWS
    unknown = ROWS // 20
    assert counts[Outcome.DROP] == unknown
    assert counts[Outcome.ACCEPTED] + counts[Outcome.UNCHANGED] == ROWS - unknown
    assert counts[Outcome.UNCHANGED] > 0  # the first run's work was not redone

    received = sim.received()
    accepted = Counter(r.payload_digest for r in received if r.ok)
    assert len(accepted) == ROWS - unknown  # every valid row was accepted ...
    twice = [digest for digest, n in accepted.items() if n > 1]
    assert len(twice) <= CONCURRENCY  # ... once, but for rows in flight at the kill
    assert max(accepted.values()) <= 2
