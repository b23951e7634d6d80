"""The scheduler's settings and the figures it reports back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch.errors import ConfigError

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
    stopped_by: str | None  # None | "signal" | "breaker" | "setup"
    message: str | None = None  # why it stopped, fit to show the user
    cause: StopCause | None = None  # with "setup": the set-up problem
