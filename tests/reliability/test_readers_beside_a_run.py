"""`batch status` and `batch report` from a second process while a run holds the journal."""

from __future__ import annotations

import pytest

from batch.simulator import FaultConfig
from tests.e2e.helpers import run_cli
from tests.reliability.kit import (
    Background,
    Book,
    csv_rows,
    good_rows,
    service_args,
    wait_for_requests,
    write_csv,
)

pytestmark = pytest.mark.slow

ROWS = 6


def test_status_and_report_read_beside_a_run_under_way(tmp_path, fresh_simulator):
    """A second process reads status and writes the workbook so far; the run is not disturbed.

    The run is kept busy by a slow simulator; the readers start once requests have arrived.
    Their workbook is one consistent moment: every row read so far stands in one sheet, the
    rows not sent yet in Retry. The run then finishes as if nobody had looked.
    """
    sim = fresh_simulator(faults=FaultConfig(latency_ms=4000))  # a run that takes its time
    state, reports, peeks = tmp_path / "state", tmp_path / "reports", tmp_path / "peeks"
    source = write_csv(tmp_path / "export.csv", good_rows(ROWS))
    run = Background.start(
        "run", source, *service_args(sim, "--rate", "100", "--concurrency", "1"),
        state_dir=state, report_dir=reports, logs=tmp_path / "run",
    )  # fmt: skip
    wait_for_requests(sim, 2, run)

    status = run_cli("status", state_dir=state, report_dir=peeks)
    peek = run_cli("report", state_dir=state, report_dir=peeks)

    assert status.code == 0, status.output
    assert "running" in status.stdout
    assert peek.code == 3, peek.output  # rows not sent yet: Retry
    Book.newest(peeks).assert_each_row_once(csv_rows("export.csv", ROWS))
    finished = run.wait()
    assert finished.code == 0, finished.output
    Book.newest(reports).assert_each_row_once(csv_rows("export.csv", ROWS))
