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

import numpy as np

from batch.i18n import N_, _
from batch.intake.batch import RowBatch
from batch.journal._base import FINAL, PENDING, dump_cells, pack_cells, sort_micros, stored_text
from batch.journal._columnar import cells_json, payloads
from batch.journal._fixes import link_rows, unless_fixed
from batch.records import Outcome

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Iterable, Sequence

    from batch.journal._fixes import RowValues
    from batch.journal._keys import Pseudonyms
    from batch.records import Issue, Row

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
    """Insert `rows` of run `run` (id, number) inside the caller's transaction.

    A `RowBatch` is inserted from its columns (`batch.journal._columnar`), with no `Row`
    built but for the rows of a fed-back Fix sheet; any other sequence row by row.
    """
    if isinstance(rows, RowBatch):
        _insert_batch(conn, run, rows, keys, fixed, fix_of)
        return
    run_id, number = run
    first = _next_id(conn)
    sources: dict[tuple[str, str | None], Source] = {}
    values = [
        row_values(
            first + n,
            number,
            _source(conn, sources, number, row.source_file, row.sheet, row.cells),
            row,
            keys,
        )
        for n, row in enumerate(rows)
    ]
    values = unless_fixed(values, (dump_cells(row.cells) for row in rows), fixed, keys)
    link_rows(conn, run_id, rows, fix_of, keys)
    _insert(conn, values)


def _insert_batch(  # noqa: PLR0917 - as `insert_rows`
    conn: sqlite3.Connection,
    run: tuple[str, int],
    batch: RowBatch,
    keys: Pseudonyms,
    fixed: dict[bytes, tuple[str, str]],
    fix_of: str | None,
) -> None:
    """`insert_rows` of a batch: the same values, made column by column."""
    if not batch:
        return
    run_id, number = run
    source = _source(conn, {}, number, batch.source_file, batch.sheet, batch.headers)
    as_object = source[1] != list(batch.headers)  # its input recorded with other columns
    cells = cells_json(batch, as_object=as_object)
    values = _batch_values((_next_id(conn), number), source[0], batch, cells, keys)
    if fixed:
        objects = cells if as_object else cells_json(batch, as_object=True)
        values = unless_fixed(values, objects, fixed, keys)
    if batch.came_from is not None:
        came = [index for index, origin in enumerate(batch.came_from) if origin is not None]
        link_rows(conn, run_id, [batch[index] for index in came], fix_of, keys)
    _insert(conn, values)


def _batch_values(
    ids: tuple[int, int], source_id: int, batch: RowBatch, cells: list[str], keys: Pseudonyms
) -> list[RowValues]:
    """`row_values` of each row of `batch` (the first id, the run's number), from columns."""
    first, number = ids
    ready = np.flatnonzero(batch.sendable())
    payload_texts, sort_keys = payloads(batch, ready)
    cprs = batch.text["CPRNr"].iloc[ready].tolist()
    values: list[RowValues | None] = [None] * len(batch)
    for index, issues in enumerate(batch.issues):
        if issues:
            where = (first + index, number, source_id, batch.numbers[index])
            values[index] = _final_values(where, cells[index], issues)
    people: dict[str, bytes] = {}
    for index, payload, cpr, sort_key in zip(
        ready.tolist(), payload_texts, cprs, sort_keys, strict=True
    ):
        person = people.get(cpr)
        if person is None:
            person = people[cpr] = keys.person(cpr)
        row_id = first + index
        slim = (row_id, number, source_id, batch.numbers[index], keys.payload(payload), person)
        values[index] = (
            (*slim, sort_key, PENDING, None, None),
            (row_id, cells[index], payload, None, None),
        )
    return [value for value in values if value is not None]  # every row is filled above


def _next_id(conn: sqlite3.Connection) -> int:
    (first,) = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM slim_rows").fetchone()
    return int(first)


def _insert(conn: sqlite3.Connection, values: list[RowValues]) -> None:
    conn.executemany(
        "INSERT INTO slim_rows (id, run, source, source_row, payload_hash, person, sort_key, "
        "status, outcome, code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [slim for slim, _data in values],
    )
    conn.executemany(
        "INSERT INTO row_data (row_id, cells, payload, text, fix_cells) VALUES (?, ?, ?, ?, ?)",
        [data for _slim, data in values],
    )


def _source(  # noqa: PLR0917 - the input's key and its column names
    conn: sqlite3.Connection,
    known: dict[tuple[str, str | None], Source],
    run: int,
    source_file: str,
    sheet: str | None,
    columns: Iterable[str],
) -> Source:
    """The input in `sources`, made with `columns` as its column names when it is the first."""
    key = (source_file, sheet)
    if key in known:
        return known[key]
    found = conn.execute(
        "SELECT id, headers FROM sources WHERE run = ? AND source_file = ? AND sheet IS ?",
        (run, *key),
    ).fetchone()
    if found is not None:
        known[key] = (int(found[0]), json.loads(found[1]) if found[1] else [])
        return known[key]
    names = list(columns)
    cursor = conn.execute(
        "INSERT INTO sources (run, source_file, sheet, headers) VALUES (?, ?, ?, ?)",
        (run, *key, json.dumps(names, ensure_ascii=False)),
    )
    known[key] = (int(cursor.lastrowid or 0), names)
    return known[key]


def _fix_cells(issues: Sequence[Issue]) -> str | None:
    """The columns the row's issues name, each with its messages, as JSON (None: no column)."""
    cells: dict[str, str] = {}
    for issue in issues:
        if issue.column is not None:
            before = cells.get(issue.column)
            cells[issue.column] = issue.message if before is None else f"{before} {issue.message}"
    return json.dumps(cells, ensure_ascii=False) if cells else None


def _final_values(
    where: tuple[int, int, int, int], cells: str, issues: Sequence[Issue]
) -> RowValues:
    """The values of a row that cannot be sent: final at once, in Fix or (a hard issue) Drop."""
    hard = any(issue.hard for issue in issues)
    outcome = Outcome.DROP if hard else Outcome.FIX
    code = ", ".join(issue.shown_code for issue in issues) or "invalid"
    text = " ".join(issue.message for issue in issues) or _(_UNREADABLE)
    fix_cells = _fix_cells(issues)
    data = (where[0], cells, None, stored_text(text, fix_cells), fix_cells)
    return (*where, None, None, None, FINAL, outcome.value, code), data


def row_values(row_id: int, run: int, source: Source, row: Row, keys: Pseudonyms) -> RowValues:
    """The `slim_rows` and `row_data` columns of one row; in `slim_rows` the CPR is a pseudonym.

    A dry run's valid rows are pending too: `batch.submit.plan_dry_run` decides which are ready,
    as a run decides what to send.
    """
    source_id, names = source
    cells = pack_cells(row.cells, names)
    where = (row_id, run, source_id, row.source_row)
    report = row.report
    if report is None:
        return _final_values(where, cells, row.issues)
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
