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

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from batch.i18n import _
from batch.journal._base import InputInfo, load_cells
from batch.records import Outcome, RowResult

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Sequence

    from batch.records import Row

__all__ = [
    "FIXED_CODE",
    "RESULTS_PAGE",
    "content_hash",
    "fixed_hashes",
    "fixed_text",
    "input_info",
    "link_rows",
    "result_of",
    "settle_fixes",
    "unless_fixed",
]

_DANISH = ZoneInfo("Europe/Copenhagen")
FIXED_CODE = "fixed"  # Result code of an original row already fixed through a Fix sheet


def content_hash(cells_json: str) -> str:
    """The hash of a row's cells as stored (`dump_cells`): equal for the same row read again."""
    return hashlib.sha256(cells_json.encode("utf-8")).hexdigest()


def _display(source_file: str, sheet: str | None) -> str:
    """How the workbook's Source file column names an input (see batch.report)."""
    return source_file if sheet is None else f"{source_file} [{sheet}]"


def link_rows(
    conn: sqlite3.Connection, run_id: str, rows: Sequence[Row], fix_of: str | None
) -> None:
    """Link each fed-back row of `rows` to its original in run `fix_of` (inside a transaction)."""
    inputs = {}
    if fix_of is not None:
        found = conn.execute(
            "SELECT DISTINCT source_file, sheet FROM rows WHERE run_id = ?", (fix_of,)
        ).fetchall()
        inputs = {_display(file, sheet): (file, sheet) for file, sheet in found}
    links = []
    for row in rows:
        if row.came_from is None:
            continue
        shown, number, origin = row.came_from
        digest, earlier = _original(conn, fix_of, inputs.get(shown), number)
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
) -> tuple[str | None, str | None]:
    """The original's content hash (inherited if it was a fix itself) and its own origin."""
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
        "SELECT cells FROM rows WHERE run_id = ? AND source_file = ? AND sheet IS ? AND "
        "source_row = ?",
        (fix_of, file, sheet, number),
    ).fetchone()
    return (None, None) if row is None else (content_hash(row[0]), None)


def settle_fixes(conn: sqlite3.Connection, run_id: str, now: str) -> None:
    """The originals of this run's fixed rows that UDB accepted are fixed (inside a transaction)."""
    conn.execute(
        "INSERT OR IGNORE INTO fixed (content_hash, fixed_at, run_id) "
        "SELECT l.content_hash, ?, l.run_id FROM fix_links l JOIN rows r ON r.run_id = l.run_id "
        "AND r.source_file = l.source_file AND r.sheet IS l.sheet AND r.source_row = l.source_row "
        "WHERE l.run_id = ? AND l.content_hash IS NOT NULL AND r.outcome = 'accepted'",
        (now, run_id),
    )


def fixed_hashes(conn: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    """Every original already fixed: content hash -> (when, by which run)."""
    found = conn.execute("SELECT content_hash, fixed_at, run_id FROM fixed").fetchall()
    return {digest: (at, run) for digest, at, run in found}


def fixed_text(fixed_at: str, run_id: str) -> str:
    """The Result text of an original row met again after it was fixed."""
    return _(
        "Fixed on {date} through the Fix sheet (run {run}) and accepted by UDB; this row is still "
        "wrong in the source system: correct it there."
    ).format(date=datetime.fromisoformat(fixed_at).astimezone(_DANISH).date(), run=run_id)


# One page of a sheet's rows, each with its origin when it came through a Fix sheet. Rows not
# yet final (a run under way, read by `batch report`) are Retry, as `Journal.counts` counts them.
RESULTS_PAGE = (
    "SELECT id, source_file, source_row, cells, code, text, attempts, last_attempt, sheet, "
    "payload, (SELECT origin FROM fix_links l WHERE l.run_id = rows.run_id AND "
    "l.source_file = rows.source_file AND l.sheet IS rows.sheet AND "
    "l.source_row = rows.source_row) FROM rows WHERE run_id = ? AND (outcome = ? OR "
    "(outcome IS NULL AND ? = 'retry')) AND id > ? ORDER BY id LIMIT ?"
)


def result_of(outcome: Outcome, row: Sequence[Any]) -> RowResult:
    """A row of `RESULTS_PAGE` as the workbook shows it."""
    _row_id, file, number, cells, code, text, tries, last, sheet, payload, origin = row
    extra: dict[str, Any] = {}
    if outcome is Outcome.READY and payload:  # a dry run shows what would be sent
        extra["payload"] = payload
    if origin:
        extra["origin"] = origin
    return RowResult(
        source_file=file,
        source_row=number,
        cells=load_cells(cells),
        outcome=outcome,
        code=code,
        text=text,
        attempts=tries,
        last_attempt=None if last is None else datetime.fromisoformat(last),
        sheet=sheet,
        extra=extra,
    )


def unless_fixed(
    values: list[tuple[object, ...]], fixed: dict[str, tuple[str, str]]
) -> list[tuple[object, ...]]:
    """Rows to insert (`row_values`), an original already fixed made Unchanged with its story."""
    if not fixed:
        return values
    marked = []
    for value in values:
        found = fixed.get(content_hash(str(value[4])))
        if found is not None:
            value = (*value[:9], "final", Outcome.UNCHANGED.value, FIXED_CODE, fixed_text(*found))  # noqa: PLW2901
        marked.append(value)
    return marked


def input_info(
    source_file: str, sheet: str | None, columns: list[str] | dict[str, Any], rows: int, blank: int
) -> InputInfo:
    """An input's record from its stored columns (the `headers` JSON)."""
    # Journals written before `fields` was kept hold the bare header list.
    if isinstance(columns, list):
        return InputInfo(source_file, sheet, columns, rows, blank)
    return InputInfo(
        source_file,
        sheet,
        columns["headers"],
        rows,
        blank,
        columns["fields"],
        columns.get("notes", {}),
    )
