"""The run's overall deadline (`max_run_minutes`): when it passes, the run stops as on Ctrl-C.

A nightly job must not run into the next night: a service that answers slowly but never fails
would never trip the breaker. The deadline sets the same `stop` event a signal sets, so rows
on the wire finish, rows not sent go to Retry, and the workbook is written; exit 3.
"""

from __future__ import annotations

import threading
from typing import Self

import structlog

from batch.i18n import N_
from batch.records import StopCause

__all__ = ["RunDeadline"]

log = structlog.get_logger("batch.submit")


class RunDeadline:
    """`max_run_minutes`: when it passes, the run stops as on Ctrl-C (the same `stop` event)."""

    WORDS = N_("the run's time limit passed (max_run_minutes = {minutes})")

    def __init__(self, minutes: float | None, stop: threading.Event) -> None:
        self._minutes = minutes
        self._stop = stop
        self.passed = False
        self._timer: threading.Timer | None = None

    def _fire(self) -> None:
        self.passed = True
        log.warning("the run's time limit passed: stopping", max_run_minutes=self._minutes)
        self._stop.set()

    def __enter__(self) -> Self:
        if self._minutes is not None:
            self._timer = threading.Timer(self._minutes * 60, self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()

    @property
    def cause(self) -> StopCause | None:
        """The stop cause once the limit passed."""
        if not self.passed:
            return None
        return StopCause("max_run_minutes", self.WORDS, (("minutes", f"{self._minutes:g}"),))
