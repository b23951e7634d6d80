"""Schema 2 or 3 -> 4: slim rows, run numbers, the Fix-sheet tables and `issues_seen` retained.

One transaction on first open (a kill rolls it back; the next open does it again). Schema 3 is
schema 2 with the audit log, which is left as it is. Nothing is re-keyed: the digests and the
key stay. What changes (see `_schema` for why):
- every run gets its number `n` (its rowid, so the order of the runs is kept);
- `rows` becomes `slim_rows` (run number, source number, no text repeated per row) with one
  `sources` record per run and input; `rows` is a view of the same columns as before;
- the memory (`payloads`, `latest`) names its run by number, `latest` its group by number;
  `issues_seen` also records the last run that reported each row (`seen`), so that a purge
  can let it go;
- `row_data.fix_cells`, `fix_links` and `fixed`, which schema 2 journals gained on open
  outside the schema's version, are part of it.
A row's cells stay as written (an object per row); rows written from now on store a list of
values when their columns are their source's (`sources.headers`). Every row is carried over:
the migration counts them and refuses to commit if one would be lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batch.errors import StateError
from batch.i18n import _

if TYPE_CHECKING:
    import sqlite3

__all__ = ["migrate_v2"]

_ADDITIONS = """
UPDATE runs SET n = rowid;
INSERT INTO sources (run, source_file, sheet)
    SELECT u.n, r.source_file, r.sheet FROM rows_v2 r JOIN runs u ON u.run_id = r.run_id
    GROUP BY u.n, r.source_file, r.sheet ORDER BY MIN(r.id);
INSERT INTO slim_rows SELECT r.id, u.n, s.id, r.source_row, r.payload_hash, r.person,
    CASE WHEN r.status = 'pending' THEN r.sort_key END,
    CASE r.status WHEN 'pending' THEN 'p' WHEN 'in_flight' THEN 'i' ELSE '' END,
    r.sent_groups, r.outcome,
    r.code, r.attempts, r.last_attempt FROM rows_v2 r JOIN runs u ON u.run_id = r.run_id
    JOIN sources s ON s.run = u.n AND s.source_file = r.source_file AND s.sheet IS r.sheet;
INSERT INTO payloads SELECT p.service, p.person, p.payload_hash, p.kind, p.institution, p.at,
    COALESCE(u.n, 0) FROM payloads_v2 p LEFT JOIN runs u ON u.run_id = p.run_id;
INSERT INTO latest SELECT l.service, l.person,
    CASE l.grp WHEN 'contact' THEN 0 WHEN 'job' THEN 1 WHEN 'education' THEN 2 END,
    l.registered, l.content_hash,
    l.institution, l.accepted_at, COALESCE(u.n, 0)
    FROM latest_v2 l LEFT JOIN runs u ON u.run_id = l.run_id;
INSERT INTO issues_seen SELECT i.source_name, i.digest, i.outcome, i.run_id,
    COALESCE((SELECT MAX(u.n) FROM runs u WHERE u.run_id = i.run_id), 0) FROM issues_seen_v2 i;
"""


def migrate_v2(conn: sqlite3.Connection, schema: str, version: int) -> None:
    """Schema 2 or 3 -> `version` in one transaction; `schema` is its DDL (`IF NOT EXISTS`)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        _set_aside(conn)
        for statement in schema.split(";"):
            if statement.strip():
                conn.execute(statement)
        for statement in _ADDITIONS.split(";"):
            if statement.strip():
                conn.execute(statement)
        _check_every_row(conn)
        for table in ("rows_v2", "payloads_v2", "latest_v2", "issues_seen_v2"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute(f"PRAGMA user_version = {version}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _set_aside(conn: sqlite3.Connection) -> None:
    """Rename schema 2's tables that schema 4 makes anew; add the columns it adds in place."""
    conn.execute("ALTER TABLE runs ADD COLUMN n INTEGER")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(row_data)")}
    if "fix_cells" not in columns:
        conn.execute("ALTER TABLE row_data ADD COLUMN fix_cells TEXT")
    conn.execute("DROP INDEX IF EXISTS rows_pending")
    conn.execute("DROP INDEX IF EXISTS rows_outcome")
    for table in ("rows", "payloads", "latest", "issues_seen"):
        conn.execute(f"ALTER TABLE {table} RENAME TO {table}_v2")


def _check_every_row(conn: sqlite3.Connection) -> None:
    """Never lose a row: a row whose run is not recorded stops the migration (rolled back)."""
    (before,) = conn.execute("SELECT COUNT(*) FROM rows_v2").fetchone()
    (after,) = conn.execute("SELECT COUNT(*) FROM slim_rows").fetchone()
    if before != after:
        raise StateError(
            _(
                "the journal cannot be upgraded: {lost} of its {rows} rows belong to no recorded "
                "run; it is left as it was (keep it, and report this as a bug)"
            ).format(lost=before - after, rows=before)
        )
