"""The checked rows of one upload in a small SQLite file, so the grid pages by a query.

The rows come from the intake exactly as `batch validate` reads them (`open_input` -> `Row`s
with their issues, and a `Report` when they can be sent). A cell the user edits is kept in
`edits` and its row is validated again through the intake's own functions (`revalidate`), so
the web app has no validator of its own. Whether UDB already holds a ready row is the journal's
call (`batch.journal.peek_plans`), read without taking its lock.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

import pandas as pd

from batch.i18n import current_language
from batch.intake import InputFile, InputOptions, open_input
from batch.intake.columns import map_columns, unique_headers
from batch.intake.table import RawChunk, Table
from batch.journal import dump_cells, load_cells, peek_unchanged
from batch.records import Report, Row

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from pathlib import Path

    from batch.records import CellValue

__all__ = ["STATUSES", "CheckedRows", "Edits", "Summary", "edited", "row_status", "shown_values"]

Edits = dict[int, dict[str, str | None]]  # row number -> header -> the user's text
STATUSES = ("ready", "fix", "drop", "unchanged", "accepted", "retry")
DB = "rows.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    n INTEGER PRIMARY KEY, status TEXT NOT NULL, cells TEXT NOT NULL, issues TEXT NOT NULL,
    report TEXT, note TEXT);
CREATE INDEX IF NOT EXISTS rows_status ON rows (status, n);
CREATE INDEX IF NOT EXISTS rows_order ON rows (n);
CREATE TABLE IF NOT EXISTS edits (
    n INTEGER NOT NULL, header TEXT NOT NULL, value TEXT, PRIMARY KEY (n, header));
"""


@dataclass(frozen=True, slots=True)
class Summary:
    """What the Check page says about an upload: its columns and rows per status."""

    source_file: str
    sheet: str | None
    headers: tuple[str, ...]
    fields: dict[str, str]  # header -> field, the mapped columns only
    counts: dict[str, int]
    blank: int
    language: str = ""  # the language the rows' messages were written in ("" before it was kept)
    complete: bool = True  # False while the rows are still being read and checked


def row_status(row: Row) -> str:
    """ready, or fix/drop for a row that cannot be sent (a hard issue means drop)."""
    if row.report is not None:
        return "ready"
    return "drop" if any(issue.hard for issue in row.issues) else "fix"


def shown_values(
    cells: Mapping[str, CellValue], report: Report | None, fields: Mapping[str, str]
) -> dict[str, str]:
    """Each cell as the grid shows it: what would be sent for a ready row, else as written.

    Worked out per page shown, not when the rows are read: 50 rows, not 20,000.
    """
    sent = _report_fields(report) if report is not None else {}
    shown: dict[str, str] = {}
    for header, value in cells.items():
        field = fields.get(header)
        if field is not None and report is not None:
            shown[header] = sent.get(field, "")
        else:
            shown[header] = _text(value)
    return shown


def _text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    return str(value)


def _report_fields(report: Report) -> dict[str, str]:
    values = {
        "CPRNr": report.cpr,
        "KommuneInstitutionNummer": str(report.institution),
        "ModtagerSystemID": report.system_id,
    }
    if report.contact is not None:
        contact = report.contact
        values["KontaktNavn"] = contact.name
        values["KontaktMail"] = contact.mail
        values["KontaktTelefon"] = "" if contact.phone is None else str(contact.phone)
        values["KontaktRegistreringstid"] = _text(contact.registered)
    for prefix, wish in (("Job", report.job), ("Uddannelses", report.education)):
        if wish is not None:
            values[f"{prefix}Onsker"] = wish.text
            values[f"{prefix}Registreringstid"] = _text(wish.registered)
    return values


