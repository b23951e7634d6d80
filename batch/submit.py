"""The scheduler: send pending rows with bounded rate and concurrency, in per-CPR order, retrying.

Shape: one dispatcher thread streams the pending rows from the journal grouped by CPR (each
group sorted by its rows' latest registration time, file order breaking ties) into a small
bounded queue; `concurrency` worker threads each take a whole CPR group and send its rows one at
a time, so rows of one CPR reach UDB in time order while other CPRs proceed in parallel. The
calling thread supervises: it turns `stop` into a halt, reports progress and waits.

Per row, the worker (1) asks the journal's history whether anything is left to send
(`batch.journal.plan_row`: changed-only and never-older-over-newer, evaluated now, in CPR
order), (2) makes the row's intent durable (`JournalWriter.begin` waits for its group commit),
(3) sends with retries, each attempt taking a token from the shared `TokenBucket`, and
(4) hands the outcome to the writer; that commit lands no later than the worker's next intent.
"In flight" thus means: intent committed, answer not yet committed. Each worker holds at most one
such row, so a kill leaves at most `concurrency` rows that UDB may have seen and that the next
run sends again.

Retries (tenacity): exponential backoff with jitter (`backoff_initial * 2**n` plus up to
`backoff_initial` of jitter, capped at `backoff_max`), or the server's `Retry-After` when that is
longer; a Retry-After also pauses every worker through the rate limiter. Retried: failures the
client marks retryable (timeouts, connection errors, 429, 500/502/503/504, Receiver faults, bad
responses) and UDB's answer 101. Final at once: UDB's other answers (14, 15, 86, 280, ...) and
schema rejections (Sender faults). Sleeps wake up at once on a stop.

Stopping: when `stop` is set (the pipeline's signal handler) or the breaker opens, workers take
no new row and no new attempt; requests on the wire finish (bounded by the client's timeout)
and are recorded; rows not sent are closed as `retry` with the reason. A second signal is the
pipeline's business (it may exit at once): every journal write is a transaction, so the journal
stays consistent and the next run resends what was in flight.

Defaults (`SubmitSettings`) are for STIL's real platform, which documents no limit: 5 requests
per second with a burst of 5 and 4 workers. Four workers cover a round trip of up to ~0.8 s
(mutual TLS and signing over the internet) at that rate; the rate is what protects the service.
That is 18,000 rows an hour; a migration may raise it after agreeing a figure with STIL.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
import tenacity

from batch.breaker import CircuitBreaker
from batch.errors import ConfigError
from batch.journal import AttemptRecord, Send, Skip, plan_row, record_acceptance
from batch.outcomes import UDB_CODES, outcome_of_answer, result_text
from batch.privacy import mask_cpr
from batch.ratelimit import TokenBucket
from batch.records import Answer, Failure, FailureKind, Outcome

if TYPE_CHECKING:
    from collections.abc import Callable

    from batch.journal import CprBatch, Journal, JournalWriter, PendingRow
    from batch.records import Report, Sender

__all__ = [
    "SubmitSettings",
    "SubmitStats",
    "final_outcome",
    "is_transient",
    "service_health",
    "submit_run",
]

log = structlog.get_logger(__name__)

_TICK = 0.1  # seconds between the supervisor's looks at `stop` and progress


@dataclass(frozen=True)
class SubmitSettings:
    """How hard and how long to try; the defaults are safe for the real platform (see module).

    `rate=None` removes the rate limit (benchmarks against the simulator only).
    `breaker_failed_requests=None` means `max(10, 3 * concurrency)`.
    """

    concurrency: int = 4
    rate: float | None = 5.0
    burst: int = 5
    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 60.0
    breaker_consecutive_failures: int = 10
    breaker_failed_requests: int | None = None
    resend_all: bool = False

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.max_attempts < 1 or self.burst < 1:
            raise ConfigError("concurrency, max attempts and burst must be at least 1")
        if self.rate is not None and self.rate <= 0:
            raise ConfigError("rate must be a positive number of requests per second")

    @property
    def request_threshold(self) -> int:
        """Consecutive failed requests that open the breaker."""
        return self.breaker_failed_requests or max(10, 3 * self.concurrency)


@dataclass(frozen=True)
class SubmitStats:
    """What one `submit_run` did. Row counts cover the rows it closed, unsent ones included."""

    sent: int
    accepted: int
    fix: int
    drop: int
    retry: int
    unchanged: int
    requests: int
    elapsed: float
    stopped_by: str | None  # None | "signal" | "breaker"
    message: str | None = None  # why it stopped, fit to show the user


# -- pure decisions ----------------------------------------------------------------------------


def is_transient(result: Answer | Failure | None) -> bool:
    """Worth another attempt: a retryable failure, or UDB's internal error (101)."""
    if isinstance(result, Failure):
        return result.retryable
    if isinstance(result, Answer) and not result.ok and result.code is not None:
        known = UDB_CODES.get(result.code)
        return known is not None and known.retry
    return False


