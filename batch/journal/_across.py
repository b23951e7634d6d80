"""The journal read-only: a file's rows across runs, and the memory of what UDB answered.

Every run's word on a file's rows is for `batch reconcile`, the memory for `batch validate`;
loading the memory for a page of CPRs is shared with the `Journal`.

A separate read-only connection (SQLite's `mode=ro`), without the state directory's lock: a
reconciliation may be made while tonight's run is still sending, and it never writes. A row
whose run is still going (or died) has no outcome yet; the caller reads that as not yet sent.
Rows are matched to the file by its name (the runs record the path as it was given, which may
have been relative to another folder), the sheet and the row number.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch.closing import Closing
from batch.errors import StateError
from batch.i18n import N_, _
from batch.journal._base import JOURNAL_NAME, row_text
from batch.journal._fixes import fixed_hashes
from batch.journal._keys import KEY_NAME, KEY_SIZE, Pseudonyms
from batch.journal._memory import histories
from batch.journal._reader import upgrade_older
from batch.journal._schema import SCHEMA_VERSION
from batch.journal._services import SIMULATOR, Service

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

    from batch.journal._base import CprHistory

__all__ = ["MemoryReader", "RowVerdict", "fixed_originals", "service_for", "verdicts"]


_UNREADABLE = N_("the journal {path} cannot be read ({error})")


@dataclass(frozen=True, slots=True)
class RowVerdict:
    """What one run made of one row of the file."""

    sheet: str | None
    source_row: int
    run_id: str
    outcome: str | None  # None: not final (the run is going, or died before closing it)
    code: str | None
    text: str | None
    last_attempt: str | None  # ISO UTC


def _read_only(state_dir: Path) -> sqlite3.Connection | None:
    """A read-only connection to the journal, without its lock; None when there is none.

    A journal of an older schema is migrated first when no run holds it (`upgrade_older`).
    """
    path = state_dir.expanduser() / JOURNAL_NAME
    if not path.exists():
        return None
    upgrade_older(state_dir)
    try:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error as error:
        raise StateError(_(_UNREADABLE).format(path=path, error=error)) from error


def verdicts(state_dir: Path, file_name: str) -> Iterator[RowVerdict]:
    """Every real run's row for `file_name`, oldest run first (dry runs are never recorded)."""
    conn = _read_only(state_dir)
    if conn is None:
        return
    with contextlib.closing(conn):
        cursor = conn.execute(
            "SELECT r.sheet, r.source_row, r.run_id, r.outcome, r.code, d.text, r.last_attempt, "
            "d.fix_cells "
            "FROM rows r JOIN runs u ON u.run_id = r.run_id "
            "LEFT JOIN row_data d ON d.row_id = r.id "
            "WHERE u.dry_run = 0 AND (r.source_file = ? OR r.source_file LIKE ? ESCAPE '\\') "
            "ORDER BY u.started, r.id",
            (file_name, "%/" + _escaped(file_name)),
        )
        for sheet, source_row, run_id, outcome, code, text, last, fix_cells in cursor:
            said = row_text(text, fix_cells)
            yield RowVerdict(sheet, source_row, run_id, outcome, code, said, last)


def _escaped(name: str) -> str:
    return name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def fixed_originals(state_dir: Path) -> dict[bytes, tuple[str, str]]:
    """The originals fixed through a Fix sheet and accepted, for `batch validate`'s journal.

    Read like the memory: no lock, no write; a journal not there yet, or one from before the
    Fix sheet was remembered, knows none.
    """
    conn = _read_only(state_dir)
    if conn is None:
        return {}
    with contextlib.closing(conn):
        try:
            return fixed_hashes(conn)
        except sqlite3.Error:  # no `fixed` table yet
            return {}


class MemoryReader(Closing):
    """The memory of one service in a state directory, read-only, for `batch validate`.

    Never takes the lock and never writes (not even a missing key): a journal, a key or a
    service not there yet reads as an empty memory. The dry run's own journal uses the same key
    (the pipeline copies it), so its rows' digests are the ones this memory holds.
    """

    def __init__(self, state_dir: Path, service: Service | None) -> None:
        self._conn = _read_only(state_dir)
        self._keys = _key(state_dir)
        self._service: int | None = None
        if self._conn is not None and self._keys is not None:
            self._service = _service_id(self._conn, service)

    def __call__(self, persons: Sequence[bytes]) -> dict[bytes, CprHistory]:
        """The memory for `persons` (pseudonyms)."""
        if self._conn is None or self._keys is None or self._service is None:
            return {}
        return histories(self._conn, self._service, persons, self._keys)

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _key(state_dir: Path) -> Pseudonyms | None:
    try:
        key = (state_dir.expanduser() / KEY_NAME).read_bytes()
    except OSError:
        return None
    return Pseudonyms(key) if len(key) == KEY_SIZE else None


def _service_id(conn: sqlite3.Connection, service: Service | None) -> int | None:
    """The service's id; None for a service never used. `None` asks: the last run's service."""
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version != SCHEMA_VERSION:  # a run is migrating it, or a newer batch wrote it
            return None
        if service is not None:
            found = conn.execute(
                "SELECT id FROM services WHERE endpoint = ? AND system_id = ?",
                (service.endpoint, service.system_id),
            ).fetchone()
        else:
            found = conn.execute(
                "SELECT service FROM runs WHERE dry_run = 0 AND service IS NOT NULL "
                "ORDER BY started DESC LIMIT 1"
            ).fetchone()
    except sqlite3.Error:  # a journal of an older schema: nothing to read the memory with
        return None
    return None if found is None else int(found[0])


def service_for(settings: Mapping[str, object]) -> Service | None:
    """The service a run with `settings` would use, as far as it is known without the WSDL.

    The endpoint setting names it; no WSDL and no endpoint is the built-in simulator; a WSDL
    alone names its address only once loaded, so the last run's service stands for it (None).
    """
    system_id = str(settings.get("system_id") or "")
    endpoint, wsdl = settings.get("endpoint"), settings.get("wsdl")
    if endpoint is not None:
        return Service.at(str(endpoint), system_id)
    if wsdl is None:
        return Service(SIMULATOR, system_id)
    return None