def revalidate(row: Row, cells: dict[str, CellValue], options: InputOptions) -> Row:
    """`row` with `cells`, validated again by the intake as if it were a one-row file."""
    headers = tuple(cells)
    values = [pd.Series([cells[header]], dtype=object) for header in headers]
    chunk = RawChunk(rows=[row.source_row], columns=values, overlong=frozenset(), blank=0)
    table = Table(row.source_file, row.sheet, 1, headers, 0, lambda _size: iter([chunk]))
    columns = map_columns(
        unique_headers(headers),
        options.mapping,
        institution_configured=options.institution is not None,
        source=row.source_file,
    )
    (again,) = next(InputFile(table, columns, options).chunks(datetime.now(UTC)))
    return again


class CheckedRows:
    """`rows.sqlite3` of one upload folder."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / DB
        if not self.path.exists():
            self.path.touch(mode=0o600)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def built(self) -> bool:
        """The rows have been read (a summary is stored)."""
        return self._fact("summary") is not None

    def _fact(self, key: str) -> Any:  # noqa: ANN401 - a JSON value
        found = self._conn.execute("SELECT value FROM facts WHERE key = ?", [key]).fetchone()
        return None if found is None else json.loads(found[0])

    def summary(self) -> Summary:
        """The stored summary with counts as they are now."""
        data = self._fact("summary")
        counts = dict.fromkeys(STATUSES, 0)
        counts.update(self._conn.execute("SELECT status, count(*) FROM rows GROUP BY status"))
        return Summary(**{**data, "counts": counts})

    def build(
        self,
        path: Path,
        options: InputOptions,
        state_dir: Path,
        service: Mapping[str, object],
        stored: Callable[[int], None] | None = None,
    ) -> Summary:
        """Read the stored file again with `options`, apply the user's edits, store every row.

        Each chunk is committed as it is stored and `stored(rows so far)` told, so the grid can
        show the first rows while the rest are read; the summary is `complete` at the end only.
        """
        opened = open_input(path, options)
        edits = self.edits()
        now = datetime.now(UTC)
        summary = {
            "source_file": opened.source_file,
            "sheet": opened.sheet,
            "headers": list(opened.headers),
            "fields": opened.fields,
            "blank": 0,
            "language": current_language(),
            "complete": False,
        }
        self._conn.execute("BEGIN")
        self._conn.execute("DELETE FROM rows")
        self._keep_summary(summary)
        self._conn.execute("COMMIT")
        count = 0
        for chunk in opened.chunks(now):
            rows = [edited(row, edits.get(row.source_row), options) for row in chunk]
            reports = [row.report for row in rows if row.report]
            notes = peek_unchanged(state_dir, reports, settings=service)
            records = [_record(row, notes) for row in rows]
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?)", records)
            self._conn.execute("COMMIT")
            count += len(records)
            if stored is not None:
                stored(count)
        self._keep_summary({**summary, "blank": opened.blank, "complete": True})
        return self.summary()

    def _keep_summary(self, summary: dict[str, Any]) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO facts VALUES ('summary', ?)", [json.dumps(summary)]
        )

    def edits(self) -> Edits:
        """Every cell the user edited, by row number and header."""
        found: Edits = {}
        for n, header, value in self._conn.execute("SELECT n, header, value FROM edits"):
            found.setdefault(n, {})[header] = value
        return found

    def page(
        self, statuses: Sequence[str], offset: int, size: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """Rows from `offset` with one of `statuses`, in file order, and how many there are."""
        # A page's row numbers come from an index (small pages, so skipping `offset` entries is
        # cheap), then only those rows are read: OFFSET over the table itself would step
        # through every stored row before the page (measured: 0.5 s for the last of 400 pages).
        if len(statuses) == len(STATUSES):
            where, params, index = "", [], "rows_order"
        else:
            marks = ", ".join("?" * len(statuses))
            where, params, index = f"WHERE status IN ({marks})", list(statuses), "rows_status"
        (total,) = self._conn.execute(f"SELECT count(*) FROM rows {where}", params).fetchone()  # noqa: S608
        numbers = [
            n
            for (n,) in self._conn.execute(
                f"SELECT n FROM rows INDEXED BY {index} {where} ORDER BY n LIMIT ? OFFSET ?",  # noqa: S608
                [*params, size, offset],
            )
        ]
        found = self._conn.execute(
            "SELECT n, status, cells, issues, report, note FROM rows "  # noqa: S608
            f"WHERE n IN ({', '.join('?' * len(numbers))}) ORDER BY n",
            numbers,
        )
        fields = self._fact("summary")["fields"]
        return total, [_grid_row(*values, fields=fields) for values in found]

    def cell(self, n: int, header: str) -> str | None:
        """Row `n`'s text under `header` as it stands (edited or read); None when empty."""
        found = self._conn.execute("SELECT cells FROM rows WHERE n = ?", [n]).fetchone()
        value = None if found is None else load_cells(found[0]).get(header)
        return None if value is None else str(value)

    def edit(
        self,
        n: int,
        header: str,
        value: str | None,
        options: InputOptions,
        *,
        state_dir: Path,
        service: Mapping[str, object],
    ) -> dict[str, Any]:
        """Keep the user's new cell text, validate the row again, return it as the grid shows it."""
        found = self._conn.execute("SELECT cells FROM rows WHERE n = ?", [n]).fetchone()
        summary = self._fact("summary")
        if found is None or summary is None or header not in summary["headers"]:
            raise KeyError(n)
        cells = load_cells(found[0])
        row = Row(summary["source_file"], n, cells, None, (), summary["sheet"])
        cleaned = value.strip() if value is not None else None
        self._conn.execute("BEGIN")
        self._conn.execute("INSERT OR REPLACE INTO edits VALUES (?, ?, ?)", [n, header, cleaned])
        again = revalidate(row, {**cells, header: cleaned or None}, options)
        notes = peek_unchanged(state_dir, [again.report] if again.report else [], settings=service)
        record = _record(again, notes)
        self._conn.execute("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?, ?)", record)
        self._conn.execute("COMMIT")
        return _grid_row(*record, fields=summary["fields"])

    def record_answers(self, answers: Iterable[tuple[int, str, str, str]]) -> None:
        """Each row's outcome and UDB's answer (code and text) after a run."""
        self._conn.execute("BEGIN")
        self._conn.executemany(
            "UPDATE rows SET status = ?, note = ? WHERE n = ?",
            [
                (outcome, " ".join(part for part in (code, text) if part) or None, n)
                for n, outcome, code, text in answers
            ],
        )
        self._conn.execute("COMMIT")


