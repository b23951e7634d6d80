"""Ingesting a chunk of rows: their slim records, their data in clear, and their sources.

Every input (file, or sheet of a workbook) of a run is one record in `sources`, made when its
first row arrives, with the row's column names; a row whose columns are those stores its cells
as a list of values (see `_base.pack_cells`). Valid rows are `pending` with their payload;
unsendable ones are final at once (Fix or Drop) with the texts and the cells to fix; an original
already fixed through a Fix sheet is Unchanged at once (see `_fixes`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from batch.i18n import N_, _
from batch.journal._base import FINAL, PENDING, pack_cells, sort_micros, stored_text
from batch.journal._fixes import link_rows, unless_fixed
from batch.records import Outcome

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Sequence

    from batch.journal._keys import Pseudonyms
    from batch.records import Row

__all__ = ["first_row_columns", "insert_rows", "row_values"]

_UNREADABLE = N_("The row could not be read.")
Source = tuple[int, list[str]]  # id in `sources`, column names


def insert_rows(  # noqa: PLR0917 - a run's rows with what they are ingested against
    conn: sqlite3.Connection,
    run: tuple[str, int],
    rows: Sequence[Row],
    keys: Pseudonyms,
    fixed: dict[bytes, tuple[str, str]],
    fix_of: str | None,
) -> None:
    """Insert `rows` of run `run` (id, number) inside the caller's transaction."""
    run_id, number = run
    (first,) = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM slim_rows").fetchone()
    sources: dict[tuple[str, str | None], Source] = {}
    values = [
        row_values(first + n, number, _source(conn, sources, number, row), row, keys)
        for n, row in enumerate(rows)
    ]
    values = unless_fixed(values, rows, fixed, keys)
    link_rows(conn, run_id, rows, fix_of, keys)
    conn.executemany(
        "INSERT INTO slim_rows (id, run, source, source_row, payload_hash, person, sort_key, "
        "status, outcome, code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [slim for slim, _data in values],
    )
    conn.executemany(
        "INSERT INTO row_data (row_id, cells, payload, text, fix_cells) VALUES (?, ?, ?, ?, ?)",
        [data for _slim, data in values],
    )


def _source(
    conn: sqlite3.Connection, known: dict[tuple[str, str | None], Source], run: int, row: Row
) -> Source:
    """The row's input in `sources`, made with the row's column names when it is the first."""
    key = (row.source_file, row.sheet)
    if key in known:
        return known[key]
    found = conn.execute(
        "SELECT id, headers FROM sources WHERE run = ? AND source_file = ? AND sheet IS ?",
        (run, *key),
    ).fetchone()
    if found is not None:
        known[key] = (int(found[0]), json.loads(found[1]) if found[1] else [])
        return known[key]
    names = list(row.cells)
    cursor = conn.execute(
        "INSERT INTO sources (run, source_file, sheet, headers) VALUES (?, ?, ?, ?)",
        (run, *key, json.dumps(names, ensure_ascii=False)),
    )
    known[key] = (int(cursor.lastrowid or 0), names)
    return known[key]


def _fix_cells(row: Row) -> str | None:
    """The columns the row's issues name, each with its messages, as JSON (None: no column)."""
    cells: dict[str, str] = {}
    for issue in row.issues:
        if issue.column is not None:
            before = cells.get(issue.column)
            cells[issue.column] = issue.message if before is None else f"{before} {issue.message}"
    return json.dumps(cells, ensure_ascii=False) if cells else None


def row_values(
    row_id: int, run: int, source: Source, row: Row, keys: Pseudonyms
) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """The `slim_rows` and `row_data` columns of one row; in `slim_rows` the CPR is a pseudonym.

    A dry run's valid rows are pending too: `batch.submit.plan_dry_run` decides which are ready,
    as a run decides what to send.
    """
    source_id, names = source
    cells = pack_cells(row.cells, names)
    where = (row_id, run, source_id, row.source_row)
    report = row.report
    if report is None:
        hard = any(issue.hard for issue in row.issues)
        outcome = Outcome.DROP if hard else Outcome.FIX
        code = ", ".join(issue.shown_code for issue in row.issues) or "invalid"
        text = " ".join(issue.message for issue in row.issues) or _(_UNREADABLE)
        fix_cells = _fix_cells(row)
        data = (row_id, cells, None, stored_text(text, fix_cells), fix_cells)
        return (*where, None, None, None, FINAL, outcome.value, code), data
    payload = report.to_json()
    latest = report.latest_registration()
    sort_key = 0 if latest is None else sort_micros(latest)
    keyed = (*where, keys.payload(payload), keys.person(report.cpr), sort_key)
    return (*keyed, PENDING, None, None), (row_id, cells, payload, None, None)


def first_row_columns(
    query: Callable[[str, Sequence[object]], list[Any]], row_id: int
) -> list[str]:
    """The column names of the input of row `row_id`: its source's, else the row's own cells.

    For an input whose reading a kill cut short (it has rows but no input record).
    """
    found = query(
        "SELECT r.cell_names, d.cells FROM rows r LEFT JOIN row_data d ON d.row_id = r.id "
        "WHERE r.id = ?",
        (row_id,),
    )
    if not found:
        return []
    names, cells = found[0]
    if names:
        return list(json.loads(names))
    return list(json.loads(cells)) if cells and cells.startswith("{") else []
