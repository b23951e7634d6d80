"""The journal's read-only queries: runs, results, counts, attempts (a mixin of `Journal`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from batch.errors import StateError
from batch.i18n import _
from batch.journal._base import PAGE, InputInfo, RunInfo, load_cells, parse_time, row_text
from batch.records import Outcome, RowResult

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

__all__ = ["JournalReads"]

# A row's final state for the workbook, with UDB's own text of the row's last answer (kept as
# UDB sent it; a failure without an answer has none) and the cells to fix with their messages.
# A row that came through a Fix sheet carries its origin. Rows not yet final are Retry.
_RESULTS = (
    "SELECT r.id, r.source_file, r.source_row, d.cells, r.code, d.text, r.attempts, "
    "r.last_attempt, r.sheet, d.payload, d.fix_cells, (SELECT a.text FROM attempts a "
    "WHERE a.row_id = r.id AND a.failure_kind IS NULL AND a.code IS NOT NULL "
    "ORDER BY a.n DESC LIMIT 1), (SELECT l.origin FROM fix_links l WHERE "
    "l.run_id = r.run_id AND l.source_file = r.source_file AND l.sheet IS r.sheet "
    "AND l.source_row = r.source_row), r.cell_names FROM rows r "
    "LEFT JOIN row_data d ON d.row_id = r.id "
    "WHERE r.run_id = ? AND (r.outcome = ? OR (r.outcome IS NULL AND ? = 'retry')) "
    "AND r.id > ? ORDER BY r.id LIMIT ?"
)


class JournalReads:
    """Queries that only read; `Journal` provides `path` and `_query`."""

    path: Path

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        raise NotImplementedError

    def run_info(self, run_id: str) -> RunInfo:
        """One run's record, with its inputs in the order they were read."""
        found = self._query("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        if not found:
            message = _("the journal {path} holds no run {run_id}")
            raise StateError(message.format(path=self.path, run_id=run_id))
        return self._run_info(found[0])

    def _run_info(self, row: Sequence[Any]) -> RunInfo:
        run_id, started, finished, status, message, dry_run, settings, files = row[:8]
        inputs = [
            _input_info(source_file, sheet, json.loads(headers), rows, blank)
            for source_file, sheet, headers, rows, blank in self._query(
                "SELECT source_file, sheet, headers, rows, blank FROM inputs "
                "WHERE run_id = ? ORDER BY seq",
                (run_id,),
            )
        ]
        started_at = parse_time(started)
        assert started_at is not None
        return RunInfo(
            run_id=run_id,
            started=started_at,
            finished=parse_time(finished),
            status=status,
            message=message,
            dry_run=bool(dry_run),
            settings=json.loads(settings),
            inputs=inputs,
            files=json.loads(files),
            version=row[12] if len(row) > 12 else None,  # noqa: PLR2004 - runs.version's place
        )

    def purged(self, run_id: str) -> str | None:
        """When the run's settled rows were deleted (ISO UTC), or None while they are kept."""
        found = self._query("SELECT purged FROM runs WHERE run_id = ?", (run_id,))
        return None if not found or found[0][0] is None else str(found[0][0])

    def last_run_id(self) -> str | None:
        """The most recently started run, or None in a fresh journal."""
        found = self._query("SELECT run_id FROM runs ORDER BY started DESC, rowid DESC LIMIT 1")
        return str(found[0][0]) if found else None

    def runs(self) -> list[RunInfo]:
        """Every run, oldest first."""
        return [self._run_info(row) for row in self._query("SELECT * FROM runs ORDER BY started")]

    def results(self, run_id: str, outcome: Outcome) -> Iterator[RowResult]:
        """Stream the final rows of one outcome in input order, a page at a time.

        Rows not yet final (a run under way, read by `batch report`) are Retry, as `counts`
        counts them; a row that came through a Fix sheet carries its origin.
        """
        after, known = 0, _Names()
        while True:
            page = self._query(_RESULTS, (run_id, outcome.value, outcome.value, after, PAGE))
            for row_id, source_file, source_row, cells, code, text, tries, last, *rest in page:
                sheet, sent, fix, said, origin, names = rest
                yield RowResult(
                    source_file=source_file,
                    source_row=source_row,
                    # A compacted Unchanged row has no cells left (see `_purge.compact`).
                    cells={} if cells is None else load_cells(cells, known.of(names)),
                    outcome=outcome,
                    code=code,
                    text=row_text(text, fix),
                    attempts=tries,
                    last_attempt=parse_time(last),
                    sheet=sheet,
                    # A dry run's Ready sheet shows what would be sent, field by field.
                    extra=_extra(outcome, sent, origin),
                    answer_text=said,
                    fix_cells=json.loads(fix) if fix else {},
                )
                after = row_id
            if len(page) < PAGE:
                return

    def counts(self, run_id: str) -> dict[Outcome, int]:
        """Rows per outcome; rows not yet final count as RETRY (that is where they would end).

        A finished run's counts are those kept when it finished: its rows may be purged.
        """
        kept = self._query(
            "SELECT counts FROM runs WHERE run_id = ? AND finished IS NOT NULL", (run_id,)
        )
        if kept and kept[0][0] is not None:
            return {outcome: json.loads(kept[0][0]).get(outcome.value, 0) for outcome in Outcome}
        counts = dict.fromkeys(Outcome, 0)
        for outcome, count in self._query(
            "SELECT outcome, COUNT(*) FROM rows WHERE run_id = ? GROUP BY outcome", (run_id,)
        ):
            counts[Outcome(outcome) if outcome else Outcome.RETRY] += count
        return counts

    def attempts(self, row_id: int) -> list[dict[str, Any]]:
        """Every attempt of one row, in order: for `batch status` and for tests."""
        names = ("n", "at", "code", "text", "failure_kind", "http_status")
        found = self._query(
            f"SELECT {', '.join(names)} FROM attempts WHERE row_id = ? ORDER BY n",  # noqa: S608
            (row_id,),
        )
        return [dict(zip(names, row, strict=True)) for row in found]

    def requests(self, run_id: str) -> int:
        """Requests the run sent: its rows' attempts, retries included."""
        ((count,),) = self._query(
            "SELECT COUNT(*) FROM attempts a JOIN rows r ON r.id = a.row_id WHERE r.run_id = ?",
            (run_id,),
        )
        return int(count)

    def row_states(self, run_id: str) -> list[dict[str, Any]]:
        """Every row of a run with its state, in input order (small runs: tests, diagnostics)."""
        names: tuple[str, ...] = ("id", "source_file", "source_row", "status", "outcome")
        names += ("code", "text", "attempts", "last_attempt", "sent_groups", "payload_hash")
        columns = ", ".join("d.text" if name == "text" else f"r.{name}" for name in names)
        found = self._query(
            f"SELECT {columns}, d.fix_cells FROM rows r "  # noqa: S608
            "LEFT JOIN row_data d ON d.row_id = r.id WHERE r.run_id = ? ORDER BY r.id",
            (run_id,),
        )
        states = []
        for *values, fix_cells in found:
            state = dict(zip(names, values, strict=True))
            state["text"] = row_text(state["text"], fix_cells)
            states.append(state)
        return states


class _Names:
    """The column names of each row's source, read once per source, not once per row.

    Every row of an input carries the same names (from `sources`); decoding them for each of a
    million rows was a sixth of reading the rows for the workbook.
    """

    def __init__(self) -> None:
        self._known: dict[str, list[str]] = {}

    def of(self, names_json: str | None) -> list[str] | None:
        """None in a journal migrated from schema 2 (each row's cells carry their names)."""
        if names_json is None:
            return None
        names = self._known.get(names_json)
        if names is None:
            names = self._known[names_json] = list(json.loads(names_json))
        return names


def _extra(outcome: Outcome, payload: str | None, origin: str | None) -> dict[str, Any]:
    """A result's extras: a Ready row's payload (shown field by field), a fixed row's origin."""
    extra: dict[str, Any] = {}
    if outcome is Outcome.READY and payload:
        extra["payload"] = payload
    if origin:
        extra["origin"] = origin
    return extra


def _input_info(
    source_file: str, sheet: str | None, columns: list[str] | dict[str, Any], rows: int, blank: int
) -> InputInfo:
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
