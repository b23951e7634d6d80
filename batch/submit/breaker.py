"""A circuit breaker: when the service keeps failing, stop sending and leave the rest for later.

Two triggers, whichever comes first:
- `row_threshold` rows in a row ended without an answer after all their retries (the issue's
  rule; robust, but slow to trip: each such row spends its whole retry budget);
- `request_threshold` requests in a row failed (no answer, UDB's 101, or a 4xx that is our
  configuration's fault). This trips within seconds in an outage, before every worker has spent
  its retry budget on the same dead service. The default scales with the number of workers so
  that one short blip, seen by all workers at once, does not trip it.

An answer of any kind (accepted, rejected with a code, a schema rejection) proves the service
works and resets both counts. A 429 is neutral: the service is alive and asked us to slow down,
which the rate limiter already does. Once open, the breaker stays open for the rest of the run;
the next run (the next night) simply tries again, which is the half-open state of the pattern.
"""

from __future__ import annotations

import threading

__all__ = ["CircuitBreaker"]


class CircuitBreaker:
    """Thread-safe consecutive-failure counters; the call that trips it gets the reason back."""

    def __init__(self, *, row_threshold: int, request_threshold: int) -> None:
        self.row_threshold = max(1, row_threshold)
        self.request_threshold = max(1, request_threshold)
        self._lock = threading.Lock()
        self._failed_rows = 0
        self._failed_requests = 0
        self.reason: str | None = None

    @property
    def is_open(self) -> bool:
        """True once tripped: no new request should start."""
        return self.reason is not None

    def record_request(self, *, healthy: bool | None, what: str = "") -> str | None:
        """Count one request: True an answer, False a service failure, None neutral (429).

        Returns the reason when this very call opened the breaker, else None.
        """
        if healthy is None:
            return None
        with self._lock:
            if healthy:
                self._failed_requests = 0
                self._failed_rows = 0
                return None
            self._failed_requests += 1
            if self._failed_requests < self.request_threshold:
                return None
            return self._open(f"{self.request_threshold} requests in a row failed (last: {what})")

    def record_row(self, *, exhausted: bool, what: str = "") -> str | None:
        """Count one finished row: `exhausted` when it ended without an answer after retries.

        Returns the reason when this very call opened the breaker, else None.
        """
        with self._lock:
            self._failed_rows = self._failed_rows + 1 if exhausted else 0
            if not exhausted or self._failed_rows < self.row_threshold:
                return None
            return self._open(
                f"{self.row_threshold} rows in a row exhausted their retries (last: {what})"
            )

    def _open(self, reason: str) -> str | None:
        if self.reason is not None:
            return None
        self.reason = reason
        return reason