def service_health(result: Answer | Failure) -> bool | None:
    """For the breaker: True the service answered, False it failed, None neutral (429)."""
    if isinstance(result, Answer):
        return not is_transient(result)
    if result.kind is FailureKind.RATE_LIMITED:
        return None
    return result.kind is FailureKind.SENDER_FAULT


_KIND_TEXT = {
    FailureKind.TIMEOUT: "No answer within the time limit",
    FailureKind.CONNECTION: "The service could not be reached",
    FailureKind.RATE_LIMITED: "The service asked us to slow down (HTTP 429)",
    FailureKind.SERVER_ERROR: "The service had an error",
    FailureKind.RECEIVER_FAULT: "The platform had an internal error",
    FailureKind.SENDER_FAULT: "Rejected by the platform's schema check",
    FailureKind.BAD_RESPONSE: "The service's answer could not be read",
    FailureKind.CLIENT_ERROR: "The service refused the request (check the configuration)",
}


def final_outcome(
    result: Answer | Failure | None, attempts: int, *, stopped: str | None = None
) -> tuple[Outcome, str | None, str]:
    """A row's outcome, code and text from its last result (None: never sent)."""
    if result is None:
        return Outcome.RETRY, None, f"Not sent: {stopped or 'the run stopped'}; sent next run."
    if isinstance(result, Answer):
        return _answer_outcome(result, attempts)
    code = result.fault_code or (f"HTTP {result.http_status}" if result.http_status else None)
    message = mask_cpr(result.message).rstrip(".")
    if result.kind is FailureKind.SENDER_FAULT:
        advice = "Correct the field it names and send the row again."
        return (
            Outcome.FIX,
            code or result.kind.value,
            f"{_KIND_TEXT[result.kind]}: {message}. {advice}",
        )
    why = f"{_KIND_TEXT[result.kind]} ({message}); {_tries(attempts)}"
    if stopped:
        why += f", then {stopped}"
    return Outcome.RETRY, code or result.kind.value, f"{why}. The next run sends the row again."


def _answer_outcome(answer: Answer, attempts: int) -> tuple[Outcome, str | None, str]:
    if answer.ok:
        return Outcome.ACCEPTED, None, "Accepted by UDB."
    outcome = outcome_of_answer(answer)
    if answer.code is None:
        return outcome, None, f"UDB rejected the row without an error code: {answer.text or ''}"
    text = result_text(answer.code, answer.text)
    if outcome is Outcome.RETRY:
        text = f"{text} ({_tries(attempts)})"
    return outcome, str(answer.code), text


def _tries(attempts: int) -> str:
    return "1 attempt" if attempts == 1 else f"{attempts} attempts"


# -- sending one row ---------------------------------------------------------------------------


@dataclass
class _Sent:
    """What the attempts of one row produced."""

    attempts: int = 0
    last: Answer | Failure | None = None
    last_at: datetime | None = None
    record: AttemptRecord | None = None  # the last attempt, not yet handed to the journal
    halted: bool = False


