"""Retention inside the journal: what holds a person's data in clear goes, the memory stays.

A row holds a person's data in clear in its cells, its payload, its texts and its attempts'
texts. Past the retention period such rows are deleted with their attempts, in one
transaction (a kill rolls it back; the next purge does it again), and with them what they left
elsewhere: the links of rows fed back through a Fix sheet (`fix_links`) and the Fix/Drop rows
remembered as reported (`issues_seen`, keyed digests of the cells) whose last report is as old.
Kept whatever their age: rows of a run still open, and rows not yet settled: pending or in
flight, or in Retry with no row that settled the same payload at the same service (accepted,
unchanged, fix or drop). A run keeps its record and its counts (`runs.counts`), so
`batch status` still shows it.

The pseudonymised memory (`payloads`, `latest`) is not touched: it holds no CPR number and no
content, only keyed digests, and it is what makes the next night send only what changed.

The audit log's entries stay; their old and new cell values past retention are blanked
(`_audit.redact_audit`).

Within retention, an Unchanged row is compacted once its run's workbook is written (`compact`):
it keeps its source position, pseudonym and payload digest, not its cells, payload or text.

Space is given back to the file system: incremental vacuum in a journal created with it, a
full VACUUM once in an older one (which also switches it to incremental), then the WAL is
truncated. `secure_delete` (set on every connection) zeroes what is deleted, so no CPR number
stays readable in free pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch.journal._audit import redact_audit
from batch.journal._base import now_text

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path

__all__ = ["JournalPurge", "compact", "purge_rows", "reclaim_space"]

# Rows past retention that may go: run closed before the cutoff, row settled. A payload is
# settled per service (the memory's rule): the simulator accepting it settles no real Retry.
_DOOMED = """
CREATE TEMP TABLE IF NOT EXISTS settled_at (s INTEGER, h BLOB, PRIMARY KEY (s, h)) WITHOUT ROWID;
DELETE FROM settled_at;
INSERT OR IGNORE INTO settled_at SELECT COALESCE(u.service, 0), r.payload_hash FROM slim_rows r
    JOIN runs u ON u.n = r.run WHERE r.outcome IN ('accepted', 'unchanged', 'fix', 'drop')
    AND r.payload_hash IS NOT NULL;
CREATE TEMP TABLE IF NOT EXISTS doomed (id INTEGER PRIMARY KEY);
DELETE FROM doomed;
INSERT INTO doomed SELECT r.id FROM slim_rows r JOIN runs u ON u.n = r.run
    WHERE u.status != 'running' AND u.finished < :cutoff AND r.status = ''
    AND (r.outcome IS NOT 'retry' OR EXISTS (SELECT 1 FROM settled_at
        WHERE s = COALESCE(u.service, 0) AND h = r.payload_hash));
"""

# What the doomed rows leave elsewhere: the links of fed-back rows (by place), and the Fix/Drop
# rows seen whose last report was by a run closed before the cutoff.
_LEFT_BEHIND = """
DELETE FROM fix_links WHERE rowid IN (SELECT l.rowid FROM doomed d JOIN rows r ON r.id = d.id
    JOIN fix_links l ON l.run_id = r.run_id AND l.source_file = r.source_file
    AND l.source_row = r.source_row AND l.sheet IS r.sheet);
DELETE FROM issues_seen WHERE seen IN (SELECT n FROM runs
    WHERE status != 'running' AND finished < :cutoff);
