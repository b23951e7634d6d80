"""The `Journal`: runs, rows and attempts of one state directory, opened under its lock."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import string
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batch import __version__
from batch.closing import Closing
from batch.errors import StateError
from batch.i18n import _
from batch.journal import _memory, _purge
from batch.journal._base import (
    JOURNAL_NAME,
    LOCAL_ZONE,
    PAGE,
    STATES,
    CprBatch,
    CprHistory,
    connect,
    create_private,
    group_by_cpr,
    now_text,
    take_lock,
)
from batch.journal._fixes import FIXED_CODE, fixed_hashes, settle_fixes
from batch.journal._ingest import first_row_columns, insert_rows
from batch.journal._issues import count_new_issues
from batch.journal._reads import JournalReads
from batch.journal._schema import open_schema
from batch.journal._services import UNRECORDED, Service
from batch.journal._writer import JournalWriter

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator, Mapping, Sequence

    from batch.journal._keys import Pseudonyms
    from batch.records import Outcome, Row

__all__ = ["Journal"]


class Journal(JournalReads, Closing):
    """The journal of one state directory, held exclusively by this process while open."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, lock_fd: int, keys: Pseudonyms
    ) -> None:
        self.path = path
        self.keys = keys
        self._conn = conn
        self._lock_fd = lock_fd
        self._mutex = threading.RLock()
        self._fixed: dict[bytes, tuple[str, str]] | None = None  # loaded on first use
        self._numbers: dict[str, int] = {}  # run id -> run number

    @classmethod
    def open(cls, state_dir: Path, *, forget_memory: bool = False) -> Journal:
        """Open (creating if needed) the journal in `state_dir` and take its lock.

        `forget_memory` (`batch purge --memory`) forgets every service's memory and the key.

        Raises:
            JournalLockedError: another process holds the state directory.
            StateError: the directory or journal cannot be used.
        """
        state_dir = state_dir.expanduser()
        try:
            state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            lock_fd = take_lock(state_dir)
        except OSError as exc:
            message = _("the state directory {folder} cannot be used: {error}")
            raise StateError(message.format(folder=state_dir, error=exc)) from exc
        try:
            path = state_dir / JOURNAL_NAME
            create_private(path)
            conn = connect(path)
            keys = open_schema(conn, path, state_dir, forget=forget_memory)
        except BaseException:
            os.close(lock_fd)
            raise
        journal = cls(path, conn, lock_fd, keys)
        journal._close_dead_runs()
        return journal

    def close(self) -> None:
        """Close the connection and release the lock."""
        with self._mutex:
            if self._lock_fd < 0:
                return
            self._conn.close()
            os.close(self._lock_fd)
            self._lock_fd = -1

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._mutex:
            return self._conn.execute(sql, params).fetchall()

    # -- runs -------------------------------------------------------------------------------

    def start_run(
        self,
        *,
        inputs: Sequence[str],
        settings: Mapping[str, object],
        dry_run: bool = False,
        service: Service | None = None,
    ) -> str:
        """Record a new run and return its id (local start time, sortable, plus 4 hex digits)."""
        started = datetime.now(UTC)
        # Letters only after the time: HHMMSS-dddd would look like a CPR number and be masked.
        suffix = "".join(secrets.choice(string.ascii_lowercase) for _ in range(4))
        run_id = f"{started.astimezone(LOCAL_ZONE):%Y%m%dT%H%M%S}-{suffix}"
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO runs (run_id, started, status, dry_run, settings, files, pid, "
                "version, n) SELECT ?, ?, 'running', ?, ?, ?, ?, ?, COALESCE(MAX(n), 0) + 1 "
                "FROM runs",
                (
                    run_id,
                    started.isoformat(timespec="microseconds"),
                    int(dry_run),
                    json.dumps(dict(settings), default=str, ensure_ascii=False),
                    json.dumps(list(inputs), ensure_ascii=False),
                    os.getpid(),
                    __version__,
                ),
            )
        if service is not None:
            self.use_service(run_id, service)
        return run_id

    def use_service(self, run_id: str, service: Service) -> None:
        """Record the service the run sends to: its memory is the one consulted and written."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE runs SET service = ? WHERE run_id = ?",
                (_memory.service_id(conn, service), run_id),
            )

    def _service_of(self, run_id: str) -> int:
        found = self._query("SELECT service FROM runs WHERE run_id = ?", (run_id,))
        if found and found[0][0] is not None:
            return int(found[0][0])
        self.use_service(run_id, Service(UNRECORDED, ""))
        return self._service_of(run_id)

    def memories(self) -> list[_memory.ServiceMemory]:
        """What is remembered as accepted, per service (for `batch status` and the notice)."""
        with self._mutex:
            return _memory.memories(self._conn)

    def record_input(
        self,
        run_id: str,
        *,
        source_file: str,
        sheet: str | None,
        headers: Sequence[str],
        rows: int,
        blank: int,
        fields: Mapping[str, str] | None = None,
        notes: Mapping[str, Any] | None = None,
    ) -> None:
        """Remember one input file (or sheet) of the run for the workbook's summary.

        `fields` (header -> canonical field) lets the workbook put columns of different files
        that mean the same field into one column, also when a mapping file decided it. `notes`
        (JSON-ready: what each header fed, hidden rows, totals rows) go to the Summary sheet.
        """
        columns = {"headers": list(headers), "fields": dict(fields or {}), "notes": notes or {}}
        text = json.dumps(columns, ensure_ascii=False)
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO inputs (run_id, seq, source_file, sheet, headers, rows, blank) "
                "SELECT ?, COUNT(*), ?, ?, ?, ?, ? FROM inputs WHERE run_id = ?",
                (run_id, source_file, sheet, text, rows, blank, run_id),
            )

    def finish_run(self, run_id: str, *, status: str, message: str | None = None) -> None:
        """Record how the run ended (finished, interrupted, broken, failed) and its counts.

        The counts are kept with the run so that they outlive its rows (see `purge`).
        """
        counts = json.dumps({key.value: value for key, value in self.counts(run_id).items()})
        with self._transaction() as conn:
            conn.execute(
                "UPDATE runs SET finished = ?, status = ?, message = ?, counts = ? "
                "WHERE run_id = ?",
                (now_text(), status, message, counts, run_id),
            )

    def _close_dead_runs(self) -> None:
        """Runs still 'running' when we get the lock died with their process: close them."""
        for (run_id,) in self._query("SELECT run_id FROM runs WHERE status = 'running'"):
            reason = _("the process stopped before the run finished (killed or crashed)")
            self.mark_unsent_as_retry(run_id, reason)
            self._record_unrecorded_inputs(run_id)
            self.finish_run(run_id, status="interrupted", message=reason)

    def _record_unrecorded_inputs(self, run_id: str) -> None:
        """A file whose reading the kill cut short has rows but no input record: add one.

        Without it the run's rows would not add up to its inputs and its workbook could never
        be written (`batch report`). The headers come from the first row's cells, in order.
        """
        missing = self._query(
            "SELECT source_file, sheet, COUNT(*), MIN(id) FROM rows WHERE run_id = ? AND NOT "
            "EXISTS (SELECT 1 FROM inputs i WHERE i.run_id = rows.run_id AND "
            "i.source_file = rows.source_file AND i.sheet IS rows.sheet) "
            "GROUP BY source_file, sheet ORDER BY MIN(id)",
            (run_id,),
        )
        for source_file, sheet, count, first_id in missing:
            headers = first_row_columns(self._query, first_id)
            self.record_input(
                run_id, source_file=source_file, sheet=sheet, headers=headers, rows=count, blank=0
            )

    # -- rows -------------------------------------------------------------------------------

    def add_rows(self, run_id: str, rows: Sequence[Row], fix_of: str | None = None) -> None:
        """Ingest a chunk of rows in one transaction: unsendable ones become final at once.

        An original row already fixed through a Fix sheet is Unchanged at once (see
        `batch.journal._fixes`); rows of a Fix sheet of run `fix_of` are linked to their originals.
        """
        if self._fixed is None:
            self._fixed = fixed_hashes(self._conn)
        with self._transaction() as conn:
            insert_rows(conn, (run_id, self._number(run_id)), rows, self.keys, self._fixed, fix_of)

    def meet_fixed(self, fixed: Mapping[bytes, tuple[str, str]]) -> None:
        """Know these originals as fixed (a dry run's journal: the real journal's, read)."""
        self._fixed = dict(fixed)

    def settle_fixes(self, run_id: str) -> None:
        """Remember the originals of this run's accepted fixed rows as fixed."""
        with self._transaction() as conn:
            settle_fixes(conn, run_id, now_text())

    def still_wrong(self, run_id: str) -> int:
        """Rows of this run fixed earlier but read again unfixed: wrong in the source system."""
        query = "SELECT COUNT(*) FROM rows WHERE run_id = ? AND code = ? AND outcome = ?"
        return int(self._query(query, (run_id, FIXED_CODE, "unchanged"))[0][0])

    def mark_unsent_as_retry(self, run_id: str, reason: str) -> int:
        """Close rows left pending or in flight when a run stops early: they go to Retry.

        Returns how many rows it closed (0 when called again: it is idempotent).
        """
        reason = reason.rstrip(".")
        in_flight = _("{reason}; its request may have reached UDB: sent again next run.")
        in_flight = in_flight.format(reason=reason[:1].upper() + reason[1:])
        unsent = _("Not sent: {why}; sent next run.").format(why=reason)
        closed = 0
        with self._transaction() as conn:
            for status, text in (("in_flight", in_flight), ("pending", unsent)):
                conn.execute(
                    "UPDATE row_data SET text = ? WHERE row_id IN "
                    "(SELECT id FROM rows WHERE run_id = ? AND status = ?)",
                    (text, run_id, status),
                )
                closed += conn.execute(
                    "UPDATE slim_rows SET status = '', outcome = 'retry', sort_key = NULL "
                    "WHERE run = (SELECT n FROM runs WHERE run_id = ?) AND status = ?",
                    (run_id, STATES[status]),
                ).rowcount
        return closed

    # -- submitting ---------------------------------------------------------------------------

    def pending(self, run_id: str) -> Iterator[CprBatch]:
        """Stream the pending rows grouped by CPR, each group in registration-time order.

        Keyset pages keep read transactions short (the writer's WAL can be checkpointed) and
        memory bounded; a page's last CPR may be cut by the page limit, so it is left for the
        next page unless it is the only CPR in the page, which is then read whole.
        """
        service = self._service_of(run_id)
        after = b""
        while True:
            page = self._pending_page(run_id, after)
            if not page:
                return
            groups = group_by_cpr(page)
            if len(page) == PAGE:
                if len(groups) == 1:
                    groups = group_by_cpr(self._pending_page(run_id, after, page[0][0]))
                else:
                    groups.pop()
            with self._mutex:
                known = _memory.histories(
                    self._conn, service, [person for person, _ in groups], self.keys
                )
            for person, rows in groups:
                yield CprBatch(person, rows, known.get(person) or CprHistory(self.keys, person))
            after = groups[-1][0]

    def _pending_page(self, run_id: str, after: bytes, only: bytes | None = None) -> list[Any]:
        where, params = ("person > ?", [after]) if only is None else ("person = ?", [only])
        limit = "" if only else f"LIMIT {PAGE}"
        # From the table itself, not the `rows` view: its partial index holds the pending rows.
        return self._query(
            "SELECT r.person, r.id, s.source_file, r.source_row, d.payload, "  # noqa: S608
            "r.payload_hash FROM slim_rows r JOIN sources s ON s.id = r.source "
            "JOIN row_data d ON d.row_id = r.id "
            f"WHERE r.run = ? AND r.status = 'p' AND r.{where} "
            f"ORDER BY r.person, r.sort_key, r.id {limit}",
            [self._number(run_id), *params],
        )

    def compact(self, run_id: str) -> int:
        """After the run's workbook is written: Unchanged rows drop their cells (see `_purge`)."""
        with self._mutex:
            return _purge.compact(self._conn, run_id)

    def purge(self, cutoff: datetime, *, dry_run: bool = False) -> _purge.JournalPurge:
        """Remove the settled rows of runs closed before `cutoff`; give the space back."""
        before = _purge.journal_bytes(self.path)
        with self._mutex:
            rows, attempts, runs, kept = _purge.purge_rows(self._conn, cutoff, dry_run=dry_run)
            if not dry_run:  # also the first time after an upgrade: one VACUUM
                _purge.reclaim_space(self._conn)
        after = _purge.journal_bytes(self.path)
        return _purge.JournalPurge(rows, attempts, runs, kept, before, after)

    def remember_place(self, kind: str, path: Path) -> None:
        """Record a report directory (`reports`) or inbox (`inbox`) whose files expire."""
        with self._transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO places VALUES (?, ?)", (kind, str(path.resolve())))

    def places(self, kind: str) -> list[Path]:
        """The report directories or inboxes runs used."""
        query = "SELECT path FROM places WHERE kind = ? ORDER BY path"
        return [Path(path) for (path,) in self._query(query, (kind,))]

    def person_history(self, cpr: str) -> tuple[list[_memory.PersonRow], list[_memory.Remembered]]:
        """Every row of one person still in the journal, and what the memory holds for them."""
        person = self.keys.person(cpr)
        with self._mutex:
            rows = _memory.person_rows(self._conn, person)
            return rows, _memory.person_memory(self._conn, person)

    def new_issues(self, run_id: str) -> dict[Outcome, int]:
        """Fix/Drop rows this run reported first (see `_issues`); read-only in a snapshot."""
        if self._conn.in_transaction:
            return count_new_issues(self._conn, run_id, self.keys.payload, record=False)
        with self._transaction() as conn:
            return count_new_issues(conn, run_id, self.keys.payload)

    def writer(self, run_id: str) -> JournalWriter:
        """A group-commit writer for the submit workers (a context manager)."""
        return JournalWriter(self.path, run_id, self._service_of(run_id), self._number(run_id))

    def _number(self, run_id: str) -> int:
        """The run's number: how its rows and the memory's entries name it (see `_schema`)."""
        if run_id not in self._numbers:
            found = self._query("SELECT n FROM runs WHERE run_id = ?", (run_id,))
            if not found:
                message = _("the journal {path} holds no run {run_id}")
                raise StateError(message.format(path=self.path, run_id=run_id))
            self._numbers[run_id] = int(found[0][0])
        return self._numbers[run_id]
