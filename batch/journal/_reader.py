"""The journal opened to read only, without its lock, beside a run that holds it.

For `batch status` and `batch report` while a run holds the state directory, and for looking
up a fed-back Fix sheet's run before a run starts.

SQLite in WAL mode lets readers work beside the one writer: each read transaction sees the
database as of its start, whatever the writer commits meanwhile. `snapshot()` holds one read
transaction around several queries, so that a status table or a workbook is one consistent
moment of a run under way (its counts add up). The connection is opened `mode=ro`: nothing
here can change the journal, not even by mistake.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import TYPE_CHECKING

from batch.errors import JournalLockedError, StateError
from batch.i18n import _
from batch.journal._base import JOURNAL_NAME, InputInfo
from batch.journal._ingest import first_row_columns
from batch.journal._journal import Journal
from batch.journal._keys import Pseudonyms
from batch.journal._schema import SCHEMA_VERSION, schema_version

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["open_read_only", "snapshot", "unrecorded_inputs", "upgrade_older"]


def open_read_only(state_dir: Path) -> Journal:
    """The journal in `state_dir`, read-only and unlocked; `StateError` if there is none.

    A journal of an older schema (batch upgraded, nothing run since) is migrated first, under
    its lock, as any command that takes the lock would: its queries are this schema's. One of
    a newer schema is refused, as `Journal.open` refuses it.
    """
    path = state_dir.expanduser() / JOURNAL_NAME
    if not path.is_file():
        raise StateError(
            _("there is no journal in {folder} yet: nothing has been run there").format(
                folder=state_dir
            )
        )
    upgrade_older(state_dir)
    conn = _connect(path)
    if schema_version(conn, path) < SCHEMA_VERSION:  # a newer one is refused there
        conn.close()
        message = _("the journal {path} is being upgraded by the run that holds it; try again")
        raise StateError(message.format(path=path))
    try:
        handle = os.open(path, os.O_RDONLY)  # closed with the journal, in place of a lock
    except OSError as exc:
        conn.close()
        raise _unreadable(path, exc) from exc
    # Reading needs no key: the digests are only compared by the run that holds the lock.
    return Journal(path, conn, handle, Pseudonyms(b""))


def upgrade_older(state_dir: Path) -> None:
    """Migrate a journal of an older schema now, under its lock, unless a run holds it.

    For the readers that go without the lock (the memory `batch validate` reads, `batch
    reconcile`, the web app's Check page): their queries are this schema's. A run that holds
    the lock migrated the journal when it opened it. A journal not there, current or newer is
    left as it is.
    """
    path = state_dir.expanduser() / JOURNAL_NAME
    if not path.is_file():
        return
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
    except sqlite3.Error:
        return  # not a journal: its readers say so
    finally:
        conn.close()
    if 0 < version < SCHEMA_VERSION:
        with contextlib.suppress(JournalLockedError):
            Journal.open(state_dir).close()


def _connect(path: Path) -> sqlite3.Connection:
    """A read-only connection to the journal at `path`, checked to be one."""
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
            timeout=30,
        )
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from exc
    try:
        conn.execute("SELECT COUNT(*) FROM runs").fetchone()
    except sqlite3.Error as exc:
        conn.close()
        raise _unreadable(path, exc) from exc
    return conn


def _unreadable(path: Path, error: object) -> StateError:
    return StateError(
        _("the journal {path} cannot be read ({error})").format(path=path, error=error)
    )


@contextlib.contextmanager
def snapshot(journal: Journal) -> Iterator[Journal]:
    """One read transaction: every query inside sees the same moment of the journal."""
    conn = journal._conn  # noqa: SLF001 - the journal's own package
    conn.execute("BEGIN")
    try:
        yield journal
    finally:
        conn.execute("COMMIT")


def unrecorded_inputs(journal: Journal, run_id: str) -> list[InputInfo]:
    """Inputs of a run under way that are still being read: their rows so far, in memory.

    A run records an input when it has read it; a workbook of the run written meanwhile (read
    only, so nothing can be recorded) counts the rows read so far, so that its sheets add up.
    """
    found = journal._query(  # noqa: SLF001 - the journal's own package
        "SELECT source_file, sheet, COUNT(*), MIN(id) FROM rows WHERE run_id = ? AND NOT "
        "EXISTS (SELECT 1 FROM inputs i WHERE i.run_id = rows.run_id AND "
        "i.source_file = rows.source_file AND i.sheet IS rows.sheet) "
        "GROUP BY source_file, sheet ORDER BY MIN(id)",
        (run_id,),
    )
    inputs = []
    for source_file, sheet, count, first_id in found:
        names = first_row_columns(journal._query, first_id)  # noqa: SLF001
        inputs.append(InputInfo(source_file, sheet, names, count, 0))
    return inputs
