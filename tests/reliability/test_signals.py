"""SIGTERM and Ctrl-C (SIGINT) mid-run: a clean exit code, the workbook written, resumable.

The simulator answers slowly (latency), so the run is still sending when the signal comes; the
signal is sent once a seeded number of requests has arrived, never after a wall-clock delay.
"""

from __future__ import annotations

import signal
import threading

import pytest

from batch.records import Outcome
from batch.simulator import FaultConfig
from tests.e2e.helpers import run_cli
from tests.reliability.kit import (
    Background,
    Book,
    accepted_digests,
    csv_rows,
    good_rows,
    service_args,
    wait_for_log,
    wait_for_requests,
    write_csv,
)

pytestmark = pytest.mark.slow

ROWS = 40
CONCURRENCY = 2


@pytest.mark.parametrize(
    ("signum", "code", "after"),
    [(signal.SIGTERM, 143, 7), (signal.SIGINT, 130, 12)],
    ids=["SIGTERM", "SIGINT"],
)
def test_signal_stops_cleanly_and_the_rerun_finishes(
    tmp_path, fresh_simulator, signum, code, after
):
    """Exit 128 + signal, every row in one sheet (unsent in Retry), then a rerun sends the rest.

    A graceful stop lets requests on the wire finish and records their answers, so the rerun
    resends nothing UDB already accepted.
    """
    sim = fresh_simulator(faults=FaultConfig(latency_ms=100))
    state, reports = tmp_path / "state", tmp_path / "reports"
    source = write_csv(tmp_path / "export.csv", good_rows(ROWS))
    command = [
        "run",
        source,
        *service_args(sim, "--rate", "100", "--concurrency", str(CONCURRENCY)),
    ]
    expected = csv_rows("export.csv", ROWS)

    first = Background.start(*command, state_dir=state, report_dir=reports, logs=tmp_path / "1")
    wait_for_requests(sim, after, first)
    first.process.send_signal(signum)
    stopped = first.wait()
    assert stopped.code == code, stopped.output
    assert "Traceback" not in stopped.output
    book = Book.newest(reports)
    book.assert_each_row_once(expected)
    assert book.summary["status"] == "interrupted"
    assert book.count("retry") > 0
    assert book.count("accepted") + book.count("retry") == ROWS
    assert book.count("accepted") == len(accepted_digests(sim.received()))
    unsent = [row for row in book.rows("Retry") if not row["Attempts"]]
    assert len(unsent) == book.count("retry")

    rerun = Background.start(*command, state_dir=state, report_dir=reports, logs=tmp_path / "2")
    finished = rerun.wait()
    assert finished.code == 0, finished.output
    again = Book.newest(reports)
    assert again.path != book.path
    again.assert_each_row_once(expected)
    assert again.count("unchanged") == book.count("accepted")
    assert again.count("accepted") == book.count("retry")
    accepted = accepted_digests(sim.received())
    assert len(accepted) == ROWS
    assert max(accepted.values()) == 1  # a graceful stop leaves nothing in flight


def test_a_signal_while_reading_still_writes_a_workbook_that_adds_up(tmp_path, simulator):
    """Stopped while reading the input (the stop already set): the rows read are in Retry.

    In-process through `run_job`, the function the CLI calls: a signal during reading is the
    same as a stop set before the first chunk is checked. The counts must add up to the rows
    read, so the workbook is written; the next run reads and sends everything.
    """
    from batch.config import Settings
    from batch.pipeline import run_job

    source = write_csv(tmp_path / "export.csv", good_rows(10))
    settings = Settings(
        wsdl=simulator.wsdl_url,
        system_id="KUI-TEST",
        rate=1000,
        state_dir=tmp_path / "state",
        report_dir=tmp_path / "reports",
    )
    stop = threading.Event()
    stop.set()
    stopped = run_job([source], settings, stop=stop)
    assert stopped.status == "interrupted"
    assert stopped.rows == stopped.counts[Outcome.RETRY] == 10
    Book.newest(tmp_path / "reports").assert_each_row_once(csv_rows("export.csv", 10))
    again = run_job([source], settings)
    assert again.counts[Outcome.ACCEPTED] == 10


def test_a_second_ctrl_c_stops_at_once_and_the_rerun_finishes(tmp_path, fresh_simulator):
    """Ctrl-C twice: exit 130 at once, naming the command that writes the workbook; it does.

    The first Ctrl-C starts a graceful stop that waits for the slow requests on the wire; the
    second, sent once the log says the stop began, ends the process at once. Those requests
    reached UDB, so the rerun sends them again: at most `concurrency` payloads twice.
    """
    slow = fresh_simulator(faults=FaultConfig(latency_ms=1500))
    fast = fresh_simulator()
    state, reports = tmp_path / "state", tmp_path / "reports"
    rows = 10
    source = write_csv(tmp_path / "export.csv", good_rows(rows))
    options = ("--rate", "100", "--concurrency", str(CONCURRENCY))
    first = Background.start(
        "run", source, *service_args(slow, *options), state_dir=state, report_dir=reports,
        logs=tmp_path / "1",
    )  # fmt: skip
    wait_for_requests(slow, CONCURRENCY, first)
    first.process.send_signal(signal.SIGINT)
    wait_for_log(first, "stopping")
    first.process.send_signal(signal.SIGINT)
    stopped = first.wait()
    assert stopped.code == 130, stopped.output
    assert not reports.exists() or not list(reports.glob("*.xlsx"))
    assert "the workbook of this run is written by: batch report" in stopped.output
    written = run_cli("report", state_dir=state, report_dir=reports)
    assert written.code == 3, written.output  # the rows not sent are in Retry
    Book.newest(reports).assert_each_row_once(csv_rows("export.csv", rows))

    finished = run_cli(
        "run", source, *service_args(fast, *options), state_dir=state, report_dir=reports
    )
    assert finished.code == 0, finished.output
    book = Book.newest(reports)
    book.assert_each_row_once(csv_rows("export.csv", rows))
    accepted = accepted_digests(slow.received() + fast.received())
    assert len(accepted) == rows
    assert sum(accepted.values()) - rows <= CONCURRENCY