def edited(row: Row, edits: dict[str, str | None] | None, options: InputOptions) -> Row:
    """The row with the user's edits applied and validated again (as it was when none)."""
    if not edits:
        return row
    cells = dict(row.cells)
    cells.update({header: value for header, value in edits.items() if header in cells})
    return revalidate(row, cells, options)


def _record(
    row: Row, notes: Mapping[str, str]
) -> tuple[int, str, str, str, str | None, str | None]:
    status = row_status(row)
    note = None
    if row.report is not None and notes:
        note = notes.get(row.report.payload_hash())
        status = "unchanged" if note else status
    issues = json.dumps([asdict(issue) for issue in row.issues]) if row.issues else "[]"
    return (
        row.source_row,
        status,
        dump_cells(row.cells),
        issues,
        None if row.report is None else row.report.to_json(),
        note,
    )


def _grid_row(  # noqa: PLR0917 - a stored row's columns, in order
    n: int,
    status: str,
    cells: str,
    issues: str,
    report: str | None,
    note: str | None,
    *,
    fields: Mapping[str, str],
) -> dict[str, Any]:
    """A row as the grid takes it: row number, status, cells and the messages by column."""
    problems: dict[str, list[str]] = {}
    general: list[str] = []
    for issue in json.loads(issues):
        if issue["column"]:
            problems.setdefault(issue["column"], []).append(issue["message"])
        else:
            general.append(issue["message"])
    if note:
        general.append(note)
    return {
        "n": n,
        "status": status,
        "cells": shown_values(
            load_cells(cells), None if report is None else Report.from_json(report), fields
        ),
        "problems": problems,
        "message": " ".join(general),
    }
