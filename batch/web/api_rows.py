"""What the HTTP API reads from the journal and the report folders, never taking the lock.

Every read opens the journal read-only (`open_read_only`, WAL lets it read beside a run): an
API call must never hold the lock at the moment the nightly job wants it. A run's JSON summary
and workbook are the files its run wrote (found by the run id the summary names), so the API
serves what the nightly job left, not a copy made again.

Rows carry their cells unmasked, CPR numbers included: the API serves the municipality's own
systems, holding a token, which fix the rows in the system the file came from, and need to know
whose row it is; the same token downloads the workbook, which holds them too. Every message,
log line and URL stays masked as everywhere else.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

from batch.errors import StateError
from batch.journal import open_read_only, snapshot
from batch.privacy import mask_cpr
from batch.records import Outcome

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from batch.journal import RunInfo
    from batch.records import CellValue, RowResult

__all__ = [
    "JournalRun",
    "find_summary",
    "journal_rows",
    "journal_run",
    "journal_runs",
    "report_dirs",
    "row_json",
]

JournalRun = tuple["RunInfo", dict[Outcome, int]]


def _value(value: CellValue) -> str | int | float | bool | None:
    return value.isoformat() if isinstance(value, datetime) else value


def row_json(result: RowResult) -> dict[str, Any]:
    """One row as the API gives it: where it came from, where it ended, why, and its cells."""
    return {
        "file": result.source_file,
        "sheet": result.sheet,
        "row": result.source_row,
        "outcome": result.outcome.value,
        "code": result.code,
        "message": None if result.text is None else mask_cpr(result.text),
        "udb_text": result.answer_text,
        "problems": result.fix_cells,
        "attempts": result.attempts,
        "last_attempt": None if result.last_attempt is None else result.last_attempt.isoformat(),
        "cells": {header: _value(value) for header, value in result.cells.items()},
    }


def journal_runs(state_dir: Path) -> list[JournalRun]:
    """Every run the journal holds with its rows per outcome; none when there is no journal."""
    try:
        journal = open_read_only(state_dir)
    except StateError:
        return []
    with journal, snapshot(journal):
        return [(info, journal.counts(info.run_id)) for info in journal.runs()]


def journal_run(state_dir: Path, run_id: str) -> JournalRun | None:
    """One run with its rows per outcome; None when the journal holds no such run."""
    try:
        journal = open_read_only(state_dir)
    except StateError:
        return None
    with journal, snapshot(journal):
        try:
            return journal.run_info(run_id), journal.counts(run_id)
        except StateError:
            return None


def journal_rows(
    state_dir: Path, run_id: str, outcomes: Iterable[Outcome], offset: int, limit: int
) -> list[dict[str, Any]] | None:
    """A page of a run's rows of `outcomes`; None when the journal holds no such run."""
    try:
        journal = open_read_only(state_dir)
    except StateError:
        return None
    with journal, snapshot(journal):
        try:
            journal.run_info(run_id)
        except StateError:
            return None
        found = (row_json(row) for outcome in outcomes for row in journal.results(run_id, outcome))
        return list(islice(found, offset, offset + limit))


def report_dirs(state_dir: Path, report_dir: Path) -> list[Path]:
    """The report folder of these settings, then every other one runs here have written to."""
    places: list[Path] = []
    with contextlib.suppress(StateError), open_read_only(state_dir) as journal:
        places = journal.places("reports")
    return list(dict.fromkeys([report_dir, *places]))


def find_summary(folders: Iterable[Path], run_id: str) -> dict[str, Any] | None:
    """The JSON summary a run wrote beside its workbook, found by the run id it names."""
    for folder in folders:
        for path in _summaries(folder):
            with contextlib.suppress(OSError, ValueError):
                text = path.read_text(encoding="utf-8")
                if run_id in text:
                    data: dict[str, Any] = json.loads(text)
                    if data.get("run_id") == run_id:
                        return data
    return None


def _summaries(folder: Path) -> Iterator[Path]:
    try:
        yield from sorted(folder.glob("*.json"))
    except OSError:
        return
