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

import hashlib
from pathlib import PurePath
from typing import TYPE_CHECKING

from batch.journal._base import PAGE
from batch.records import Outcome

if TYPE_CHECKING:
    import sqlite3

__all__ = ["ISSUE_OUTCOMES", "content_digest", "count_new_issues"]

ISSUE_OUTCOMES = (Outcome.FIX, Outcome.DROP)


def content_digest(cells_json: str) -> str:
    """The digest that recognises a row's content again (the cells as stored in the journal).

    One place, so that the digest follows the journal's keyed hashing when that changes.
    """
    return hashlib.sha256(cells_json.encode("utf-8")).hexdigest()


def count_new_issues(conn: sqlite3.Connection, run_id: str) -> dict[Outcome, int]:
    """Remember the run's Fix/Drop rows and count those it reported first (idempotent).

    Runs inside the caller's write transaction. Counting again (`batch report`) gives the
    same numbers: a row's first run is kept, never replaced by a later one.
    """
    new = dict.fromkeys(ISSUE_OUTCOMES, 0)
    after = 0
    while True:
        page = conn.execute(
            "SELECT id, source_file, cells, outcome FROM rows WHERE run_id = ? "
            "AND outcome IN ('fix', 'drop') AND id > ? ORDER BY id LIMIT ?",
            (run_id, after, PAGE),
        ).fetchall()
        for row_id, source_file, cells, outcome in page:
            key = (PurePath(source_file).name, content_digest(cells), outcome)
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
