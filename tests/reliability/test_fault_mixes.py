"""Fault mixes through the real CLI: each transient fault at 15-20%, then a total outage.

Asserted on the simulator's record and the workbook, never on wall time: outcomes, the
`Attempts` column (its sum is the requests the simulator saw), the client's rate limit (no
one-second window holds more than rate + burst requests) and, in an outage, how soon the
circuit breaker stopped the run.
"""

from __future__ import annotations

import pytest

from batch.simulator import FaultConfig
from batch.submit import SubmitSettings
from tests.e2e.helpers import run_cli
from tests.reliability.kit import (
    Book,
    accepted_digests,
    busiest_second,
    csv_rows,
    good_rows,
    service_args,
    write_csv,
)

pytestmark = pytest.mark.slow

ROWS = 30
RATE = 20
CONCURRENCY = 4
BURST = SubmitSettings().burst  # the CLI has no burst option: the scheduler's default

TRANSIENT = {
    "503": (FaultConfig(error_503_rate=0.2, seed=503), {}),
    "500": (FaultConfig(error_500_rate=0.2, seed=500), {}),
    "udb-101": (FaultConfig(udb_101_rate=0.2, seed=101), {}),
    "connection-drop": (FaultConfig(drop_rate=0.15, seed=7), {}),
    "read-timeout": (
        FaultConfig(slow_rate=0.15, slow_seconds=2.0, seed=9),
        {"BATCH_READ_TIMEOUT": "0.5"},
    ),
}


def _run(tmp_path, sim, rows, *options, env=None):
    source = write_csv(tmp_path / "export.csv", good_rows(rows))
    result = run_cli(
        "run",
        source,
        *service_args(sim, *options),
        state_dir=tmp_path / "state",
        report_dir=tmp_path / "reports",
        env=env,
    )
    return result, Book.newest(tmp_path / "reports")


@pytest.mark.parametrize("fault", sorted(TRANSIENT))
def test_transient_faults_end_accepted_with_attempts_counted(tmp_path, fresh_simulator, fault):
    """With enough attempts every row ends accepted; Attempts adds up to the requests made."""
    faults, env = TRANSIENT[fault]
    sim = fresh_simulator(faults=faults)
    options = ("--rate", str(RATE), "--concurrency", str(CONCURRENCY), "--max-attempts", "10")
    result, book = _run(tmp_path, sim, ROWS, *options, env=env)
    assert result.code == 0, result.output
    book.assert_each_row_once(csv_rows("export.csv", ROWS))
    assert book.count("accepted") == ROWS
    received = sim.received()
    assert book.attempts() == len(received)
    assert book.attempts() > ROWS  # the faults did hit, and were retried
    retried = [row for row in book.rows("Accepted") if int(str(row["Attempts"])) > 1]
    assert retried
    if fault != "read-timeout":  # a slow answer is an acceptance the client never saw
        assert len(accepted_digests(received)) == ROWS
        assert max(accepted_digests(received).values()) == 1
        assert len(received) - ROWS == sum(1 for r in received if not r.ok)
    assert busiest_second(received) <= RATE + BURST


def test_429_with_retry_after_pauses_every_worker(tmp_path, fresh_simulator):
    """Over the service's limit: 429s are retried after Retry-After and nobody sends meanwhile.

    After a 429 arrived at t, what arrives before t + Retry-After can only be requests the
    other workers sent, or took a token for, before the client had read that 429: a couple
    each at most (2 x 3 here), against about rate x Retry-After (12) without the pause.
    """
    retry_after = 1.0
    sim = fresh_simulator(faults=FaultConfig(rate_limit=6, retry_after_seconds=retry_after))
    rows = 30
    options = ("--rate", "12", "--concurrency", str(CONCURRENCY), "--max-attempts", "10")
    result, book = _run(tmp_path, sim, rows, *options)
    assert result.code == 0, result.output
    book.assert_each_row_once(csv_rows("export.csv", rows))
    assert book.count("accepted") == rows
    received = sim.received()
    limited = [r for r in received if r.http_status == 429]
    assert limited, "the client never went over the service's limit"
    assert book.attempts() == len(received)
    assert busiest_second(received) <= 12 + BURST
    admitted = [r for r in received if r.http_status != 429]
    assert busiest_second(admitted) <= 6
    for refusal in limited:
        during = [
            r for r in received if refusal.monotonic < r.monotonic < refusal.monotonic + retry_after
        ]
        assert len(during) <= 2 * (CONCURRENCY - 1)


def test_total_outage_stops_early_and_keeps_every_row(tmp_path, fresh_simulator):
    """Every answer a 503: the breaker stops the run after a bounded number of requests.

    Every row is in Retry (exit 3), the attempts recorded are the requests the service saw,
    and the next run would send them all.
    """
    sim = fresh_simulator(faults=FaultConfig(outage=True))
    rows = 100
    options = ("--rate", "200", "--concurrency", str(CONCURRENCY), "--max-attempts", "5")
    result, book = _run(tmp_path, sim, rows, *options)
    assert result.code == 3, result.output
    book.assert_each_row_once(csv_rows("export.csv", rows))
    assert book.count("retry") == rows
    assert book.summary["status"] == "broken"
    threshold = SubmitSettings(concurrency=CONCURRENCY).request_threshold
    received = sim.received()
    assert threshold <= len(received) <= threshold + CONCURRENCY - 1
    assert book.attempts() == len(received)
    unsent = [row for row in book.rows("Retry") if not row["Attempts"]]
    assert len(unsent) >= rows - len(received)
    assert all("kept failing" in str(row["Result text"]) for row in unsent)
