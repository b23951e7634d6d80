"""The journal's writer thread: one connection committing every worker's writes together."""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batch.closing import Closing
from batch.errors import StateError
from batch.i18n import _
from batch.journal._base import GROUPS, connect, iso_micros

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from pathlib import Path

    from batch.records import Outcome

__all__ = ["Accepted", "AttemptRecord", "JournalWriter"]


@dataclass(frozen=True, slots=True)
class Accepted:
    """What UDB just accepted, for the memory's tables (pseudonyms and keyed digests only)."""

    person: bytes
    institution: int
    payload_hash: bytes
    groups: tuple[tuple[str, str, bytes], ...]  # (group, registered utc_key, content digest)
    at: str  # ISO UTC


@dataclass(frozen=True, slots=True)
class Rejected:
    """What UDB just rejected for good (14, 15, 86), so the same payload is not sent again."""

    person: bytes
    institution: int
    payload_hash: bytes
    code: str
    at: str  # ISO UTC


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One request of a row and what came back (an answer code/text or a failure kind)."""

    n: int
    at: datetime
    code: str | None = None
    text: str | None = None
    failure_kind: str | None = None
    http_status: int | None = None

    def values(self, row_id: int) -> tuple[object, ...]:
        """The attempts table's columns."""
        at = self.at.isoformat(timespec="microseconds")
        return (row_id, self.n, at, self.code, self.text, self.failure_kind, self.http_status)


_INSERT_ATTEMPT = "INSERT OR REPLACE INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?)"


@dataclass(slots=True)
class _Op:
    sql: str
    params: tuple[object, ...]
    done: threading.Lock | None = None  # held until committed; see `_held`
    extra: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)


def _held() -> threading.Lock:
    """A lock taken now and released by the writer thread once the operation is committed.

    A worker then blocks on `acquire` until that happens. Lighter than an `Event`, whose
    `set` and `wait` run a `Condition` in Python: with one wait per row, a million-row run's
    profile had Condition.notify/wait as its largest item (10 % of the GIL's time).
    """
    lock = threading.Lock()
    lock.acquire()
    return lock


class JournalWriter(Closing):
    """One thread with its own connection commits every worker's writes in shared transactions.

    `begin` waits for its commit (the intent must be durable before the request leaves);
    every other write is handed over and committed with the next group, in the order given,
    so a worker's answer is durable no later than its next row's intent.
    """

    _MAX_GROUP = 2000
    _LINGER = 0.005  # seconds a group that nobody waits for may wait for more

    def __init__(self, path: Path, run_id: str, service: int, run: int) -> None:
        self.run_id = run_id
        self.run = run  # the run's number, as the memory's entries name it
        self.service = service  # the memory is written for the run's service
        self._path = path
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="journal-writer", daemon=True)
        self._thread.start()

    def begin(self, row_id: int, groups: Sequence[str]) -> None:
        """Mark a row in flight and wait until that is durable: only then may it be sent."""
        done = _held()
        self._queue.put(
            _Op(
                "UPDATE slim_rows SET status = 'i', sent_groups = ? WHERE id = ?",
                (",".join(groups), row_id),
                done,
            )
        )
        done.acquire()  # released by the writer thread once committed
        self._raise_if_failed()

    def attempt(self, row_id: int, record: AttemptRecord) -> None:
        """Record one request now (committed with the next group): for attempts to be retried.

        A row's last attempt goes with `finish` instead, saving a statement on most rows.
        """
        self._raise_if_failed()
        self._queue.put(_Op(_INSERT_ATTEMPT, record.values(row_id)))

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
        final_attempt: AttemptRecord | None = None,
        wait: bool = False,
        rejected: Rejected | None = None,
    ) -> None:
        """Record a row's final outcome (and last attempt); if UDB accepted it, the history."""
        self._raise_if_failed()
        last = None if last_attempt is None else last_attempt.isoformat(timespec="microseconds")
        op = _Op(
            "UPDATE slim_rows SET status = '', outcome = ?, code = ?, attempts = ?, "
            "last_attempt = ?, sort_key = NULL WHERE id = ?",
            (outcome.value, code, attempts, last, row_id),
            _held() if wait else None,
        )
        if text is not None:
            op.extra.append(("UPDATE row_data SET text = ? WHERE row_id = ?", (text, row_id)))
        if final_attempt is not None:
            op.extra.append((_INSERT_ATTEMPT, final_attempt.values(row_id)))
        if accepted is not None:
            op.extra += _history_writes(accepted, self.run, self.service)
        if rejected is not None:
            op.extra.append(_rejection_write(rejected, self.run, self.service))
        self._queue.put(op)
        if op.done is not None:
            op.done.acquire()  # released by the writer thread once committed
            self._raise_if_failed()

    def close(self) -> None:
        """Commit everything handed over, stop the thread; raise if any write failed."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            message = _("the journal {path} cannot be written: {error}")
            raise StateError(message.format(path=self._path, error=self._error))

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
                    op.done.release()
        if conn is not None:
            conn.close()

    def _take_group(self) -> list[_Op | None]:
        """Everything queued; when nobody waits for it yet, linger briefly for company.

        Only an intent (`begin`) is waited for. The answer a worker hands over just before
        its next intent is thus committed with that intent, one commit per row instead of two,
        and a stream of unchanged rows is committed in large groups.
        """
        group = [self._queue.get()]
        waited = group[0] is not None and group[0].done is not None
        deadline = time.monotonic() + self._LINGER
        while group[-1] is not None and len(group) < self._MAX_GROUP:
            try:
                op = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if waited or remaining <= 0:
                    break
                try:
                    op = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            group.append(op)
            waited = waited or (op is not None and op.done is not None)
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
    "INSERT INTO latest VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (service, person, grp) "
    "DO UPDATE SET registered = excluded.registered, content_hash = excluded.content_hash, "
    "institution = excluded.institution, accepted_at = excluded.accepted_at, "
    "run = excluded.run WHERE excluded.registered >= latest.registered"
)
_INSERT_ACCEPTED = "INSERT OR REPLACE INTO payloads VALUES (?, ?, ?, 'accepted', ?, ?, ?)"


def _history_writes(
    accepted: Accepted, run: int, service: int
) -> list[tuple[str, tuple[object, ...]]]:
    person, institution, at = accepted.person, accepted.institution, iso_micros(accepted.at)
    writes: list[tuple[str, tuple[object, ...]]] = [
        (_INSERT_ACCEPTED, (service, person, accepted.payload_hash, institution, at, run))
    ]
    for group, registered, content in accepted.groups:
        place = GROUPS.index(group)  # the group by its place in GROUPS: no text per entry
        values = (service, person, place, iso_micros(registered), content, institution, at, run)
        writes.append((_UPSERT_LATEST, values))
    return writes


# A rejection is a payload of kind `rejected:<code>` (the schema's `kind` is open for it).
_INSERT_REJECTED = "INSERT OR REPLACE INTO payloads VALUES (?, ?, ?, ?, ?, ?, ?)"


def _rejection_write(rejected: Rejected, run: int, service: int) -> tuple[str, tuple[object, ...]]:
    kind, at = f"rejected:{rejected.code}", iso_micros(rejected.at)
    person, digest = rejected.person, rejected.payload_hash
    return _INSERT_REJECTED, (service, person, digest, kind, rejected.institution, at, run)
