"""A token bucket shared by all workers, so the service sees at most `rate` requests per second.

Decisions:
- Tokens are *reserved*: a caller is given its start time at once and sleeps until then. The
  bookkeeping is the generic cell rate algorithm (a token bucket written as one "theoretical
  arrival time"): over any interval of T seconds at most `burst + rate * T` requests start,
  whatever the number of threads, and callers are served in the order they asked.
- The clock is `time.monotonic` (never jumps with the wall clock); the clock is injectable so
  unit tests can check the arithmetic without sleeping.
- `pause_for` (from a 429's Retry-After) holds *every* worker, not only the one that got it:
  the service said it is overloaded, so nobody should send until it says it is ready.
- Waiting is done on a `threading.Event`: a stop (signal, breaker) wakes every sleeper at once.
- `rate=None` means no limit (benchmarks against the simulator); pauses still apply.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """Thread-safe token bucket with reservations and a shared pause."""

    def __init__(
        self,
        rate: float | None,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive, or None for no limit")
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._interval = 0.0 if rate is None else 1.0 / rate
        self._tolerance = (self.burst - 1) * self._interval
        self._tat = clock()  # when the bucket would next be empty at the steady rate
        self._paused_until = float("-inf")

    def reserve(self) -> float:
        """Take one token now; return how many seconds the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until)
            if self.rate is not None:
                start = max(start, self._tat - self._tolerance)
                self._tat = max(self._tat, start) + self._interval
            return start - now

    def acquire(self, cancel: threading.Event) -> bool:
        """Wait for a token; False when `cancel` was set meanwhile (the token is then lost)."""
        wait = self.reserve()
        if wait > 0 and cancel.wait(wait):
            return False
        return not cancel.is_set()

    def pause_for(self, seconds: float) -> None:
        """Hold every caller for `seconds` from now (never shortens a pause already running)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
