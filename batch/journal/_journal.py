"""The `Journal`: runs, rows and attempts of one state directory, opened under its lock."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import string
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from batch.closing import Closing
from batch.errors import StateError
from batch.i18n import _
from batch.journal._base import (
    JOURNAL_NAME,
    LOCAL_ZONE,
    PAGE,
    RESULTS_SQL,
    CprBatch,
    CprHistory,
    GroupState,
    InputInfo,
    RunInfo,
    add_fix_cells,
    connect,
    create_private,
    group_by_cpr,
    load_cells,
    migrate,
    now_text,
    parse_time,
    row_values,
    take_lock,
)
from batch.journal._writer import JournalWriter
from batch.records import Outcome, RowResult

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

    from batch.records import Row

__all__ = ["Journal"]


class Journal(Closing):
    """The journal of one state directory, held exclusively by this process while open."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_fd: int) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd = lock_fd
        self._mutex = threading.RLock()
        self._dry: dict[str, bool] = {}

    @classmethod
    def open(cls, state_dir: Path) -> Journal:
        """Open (creating if needed) the journal in `state_dir` and take its lock.

        Raises:
            JournalLockedError: another process holds the state directory.
            StateError: the directory or journal cannot be used.
        """
        state_dir = state_dir.expanduser()
        try:
            state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            lock_fd = take_lock(state_dir)
        except OSError as exc:
            raise StateError(f"the state directory {state_dir} cannot be used: {exc}") from exc
        try:
            path = state_dir / JOURNAL_NAME
            create_private(path)
            conn = connect(path)
            migrate(conn, path)
            add_fix_cells(conn)
        except BaseException:
            os.close(lock_fd)
            raise
        journal = cls(path, conn, lock_fd)
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
        self, *, inputs: Sequence[str], settings: Mapping[str, object], dry_run: bool = False
    ) -> str:
        """Record a new run and return its id (local start time, sortable, plus 4 hex digits)."""
        started = datetime.now(UTC)
        # Letters only after the time: HHMMSS-dddd would look like a CPR number and be masked.
        suffix = "".join(secrets.choice(string.ascii_lowercase) for _ in range(4))
        run_id = f"{started.astimezone(LOCAL_ZONE):%Y%m%dT%H%M%S}-{suffix}"
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO runs (run_id, started, status, dry_run, settings, files, pid) "
                "VALUES (?, ?, 'running', ?, ?, ?, ?)",
                (
                    run_id,
                    started.isoformat(timespec="microseconds"),
                    int(dry_run),
                    json.dumps(dict(settings), default=str, ensure_ascii=False),
                    json.dumps(list(inputs), ensure_ascii=False),
                    os.getpid(),
                ),
            )
        self._dry[run_id] = dry_run
        return run_id

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
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO inputs (run_id, seq, source_file, sheet, headers, rows, blank) "
                "SELECT ?, COUNT(*), ?, ?, ?, ?, ? FROM inputs WHERE run_id = ?",
                (
                    run_id,
                    source_file,
                    sheet,
                    json.dumps(columns, ensure_ascii=False),
                    rows,
                    blank,
                    run_id,
                ),
            )

    def finish_run(self, run_id: str, *, status: str, message: str | None = None) -> None:
        """Record how the run ended: finished, interrupted, broken (breaker) or failed."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE runs SET finished = ?, status = ?, message = ? WHERE run_id = ?",
                (now_text(), status, message, run_id),
            )

    def run_info(self, run_id: str) -> RunInfo:
        """One run's record, with its inputs in the order they were read."""
        found = self._query("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        if not found:
            raise StateError(f"the journal {self.path} holds no run {run_id}")
        return self._run_info(found[0])

    def _run_info(self, row: Sequence[Any]) -> RunInfo:
        run_id, started, finished, status, message, dry_run, settings, files, _pid = row
        inputs = [
            _input_info(source_file, sheet, json.loads(headers), rows, blank)
            for source_file, sheet, headers, rows, blank in self._query(
                "SELECT source_file, sheet, headers, rows, blank FROM inputs "
                "WHERE run_id = ? ORDER BY seq",
                (run_id,),
            )
        ]
        started_at = parse_time(started)
        assert started_at is not None
        return RunInfo(
            run_id=run_id,
            started=started_at,
            finished=parse_time(finished),
            status=status,
            message=message,
            dry_run=bool(dry_run),
            settings=json.loads(settings),
            inputs=inputs,
            files=json.loads(files),
        )

    def last_run_id(self) -> str | None:
        """The most recently started run, or None in a fresh journal."""
        found = self._query("SELECT run_id FROM runs ORDER BY started DESC, rowid DESC LIMIT 1")
        return str(found[0][0]) if found else None

    def runs(self) -> list[RunInfo]:
        """Every run, oldest first."""
        return [self._run_info(row) for row in self._query("SELECT * FROM runs ORDER BY started")]

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
            (cells,) = self._query("SELECT cells FROM rows WHERE id = ?", (first_id,))[0]
            headers = list(json.loads(cells))
            self.record_input(
                run_id, source_file=source_file, sheet=sheet, headers=headers, rows=count, blank=0
            )

    # -- rows -------------------------------------------------------------------------------

    def add_rows(self, run_id: str, rows: Sequence[Row]) -> None:
        """Ingest a chunk of rows in one transaction: unsendable ones become final at once."""
        dry_run = self._is_dry(run_id)
        values = [row_values(run_id, row, dry_run=dry_run) for row in rows]
        with self._transaction() as conn:
            conn.executemany(
                "INSERT INTO rows (run_id, source_file, sheet, source_row, cells, payload, "
                "payload_hash, cpr, sort_key, status, outcome, code, text, fix_cells) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )

    def _is_dry(self, run_id: str) -> bool:
        if run_id not in self._dry:
            self._dry[run_id] = self.run_info(run_id).dry_run
        return self._dry[run_id]

    def results(self, run_id: str, outcome: Outcome) -> Iterator[RowResult]:
        """Stream the final rows of one outcome in input order, a page at a time."""
        after = 0
        while True:
            page = self._query(RESULTS_SQL, (run_id, outcome.value, after, PAGE))
            for row_id, file, line, cells, code, text, tries, last, sheet, fix, said, sent in page:
                yield RowResult(
                    source_file=file,
                    source_row=line,
                    cells=load_cells(cells),
                    outcome=outcome,
                    code=code,
                    text=text,
                    attempts=tries,
                    last_attempt=parse_time(last),
                    sheet=sheet,
                    answer_text=said,
                    fix_cells=json.loads(fix) if fix else {},
                    # A dry run's Ready sheet shows what would be sent, field by field.
                    extra={"payload": sent} if outcome is Outcome.READY and sent else {},
                )
                after = row_id
            if len(page) < PAGE:
                return

    def counts(self, run_id: str) -> dict[Outcome, int]:
        """Rows per outcome; rows not yet final count as RETRY (that is where they would end)."""
        counts = dict.fromkeys(Outcome, 0)
        for outcome, count in self._query(
            "SELECT outcome, COUNT(*) FROM rows WHERE run_id = ? GROUP BY outcome", (run_id,)
        ):
            counts[Outcome(outcome) if outcome else Outcome.RETRY] += count
        return counts

    def attempts(self, row_id: int) -> list[dict[str, Any]]:
        """Every attempt of one row, in order: for `batch status` and for tests."""
        names = ("n", "at", "code", "text", "failure_kind", "http_status")
        found = self._query(
            f"SELECT {', '.join(names)} FROM attempts WHERE row_id = ? ORDER BY n",  # noqa: S608
            (row_id,),
        )
        return [dict(zip(names, row, strict=True)) for row in found]

    def row_states(self, run_id: str) -> list[dict[str, Any]]:
        """Every row of a run with its state, in input order (small runs: tests, diagnostics)."""
        names: tuple[str, ...] = ("id", "source_file", "source_row", "status", "outcome")
        names += ("code", "text", "attempts", "last_attempt", "sent_groups", "payload_hash")
        found = self._query(
            f"SELECT {', '.join(names)} FROM rows WHERE run_id = ? ORDER BY id",  # noqa: S608
            (run_id,),
        )
        return [dict(zip(names, row, strict=True)) for row in found]

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
                closed += conn.execute(
                    "UPDATE rows SET status = 'final', outcome = 'retry', text = ? "
                    "WHERE run_id = ? AND status = ?",
                    (text, run_id, status),
                ).rowcount
        return closed

    # -- submitting ---------------------------------------------------------------------------

    def pending(self, run_id: str) -> Iterator[CprBatch]:
        """Stream the pending rows grouped by CPR, each group in registration-time order.

        Keyset pages keep read transactions short (the writer's WAL can be checkpointed) and
        memory bounded; a page's last CPR may be cut by the page limit, so it is left for the
        next page unless it is the only CPR in the page, which is then read whole.
        """
        after = ""
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
            histories = self._histories([cpr for cpr, _ in groups])
            for cpr, rows in groups:
                yield CprBatch(cpr, rows, histories.get(cpr) or CprHistory())
            after = groups[-1][0]

    def _pending_page(self, run_id: str, after: str, only: str | None = None) -> list[Any]:
        where, params = ("cpr > ?", [after]) if only is None else ("cpr = ?", [only])
        limit = "" if only else f"LIMIT {PAGE}"
        return self._query(
            "SELECT cpr, id, source_file, source_row, payload, payload_hash FROM rows "  # noqa: S608
            f"WHERE run_id = ? AND status = 'pending' AND {where} "
            f"ORDER BY cpr, sort_key, id {limit}",
            [run_id, *params],
        )

    def _histories(self, cprs: Sequence[str]) -> dict[str, CprHistory]:
        histories: dict[str, CprHistory] = {}
        marks = ", ".join("?" * len(cprs))
        for cpr, digest, at, run_id in self._query(
            f"SELECT cpr, payload_hash, accepted_at, run_id FROM accepted WHERE cpr IN ({marks})",  # noqa: S608
            cprs,
        ):
            histories.setdefault(cpr, CprHistory()).accepted[digest] = (at, run_id)
        for cpr, grp, *state in self._query(
            "SELECT cpr, grp, registered, content_hash, institution, accepted_at, run_id "  # noqa: S608
            f"FROM latest WHERE cpr IN ({marks})",
            cprs,
        ):
            histories.setdefault(cpr, CprHistory()).latest[grp] = GroupState(*state)
        return histories

    def writer(self, run_id: str) -> JournalWriter:
        """A group-commit writer for the submit workers (a context manager)."""
        return JournalWriter(self.path, run_id)


def _input_info(
    source_file: str, sheet: str | None, columns: list[str] | dict[str, Any], rows: int, blank: int
) -> InputInfo:
    # Journals written before `fields` was kept hold the bare header list.
    if isinstance(columns, list):
        return InputInfo(source_file, sheet, columns, rows, blank)
    return InputInfo(
        source_file,
        sheet,
        columns["headers"],
        rows,
        blank,
        columns["fields"],
        columns.get("notes", {}),
    )
