"""The journal's schema, its creation and the migration of journals written by older versions.

Schema 4 (this version). The memory of what UDB accepted is kept per service (`services`) and
pseudonymised (`person`, `payload_hash` and `content_hash` are keyed digests, see `_keys`).
A row is two records: `slim_rows`, what the journal keeps of every row while the run's rows
are kept (where it came from, its pseudonym and payload digest, its state), and `row_data`,
what holds the person's data in clear (cells, payload, answer text, the cells to fix), deleted
past retention and, for an Unchanged row, once its run's workbook is written, freeing whole
pages. A slim row repeats no text: its run is the run's number (`runs.n`) and its file and
sheet a number in `sources`, one record per run and input, which also holds the input's
column names so that a row's cells are stored as a list of values, not an object repeating
every header. Its registration-time order (`sort_key`, microseconds since 1970) is kept only
while it is pending, and its state in one byte (`p` pending, `i` in flight; a final row's is
empty), which the view reads as words. One index finds a run's rows in input order
(`rows_run`), one the pending rows by person. `rows` is a view with the columns by name that
queries read; the pending rows are read from the table, whose partial index holds them.

The memory's entries name their run by number, `latest` its group by its place in `GROUPS`
(0 contact, 1 job, 2 education), and keep their times as integers. Runs keep
their counts (`counts`) so that they survive the purge of their rows, and when that happened
(`purged`). `places` lists the report directories and inboxes runs used, whose files the purge
removes by age. `issues_seen` remembers the Fix/Drop rows reported (by keyed digest) with the
last run that reported each (`seen`), so it goes with retention like the rows. `fix_links` and
`fixed` are the memory of rows fixed through a Fix sheet (see `_fixes`).

The web app's audit log (`audit`, see `_audit`) is part of the schema since schema 3 (schema 2
and that log); it is made, idempotently, on every open of an older journal.

Older journals are migrated on first open, one version at a time, each in one transaction:
schema 1 to 2 by `_migrate_v1`, schema 2 or 3 to 4 by `_migrate_v2`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batch.journal._audit import AUDIT_SCHEMA, add_audit
from batch.journal._base import newer_journal, unusable
from batch.journal._keys import forget_key, load_key
from batch.journal._migrate_v1 import SCHEMA_V2, migrate_v1
from batch.journal._migrate_v2 import migrate_v2
from batch.journal._purge import reclaim_space

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

    from batch.journal._keys import Pseudonyms

__all__ = ["SCHEMA_VERSION", "open_schema"]

SCHEMA_VERSION = 4

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL,
    message TEXT, dry_run INTEGER NOT NULL, settings TEXT NOT NULL, files TEXT NOT NULL,
    pid INTEGER, service INTEGER, counts TEXT, purged TEXT, version TEXT, n INTEGER);
CREATE UNIQUE INDEX IF NOT EXISTS runs_n ON runs (n);
CREATE TABLE IF NOT EXISTS inputs (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, source_file TEXT NOT NULL, sheet TEXT,
    headers TEXT NOT NULL, rows INTEGER NOT NULL, blank INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq));
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY, run INTEGER NOT NULL, source_file TEXT NOT NULL, sheet TEXT,
    headers TEXT);
CREATE INDEX IF NOT EXISTS sources_run ON sources (run);
CREATE TABLE IF NOT EXISTS slim_rows (
    id INTEGER PRIMARY KEY, run INTEGER NOT NULL, source INTEGER NOT NULL,
    source_row INTEGER NOT NULL, payload_hash BLOB, person BLOB, sort_key INTEGER,
    status TEXT NOT NULL, sent_groups TEXT, outcome TEXT, code TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, last_attempt TEXT);
CREATE INDEX IF NOT EXISTS rows_run ON slim_rows (run);
CREATE INDEX IF NOT EXISTS rows_pending ON slim_rows (run, person, sort_key)
    WHERE status = 'p';
CREATE VIEW IF NOT EXISTS rows AS SELECT r.id, u.run_id, s.source_file, s.sheet, r.source_row,
    r.payload_hash, r.person, r.sort_key, CASE r.status WHEN '' THEN 'final'
    WHEN 'p' THEN 'pending' WHEN 'i' THEN 'in_flight' ELSE r.status END AS status,
    r.sent_groups, r.outcome, r.code,
    r.attempts, r.last_attempt, r.run, s.headers AS cell_names
    FROM slim_rows r JOIN runs u ON u.n = r.run JOIN sources s ON s.id = r.source;
CREATE TABLE IF NOT EXISTS row_data (
    row_id INTEGER PRIMARY KEY, cells TEXT, payload TEXT, text TEXT, fix_cells TEXT);
CREATE TABLE IF NOT EXISTS attempts (
    row_id INTEGER NOT NULL, n INTEGER NOT NULL, at TEXT NOT NULL, code TEXT, text TEXT,
    failure_kind TEXT, http_status INTEGER, PRIMARY KEY (row_id, n)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS services (
    id INTEGER PRIMARY KEY, endpoint TEXT NOT NULL, system_id TEXT NOT NULL,
    UNIQUE (endpoint, system_id));
CREATE TABLE IF NOT EXISTS payloads (
    service INTEGER NOT NULL, person BLOB NOT NULL, payload_hash BLOB NOT NULL,
    kind TEXT NOT NULL, institution INTEGER NOT NULL, at INTEGER NOT NULL, run INTEGER NOT NULL,
    PRIMARY KEY (service, person, payload_hash)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest (
    service INTEGER NOT NULL, person BLOB NOT NULL, grp INTEGER NOT NULL,
    registered INTEGER NOT NULL, content_hash BLOB NOT NULL, institution INTEGER NOT NULL,
    accepted_at INTEGER NOT NULL, run INTEGER NOT NULL,
    PRIMARY KEY (service, person, grp)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS places (
    kind TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (kind, path)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS issues_seen (
    source_name TEXT NOT NULL, digest BLOB NOT NULL, outcome TEXT NOT NULL,
    run_id TEXT NOT NULL, seen INTEGER NOT NULL,
    PRIMARY KEY (source_name, digest, outcome)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fix_links (
    run_id TEXT NOT NULL, source_file TEXT NOT NULL, sheet TEXT, source_row INTEGER NOT NULL,
    content_hash BLOB, origin TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS fix_links_row ON fix_links (run_id, source_file, source_row);
CREATE TABLE IF NOT EXISTS fixed (
    content_hash BLOB PRIMARY KEY, fixed_at TEXT NOT NULL, run_id TEXT NOT NULL) WITHOUT ROWID;
"""


