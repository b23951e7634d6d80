"""Every run's word on the rows of one source file, read-only, for `batch reconcile`.

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

from batch.errors import StateError
from batch.journal._base import JOURNAL_NAME

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["RowVerdict", "verdicts"]


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


def verdicts(state_dir: Path, file_name: str) -> Iterator[RowVerdict]:
    """Every real run's row for `file_name`, oldest run first (dry runs are never recorded)."""
    path = state_dir.expanduser() / JOURNAL_NAME
    if not path.exists():
        return
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise StateError(f"the journal {path} cannot be read: {error}") from error
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
