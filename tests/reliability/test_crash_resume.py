"""Crash and resume through the real CLI: SIGKILL at a seeded moment, rerun, count every row.

The simulator runs in this process, so its record of what arrived survives the kill. Each of
the ten cycles has its own simulator (with its own fault seed), state directory and input; the
moment of each kill is a seeded number of requests received, never a wall-clock delay. Cycles
are independent and nothing asserted depends on timing, so the module fixture runs two at a
time; each test then checks one cycle.
"""

from __future__ import annotations

import random
import signal
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from batch.simulator import (
    FaultConfig,
    ReceivedRequest,
    SimulatorConfig,
    start_simulator,
)
from tests.reliability.kit import (
    Background,
    Book,
    accepted_digests,
    csv_rows,
    good_rows,
    run_many,
    service_args,
    wait_for_requests,
    write_csv,
)

if TYPE_CHECKING:
    from tests.e2e.helpers import Run

pytestmark = pytest.mark.slow

CYCLES = 10
ROWS = 60
CONCURRENCY = 4
SEED = 20261127
PLAN = [
    (n, rng.randrange(10**6), rng.randint(1, ROWS - 10))
    for rng in [random.Random(SEED)]
    for n in range(CYCLES)
]  # (cycle, fault seed, requests received before the kill)


@dataclass(frozen=True)
class Cycle:
    """One kill and resume: what each process said, what the service saw, the last workbook."""

    killed: Run
    resumed: Run
    killed_at: float  # monotonic: every request of the killed process arrived before this
    received: list[ReceivedRequest]
    book: Book | None


def _cycle(cycle: int, fault_seed: int, kill_after: int, root: Path) -> Cycle:
    faults = FaultConfig(error_503_rate=0.05, error_500_rate=0.05, seed=fault_seed)
    state, reports = root / "state", root / "reports"
    source = write_csv(root / "export.csv", good_rows(ROWS, tag=f"c{cycle}-"))
    with start_simulator(SimulatorConfig(faults=faults)) as sim:
        options = ("--rate", "1000", "--concurrency", str(CONCURRENCY))
        command = ["run", source, *service_args(sim, *options)]
        first = Background.start(*command, state_dir=state, report_dir=reports, logs=root / "1")
        wait_for_requests(sim, kill_after, first)
        first.process.send_signal(signal.SIGKILL)
        killed = first.wait()
        killed_at = time.monotonic()
        left_behind = list(reports.glob("*.xlsx")) if reports.exists() else []
        assert left_behind == [], "the killed run wrote a workbook"
        second = Background.start(*command, state_dir=state, report_dir=reports, logs=root / "2")
        resumed = second.wait()
        received = sim.received()
    book = Book.newest(reports) if resumed.code == 0 else None
    return Cycle(killed, resumed, killed_at, received, book)


@pytest.fixture(scope="module")
def cycles(tmp_path_factory) -> list[Cycle]:
    """All ten kill-and-resume cycles, two at a time."""
    jobs = [partial(_cycle, *plan, tmp_path_factory.mktemp(f"cycle{plan[0]}")) for plan in PLAN]
    return run_many(jobs)


@pytest.mark.parametrize(("cycle", "fault_seed", "kill_after"), PLAN)
def test_killed_run_is_finished_by_the_same_command(cycles, cycle, fault_seed, kill_after):
    """SIGKILL mid-run, rerun: each row in one sheet, nothing lost, each payload accepted once.

    The exceptions allowed are the rows in flight at the kill: at most `concurrency` payloads
    UDB accepted twice. Rows accepted before the kill are Unchanged in the resumed run.
    """
    result = cycles[cycle]
    assert result.killed.code == -signal.SIGKILL, result.killed.output
    assert result.resumed.code == 0, result.resumed.output
    book = result.book
    assert book is not None
    book.assert_each_row_once(csv_rows("export.csv", ROWS))

    accepted = accepted_digests(result.received)
    before = accepted_digests([r for r in result.received if r.monotonic < result.killed_at])
    twice = {digest for digest, n in accepted.items() if n > 1}
    assert len(accepted) == ROWS  # every row's own payload reached UDB and was accepted ...
    assert max(accepted.values()) <= 2
    assert len(twice) <= CONCURRENCY  # ... once, but for rows in flight at the kill
    assert twice <= set(before)
    assert book.count("unchanged") == len(before) - len(twice)
    assert book.count("accepted") == ROWS - book.count("unchanged")
    resumed_requests = [r for r in result.received if r.monotonic >= result.killed_at]
    assert book.attempts() == len(resumed_requests)
