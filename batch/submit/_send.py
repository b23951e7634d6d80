"""Sending one CPR's rows: plan, durable intent, attempts with retries, outcome to the journal."""

from __future__ import annotations

import dataclasses
import queue
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
import tenacity

from batch.i18n import N_, _
from batch.journal import AttemptRecord, Rejected, Skip, format_local, record_acceptance
from batch.privacy import mask_cpr
from batch.records import Answer, Failure, FailureKind, Outcome
from batch.submit._decide import describe, final_outcome, is_transient, service_health
from batch.submit._progress import Snapshot
from batch.submit._select import Dropped, decide, payload_digest, select_rows

if TYPE_CHECKING:
    from collections.abc import Callable

    from batch.journal import CprBatch, JournalWriter, PendingRow, Send
    from batch.records import Report, Sender, StopCause
    from batch.submit._settings import SubmitSettings
    from batch.submit.breaker import CircuitBreaker
    from batch.submit.ratelimit import TokenBucket

__all__ = ["Context", "process"]

log = structlog.get_logger("batch.submit")
INTERRUPTED = N_("the run was interrupted")


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
class Tally:
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

    def snapshot(self, total: int, elapsed: float) -> Snapshot:
        """The figures now; `total` is the rows pending when sending started."""
        with self.lock:
            counts = self.outcomes
            return Snapshot(
                sent=self.sent,
                accepted=counts[Outcome.ACCEPTED],
                fix=counts[Outcome.FIX],
                drop=counts[Outcome.DROP],
                retry=counts[Outcome.RETRY],
                unchanged=counts[Outcome.UNCHANGED],
                requests=self.requests,
                to_go=max(total - sum(counts.values()), 0),
                elapsed=elapsed,
            )


@dataclass
class Context:
    """Everything the threads of one `submit_run` share."""

    run_id: str
    sender: Sender
    settings: SubmitSettings
    writer: JournalWriter
    limiter: TokenBucket
    breaker: CircuitBreaker
    interrupt: threading.Event = field(default_factory=threading.Event)  # the caller's `stop`
    halt: threading.Event = field(default_factory=threading.Event)  # no new row, no new attempt
    closing: threading.Event = field(default_factory=threading.Event)  # no new row only
    tasks: queue.Queue[CprBatch | None] = field(default_factory=lambda: queue.Queue(8))
    tally: Tally = field(default_factory=Tally)
    errors: list[BaseException] = field(default_factory=list)
    stop_reason: str | None = None
    stopped_by: str | None = None
    slots_taken: int = 0  # rows begun under `max_rows`
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    cause: StopCause | None = None  # the set-up problem that stopped the run, if one did

    def stop(self, reason: str, by: str, *, soft: bool = False) -> None:
        """Halt (no new row or attempt); `soft`: only no new row, rows begun finish."""
        if self.stop_reason is None:
            self.stop_reason, self.stopped_by = reason, by
        (self.closing if soft else self.halt).set()

    def taking_rows(self) -> bool:
        """False once the run stops taking rows, softly or not."""
        return not (self.halted() or self.closing.is_set())

    def halted(self) -> bool:
        """Checked before every row and attempt, so a stop needs no supervisor round trip."""
        if self.interrupt.is_set() and not self.halt.is_set():
            log.warning("stopping: requests on the wire finish, no new rows are sent")
            self.stop(_(INTERRUPTED), "signal")
        deadline = self.settings.deadline
        if deadline is not None and not self.halt.is_set() and self.now() >= deadline:
            log.info("stopping: the --until time has come", until=deadline.isoformat())
            self.stop(
                _("the --until time {time} had come").format(time=format_local(deadline)), "until"
            )
        return self.halt.is_set()

    def take_slot(self) -> bool:
        """A row may be sent under `--max-rows`; the first row over the limit stops the run."""
        limit = self.settings.max_rows
        if limit is None:
            return True
        with self.tally.lock:
            if self.slots_taken < limit:
                self.slots_taken += 1
                return True
        log.info("stopping: --max-rows reached", max_rows=limit)
        # Soft: the rows holding a slot are sent to the end, so exactly `limit` rows are sent.
        self.stop(_("--max-rows {n} rows were sent").format(n=limit), "max_rows", soft=True)
        return False

    def fail(self, error: BaseException) -> None:
        self.errors.append(error)
        self.stop(_("the run stopped on an error"), "error")


def _call(sender: Sender, report: Report) -> Answer | Failure:
    """The client must not raise; if it does anyway, the row is kept for the next run."""
    try:
        return sender.send(report)
    except Exception as exc:  # noqa: BLE001 - a client bug must not lose the row or the run
        message = mask_cpr(f"{type(exc).__name__}: {exc}")
        # Not log.exception: the traceback's frames may hold the unmasked CPR number.
        log.error("the client raised instead of answering", error=message)  # noqa: TRY400
        return Failure(FailureKind.CLIENT_ERROR, message, retryable=False)


def _attempt(ctx: Context, row: PendingRow, report: Report, sent: _Sent) -> Answer | Failure | None:
    if ctx.halted() or not ctx.limiter.acquire(ctx.halt):
        sent.halted = True
        return None
    at = datetime.now(UTC)
    result, healthy = _capped(ctx, _call(ctx.sender, report))
    sent.attempts += 1
    sent.last, sent.last_at = result, at
    sent.record = _record(sent.attempts, at, result)
    ctx.tally.request()
    if isinstance(result, Failure) and result.setup is not None:
        _stop_for_setup(ctx, result.setup, result.message)
    tripped = ctx.breaker.record_request(healthy=healthy, what=describe(result))
    if tripped:
        _open_breaker(ctx, tripped, result)
    if is_transient(result) and sent.attempts < ctx.settings.max_attempts:
        # Another attempt may follow: record this one now; the last goes with `finish`.
        ctx.writer.attempt(row.row_id, sent.record)
        sent.record = None
        log.info(
            "retrying",
            file=row.source_file,
            row=row.source_row,
            attempt=sent.attempts,
            **_cause(ctx.sender, result),
        )
    return result


