"""Which misbehaviour a request meets: decided on arrival, from one seeded generator.

Each request draws exactly one number, whatever happens to it, so the n-th request to arrive
meets the same fault for a given seed however the outage and the rate limit turned out.
"""

from __future__ import annotations

import random
from collections import deque
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from batch.simulator.config import FaultConfig

__all__ = ["Fault", "FaultPlan"]


class Fault(Enum):
    """What the platform does to one request instead of (or besides) answering it."""

    NONE = "none"
    OUTAGE = "outage"  # 503, Receiver IPL000001
    RATE_LIMITED = "rate_limited"  # 429, Retry-After, Receiver IPL000004
    ERROR_503 = "error_503"  # 503, Receiver IPL000001
    ERROR_500 = "error_500"  # 500, Receiver IPL000001
    UDB_101 = "udb_101"  # 200, Ok=false, 101 (only if the request passes the platform)
    DROP = "drop"  # the connection is closed without an answer
    SLOW = "slow"  # answered normally, after slow_seconds


_RANDOM_FAULTS = (
    (Fault.ERROR_503, "error_503_rate"),
    (Fault.ERROR_500, "error_500_rate"),
    (Fault.UDB_101, "udb_101_rate"),
    (Fault.DROP, "drop_rate"),
    (Fault.SLOW, "slow_rate"),
)


class FaultPlan:
    """The seeded generator and the rate limit's sliding one-second window.

    Not locked by itself: the server calls `decide` under the lock that also fixes the
    arrival order. Requests refused with 429 do not count against the limit, so in any
    one-second window at most `rate_limit` requests get past it.
    """

    def __init__(self, config: FaultConfig) -> None:
        self._config = config
        self._random = random.Random(config.seed)  # noqa: S311 - simulated faults, not secrets
        self._admitted: deque[float] = deque()
        cumulative = 0.0
        self._thresholds: list[tuple[float, Fault]] = []
        for fault, name in _RANDOM_FAULTS:
            cumulative += getattr(config, name)
            self._thresholds.append((cumulative, fault))

    def decide(self, monotonic: float) -> Fault:
        """The fault for the request arriving at `monotonic` (seconds)."""
        draw = self._random.random()
        if self._config.outage:
            return Fault.OUTAGE
        if self._over_limit(monotonic):
            return Fault.RATE_LIMITED
        for threshold, fault in self._thresholds:
            if draw < threshold:
                return fault
        return Fault.NONE

    def _over_limit(self, monotonic: float) -> bool:
        limit = self._config.rate_limit
        if limit is None:
            return False
        window = self._admitted
        while window and window[0] <= monotonic - 1.0:
            window.popleft()
        if len(window) + 1 > limit:
            return True
        window.append(monotonic)
        return False