def schema_version(conn: sqlite3.Connection, path: Path) -> int:
    """The journal's schema (0: new); a journal of a newer version is refused untouched."""
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
    except Exception as exc:  # sqlite3.DatabaseError: not a database
        conn.close()
        raise unusable(path, exc) from exc
    if version > SCHEMA_VERSION:
        conn.close()
        raise newer_journal(path, version, SCHEMA_VERSION)
    return int(version)


def create(conn: sqlite3.Connection) -> None:
    """The tables of a new journal (`connect` made it incremental, for the purge to give back)."""
    conn.executescript(
        f"BEGIN; {_SCHEMA} {AUDIT_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
    )


def memory_exists(conn: sqlite3.Connection) -> bool:
    """Whether the memory holds anything: then its key must not be replaced silently."""
    found = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM payloads) OR EXISTS (SELECT 1 FROM latest)"
    ).fetchone()
    return bool(found[0])


def open_schema(
    conn: sqlite3.Connection, path: Path, state_dir: Path, *, forget: bool = False
) -> Pseudonyms:
    """Create, migrate or check the schema and return the memory's key (see `_keys`).

    `forget` forgets the memory on purpose first (`batch purge --memory`), with its key.
    """
    version = schema_version(conn, path)
    try:
        if version == 0:
            create(conn)
            return load_key(state_dir, memory_exists=False)
        if version == 1:  # schema 1 remembered CPR numbers in clear: a new key is harmless
            keys = load_key(state_dir, memory_exists=False)
            migrate_v1(conn, keys)
        if version == 2:  # noqa: PLR2004 - schema 2
            _add_nightly(conn)
        if version < SCHEMA_VERSION:
            migrate_v2(conn, _SCHEMA, SCHEMA_VERSION)
        add_audit(conn, SCHEMA_VERSION)  # idempotent: also after a kill right after migrating
        if forget:
            _forget(conn, state_dir)
        return load_key(state_dir, memory_exists=memory_exists(conn))
    except BaseException:
        conn.close()
        raise


def _add_nightly(conn: sqlite3.Connection) -> None:
    """`runs.version` and `issues_seen` in a schema-2 journal written before them (idempotent)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    added = "" if "version" in columns else "ALTER TABLE runs ADD COLUMN version TEXT;"
    issues = SCHEMA_V2[SCHEMA_V2.index("CREATE TABLE IF NOT EXISTS issues_seen") :]
    conn.executescript(f"BEGIN; {added} {issues} COMMIT;")


def _forget(conn: sqlite3.Connection, state_dir: Path) -> None:
    """Delete the memory and every digest made with its key, then the key."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in ("payloads", "latest", "issues_seen", "fixed"):
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        conn.execute("UPDATE slim_rows SET person = NULL, payload_hash = NULL")
        conn.execute("UPDATE fix_links SET content_hash = NULL")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    forget_key(state_dir)
    reclaim_space(conn)
