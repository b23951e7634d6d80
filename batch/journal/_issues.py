"""Which rows of a run in Fix or Drop are new, and which were already reported on earlier nights.

A nightly full export carries the same broken rows night after night until someone fixes them
at the source. Counting them as new every night would make every night look alike to the
person on call, so the journal remembers each Fix/Drop row it reported by the source file's
name (without its folder), the row's content (every cell as read) and the outcome, with the run
that reported it first. A row is *new* in the run that reported it first; the same file name
with the same content and outcome on a later night is *known*. A changed cell, a renamed file or
a row that moved from Fix to Drop makes it new again. Each entry also keeps the last run that
reported it: once that run is past retention, the purge forgets the entry (see `_purge`).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

from batch.journal._base import PAGE, cells_text
from batch.records import Outcome

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable

__all__ = ["ISSUE_OUTCOMES", "count_new_issues"]

ISSUE_OUTCOMES = (Outcome.FIX, Outcome.DROP)


# The first run that reported a row stays; the last one (`seen`) moves on, for retention.
_RECORD = (
    "INSERT INTO issues_seen (source_name, digest, outcome, run_id, seen) "
    "SELECT ?, ?, ?, ?, n FROM runs WHERE run_id = ? ON CONFLICT (source_name, digest, outcome) "
    "DO UPDATE SET seen = MAX(seen, excluded.seen)"
)


def count_new_issues(
    conn: sqlite3.Connection, run_id: str, digest: Callable[[str], bytes], *, record: bool = True
) -> dict[Outcome, int]:
    """Remember the run's Fix/Drop rows and count those it reported first (idempotent).

    Runs inside the caller's write transaction. `digest` is the journal's keyed digest
    (`Pseudonyms.payload`): the memory holds no CPR number, not even as a plain hash. Counting
    again (`batch report`) gives the same numbers: a row's first run is kept. Rows whose cells
    were purged are not counted. With `record=False` (a workbook written from a snapshot, or
    beside a run that holds the lock) nothing is written: a row no run recorded yet counts as
    new, as recording it would make it.
    """
    new = dict.fromkeys(ISSUE_OUTCOMES, 0)
    after = 0
    while True:
        page = conn.execute(
            "SELECT r.id, r.source_file, d.cells, r.outcome, r.cell_names FROM rows r "
            "JOIN row_data d ON d.row_id = r.id WHERE r.run_id = ? "
            "AND r.outcome IN ('fix', 'drop') AND r.id > ? AND d.cells IS NOT NULL "
            "ORDER BY r.id LIMIT ?",
            (run_id, after, PAGE),
        ).fetchall()
        for row_id, source_file, cells, outcome, names in page:
            key = (PurePath(source_file).name, digest(cells_text(cells, names)), outcome)
            if record:
                conn.execute(_RECORD, (*key, run_id, run_id))
            first = conn.execute(
                "SELECT run_id FROM issues_seen WHERE source_name = ? AND digest = ? "
                "AND outcome = ?",
                key,
            ).fetchone()
            new[Outcome(outcome)] += int(first is None or first[0] == run_id)
            after = row_id
        if len(page) < PAGE:
            return new
