"""A run's rows as the HTTP API gives them, read from the journal without taking its lock.

The journal is opened read-only (`open_read_only`, WAL lets it read beside a run): an API call
must never hold the lock at the moment the nightly job wants it.

Rows carry their cells unmasked, CPR numbers included: the API serves the municipality's own
systems, holding a token, which fix the rows in the system the file came from, and need to know
whose row it is; the same token downloads the workbook, which holds them too. Every message,
log line and URL stays masked as everywhere else.
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

from batch.errors import StateError
from batch.journal import open_read_only, snapshot
from batch.privacy import mask_cpr

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from batch.records import CellValue, Outcome, RowResult

__all__ = ["journal_rows", "row_json"]


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


def journal_rows(
    state_dir: Path, run_id: str, outcomes: Iterable[Outcome], offset: int, limit: int
) -> list[dict[str, Any]]:
    """A page of a run's rows of `outcomes`, in that order, each in input order."""
    try:
        journal = open_read_only(state_dir)
    except StateError:
        return []
    with journal, snapshot(journal):
        found = (row_json(row) for outcome in outcomes for row in journal.results(run_id, outcome))
        return list(islice(found, offset, offset + limit))
