"""The simulator's settings as frozen values: what it serves, how it fails, what it checks."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path

__all__ = ["FaultConfig", "SimulatorConfig"]

_RATE_FIELDS = ("error_503_rate", "error_500_rate", "udb_101_rate", "drop_rate", "slow_rate")


@dataclass(frozen=True)
class FaultConfig:
    """How the simulated platform misbehaves; every random choice comes from `seed`.

    The five rates are probabilities of one draw per request, so together they must not
    exceed 1. `outage` and `rate_limit` are not random: they apply to every request.
    """

    latency_ms: float = 0.0
    error_503_rate: float = 0.0
    error_500_rate: float = 0.0
    udb_101_rate: float = 0.0
    drop_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 5.0
    rate_limit: float | None = None
    retry_after_seconds: float = 1.0
    outage: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        rates = [getattr(self, name) for name in _RATE_FIELDS]
        for name, rate in zip(_RATE_FIELDS, rates, strict=True):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {rate}")
        if math.fsum(rates) > 1.0 + 1e-9:
            raise ValueError("the fault rates together must not exceed 1")
        for name in ("latency_ms", "slow_seconds", "retry_after_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be positive (or None for no limit)")

    @property
    def any_active(self) -> bool:
        """True when the simulator misbehaves at all (worth saying when it starts)."""
        return any(getattr(self, f.name) != f.default for f in fields(self) if f.name != "seed")


@dataclass(frozen=True)
class SimulatorConfig:
    """Where the simulator listens, whom it knows, and which security it demands.

    `max_received` bounds the memory of `RunningSimulator.received()` for long runs: None keeps
    every request (tests), 0 keeps none (`serve_forever`, the embedded default of `batch run`).
    """

    host: str = "127.0.0.1"
    port: int = 0
    registry: Path | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None
    require_signature: bool = False
    trusted_signers: tuple[Path, ...] = ()
    now: Callable[[], datetime] | None = None
    max_received: int | None = None
    log_requests: Path | None = None  # JSON lines of every request received, owner-only

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if self.client_ca is not None and self.tls_cert is None:
            raise ValueError("client_ca (mutual TLS) needs tls_cert and tls_key")
        if self.max_received is not None and self.max_received < 0:
            raise ValueError("max_received must not be negative")
