"""The experiment issue 18 asks for: WS-Security signing in a process pool instead of threads.

Worker threads share one interpreter; if signing held the GIL, a pool of processes could sign
on the other core. Here the envelope is filled and serialized in the sending thread, a worker
process parses it, timestamps and signs it with the product's own pipeline
(`batch.service.signing.build_wsse`) and returns the bytes, and the thread posts them over
mutual TLS. Benchmark-only: it is kept out of the product unless it pays (BENCHMARKS.md, 4).

The client's CPU counts the workers too: each job returns its worker's CPU clock, and the
run's figure adds what every worker spent between the warm-up and its last job.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, Any

from lxml import etree

from batch.service.client import UdbClient
from batch.service.signing import SigningSettings, build_wsse
from batch.submit import SubmitSettings
from benchmarks.signed_tasks import client_settings
from benchmarks.submit_tasks import reports, run_engine

if TYPE_CHECKING:
    from batch.records import Answer, Failure, Report
    from batch.service.wsse_template import Wsse

__all__ = ["pool_signed_engine"]

_WSSE: Wsse | None = None  # each worker process's signing pipeline


def _start_worker(key: str, cert: str) -> None:
    global _WSSE  # noqa: PLW0603 - one pipeline a process, built once
    _WSSE = build_wsse(SigningSettings(key=Path(key), cert=Path(cert)))


def _sign(body: bytes) -> tuple[bytes, int, float]:
    """In a worker: the envelope timestamped and signed; this process's id and CPU clock."""
    assert _WSSE is not None
    tree = etree.fromstring(body)  # our own bytes, from this process's parent
    envelope, _ = _WSSE.apply(tree, {})
    signed = etree.tostring(envelope, encoding="utf-8", xml_declaration=True)
    return signed, os.getpid(), time.process_time()


class _PoolSigned:
    """A `Sender` whose envelopes are signed by a process pool; the TLS client stays here."""

    def __init__(self, client: UdbClient, pool: ProcessPoolExecutor) -> None:
        self._client, self._pool = client, pool
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._lock = Lock()

    def send(self, report: Report) -> Answer | Failure:
        body, headers = self._client.envelope(report)  # filled, not signed
        signed, pid, clock = self._pool.submit(_sign, body).result()
        with self._lock:
            self._first.setdefault(pid, clock)
            self._last[pid] = max(clock, self._last.get(pid, 0.0))
        return self._client.post(signed, headers)

    def worker_cpu(self) -> float:
        """CPU seconds the workers spent since each one's first job."""
        with self._lock:
            return sum(self._last[pid] - first for pid, first in self._first.items())


def pool_signed_engine(
    wsdl: str, rows: int, concurrency: int, secure: dict[str, str], processes: int = 2
) -> dict[str, Any]:
    """`engine` at `concurrency`, mutual TLS, every request signed by `processes` workers."""
    unsigned = client_settings(wsdl, concurrency, secure, sign=False)
    initargs = (secure["key"], secure["cert"])
    with (
        UdbClient(unsigned) as client,
        ProcessPoolExecutor(processes, initializer=_start_worker, initargs=initargs) as pool,
    ):
        sender = _PoolSigned(client, pool)
        for report in reports(8 * processes, first=rows):  # every worker started and warm
            sender.send(report)
        settings = SubmitSettings(concurrency=concurrency, rate=None)
        result = run_engine(
            sender, rows, settings, lambda: time.process_time() + sender.worker_cpu()
        )
    result["processes"] = processes
    return result
