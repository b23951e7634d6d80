"""What reached the simulator and what it answered, in arrival order, for tests to assert on."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from batch.closing import Closing

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ReceivedRequest", "Recorder", "RequestLog"]


@dataclass(frozen=True)
class ReceivedRequest:
    """One POST as received and answered.

    `http_status` is 0 for a dropped connection (no answer at all). `fault_code` is the IPL
    error code of a fault answer (IPL000001 platform error, IPL000002 input error, IPL000003
    security, IPL000004 rate limit), None for a UDB answer. `ok` and `code` are UDB's answer
    when one was sent. `fields`, `cpr`, `institution` and `payload_digest` describe the
    payload whatever was answered (a 503 still shows what arrived); they are empty or None
    when the payload could not be read, and the digest is None unless the payload is valid.
    """

    received_at: datetime
    monotonic: float
    cpr: str | None
    institution: int | None
    fields: dict[str, object]
    http_status: int
    ok: bool | None
    code: int | None
    fault_code: str | None
    payload_digest: str | None


class Recorder:
    """Slots reserved on arrival and filled once answered, so the order is the arrival order.

    `limit` bounds memory on long runs by forgetting the oldest (None: keep all; 0: keep none).
    """

    def __init__(self, limit: int | None) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._slots: list[ReceivedRequest | None] = []
        self._base = 0  # the sequence number of _slots[0]

    def reserve(self) -> int:
        """A sequence number for a request that just arrived; call with the admission lock."""
        with self._lock:
            sequence = self._base + len(self._slots)
            if self._limit != 0:
                self._slots.append(None)
                if self._limit is not None and len(self._slots) > self._limit:
                    excess = len(self._slots) - self._limit
                    del self._slots[:excess]
                    self._base += excess
            return sequence

    def fill(self, sequence: int, request: ReceivedRequest) -> None:
        """Record what the request was and how it was answered (ignored if forgotten)."""
        with self._lock:
            index = sequence - self._base
            if 0 <= index < len(self._slots):
                self._slots[index] = request

    def snapshot(self) -> list[ReceivedRequest]:
        """Every answered request so far, in arrival order."""
        with self._lock:
            return [slot for slot in self._slots if slot is not None]

    def clear(self) -> None:
        """Forget everything so far; requests in flight are forgotten too."""
        with self._lock:
            self._base += len(self._slots)
            self._slots = []


class RequestLog(Closing):
    """`--log-requests FILE`: every request received, as one JSON line, for a rehearsal's check.

    The lines hold CPR numbers (the service's side sees them), so the file is created owner-only
    (0600) and an existing one is made so before it is appended to. Each line is written and
    flushed as its request is answered: a killed simulator leaves every line but the last whole.
    `monotonic` is left out (it means nothing outside the process).
    """

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        self._file = os.fdopen(fd, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, request: ReceivedRequest) -> None:
        """Append one request."""
        record = dataclasses.asdict(request)
        record.pop("monotonic")
        record["received_at"] = request.received_at.isoformat()
        line = json.dumps(record, ensure_ascii=False, default=_plain, sort_keys=True)
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        """Close the file; later requests are not logged."""
        with self._lock:
            self._file.close()


def _plain(value: object) -> str:
    """Times as ISO 8601 with their offset, as they were sent; anything else as its text."""
    return value.isoformat() if isinstance(value, datetime) else str(value)
