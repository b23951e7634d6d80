"""What the journal would decide for rows not yet in a run, read without taking its lock.

The web app's Check page shows which rows UDB already holds (`Unchanged`) before anything is
sent, while a nightly run may hold the lock: SQLite in WAL mode lets a read-only connection
read the last committed state beside the writer. The decision is `plan_row`'s, the one the run
itself makes, against the memory of the service the settings name.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from batch.errors import StateError
from batch.journal._base import JOURNAL_NAME, CprHistory, row_text
from batch.journal._changes import Skip, plan_row
from batch.journal._keys import KEY_NAME, load_key
from batch.journal._memory import histories
from batch.journal._reader import upgrade_older
from batch.journal._services import service_of_settings

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

    from batch.journal._keys import Pseudonyms
    from batch.records import Report

__all__ = ["peek_answers", "peek_counts", "peek_unchanged"]

_BATCH = 500  # people per query (SQLite's default limit on variables is 32766)


def peek_unchanged(
    state_dir: Path, reports: Sequence[Report], *, settings: Mapping[str, object]
) -> dict[str, str]:
    """`Report.payload_hash()` -> why the run would leave it Unchanged, for such `reports`.

    `settings` are a run's printable settings: they name the service whose memory counts.
    Nothing known (no journal, no key, no memory of that service) means nothing is unchanged.
    """
    state_dir = state_dir.expanduser()
    path = state_dir / JOURNAL_NAME
    if not reports or not path.exists() or not (state_dir / KEY_NAME).exists():
        return {}
    try:
        keys = load_key(state_dir, memory_exists=True)
        upgrade_older(state_dir)  # else an older journal's memory reads as nothing known
    except StateError:
        return {}
    known = _known(path, keys, reports, settings)
    notes: dict[str, str] = {}
    for report in reports:
        history = known.get(keys.person(report.cpr))
        if history is None:
            continue
        plan = plan_row(report, keys.payload(report.to_json()), history)
        if isinstance(plan, Skip):
            notes[report.payload_hash()] = plan.text
    return notes


def _known(
    path: Path, keys: Pseudonyms, reports: Sequence[Report], settings: Mapping[str, object]
) -> dict[bytes, CprHistory]:
    service = service_of_settings(settings)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = conn.execute(
            "SELECT id FROM services WHERE endpoint = ? AND system_id = ?",
            (service.endpoint, service.system_id),
        ).fetchone()
        if found is None:
            return {}
        persons = sorted({keys.person(report.cpr) for report in reports})
        known: dict[bytes, CprHistory] = {}
        for start in range(0, len(persons), _BATCH):
            known.update(histories(conn, int(found[0]), persons[start : start + _BATCH], keys))
    except sqlite3.Error:
        return {}  # a journal not yet created in full: nothing is known yet
    finally:
        conn.close()
    return known


def _read_only(state_dir: Path) -> sqlite3.Connection | None:
    path = state_dir.expanduser() / JOURNAL_NAME
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True) if path.exists() else None


def peek_counts(state_dir: Path, run_id: str) -> dict[str, int]:
    """Rows of a run per outcome so far (live, while the run writes), without the lock."""
    conn = _read_only(state_dir)
    if conn is None:
        return {}
    try:
        found = conn.execute(
            "SELECT outcome, count(*) FROM rows WHERE run_id = ? AND outcome IS NOT NULL "
            "GROUP BY outcome",
            [run_id],
        ).fetchall()
    except sqlite3.Error:
        return {}
    finally:
        conn.close()
    return {str(outcome): int(count) for outcome, count in found}


def peek_answers(state_dir: Path, run_id: str) -> Iterator[tuple[int, str, str, str]]:
    """(source row, outcome, code, text) of every row of a finished run: UDB's answer per row."""
    conn = _read_only(state_dir)
    if conn is None:
        return
    try:
        for source_row, outcome, code, text, fix_cells in conn.execute(
            "SELECT r.source_row, r.outcome, coalesce(r.code, ''), d.text, d.fix_cells "
            "FROM rows r LEFT JOIN row_data d ON d.row_id = r.id "
            "WHERE r.run_id = ? AND r.outcome IS NOT NULL ORDER BY r.source_row",
            [run_id],
        ):
            yield source_row, outcome, code, row_text(text, fix_cells) or ""
    finally:
        conn.close()
