"""The audit log: who did what in the web app and when, append-only in the journal (schema 3).

One table, `audit`, beside the runs it speaks of, so a backup of the journal carries it and
its personal data follows the journal's retention. Append-only is the database's rule, not a
habit: triggers refuse any DELETE, an INSERT OR REPLACE over an entry (REPLACE deletes without
firing DELETE triggers), and any UPDATE except the one retention makes, which blanks
an entry's old and new value (a cell's content before and after an edit: a CPR number, a
name). The entry itself (when, who, what, which run, upload, row or column) stays for good.

Writers are the web app's requests: they append beside a run that holds the journal's lock
(SQLite in WAL mode serialises the one-row inserts with the run's own commits).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch.journal._base import JOURNAL_NAME, connect, now_text

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = [
    "AUDIT_SCHEMA",
    "AuditEntry",
    "add_audit",
    "append",
    "audit_connection",
    "entries",
    "redact_audit",
]

AUDIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT, detail TEXT, old_value TEXT, new_value TEXT, redacted TEXT);
CREATE INDEX IF NOT EXISTS audit_target ON audit (action, target);
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_replace BEFORE INSERT ON audit
WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: an entry is never replaced'); END;
CREATE TRIGGER IF NOT EXISTS audit_only_redact BEFORE UPDATE ON audit
WHEN NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.actor IS NOT OLD.actor
    OR NEW.action IS NOT OLD.action OR NEW.target IS NOT OLD.target
    OR NEW.detail IS NOT OLD.detail OR NEW.old_value IS NOT NULL OR NEW.new_value IS NOT NULL
    OR NEW.redacted IS NULL
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: only retention may blank values'); END;
"""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One thing someone did: `old_value`/`new_value` only for an edit, None once redacted."""

    id: int
    at: str  # ISO UTC
    actor: str
    action: str
    target: str | None
    detail: str | None
    old_value: str | None
    new_value: str | None
    redacted: str | None


def add_audit(conn: sqlite3.Connection, version: int) -> None:
    """Create the audit table (idempotent) and mark the journal as schema `version`."""
    conn.executescript(f"BEGIN; {AUDIT_SCHEMA} PRAGMA user_version = {version}; COMMIT;")


def append(
    conn: sqlite3.Connection,
    actor: str,
    action: str,
    target: str | None = None,
    *,
    detail: str | None = None,
    old_value: str | None = None,
    new_value: str | None = None,
) -> None:
    """Append one entry, stamped now (UTC)."""
    conn.execute(
        "INSERT INTO audit (at, actor, action, target, detail, old_value, new_value) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (now_text(), actor, action, target, detail, old_value, new_value),
    )


def entries(
    conn: sqlite3.Connection, *, action: str | None = None, target: str | None = None
) -> Iterator[AuditEntry]:
    """The entries, newest first; only those of `action` (and `target`) when given."""
    sql = "SELECT id, at, actor, action, target, detail, old_value, new_value, redacted FROM audit"
    clauses, params = [], []
    if action is not None:
        clauses.append("action = ?")
        params.append(action)
    if target is not None:
        clauses.append("target = ?")
        params.append(target)
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    for row in conn.execute(sql + " ORDER BY id DESC", params):
        yield AuditEntry(*row)


def redact_audit(conn: sqlite3.Connection, cutoff: str) -> int:
    """Blank the old and new values of entries made before `cutoff` (ISO UTC); how many.

    Called by the purge inside its transaction: a cell's content goes with the rows it came
    from, the record that somebody edited that cell stays.
    """
    return conn.execute(
        "UPDATE audit SET old_value = NULL, new_value = NULL, redacted = ? WHERE at < ? "
        "AND redacted IS NULL AND (old_value IS NOT NULL OR new_value IS NOT NULL)",
        (now_text(), cutoff),
    ).rowcount


def _has_audit(path: Path) -> bool:
    if not path.is_file():
        return False
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit'").fetchone()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return found is not None


def audit_connection(state_dir: Path) -> sqlite3.Connection:
    """A connection to the journal for the audit log, the journal made or migrated first.

    A journal without the table (new, or written by an older version) is opened once with its
    lock, which creates or migrates it; when a run holds the lock, that run has done so.
    """
    path = state_dir.expanduser() / JOURNAL_NAME
    if not _has_audit(path):
        from batch.errors import JournalLockedError  # noqa: PLC0415 - no cycle at import
        from batch.journal._journal import Journal  # noqa: PLC0415 - it imports this module

        # When a run holds the lock, that run opened, and so migrated, the journal.
        with contextlib.suppress(JournalLockedError):
            Journal.open(state_dir).close()
    return connect(path)
