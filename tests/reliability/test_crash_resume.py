"""Crash and resume through the real CLI: SIGKILL at a seeded moment, rerun, count every row.

The simulators run in this process, so their record of what arrived survives the kill. Each of
the ten cycles has its own state directory, input and fault seed; the moment of each kill is a
seeded number of requests received, never a wall-clock delay. The killed run and the resumed
run talk to two simulators alike but for the seed, one after the other on the same address (the
journal's memory is per service address), so each process's requests are told apart without
trusting any clock. Cycles are
independent and nothing asserted depends on timing, so the module fixture runs two at a time;
each test then checks one cycle.
"""

from __future__ import annotations

import random
import signal
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from batch.simulator import (
    FaultConfig,
    ReceivedRequest,
    RunningSimulator,
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
ROWS = 40
CONCURRENCY = 4
SEED = 20261127
PLAN = [
    (n, rng.randrange(10**6), rng.randint(1, ROWS - 10))
    for rng in [random.Random(SEED)]
    for n in range(CYCLES)
]  # (cycle, fault seed, requests received before the kill)


@dataclass(frozen=True)
class Cycle:
    """One kill and resume: what each process said and what reached the service from each."""

    killed: Run
    resumed: Run
    before: list[ReceivedRequest]  # from the killed process
    after: list[ReceivedRequest]  # from the resumed one
    book: Book | None  # the resumed run's workbook


def _simulator(seed: int, port: int = 0) -> RunningSimulator:
    faults = FaultConfig(error_503_rate=0.05, error_500_rate=0.05, seed=seed)
    return start_simulator(SimulatorConfig(faults=faults, port=port))


def _cycle(cycle: int, fault_seed: int, kill_after: int, root: Path) -> Cycle:
    state, reports = root / "state", root / "reports"
    source = write_csv(root / "export.csv", good_rows(ROWS, tag=f"c{cycle}-"))
    options = ("--rate", "1000", "--concurrency", str(CONCURRENCY))
    dirs = {"state_dir": state, "report_dir": reports}
    with _simulator(fault_seed) as first_sim:
        first = Background.start(
            "run", source, *service_args(first_sim, *options), **dirs, logs=root / "1"
        )
        wait_for_requests(first_sim, kill_after, first)
        first.process.send_signal(signal.SIGKILL)
        killed = first.wait()
    port = int(first_sim.base_url.rsplit(":", 1)[1])
    with _simulator(fault_seed + 1, port) as second_sim:
        left_behind = list(reports.glob("*.xlsx")) if reports.exists() else []
        assert left_behind == [], "the killed run wrote a workbook"
        second = Background.start(
            "run", source, *service_args(second_sim, *options), **dirs, logs=root / "2"
        )
        resumed = second.wait()
        before, after = first_sim.received(), second_sim.received()
    book = Book.newest(reports) if resumed.code == 0 else None
    return Cycle(killed, resumed, before, after, book)


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

    accepted = accepted_digests(result.before + result.after)
    before = accepted_digests(result.before)
    twice = {digest for digest, n in accepted.items() if n > 1}
    assert len(accepted) == ROWS  # every row's own payload reached UDB and was accepted ...
    assert max(accepted.values()) <= 2
    assert len(twice) <= CONCURRENCY  # ... once, but for rows in flight at the kill
    assert twice <= set(before)
    assert book.count("unchanged") == len(before) - len(twice)
    assert book.count("accepted") == ROWS - book.count("unchanged")
    assert book.attempts() == len(result.after)
