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
from batch.journal._base import JOURNAL_NAME, CprHistory, GroupState

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path
    from typing import Any

__all__ = ["MemoryReader", "RowVerdict", "count_requests", "load_histories", "verdicts"]


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
    """A read-only connection to the journal, without its lock; None when there is none."""
    path = state_dir.expanduser() / JOURNAL_NAME
    if not path.exists():
        return None
    try:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error as error:
        raise StateError(f"the journal {path} cannot be read: {error}") from error


def verdicts(state_dir: Path, file_name: str) -> Iterator[RowVerdict]:
    """Every real run's row for `file_name`, oldest run first (dry runs are never recorded)."""
    conn = _read_only(state_dir)
    if conn is None:
        return
    with contextlib.closing(conn):
        cursor = conn.execute(
            "SELECT r.sheet, r.source_row, r.run_id, r.outcome, r.code, r.text, r.last_attempt "
            "FROM rows r JOIN runs u ON u.run_id = r.run_id "
            "WHERE u.dry_run = 0 AND (r.source_file = ? OR r.source_file LIKE ? ESCAPE '\\') "
            "ORDER BY u.started, r.id",
            (file_name, "%/" + _escaped(file_name)),
        )
        for row in cursor:
            yield RowVerdict(*row)


def _escaped(name: str) -> str:
    return name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def load_histories(
    query: Callable[[str, Sequence[object]], list[Any]], cprs: Sequence[str]
) -> dict[str, CprHistory]:
    """What UDB accepted (and rejected for good) for each of `cprs`."""
    histories: dict[str, CprHistory] = {}
    marks = ", ".join("?" * len(cprs))
    for cpr, digest, at, run_id in query(
        f"SELECT cpr, payload_hash, accepted_at, run_id FROM accepted WHERE cpr IN ({marks})",  # noqa: S608
        cprs,
    ):
        histories.setdefault(cpr, CprHistory()).accepted[digest] = (at, run_id)
    for cpr, grp, *state in query(
        "SELECT cpr, grp, registered, content_hash, institution, accepted_at, run_id "  # noqa: S608
        f"FROM latest WHERE cpr IN ({marks})",
        cprs,
    ):
        histories.setdefault(cpr, CprHistory()).latest[grp] = GroupState(*state)
    for cpr, digest, at, run_id, code in query(
        f"SELECT cpr, payload_hash, at, run_id, code FROM rejected WHERE cpr IN ({marks})",  # noqa: S608
        cprs,
    ):
        histories.setdefault(cpr, CprHistory()).rejected[digest] = (at, run_id, code)
    return histories


class MemoryReader(Closing):
    """The memory of a state directory, read-only, for `batch validate`; never takes the lock.

    A journal not there yet, or written before rejections were remembered, reads as empty.
    """

    def __init__(self, state_dir: Path) -> None:
        self._conn = _read_only(state_dir)
        if self._conn is not None and not self._has_memory(self._conn):
            self._conn.close()
            self._conn = None

    @staticmethod
    def _has_memory(conn: sqlite3.Connection) -> bool:
        names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        return {"accepted", "latest", "rejected"} <= names

    def __call__(self, cprs: Sequence[str]) -> dict[str, CprHistory]:
        """The memory for `cprs`."""
        conn = self._conn
        if conn is None:
            return {}
        return load_histories(lambda sql, params: conn.execute(sql, params).fetchall(), cprs)

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def count_requests(query: Callable[[str, Sequence[object]], list[Any]], run_id: str) -> int:
    """Requests a run sent: its rows' attempts, retries included."""
    ((count,),) = query(
        "SELECT COUNT(*) FROM attempts a JOIN rows r ON r.id = a.row_id WHERE r.run_id = ?",
        (run_id,),
    )
    return int(count)
