"""The journal's writer thread: one connection committing every worker's writes together."""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from batch.errors import StateError
from batch.journal._base import connect

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from pathlib import Path
    from types import TracebackType

    from batch.records import Outcome

__all__ = ["Accepted", "JournalWriter"]


@dataclass(frozen=True, slots=True)
class Accepted:
    """What UDB just accepted, for the history tables."""

    cpr: str
    institution: int
    payload_hash: str
    groups: tuple[tuple[str, str, str], ...]  # (group, registered utc_key, content hash)
    at: str  # ISO UTC


@dataclass(slots=True)
class _Op:
    sql: str
    params: tuple[object, ...]
    done: threading.Event | None = None
    extra: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)


class JournalWriter:
    """One thread with its own connection commits every worker's writes in shared transactions.

    `begin` waits for its commit (the intent must be durable before the request leaves);
    every other write is handed over and committed with the next group, in the order given,
    so a worker's answer is durable no later than its next row's intent.
    """

    _MAX_GROUP = 2000

    def __init__(self, path: Path, run_id: str) -> None:
        self.run_id = run_id
        self._path = path
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="journal-writer", daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def begin(self, row_id: int, groups: Sequence[str]) -> None:
        """Mark a row in flight and wait until that is durable: only then may it be sent."""
        done = threading.Event()
        self._queue.put(
            _Op(
                "UPDATE rows SET status = 'in_flight', sent_groups = ? WHERE id = ?",
                (",".join(groups), row_id),
                done,
            )
        )
        done.wait()
        self._raise_if_failed()

    def attempt(
        self,
        row_id: int,
        n: int,
        *,
        at: datetime,
        code: str | None,
        text: str | None,
        failure_kind: str | None,
        http_status: int | None,
    ) -> None:
        """Record one request and what came back (committed with the next group)."""
        self._raise_if_failed()
        self._queue.put(
            _Op(
                "INSERT OR REPLACE INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    row_id,
                    n,
                    at.isoformat(timespec="microseconds"),
                    code,
                    text,
                    failure_kind,
                    http_status,
                ),
            )
        )

    def finish(
        self,
        row_id: int,
        outcome: Outcome,
        *,
        code: str | None,
        text: str | None,
        attempts: int = 0,
        last_attempt: datetime | None = None,
        accepted: Accepted | None = None,
        wait: bool = False,
    ) -> None:
        """Record a row's final outcome and, when UDB accepted it, the CPR's new history."""
        self._raise_if_failed()
        last = None if last_attempt is None else last_attempt.isoformat(timespec="microseconds")
        op = _Op(
            "UPDATE rows SET status = 'final', outcome = ?, code = ?, text = ?, attempts = ?, "
            "last_attempt = ? WHERE id = ?",
            (outcome.value, code, text, attempts, last, row_id),
            threading.Event() if wait else None,
        )
        if accepted is not None:
            op.extra = _history_writes(accepted, self.run_id)
        self._queue.put(op)
        if op.done is not None:
            op.done.wait()
            self._raise_if_failed()

    def close(self) -> None:
        """Commit everything handed over, stop the thread; raise if any write failed."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise StateError(f"the journal {self._path} cannot be written: {self._error}")

    def _loop(self) -> None:
        # After a failure the loop keeps draining, so that no worker waits forever.
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(self._path)
        except StateError as exc:
            self._error = exc
        stopping = False
        while not stopping:
            group = self._take_group()
            stopping = group[-1] is None
            ops = [op for op in group if op is not None]
            if conn is not None and self._error is None:
                self._commit(conn, ops)
            for op in ops:
                if op.done is not None:
                    op.done.set()
        if conn is not None:
            conn.close()

    def _take_group(self) -> list[_Op | None]:
        group = [self._queue.get()]
        while group[-1] is not None and len(group) < self._MAX_GROUP:
            try:
                group.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return group

    def _commit(self, conn: sqlite3.Connection, ops: list[_Op]) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op in ops:
                conn.execute(op.sql, op.params)
                for sql, params in op.extra:
                    conn.execute(sql, params)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._error = exc
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")


# `latest` only moves forward: an older registration never replaces a newer one.
_UPSERT_LATEST = (
    "INSERT INTO latest VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cpr, grp) DO UPDATE "
    "SET registered = excluded.registered, content_hash = excluded.content_hash, "
    "institution = excluded.institution, accepted_at = excluded.accepted_at, "
    "run_id = excluded.run_id WHERE excluded.registered >= latest.registered"
)


def _history_writes(accepted: Accepted, run_id: str) -> list[tuple[str, tuple[object, ...]]]:
    writes: list[tuple[str, tuple[object, ...]]] = [
        (
            "INSERT OR REPLACE INTO accepted VALUES (?, ?, ?, ?, ?)",
            (accepted.cpr, accepted.payload_hash, accepted.institution, accepted.at, run_id),
        )
    ]
    for group, registered, content_hash in accepted.groups:
        writes.append(
            (
                _UPSERT_LATEST,
                (
                    accepted.cpr,
                    group,
                    registered,
                    content_hash,
                    accepted.institution,
                    accepted.at,
                    run_id,
                ),
            )
        )
    return writes
