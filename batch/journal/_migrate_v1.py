"""Schema 1 -> 2: the memory per service and pseudonymised (see `_schema` for the current schema).

Schema 1 kept `accepted` and `latest` keyed by the CPR number in clear, without a service.
Migrating it (on first open, in one transaction) gives every run the service its settings name
and keys every digest anew, into schema 2's tables (`SCHEMA_V2`, kept here as schema 2 wrote
them); `_migrate_v2` then takes the journal on to schema 4. What cannot be carried over and
is dropped: acceptances of a row sent with groups left out (their payload is not in the
journal; `latest` still holds those groups, so they stay left out).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING

from batch.journal._base import iso_micros, sort_micros, utc_key
from batch.journal._services import service_of_settings
from batch.records import Contact, Report

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable

    from batch.journal._keys import Pseudonyms
    from batch.records import Wish

__all__ = ["SCHEMA_V2", "migrate_v1"]

SCHEMA_V2 = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL,
    message TEXT, dry_run INTEGER NOT NULL, settings TEXT NOT NULL, files TEXT NOT NULL,
    pid INTEGER, service INTEGER, counts TEXT, purged TEXT, version TEXT);
CREATE TABLE IF NOT EXISTS inputs (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, source_file TEXT NOT NULL, sheet TEXT,
    headers TEXT NOT NULL, rows INTEGER NOT NULL, blank INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq));
CREATE TABLE IF NOT EXISTS rows (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, source_file TEXT NOT NULL, sheet TEXT,
    source_row INTEGER NOT NULL, payload_hash BLOB, person BLOB, sort_key INTEGER,
    status TEXT NOT NULL, sent_groups TEXT, outcome TEXT, code TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, last_attempt TEXT);
CREATE TABLE IF NOT EXISTS row_data (
    row_id INTEGER PRIMARY KEY, cells TEXT, payload TEXT, text TEXT);
CREATE INDEX IF NOT EXISTS rows_pending ON rows (run_id, person, sort_key, id)
    WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS rows_outcome ON rows (run_id, outcome, id);
CREATE TABLE IF NOT EXISTS attempts (
    row_id INTEGER NOT NULL, n INTEGER NOT NULL, at TEXT NOT NULL, code TEXT, text TEXT,
    failure_kind TEXT, http_status INTEGER, PRIMARY KEY (row_id, n)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS services (
    id INTEGER PRIMARY KEY, endpoint TEXT NOT NULL, system_id TEXT NOT NULL,
    UNIQUE (endpoint, system_id));
CREATE TABLE IF NOT EXISTS payloads (
    service INTEGER NOT NULL, person BLOB NOT NULL, payload_hash BLOB NOT NULL,
    kind TEXT NOT NULL, institution INTEGER NOT NULL, at INTEGER NOT NULL, run_id TEXT NOT NULL,
    PRIMARY KEY (service, person, payload_hash)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest (
    service INTEGER NOT NULL, person BLOB NOT NULL, grp TEXT NOT NULL,
    registered INTEGER NOT NULL, content_hash BLOB NOT NULL, institution INTEGER NOT NULL,
    accepted_at INTEGER NOT NULL, run_id TEXT NOT NULL,
    PRIMARY KEY (service, person, grp)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS places (
    kind TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (kind, path)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS issues_seen (
    source_name TEXT NOT NULL, digest BLOB NOT NULL, outcome TEXT NOT NULL,
    run_id TEXT NOT NULL, PRIMARY KEY (source_name, digest, outcome)) WITHOUT ROWID;
"""


