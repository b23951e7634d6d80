"""The crash test's child process: ingest rows built in code, then submit them to a simulator.

Usage: python -m tests.pipeline.crash_child STATE_DIR WSDL_URL CONCURRENCY TOTAL_ROWS REGISTRY_SIZE
Prints `ingested` once every row is in the journal, then `done <counts as JSON>` at the end.
The test kills it with SIGKILL somewhere in between, then runs it again to finish the work.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path

import structlog

from batch.journal import Journal
from batch.service.client import ClientSettings, UdbClient
from batch.submit import SubmitSettings, submit_run
from tests.rows_kit import crash_rows, fictitious_cprs


def main(argv: list[str]) -> int:
    """Run one complete (or killed) batch run against the simulator at WSDL_URL."""
    state_dir, wsdl, concurrency, total, registry_size = argv
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    known = fictitious_cprs(int(registry_size))
    unknown = fictitious_cprs(50, offset=int(registry_size))
    settings = SubmitSettings(
        concurrency=int(concurrency),
        rate=None,
        max_attempts=10,
        backoff_initial=0.005,
        backoff_max=0.05,
        breaker_failed_requests=1000,
    )
    client_settings = ClientSettings(wsdl=wsdl, read_timeout=2.0, pool_size=int(concurrency))
    with Journal.open(Path(state_dir)) as journal, UdbClient(client_settings) as client:
        run_id = journal.start_run(inputs=["crash.csv"], settings={"concurrency": concurrency})
        rows = crash_rows(known, unknown, int(total))
        for start in range(0, len(rows), 500):
            journal.add_rows(run_id, rows[start : start + 500])
        sys.stdout.write("ingested\n")
        sys.stdout.flush()
        submit_run(journal, run_id, client, settings, stop=threading.Event())
        journal.finish_run(run_id, status="finished")
        counts = {outcome.value: count for outcome, count in journal.counts(run_id).items()}
    sys.stdout.write(f"done {json.dumps(counts)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
