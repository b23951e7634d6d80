"""The threads of one run: a dispatcher, the workers, and the caller supervising them."""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from batch.i18n import _
from batch.records import Outcome
from batch.submit._progress import ProgressTicker
from batch.submit._send import INTERRUPTED, Context, process
from batch.submit._settings import SubmitStats
from batch.submit.breaker import CircuitBreaker
from batch.submit.ratelimit import TokenBucket

if TYPE_CHECKING:
    from collections.abc import Callable

    from batch.journal import Journal
    from batch.records import Sender
    from batch.submit._progress import Snapshot
    from batch.submit._settings import SubmitSettings

__all__ = ["submit_run"]

log = structlog.get_logger("batch.submit")

_TICK = 0.1  # seconds between the supervisor's looks at `stop` and progress


def _work(ctx: Context) -> None:
    while (batch := ctx.tasks.get()) is not None:
        if not ctx.taking_rows():
            continue  # drain the queue so the dispatcher can hand out the end markers
        try:
            process(ctx, batch)
        except BaseException as exc:  # noqa: BLE001 - re-raised by submit_run
            ctx.fail(exc)


def _dispatch(ctx: Context, journal: Journal) -> None:
    try:
        for batch in journal.pending(ctx.run_id):
            while ctx.taking_rows():
                try:
                    ctx.tasks.put(batch, timeout=_TICK)
                    break
                except queue.Full:
                    continue
            if not ctx.taking_rows():
                break
    except BaseException as exc:  # noqa: BLE001 - re-raised by submit_run
        ctx.fail(exc)
    finally:
        for _ in range(ctx.settings.concurrency):
            ctx.tasks.put(None)


@dataclass
class _Watch:
    """What the supervisor reports progress through: the callbacks and the ticker."""

    on_progress: Callable[[int], None] | None
    ticker: ProgressTicker
    total: int
    started: float = field(default_factory=time.monotonic)

    def tick(self, ctx: Context, *, final: bool = False) -> None:
        _progress(ctx, self.on_progress)
        elapsed = time.monotonic() - self.started
        self.ticker.tick(ctx.tally.snapshot(self.total, elapsed), final=final)


def _supervise(ctx: Context, threads: list[threading.Thread], watch: _Watch) -> None:
    for thread in threads:
        while thread.is_alive():
            thread.join(_TICK)
            ctx.halted()  # wakes sleepers (backoff, rate limit) on a stop, and checks --until
            watch.tick(ctx)


def _progress(ctx: Context, on_progress: Callable[[int], None] | None) -> None:
    done = ctx.tally.take_unreported()
    if done and on_progress is not None:
        on_progress(done)


def submit_run(
    journal: Journal,
    run_id: str,
    sender: Sender,
    settings: SubmitSettings,
    *,
    stop: threading.Event,
    on_progress: Callable[[int], None] | None = None,
    on_status: Callable[[Snapshot], None] | None = None,
) -> SubmitStats:
    """Send every pending row of `run_id`; return when all are final or the run had to stop.

    `on_progress(n)` is called from the calling thread with the number of rows just closed;
    `on_status(snapshot)` on every tick with the figures in requests (see `_progress`).
    Rows left unsent by a stop are closed as `retry` here (with the reason) before returning.
    """
    started = time.monotonic()
    ticker = ProgressTicker(settings.progress_interval, on_status)
    watch = _Watch(on_progress, ticker, journal.counts(run_id)[Outcome.RETRY])
    with journal.writer(run_id) as writer:
        ctx = Context(
            run_id=run_id,
            sender=sender,
            settings=settings,
            writer=writer,
            limiter=TokenBucket(settings.rate, settings.burst),
            breaker=CircuitBreaker(
                row_threshold=settings.breaker_consecutive_failures,
                request_threshold=settings.request_threshold,
            ),
            tasks=queue.Queue(2 * settings.concurrency),
            interrupt=stop,
        )
        watch.tick(ctx)  # the first progress event: what there is to send
        _run_threads(ctx, journal, watch)
    if ctx.errors:
        raise ctx.errors[0]
    stats = _finish(ctx, journal, time.monotonic() - started)
    watch.tick(ctx, final=True)
    return stats


def _run_threads(ctx: Context, journal: Journal, watch: _Watch) -> None:
    # Each thread runs in a copy of the caller's context, so log lines keep the bound run id.
    workers = [
        threading.Thread(
            target=contextvars.copy_context().run,
            args=(_work, ctx),
            name=f"submit-{n}",
            daemon=True,
        )
        for n in range(ctx.settings.concurrency)
    ]
    dispatcher = threading.Thread(
        target=contextvars.copy_context().run,
        args=(_dispatch, ctx, journal),
        name="dispatch",
        daemon=True,
    )
    threads = [dispatcher, *workers]
    for thread in threads:
        thread.start()
    try:
        _supervise(ctx, threads, watch)
    except BaseException:
        ctx.stop(_(INTERRUPTED), "signal")
        for thread in threads:
            thread.join()
        raise


def _finish(ctx: Context, journal: Journal, elapsed: float) -> SubmitStats:
    if ctx.stop_reason is not None:
        unsent = journal.mark_unsent_as_retry(ctx.run_id, ctx.stop_reason)
        ctx.tally.outcomes[Outcome.RETRY] += unsent
    counts = ctx.tally.outcomes
    return SubmitStats(
        sent=ctx.tally.sent,
        accepted=counts[Outcome.ACCEPTED],
        fix=counts[Outcome.FIX],
        drop=counts[Outcome.DROP],
        retry=counts[Outcome.RETRY],
        unchanged=counts[Outcome.UNCHANGED],
        requests=ctx.tally.requests,
        elapsed=elapsed,
        stopped_by=ctx.stopped_by,
        message=ctx.stop_reason,
        cause=ctx.cause,
    )