def _cause(sender: Sender, result: Answer | Failure | None) -> dict[str, object]:
    """Where and why, for the log: endpoint, failure kind, HTTP status, the error's own text.

    The text carries the errno (`[Errno 111] Connection refused`) or the TLS library's reason
    (`CERTIFICATE_VERIFY_FAILED`) as the transport reported it; CPR numbers masked.
    """
    found: dict[str, object] = {"endpoint": getattr(sender, "endpoint", None)}
    if isinstance(result, Failure):
        found.update(kind=result.kind.value, http_status=result.http_status)
        found["cause"] = mask_cpr(result.message)
    elif result is not None:
        found["cause"] = describe(result)
    return found


def _capped(ctx: Context, result: Answer | Failure) -> tuple[Answer | Failure, bool | None]:
    """Honour a Retry-After up to `retry_after_max`; a longer ask is a failed attempt.

    A faulty gateway answering `Retry-After: 86400` would otherwise hold the nightly run (and
    its lock) for a day. Beyond the cap the ask is dropped: the attempt counts as a failure
    for the breaker, and the row backs off as for any other failure.
    """
    if not isinstance(result, Failure) or not result.retry_after:
        return result, service_health(result)
    if result.retry_after <= ctx.settings.retry_after_max:
        ctx.limiter.pause_for(result.retry_after)
        return result, service_health(result)
    log.warning(
        "the service asked to wait longer than retry_after_max: counted as a failed attempt",
        retry_after=result.retry_after,
        retry_after_max=ctx.settings.retry_after_max,
    )
    return dataclasses.replace(result, retry_after=None), False


def _stop_for_setup(ctx: Context, cause: StopCause, detail: str) -> None:
    """A set-up problem: no other row can succeed until a person fixes it; stop at once."""
    with ctx.tally.lock:
        first = ctx.cause is None
        if first:
            ctx.cause = cause
    if first:
        log.error("set-up problem: sending stops", cause=cause.slug, detail=detail)
        ctx.stop(f"set-up problem: {cause.text()}", "setup")


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


def _sleep(halt: threading.Event, seconds: float) -> None:
    """Back off, but wake at once when the run halts."""
    halt.wait(seconds)


def _send_with_retry(ctx: Context, row: PendingRow, report: Report) -> _Sent:
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


def _send_row(ctx: Context, row: PendingRow, plan: Send, batch: CprBatch) -> None:
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
    rejected = _rejection(ctx, (row, plan, batch), sent) if outcome is Outcome.DROP else None
    ctx.writer.finish(
        row.row_id, outcome, code=code, text=text, attempts=sent.attempts,
        last_attempt=sent.last_at, accepted=accepted, final_attempt=sent.record,
        rejected=rejected,
    )  # fmt: skip
    ctx.tally.row(outcome, sent=sent.attempts > 0)
    if sent.last is not None:
        exhausted = outcome is Outcome.RETRY and not sent.halted
        tripped = ctx.breaker.record_row(exhausted=exhausted, what=describe(sent.last))
        if tripped:
            _open_breaker(ctx, tripped, sent.last)


def _rejection(
    ctx: Context, what: tuple[PendingRow, Send, CprBatch], sent: _Sent
) -> Rejected | None:
    """UDB's own hard answer (14, 15, 86) to this payload, remembered so it is not sent again."""
    row, plan, batch = what
    answer = sent.last
    if not isinstance(answer, Answer) or answer.code is None or sent.last_at is None:
        return None
    digest = (
        row.payload_hash
        if plan.report is row.report
        else payload_digest(batch.history, plan.report)
    )
    at = sent.last_at.isoformat(timespec="microseconds")
    batch.history.rejected[digest] = (at, ctx.run_id, str(answer.code))  # later rows, this run
    return Rejected(batch.person, plan.report.institution, digest, str(answer.code), at)


def process(ctx: Context, batch: CprBatch) -> None:
    """Send one CPR's rows in order; the rest stay pending if the run halts meanwhile."""
    selection, rules = ctx.settings.selection, ctx.settings.rules()
    chosen = select_rows(batch.rows, selection) if selection.active else {}
    for row in batch.rows:
        if not ctx.taking_rows():
            return
        plan = decide(row, batch.history, chosen.get(row.row_id), rules)
        if isinstance(plan, Skip):
            ctx.writer.finish(row.row_id, Outcome.UNCHANGED, code=None, text=plan.text)
            ctx.tally.row(Outcome.UNCHANGED, sent=False)
            continue
        if isinstance(plan, Dropped):
            ctx.writer.finish(row.row_id, Outcome.DROP, code=plan.code, text=plan.text)
            ctx.tally.row(Outcome.DROP, sent=False)
            continue
        if not ctx.take_slot():
            return
        _send_row(ctx, row, plan, batch)


def _open_breaker(ctx: Context, reason: str, last: Answer | Failure | None) -> None:
    log.warning(
        "the service keeps failing: sending stops", reason=reason, **_cause(ctx.sender, last)
    )
    ctx.stop(
        _("sending stopped because the service kept failing: {reason}").format(reason=reason),
        "breaker",
    )
