"""What the journal would decide for rows not yet in a run, read without taking its lock.

The web app's Check page shows which rows UDB already holds (`Unchanged`) before anything is
sent, while a nightly run may hold the lock: SQLite in WAL mode lets a read-only connection
read the last committed state beside the writer. The decision is `plan_row`'s, the one the run
itself makes.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from batch.journal._base import JOURNAL_NAME, CprHistory, GroupState
from batch.journal._changes import Skip, plan_row

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from batch.records import Report

__all__ = ["peek_unchanged"]

_BATCH = 500  # CPR numbers per query (SQLite's default limit on variables is 32766)


def peek_unchanged(state_dir: Path, reports: Sequence[Report]) -> dict[str, str]:
    """Payload hash -> why it would be Unchanged, for the `reports` a run would not send."""
    path = state_dir.expanduser() / JOURNAL_NAME
    if not reports or not path.exists():
        return {}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        histories = _histories(conn, sorted({report.cpr for report in reports}))
    except sqlite3.Error:
        return {}  # a journal not yet created in full: nothing is known yet
    finally:
        conn.close()
    notes: dict[str, str] = {}
    for report in reports:
        history = histories.get(report.cpr)
        if history is None:
            continue
        digest = report.payload_hash()
        plan = plan_row(report, digest, history)
        if isinstance(plan, Skip):
            notes[digest] = plan.text
    return notes


def _histories(conn: sqlite3.Connection, cprs: list[str]) -> dict[str, CprHistory]:
    histories: dict[str, CprHistory] = {}
    for start in range(0, len(cprs), _BATCH):
        part = cprs[start : start + _BATCH]
        marks = ", ".join("?" * len(part))
        for cpr, digest, at, run_id in conn.execute(
            f"SELECT cpr, payload_hash, accepted_at, run_id FROM accepted WHERE cpr IN ({marks})",  # noqa: S608
            part,
        ):
            histories.setdefault(cpr, CprHistory()).accepted[digest] = (at, run_id)
        for cpr, grp, *state in conn.execute(
            "SELECT cpr, grp, registered, content_hash, institution, accepted_at, run_id "  # noqa: S608
            f"FROM latest WHERE cpr IN ({marks})",
            part,
        ):
            histories.setdefault(cpr, CprHistory()).latest[grp] = GroupState(*state)
    return histories