def migrate_v1(conn: sqlite3.Connection, keys: Pseudonyms) -> None:
    """Schema 1 -> 2 in one transaction: services, pseudonyms, keyed digests."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for column in ("service INTEGER", "counts TEXT", "purged TEXT", "version TEXT"):
            conn.execute(f"ALTER TABLE runs ADD COLUMN {column}")
        conn.execute("DROP INDEX rows_by_cpr")
        conn.execute("DROP INDEX rows_outcome")
        conn.execute("ALTER TABLE rows RENAME TO rows_v1")
        conn.execute("ALTER TABLE latest RENAME TO latest_v1")
        for statement in SCHEMA_V2.split(";"):
            if statement.strip():
                conn.execute(statement)
        _services_of_runs(conn)
        _copy_rows(conn, keys)
        _copy_memory(conn, keys)
        for table in ("rows_v1", "accepted", "latest_v1"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("PRAGMA user_version = 2")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _services_of_runs(conn: sqlite3.Connection) -> None:
    for run_id, settings in conn.execute("SELECT run_id, settings FROM runs").fetchall():
        service = service_of_settings(json.loads(settings))
        conn.execute(
            "INSERT OR IGNORE INTO services (endpoint, system_id) VALUES (?, ?)",
            (service.endpoint, service.system_id),
        )
        conn.execute(
            "UPDATE runs SET service = (SELECT id FROM services WHERE endpoint = ? AND "
            "system_id = ?) WHERE run_id = ?",
            (service.endpoint, service.system_id, run_id),
        )


def _copy_rows(conn: sqlite3.Connection, keys: Pseudonyms) -> None:
    conn.create_function("keyed_person", 1, _or_none(keys.person), deterministic=True)
    conn.create_function("keyed_payload", 1, _or_none(keys.payload), deterministic=True)
    conn.create_function("micros", 1, _micros, deterministic=True)
    conn.execute(
        "INSERT INTO rows SELECT id, run_id, source_file, sheet, source_row, "
        "keyed_payload(payload), keyed_person(cpr), micros(sort_key), status, sent_groups, "
        "outcome, code, attempts, last_attempt FROM rows_v1"
    )
    conn.execute("INSERT INTO row_data SELECT id, cells, payload, text FROM rows_v1")


def _micros(text: str | None) -> int:
    """Schema 1's sort key (UTC ISO text, "" for none) as schema 2's integer."""
    return sort_micros(datetime.fromisoformat(text)) if text else 0


def _or_none(function: Callable[[str], bytes]) -> Callable[[str | None], bytes | None]:
    return lambda text: None if text is None else function(text)


def _copy_memory(conn: sqlite3.Connection, keys: Pseudonyms) -> None:
    """Re-key what schema 1 remembered, from the payloads of the rows that were accepted."""
    payloads: dict[str, bytes] = {}
    groups: dict[tuple[str, str], bytes] = {}  # (cpr, old content hash) -> keyed digest
    for (payload,) in conn.execute("SELECT payload FROM rows_v1 WHERE outcome = 'accepted'"):
        payloads[hashlib.sha256(payload.encode("utf-8")).hexdigest()] = keys.payload(payload)
        report = Report.from_json(payload)
        for group in (report.contact, report.job, report.education):
            if group is not None:
                groups[report.cpr, _v1_group_hash(group)] = keys.group(group)
    for cpr, digest, institution, at, run_id in conn.execute(
        "SELECT cpr, payload_hash, institution, accepted_at, run_id FROM accepted"
    ).fetchall():
        if digest in payloads:
            conn.execute(
                "INSERT OR IGNORE INTO payloads SELECT service, ?, ?, 'accepted', ?, ?, ? "
                "FROM runs WHERE run_id = ?",
                (keys.person(cpr), payloads[digest], institution, iso_micros(at), run_id, run_id),
            )
    for cpr, grp, registered, content, institution, at, run_id in conn.execute(
        "SELECT cpr, grp, registered, content_hash, institution, accepted_at, run_id FROM latest_v1"
    ).fetchall():
        keyed = groups.get((cpr, content)) or keys.payload("v1-content:" + content)
        conn.execute(
            "INSERT OR REPLACE INTO latest SELECT service, ?, ?, ?, ?, ?, ?, ? FROM runs "
            "WHERE run_id = ?",
            (
                keys.person(cpr),
                grp,
                iso_micros(registered),
                keyed,
                institution,
                iso_micros(at),
                run_id,
                run_id,
            ),
        )


def _v1_group_hash(group: Contact | Wish) -> str:
    """Schema 1's unkeyed group hash, to find which group a `latest_v1` entry describes."""
    if isinstance(group, Contact):
        parts: list[object] = ["contact", group.name, group.mail, group.phone]
    else:
        parts = ["wish", group.text]
    parts.append(utc_key(group.registered))
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()
