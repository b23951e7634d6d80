"""Progress of one run in requests, not rows: what was sent, what is left, how fast, how long.

A resumed migration skips most rows as unchanged in a blink; counting those as progress showed
hundreds of rows/s while the service saw a fraction of that, and an ETA that meant nothing.
Here the speed is requests per second and the ETA is the rows still to send divided by the
rate at which rows were really sent. The snapshot goes to the console's bar on every tick, and
to the log as a `progress` event at the start, every `progress_interval` seconds and at the end,
so a migration watched through a JSON log can be followed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ProgressTicker", "Snapshot"]

log = structlog.get_logger("batch.submit")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The run's figures at one instant; `to_go` counts rows not yet final."""

    sent: int
    accepted: int
    fix: int
    drop: int
    retry: int
    unchanged: int
    requests: int
    to_go: int
    elapsed: float

    @property
    def requests_per_second(self) -> float:
        """Requests the service received per second since sending started."""
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds until the rows still to send are sent, at the rate rows were sent so far."""
        if self.to_go == 0:
            return 0.0
        if self.sent == 0 or self.elapsed <= 0:
            return None
        return self.to_go / (self.sent / self.elapsed)

    def fields(self) -> dict[str, object]:
        """The log event's keys (English, stable: log readers filter on them)."""
        eta = self.eta_seconds
        return {
            "sent": self.sent,
            "accepted": self.accepted,
            "fix": self.fix,
            "drop": self.drop,
            "retry": self.retry,
            "unchanged": self.unchanged,
            "requests": self.requests,
            "to_go": self.to_go,
            "requests_per_second": round(self.requests_per_second, 2),
            "eta_seconds": None if eta is None else round(eta),
        }


class ProgressTicker:
    """Called by the supervising thread on each tick; logs at the interval, feeds the bar."""

    def __init__(
        self,
        interval: float,
        on_status: Callable[[Snapshot], None] | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval
        self._on_status = on_status
        self._clock = clock
        self._next_log: float | None = None

    def tick(self, snapshot: Snapshot, *, final: bool = False) -> None:
        """Show `snapshot`; log it when the interval has passed, first or final."""
        if self._on_status is not None:
            self._on_status(snapshot)
        now = self._clock()
        if final or self._next_log is None or now >= self._next_log:
            log.info("progress", final=final, **snapshot.fields())
            self._next_log = now + self._interval
