"""Rows fixed through a Fix sheet: where each came from, and the original rows already fixed.

When a Fix sheet is fed back, each of its rows is linked (`fix_links`) to the row it was made
from in the earlier run: that row's content hash (the hash of its cells as read from the
source, inherited along a chain of fixes) and the text the workbook's Origin column shows
("Fix of export.csv row 12"). When UDB accepts a fixed row, its original's hash goes into
`fixed`. A later run that reads the original, unfixed row again (the same export sent again)
finds its hash there: the row is Unchanged ("fixed on <date>, run <id>"), not Fix again, and
the Summary counts it as fixed here but still wrong in the source system.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from batch.i18n import _
from batch.journal._base import FINAL, cells_text, format_local
from batch.records import Outcome

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Sequence

    from batch.journal._keys import Pseudonyms
    from batch.records import Row

__all__ = [
    "FIXED_CODE",
    "content_hash",
    "fixed_hashes",
    "fixed_text",
    "link_rows",
    "settle_fixes",
    "unless_fixed",
]

FIXED_CODE = "fixed"  # Result code of an original row already fixed through a Fix sheet
RowValues = tuple[tuple[object, ...], tuple[object, ...]]  # `slim_rows`, `row_data` columns


def content_hash(keys: Pseudonyms, cells_json: str) -> bytes:
    """The keyed digest of a row's cells as stored: equal for the same row read again.

    Keyed with the journal's key like every digest of personal data (the cells hold a CPR
    number); the `cells:` prefix keeps it apart from the payload digests.
    """
    return keys.payload("cells:" + cells_json)


def _display(source_file: str, sheet: str | None) -> str:
    """How the workbook's Source file column names an input (see batch.report)."""
    return source_file if sheet is None else f"{source_file} [{sheet}]"


def link_rows(
    conn: sqlite3.Connection,
    run_id: str,
    rows: Sequence[Row],
    fix_of: str | None,
    keys: Pseudonyms,
) -> None:
    """Link each fed-back row of `rows` to its original in run `fix_of` (inside a transaction)."""
    inputs = {}
    if fix_of is not None and any(row.came_from for row in rows):
        found = conn.execute(
            "SELECT DISTINCT source_file, sheet FROM rows WHERE run_id = ?", (fix_of,)
        ).fetchall()
        inputs = {_display(file, sheet): (file, sheet) for file, sheet in found}
    links = []
    for row in rows:
        if row.came_from is None:
            continue
        shown, number, origin = row.came_from
        digest, earlier = _original(conn, fix_of, inputs.get(shown), number, keys)
        text = origin or earlier or _("Fix of {file} row {row}").format(file=shown, row=number)
        links.append((run_id, row.source_file, row.sheet, row.source_row, digest, text))
    conn.executemany(
        "INSERT INTO fix_links (run_id, source_file, sheet, source_row, content_hash, origin) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        links,
    )


def _original(
    conn: sqlite3.Connection,
    fix_of: str | None,
    where: tuple[str, str | None] | None,
    number: int,
    keys: Pseudonyms,
) -> tuple[bytes | None, str | None]:
    """The original's content digest (inherited if it was a fix itself) and its own origin."""
    if fix_of is None or where is None:
        return None, None
    file, sheet = where
    link = conn.execute(
        "SELECT content_hash, origin FROM fix_links WHERE run_id = ? AND source_file = ? AND "
        "sheet IS ? AND source_row = ?",
        (fix_of, file, sheet, number),
    ).fetchone()
    if link is not None:
        return link[0], link[1]
    row = conn.execute(
        "SELECT d.cells, r.cell_names FROM rows r JOIN row_data d ON d.row_id = r.id "
        "WHERE r.run_id = ? AND r.source_file = ? AND r.sheet IS ? AND r.source_row = ?",
        (fix_of, file, sheet, number),
    ).fetchone()
    if row is None or row[0] is None:  # purged or compacted: nothing to recognise it by
        return None, None
    return content_hash(keys, cells_text(row[0], row[1])), None


def settle_fixes(conn: sqlite3.Connection, run_id: str, now: str) -> None:
    """The originals of this run's fixed rows that UDB accepted are fixed (inside a transaction)."""
    conn.execute(
        "INSERT OR IGNORE INTO fixed (content_hash, fixed_at, run_id) "
        "SELECT l.content_hash, ?, l.run_id FROM fix_links l JOIN rows r ON r.run_id = l.run_id "
        "AND r.source_file = l.source_file AND r.sheet IS l.sheet AND r.source_row = l.source_row "
        "WHERE l.run_id = ? AND l.content_hash IS NOT NULL AND r.outcome = 'accepted'",
        (now, run_id),
    )


def fixed_hashes(conn: sqlite3.Connection) -> dict[bytes, tuple[str, str]]:
    """Every original already fixed: content digest -> (when, by which run)."""
    found = conn.execute("SELECT content_hash, fixed_at, run_id FROM fixed").fetchall()
    return {bytes(digest): (at, run) for digest, at, run in found}


def fixed_text(fixed_at: str, run_id: str) -> str:
    """The Result text of an original row met again after it was fixed."""
    day = format_local(datetime.fromisoformat(fixed_at))
    return _(
        "Fixed on {date} through the Fix sheet (run {run}) and accepted by UDB; this row is still "
        "wrong in the source system: correct it there."
    ).format(date=day, run=run_id)


def unless_fixed(
    values: list[RowValues],
    cells: Iterable[str],
    fixed: dict[bytes, tuple[str, str]],
    keys: Pseudonyms,
) -> list[RowValues]:
    """Rows to insert (`row_values`), an original already fixed made Unchanged.

    `cells` are the rows' cells as `dump_cells` writes them, in the order of `values`.
    `slim_rows` columns end in sort key, status, outcome, code; `row_data` is (row id, cells,
    payload, text, fix cells): an Unchanged row has no cells to fix, and is no longer sorted.
    """
    if not fixed:
        return values
    marked = []
    for (slim, data), text in zip(values, cells, strict=True):
        found = fixed.get(content_hash(keys, text))
        if found is None:
            marked.append((slim, data))
            continue
        unchanged = (*slim[:-4], None, FINAL, Outcome.UNCHANGED.value, FIXED_CODE)
        marked.append((unchanged, (*data[:3], fixed_text(*found), None)))
    return marked
