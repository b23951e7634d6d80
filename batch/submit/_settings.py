"""The scheduler's settings and the figures it reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from batch.errors import ConfigError
from batch.i18n import _
from batch.submit._select import Rules, Selection, local_midnight, until_deadline

if TYPE_CHECKING:
    from batch.config import Settings

if TYPE_CHECKING:
    from batch.records import StopCause

__all__ = ["SubmitSettings", "SubmitStats"]


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
    retry_after_max: float = 120.0  # a longer Retry-After is a failed attempt, not a wait
    resend_dropped: bool = False
    drop_recheck_days: int = 30  # a rejection older than this is sent again (people move)
    selection: Selection = field(default_factory=Selection)
    max_rows: int | None = None  # rows sent (answered or given up), then stop as on a signal
    deadline: datetime | None = None  # aware; no new row or attempt from this moment on
    progress_interval: float = 60.0  # seconds between "progress" log events

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.max_attempts < 1 or self.burst < 1:
            raise ConfigError(_("concurrency, max attempts and burst must be at least 1"))
        if self.rate is not None and self.rate <= 0:
            raise ConfigError(_("rate must be a positive number of requests per second"))

    @classmethod
    def from_settings(cls, settings: Settings, now: datetime | None = None) -> SubmitSettings:
        """From the run's settings; `--until` becomes a deadline counted from `now`."""
        since, before = settings.registered_since, settings.registered_before
        selection = Selection(
            since=None if since is None else local_midnight(since),
            before=None if before is None else local_midnight(before),
            newest_only=settings.newest_only,
        )
        until = settings.until
        return cls(
            concurrency=settings.concurrency,
            rate=settings.rate,
            max_attempts=settings.max_attempts,
            resend_all=settings.resend_all,
            resend_dropped=settings.resend_dropped,
            drop_recheck_days=settings.drop_recheck_days,
            selection=selection,
            max_rows=settings.max_rows,
            deadline=None if until is None else until_deadline(until, now or datetime.now(UTC)),
            progress_interval=settings.progress_interval,
            retry_after_max=settings.retry_after_max,
        )

    def rules(self) -> Rules:
        """The memory's rules, as of now (the drop recheck counts from this moment)."""
        return Rules(self.resend_all, self.resend_dropped, self.drop_recheck_days)

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
    stopped_by: str | None  # None | "signal" | "breaker" | "setup" | "max_rows" | "until" | "error"
    message: str | None = None  # why it stopped, fit to show the user
    cause: StopCause | None = None  # with "setup": the set-up problem