"""


@dataclass(frozen=True, slots=True)
class JournalPurge:
    """What a purge of the journal removed (or, in a dry run, would remove)."""

    rows: int
    attempts: int
    runs: int
    kept: int  # rows past retention kept because they are not settled
    bytes_before: int
    bytes_after: int


def purge_rows(conn: sqlite3.Connection, cutoff: datetime, *, dry_run: bool) -> tuple[int, ...]:
    """Delete the settled rows of runs closed before `cutoff`; (rows, attempts, runs, kept)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = _select(conn, cutoff)
        if not dry_run:
            if found[0]:
                _store_counts(conn)
                conn.execute(
                    "UPDATE runs SET purged = ? WHERE n IN (SELECT DISTINCT r.run FROM "
                    "slim_rows r JOIN doomed d ON d.id = r.id)",
                    (now_text(),),
                )
            _run_script(conn, _LEFT_BEHIND, cutoff)
            conn.execute("DELETE FROM attempts WHERE row_id IN (SELECT id FROM doomed)")
            conn.execute("DELETE FROM row_data WHERE row_id IN (SELECT id FROM doomed)")
            conn.execute("DELETE FROM slim_rows WHERE id IN (SELECT id FROM doomed)")
        if not dry_run:  # edited cells' old and new values in the audit log expire alike
            redact_audit(conn, cutoff.isoformat(timespec="microseconds"))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("ROLLBACK" if dry_run else "COMMIT")
    return found


def _run_script(conn: sqlite3.Connection, script: str, cutoff: datetime) -> None:
    cut = cutoff.isoformat(timespec="microseconds")
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement, {"cutoff": cut} if ":cutoff" in statement else {})


def _select(conn: sqlite3.Connection, cutoff: datetime) -> tuple[int, int, int, int]:
    cut = cutoff.isoformat(timespec="microseconds")
    _run_script(conn, _DOOMED, cutoff)
    (rows, runs) = conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT r.run) FROM doomed d JOIN slim_rows r ON r.id = d.id"
    ).fetchone()
    (attempts,) = conn.execute(
        "SELECT COUNT(*) FROM attempts WHERE row_id IN (SELECT id FROM doomed)"
    ).fetchone()
    (old,) = conn.execute(
        "SELECT COUNT(*) FROM slim_rows r JOIN runs u ON u.n = r.run "
        "WHERE u.status != 'running' AND u.finished < ?",
        (cut,),
    ).fetchone()
    return rows, attempts, runs, old - rows


def _store_counts(conn: sqlite3.Connection) -> None:
    """Runs finished before counts were kept with them get theirs now, before rows go."""
    missing = conn.execute(
        "SELECT run_id FROM runs WHERE counts IS NULL AND status != 'running'"
    ).fetchall()
    for (run_id,) in missing:
        counts: dict[str, int] = {}
        for outcome, count in conn.execute(
            "SELECT COALESCE(outcome, 'retry'), COUNT(*) FROM rows WHERE run_id = ? GROUP BY 1",
            (run_id,),
        ):
            counts[outcome] = counts.get(outcome, 0) + count
        conn.execute("UPDATE runs SET counts = ? WHERE run_id = ?", (json.dumps(counts), run_id))


def compact(conn: sqlite3.Connection, run_id: str) -> int:
    """An Unchanged row keeps its place, pseudonym and digest; its cells and texts go."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        changed = conn.execute(
            "DELETE FROM row_data WHERE row_id IN "
            "(SELECT id FROM rows WHERE run_id = ? AND outcome = 'unchanged')",
            (run_id,),
        ).rowcount
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return changed


def journal_bytes(path: Path) -> int:
    """The journal's size on disk with its WAL."""
    total = 0
    for candidate in (path, path.with_name(path.name + "-wal")):
        if candidate.exists():
            total += candidate.stat().st_size
    return total


def reclaim_space(conn: sqlite3.Connection, on_full: Callable[[], None] | None = None) -> None:
    """Give freed pages back: incremental vacuum, or one full VACUUM in an older journal."""
    (mode,) = conn.execute("PRAGMA auto_vacuum").fetchone()
    if mode == 2:  # noqa: PLR2004 - INCREMENTAL
        # Run to the end: `execute` steps a pragma once, which frees a single page.
        conn.executescript("PRAGMA incremental_vacuum;")
    else:
        if on_full is not None:
            on_full()
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
