"""Which rows of a run in Fix or Drop are new, and which were already reported on earlier nights.

A nightly full export carries the same broken rows night after night until someone fixes them
at the source. Counting them as new every night would make every night look alike to the
person on call, so the journal remembers each Fix/Drop row it reported by the source file's
name (without its folder), the row's content (every cell as read) and the outcome, with the run
that reported it first. A row is *new* in the run that reported it first; the same file name
with the same content and outcome on a later night is *known*. A changed cell, a renamed file or
a row that moved from Fix to Drop makes it new again.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

from batch.journal._base import PAGE
from batch.records import Outcome

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable

__all__ = ["ISSUE_OUTCOMES", "count_new_issues"]

ISSUE_OUTCOMES = (Outcome.FIX, Outcome.DROP)


def count_new_issues(
    conn: sqlite3.Connection, run_id: str, digest: Callable[[str], bytes]
) -> dict[Outcome, int]:
    """Remember the run's Fix/Drop rows and count those it reported first (idempotent).

    Runs inside the caller's write transaction. `digest` is the journal's keyed digest
    (`Pseudonyms.payload`): the memory holds no CPR number, not even as a plain hash. Counting
    again (`batch report`) gives the same numbers: a row's first run is kept. Rows whose cells
    were purged are not counted.
    """
    new = dict.fromkeys(ISSUE_OUTCOMES, 0)
    after = 0
    while True:
        page = conn.execute(
            "SELECT r.id, r.source_file, d.cells, r.outcome FROM rows r "
            "JOIN row_data d ON d.row_id = r.id WHERE r.run_id = ? "
            "AND r.outcome IN ('fix', 'drop') AND r.id > ? AND d.cells IS NOT NULL "
            "ORDER BY r.id LIMIT ?",
            (run_id, after, PAGE),
        ).fetchall()
        for row_id, source_file, cells, outcome in page:
            key = (PurePath(source_file).name, digest(cells), outcome)
            conn.execute(
                "INSERT OR IGNORE INTO issues_seen (source_name, digest, outcome, run_id) "
                "VALUES (?, ?, ?, ?)",
                (*key, run_id),
            )
            (first,) = conn.execute(
                "SELECT run_id FROM issues_seen WHERE source_name = ? AND digest = ? "
                "AND outcome = ?",
                key,
            ).fetchone()
            new[Outcome(outcome)] += int(first == run_id)
            after = row_id
        if len(page) < PAGE:
            return new
