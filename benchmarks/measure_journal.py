"""Measurement 7: the journal's size in bytes per row, over ten nights of a 2,000-row export.

Ten simulated nights of the same export (fictitious, `benchmarks/data.py`) through the real
`Journal`: ingest, the changed-only decision (`plan_row`), the outcome written by the writer
thread, the run finished and compacted, exactly as `batch run` does, but with UDB's answer
taken as Ok without a request (the size does not depend on the wire). Night 1 accepts every
row; night 2 is the same export (every row Unchanged); nights 3-10 change 5 % of the rows (a
new job wish). Then `purge` with retention 0 removes every settled row.

Sizes are bytes in use in the database file (pages minus free pages, after a WAL checkpoint),
so SQLite's preallocation does not blur a night's growth. Where they go is told per table and
index from SQLite's `dbstat` table (when SQLite has it), for the open run and the Unchanged
night. It runs in this process: it measures bytes, not time. Baseline (the issue's, at commit
5004b27, schema 1): 1.8 KB per row while a run is open, ~1.5 KB per row a night for an
unchanged export (3 MB a night for 2,000 rows).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from batch.intake import InputOptions, open_input
from batch.journal import SIMULATOR, Journal, Send, Service, plan_row, record_acceptance
from batch.records import Outcome, Row, Wish
from benchmarks.common import Context, Line, Section, Verdict
from benchmarks.data import Layout, write_csv

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["measure_journal"]

ROWS = 2_000
NIGHTS = 10
CHANGED_EVERY = 20  # 5 %
COLUMNS = ("rows", "bytes in use", "bytes/row")
SERVICE = Service(SIMULATOR, "BENCH")


def _used(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        (free,) = conn.execute("PRAGMA freelist_count").fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    return int((pages - free) * size)


def _by_table(path: Path) -> dict[str, int]:
    """Bytes of pages per table and index (`dbstat`); empty when SQLite lacks it."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:
            found = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        except sqlite3.Error:
            return {}
    return {str(name): int(size) for name, size in found}


def _where(label: str, before: dict[str, int], after: dict[str, int], count: int) -> str:
    """The largest growths per row between two `_by_table`s, as one note."""
    grown = {name: (size - before.get(name, 0)) / count for name, size in after.items()}
    top = sorted(grown.items(), key=lambda item: -item[1])[:5]
    return f"{label}, bytes/row by table: " + ", ".join(f"{n} {b:.0f}" for n, b in top if b)


def _night(rows: list[Row], night: int) -> list[Row]:
    """Night 3 onwards, every 20th row (a different 5 % each night) has a new job wish."""
    if night < 3:
        return rows
    changed = []
    moment = datetime(2026, 1, 1, 8, tzinfo=UTC) + timedelta(days=night)
    for n, row in enumerate(rows):
        if row.report is None or (n + night) % CHANGED_EVERY:
            changed.append(row)
            continue
        report = dataclasses.replace(row.report, job=Wish(f"Night {night}", moment))
        changed.append(dataclasses.replace(row, report=report, cells={**row.cells, "n": night}))
    return changed


def _run(journal: Journal, rows: list[Row], where: list[str] | None = None) -> tuple[str, int]:
    """One night: ingest, decide, record; returns the run and its bytes while still open.

    With `where`, the bytes per row of each table while the run is open are noted there.
    """
    tables = {} if where is None else _by_table(journal.path)
    run_id = journal.start_run(inputs=["export.csv"], settings={}, service=SERVICE)
    journal.add_rows(run_id, rows)
    with journal.writer(run_id) as writer:
        for batch in journal.pending(run_id):
            for row in batch.rows:
                plan = plan_row(row.report, row.payload_hash, batch.history)
                if not isinstance(plan, Send):
                    writer.finish(row.row_id, Outcome.UNCHANGED, code=None, text=plan.text)
                    continue
                same = plan.report is row.report
                accepted = record_acceptance(
                    batch.history, plan.report, at=datetime.now(UTC), run_id=run_id,
                    payload_hash=row.payload_hash if same else None,
                )  # fmt: skip
                writer.finish(row.row_id, Outcome.ACCEPTED, code="0", text="Ok", accepted=accepted)
    open_bytes = _used(journal.path)
    if where is not None:
        where.append(_where("run open", tables, _by_table(journal.path), len(rows)))
    journal.finish_run(run_id, status="finished")
    journal.compact(run_id)
    return run_id, open_bytes


def measure_journal(ctx: Context) -> Section:
    """Ten nights, then a purge; bytes per row at each step, against the issue's goals."""
    count = ctx.size(ROWS, 100)
    source = write_csv(ctx.scratch / "journal-export.csv", Layout(count, count))
    rows = [row for chunk in open_input(source, InputOptions(system_id="BENCH")).chunks(
        datetime.now(UTC)) for row in chunk]  # fmt: skip
    section = Section(7, f"The journal's size: {NIGHTS} nights of {count:,} rows", COLUMNS)
    state = ctx.scratch / "journal-state"
    with Journal.open(state) as journal:
        where: list[str] = []
        before = _used(journal.path)
        _run_id, first_open = _run(journal, _night(rows, 1), where)
        after_first, tables_first = _used(journal.path), _by_table(journal.path)
        _run_id, _open = _run(journal, _night(rows, 2))
        unchanged = _used(journal.path) - after_first
        where.append(_where("night 2", tables_first, _by_table(journal.path), count))
        nights_start = _used(journal.path)
        for night in range(3, NIGHTS + 1):
            _run(journal, _night(rows, night))
        growth = (_used(journal.path) - nights_start) / (NIGHTS - 2)
        journal.purge(datetime.now(UTC) + timedelta(seconds=1))
        remembered = sum(memory.remembered for memory in journal.memories())
        purged = _used(journal.path)
    per_open = (first_open - before) / count
    _lines(section, count, [first_open - before, unchanged, growth], (purged, remembered))
    section.verdicts += [
        Verdict.at_most("bytes per row while a run is open", per_open, 1000),
        Verdict.at_most("bytes per Unchanged row (a night)", unchanged / count, 100),
        Verdict.at_most("bytes per remembered row after purge", purged / remembered, 300),
    ]
    section.notes.append(
        "night 1 accepts every row; night 2 is the same export; nights 3-10 change 5 %; "
        "bytes in use = (pages - free pages) x page size after a WAL checkpoint"
    )
    section.notes += [note for note in where if "," in note]
    return section


def _lines(section: Section, count: int, nights: list[float], after_purge: tuple[int, int]) -> None:
    first, unchanged, growth = nights
    purged, remembered = after_purge

    def line(label: str, rows: int, size: float) -> None:
        section.lines.append(
            Line(label, {"rows": rows, "bytes in use": size, "bytes/row": size / rows})
        )

    line("night 1, run open (all accepted, before compaction)", count, first)
    line("night 2, all Unchanged (growth)", count, unchanged)
    line("nights 3-10, 5 % changed (growth per night)", count, growth)
    line("after purge --older-than 0 (per remembered row)", remembered, purged)