class _WaitRetryAfter(tenacity.wait.wait_base):
    """Exponential backoff with jitter, or the server's Retry-After when that is longer."""

    def __init__(self, settings: SubmitSettings) -> None:
        self._backoff = tenacity.wait_exponential_jitter(
            multiplier=settings.backoff_initial,
            max=settings.backoff_max,
            jitter=settings.backoff_initial,
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        backoff = self._backoff(retry_state)
        outcome = retry_state.outcome
        result = None if outcome is None or outcome.failed else outcome.result()
        if isinstance(result, Failure) and result.retry_after is not None:
            return max(backoff, result.retry_after)
        return backoff


@dataclass
class _Tally:
    """Thread-safe counters for the stats and the progress callback."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    sent: int = 0
    requests: int = 0
    unreported: int = 0

    def row(self, outcome: Outcome, *, sent: bool) -> None:
        with self.lock:
            self.outcomes[outcome] += 1
            self.sent += int(sent)
            self.unreported += 1

    def request(self) -> None:
        with self.lock:
            self.requests += 1

    def take_unreported(self) -> int:
        with self.lock:
            count, self.unreported = self.unreported, 0
            return count


@dataclass
class _Context:
    """Everything the threads of one `submit_run` share."""

    run_id: str
    sender: Sender
    settings: SubmitSettings
    writer: JournalWriter
    limiter: TokenBucket
    breaker: CircuitBreaker
    interrupt: threading.Event = field(default_factory=threading.Event)  # the caller's `stop`
    halt: threading.Event = field(default_factory=threading.Event)
    tasks: queue.Queue[CprBatch | None] = field(default_factory=lambda: queue.Queue(8))
    tally: _Tally = field(default_factory=_Tally)
    errors: list[BaseException] = field(default_factory=list)
    stop_reason: str | None = None
    stopped_by: str | None = None

    def stop(self, reason: str, by: str) -> None:
        if self.stop_reason is None:
            self.stop_reason, self.stopped_by = reason, by
        self.halt.set()

    def halted(self) -> bool:
        """Checked before every row and attempt, so a stop needs no supervisor round trip."""
        if self.interrupt.is_set() and not self.halt.is_set():
            log.warning("stopping: requests on the wire finish, no new rows are sent")
            self.stop("the run was interrupted", "signal")
        return self.halt.is_set()

    def fail(self, error: BaseException) -> None:
        self.errors.append(error)
        self.stop("the run stopped on an error", "error")


def _call(sender: Sender, report: Report) -> Answer | Failure:
    """The client must not raise; if it does anyway, the row is kept for the next run."""
    try:
        return sender.send(report)
    except Exception as exc:  # noqa: BLE001 - a client bug must not lose the row or the run
        message = mask_cpr(f"{type(exc).__name__}: {exc}")
        # Not log.exception: the traceback's frames may hold the unmasked CPR number.
        log.error("the client raised instead of answering", error=message)  # noqa: TRY400
        return Failure(FailureKind.CLIENT_ERROR, message, retryable=False)


def _attempt(
    ctx: _Context, row: PendingRow, report: Report, sent: _Sent
) -> Answer | Failure | None:
    if ctx.halted() or not ctx.limiter.acquire(ctx.halt):
        sent.halted = True
        return None
    at = datetime.now(UTC)
    result = _call(ctx.sender, report)
    sent.attempts += 1
    sent.last, sent.last_at = result, at
    sent.record = _record(sent.attempts, at, result)
    ctx.tally.request()
    if isinstance(result, Failure) and result.retry_after:
        ctx.limiter.pause_for(result.retry_after)
    tripped = ctx.breaker.record_request(healthy=service_health(result), what=_describe(result))
    if tripped:
        _open_breaker(ctx, tripped)
    if is_transient(result) and sent.attempts < ctx.settings.max_attempts:
        # Another attempt may follow: record this one now; the last goes with `finish`.
        ctx.writer.attempt(row.row_id, sent.record)
        sent.record = None
        log.debug("retrying", file=row.source_file, row=row.source_row, after=_describe(result))
    return result


def _record(n: int, at: datetime, result: Answer | Failure) -> AttemptRecord:
    if isinstance(result, Failure):
        return AttemptRecord(
            n,
            at,
            result.fault_code,
            mask_cpr(result.message),
            result.kind.value,
            result.http_status,
        )
    return AttemptRecord(n, at, None if result.code is None else str(result.code), result.text)


def _describe(result: Answer | Failure) -> str:
    if isinstance(result, Answer):
        return "accepted" if result.ok else f"UDB code {result.code}"
    status = f" HTTP {result.http_status}" if result.http_status else ""
    return f"{result.kind.value}{status}"


def _sleep(halt: threading.Event, seconds: float) -> None:
    """Back off, but wake at once when the run halts."""
    halt.wait(seconds)


def _send_with_retry(ctx: _Context, row: PendingRow, report: Report) -> _Sent:
    """The first attempt directly (most rows need no other); tenacity takes over to retry."""
    sent = _Sent()
    first = _attempt(ctx, row, report, sent)
    if not is_transient(first) or ctx.settings.max_attempts == 1:
        return sent
    replay = [first]  # tenacity's first "attempt" replays it, so its backoff counts from it

    def attempt() -> Answer | Failure | None:
        return replay.pop() if replay else _attempt(ctx, row, report, sent)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(ctx.settings.max_attempts),
        wait=_WaitRetryAfter(ctx.settings),
        retry=tenacity.retry_if_result(is_transient),
        sleep=lambda seconds: _sleep(ctx.halt, seconds),
        retry_error_callback=lambda _state: None,
    )
    retrying(attempt)
    return sent


def _send_row(ctx: _Context, row: PendingRow, plan: Send, batch: CprBatch) -> None:
    ctx.writer.begin(row.row_id, plan.groups)
    sent = _send_with_retry(ctx, row, plan.report)
    stopped = ctx.stop_reason if sent.halted else None
    outcome, code, text = final_outcome(sent.last, sent.attempts, stopped=stopped)
    accepted = None
    if outcome is Outcome.ACCEPTED:
        assert sent.last_at is not None
        accepted = record_acceptance(
            batch.history,
            plan.report,
            at=sent.last_at,
            run_id=ctx.run_id,
            payload_hash=row.payload_hash if plan.report is row.report else None,
        )
        text = f"{text} {plan.note}" if plan.note else text
    ctx.writer.finish(
        row.row_id, outcome, code=code, text=text, attempts=sent.attempts,
        last_attempt=sent.last_at, accepted=accepted, final_attempt=sent.record,
    )  # fmt: skip
    ctx.tally.row(outcome, sent=sent.attempts > 0)
    if sent.last is not None:
        exhausted = outcome is Outcome.RETRY and not sent.halted
        tripped = ctx.breaker.record_row(exhausted=exhausted, what=_describe(sent.last))
        if tripped:
            _open_breaker(ctx, tripped)


def _process(ctx: _Context, batch: CprBatch) -> None:
    """Send one CPR's rows in order; the rest stay pending if the run halts meanwhile."""
    for row in batch.rows:
        if ctx.halted():
            return
        plan = plan_row(
            row.report, row.payload_hash, batch.history, resend_all=ctx.settings.resend_all
        )
        if isinstance(plan, Skip):
            ctx.writer.finish(row.row_id, Outcome.UNCHANGED, code=None, text=plan.text)
            ctx.tally.row(Outcome.UNCHANGED, sent=False)
            continue
        _send_row(ctx, row, plan, batch)


# -- threads -----------------------------------------------------------------------------------


def _work(ctx: _Context) -> None:
    while (batch := ctx.tasks.get()) is not None:
        if ctx.halt.is_set():
            continue  # drain the queue so the dispatcher can hand out the end markers
        try:
            _process(ctx, batch)
        except BaseException as exc:  # noqa: BLE001 - re-raised by submit_run
            ctx.fail(exc)


def _dispatch(ctx: _Context, journal: Journal) -> None:
    try:
        for batch in journal.pending(ctx.run_id):
            while not ctx.halt.is_set():
                try:
                    ctx.tasks.put(batch, timeout=_TICK)
                    break
                except queue.Full:
                    continue
            if ctx.halt.is_set():
                break
    except BaseException as exc:  # noqa: BLE001 - re-raised by submit_run
        ctx.fail(exc)
    finally:
        for _ in range(ctx.settings.concurrency):
            ctx.tasks.put(None)


def _supervise(
    ctx: _Context,
    threads: list[threading.Thread],
    on_progress: Callable[[int], None] | None,
) -> None:
    for thread in threads:
        while thread.is_alive():
            thread.join(_TICK)
            ctx.halted()  # wakes sleepers (backoff, rate limit) on a stop
            _progress(ctx, on_progress)
    _progress(ctx, on_progress)


def _progress(ctx: _Context, on_progress: Callable[[int], None] | None) -> None:
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
) -> SubmitStats:
    """Send every pending row of `run_id`; return when all are final or the run had to stop.

    `on_progress(n)` is called from the calling thread with the number of rows just closed.
    Rows left unsent by a stop are closed as `retry` here (with the reason) before returning.
    """
    started = time.monotonic()
    with journal.writer(run_id) as writer:
        ctx = _Context(
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
        _run_threads(ctx, journal, on_progress)
    if ctx.errors:
        raise ctx.errors[0]
    return _finish(ctx, journal, time.monotonic() - started)


def _open_breaker(ctx: _Context, reason: str) -> None:
    log.warning("the service keeps failing: sending stops", reason=reason)
    ctx.stop(f"sending stopped because the service kept failing: {reason}", "breaker")


def _run_threads(
    ctx: _Context, journal: Journal, on_progress: Callable[[int], None] | None
) -> None:
    workers = [
        threading.Thread(target=_work, args=(ctx,), name=f"submit-{n}", daemon=True)
        for n in range(ctx.settings.concurrency)
    ]
    dispatcher = threading.Thread(
        target=_dispatch, args=(ctx, journal), name="dispatch", daemon=True
    )
    threads = [dispatcher, *workers]
    for thread in threads:
        thread.start()
    try:
        _supervise(ctx, threads, on_progress)
    except BaseException:
        ctx.stop("the run was interrupted", "signal")
        for thread in threads:
            thread.join()
        raise


def _finish(ctx: _Context, journal: Journal, elapsed: float) -> SubmitStats:
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
    )
