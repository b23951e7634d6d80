"""Child-process tasks of measurements 4 and 5: send rows to the simulator one way or another.

The simulator is another process, so `time.process_time()` here is the client's CPU alone
(all of this process's threads: workers, journal writer, dispatcher). Every request must be
accepted: a benchmark that counted failures as throughput would flatter the client.
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zeep
from pyinstrument import Profiler
from pyinstrument.stack_sampler import get_stack_sampler

from batch.journal import JOURNAL_NAME, Journal
from batch.records import Answer, Contact, Report, Row, Sender, Wish
from batch.service.client import ClientSettings, UdbClient
from batch.service.request import build_request
from batch.submit import SubmitSettings, submit_run
from benchmarks.data import JOBS, KUI, fictitious_cpr
from benchmarks.profiles import pyinstrument_top
from benchmarks.signed_tasks import client_settings

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "client_breakdown",
    "client_loop",
    "client_profile",
    "engine",
    "max_in_window",
    "reports",
    "run_engine",
    "zeep_loop",
]

SYSTEM_ID = "BATCH-BENCH"


def reports(count: int, first: int = 0) -> list[Report]:
    """One report per young person `first`..`first+count-1`: a contact and a job wish."""
    registered = datetime.now(UTC) - timedelta(days=1)
    made = []
    for n in range(first, first + count):
        moment = registered - timedelta(seconds=n)
        contact = Contact(
            f"Mette Holm {n}", f"mette.{n}@kui.example-kommune.dk", 20000000 + n, moment
        )
        job = Wish(JOBS[n % len(JOBS)], moment) if n % 2 else None
        made.append(Report(SYSTEM_ID, fictitious_cpr(n), KUI, contact=contact, job=job))
    return made


def max_in_window(moments: list[float], window: float = 1.0) -> int:
    """The most requests that started within any `window` seconds (a sliding window)."""
    moments = sorted(moments)
    best, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def _attempt_times(state: Path) -> list[float]:
    with sqlite3.connect(state / JOURNAL_NAME) as conn:
        texts = [at for (at,) in conn.execute("SELECT at FROM attempts")]
    return [datetime.fromisoformat(text).timestamp() for text in texts]


def engine(
    wsdl: str,
    rows: int,
    concurrency: int,
    rate: float | None = None,
    burst: int = 5,
    *,
    secure: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The real scheduler (`submit_run`) with a fresh journal; times the sending phase only.

    `secure` (the PEM files of `benchmarks.pki`): mutual TLS and every request signed.
    """
    with UdbClient(client_settings(wsdl, concurrency, secure)) as client:
        return run_engine(
            client, rows, SubmitSettings(concurrency=concurrency, rate=rate, burst=burst)
        )


def run_engine(
    client: Sender,
    rows: int,
    settings: SubmitSettings,
    cpu_clock: Callable[[], float] = time.process_time,
) -> dict[str, Any]:
    """`rows` reports through `submit_run` and `client`; `cpu_clock` counts the client's CPU."""
    items = [Row("bench.csv", n + 2, {}, report) for n, report in enumerate(reports(rows))]
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch)
        with Journal.open(state) as journal:
            run_id = journal.start_run(inputs=["bench.csv"], settings={})
            journal.add_rows(run_id, items)
            wall, cpu = time.perf_counter(), cpu_clock()
            stats = submit_run(journal, run_id, client, settings, stop=threading.Event())
            wall, cpu = time.perf_counter() - wall, cpu_clock() - cpu
        moments = _attempt_times(state)
    if stats.accepted != rows:
        raise RuntimeError(f"only {stats.accepted} of {rows} rows accepted: {stats}")
    spread = max(moments) - min(moments) if len(moments) > 1 else 0.0
    return {
        "rows": rows,
        "requests": stats.requests,
        "seconds": wall,
        "cpu": cpu,
        "max_1s": max_in_window(moments),
        "attempt_span": spread,
    }


def _client(wsdl: str) -> ClientSettings:
    return client_settings(wsdl, 1, None)


def zeep_loop(wsdl: str, rows: int) -> dict[str, Any]:
    """The baseline: a plain `zeep.Client`, one call after the other, no journal."""
    client = zeep.Client(wsdl)  # type: ignore[no-untyped-call]
    service = client.service
    items = reports(rows)
    wall, cpu = time.perf_counter(), time.process_time()
    for report in items:
        answer = service.IndberetningKontaktJobOgUddOensker(**build_request(report))
        if not answer.Ok:
            raise RuntimeError(f"not accepted: {answer}")
    return {"rows": rows, "seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


def _send_all(client: UdbClient, items: list[Report]) -> None:
    for report in items:
        answer = client.send(report)
        if not (isinstance(answer, Answer) and answer.ok):
            raise RuntimeError(f"not accepted: {answer}")


def client_loop(wsdl: str, rows: int) -> dict[str, Any]:
    """The project's client alone (`UdbClient.send`), sequential, no journal, no scheduler."""
    items = reports(rows)
    with UdbClient(_client(wsdl)) as client:
        wall, cpu = time.perf_counter(), time.process_time()
        _send_all(client, items)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"rows": rows, "seconds": wall, "cpu": cpu}


def client_profile(wsdl: str, rows: int) -> dict[str, Any]:
    """`client_loop` under pyinstrument, on CPU time: where a request's client CPU goes.

    pyinstrument measures wall time unless its sampler is given another timer; on a shared
    two-core machine wall time in `sendall` is mostly the simulator running on our core.
    """
    items = reports(rows)
    with UdbClient(_client(wsdl)) as client:
        _send_all(client, items[:20])  # connection and zeep's caches warm, as in a long run
        get_stack_sampler().timer_func = time.thread_time
        profiler = Profiler(interval=0.0001)
        wall, cpu = time.perf_counter(), time.process_time()
        profiler.start()
        _send_all(client, items)
        session = profiler.stop()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"rows": rows, "seconds": wall, "cpu": cpu, "top": pyinstrument_top(session, 15)}


def client_breakdown(wsdl: str, rows: int) -> dict[str, Any]:
    """CPU per request of the client's two halves, each timed alone without a profiler.

    `envelope` turns a report into bytes (zeep's template filled, `batch.service.envelope`);
    `post` is the rest (HTTP over the kept-alive pool, then the hardened reply reader), fed
    ready-made bodies.
    """
    items = reports(rows)
    with UdbClient(_client(wsdl)) as client:
        _send_all(client, items[:20])
        cpu = time.process_time()
        envelopes = [client.envelope(report) for report in items]
        envelope_cpu = time.process_time() - cpu
        cpu = time.process_time()
        for body, headers in envelopes:
            answer = client.post(body, headers)
            if not (isinstance(answer, Answer) and answer.ok):
                raise RuntimeError(f"not accepted: {answer}")
        post_cpu = time.process_time() - cpu
    return {
        "rows": rows,
        "envelope_cpu_ms": 1000 * envelope_cpu / rows,
        "post_cpu_ms": 1000 * post_cpu / rows,
    }
