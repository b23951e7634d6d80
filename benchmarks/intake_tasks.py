"""Child-process tasks of measurements 1 and 2: read a file one way, say how long it took.

Each task times only the reading (imports and interpreter start are outside the clock) and
counts the rows it produced, so a reader that silently lost rows would show.
"""

from __future__ import annotations

import resource
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from batch.intake import InputOptions, open_input
from batch.intake.columns import header_matcher
from batch.intake.load import open_table
from benchmarks.rowwise import read_rows

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "csv_intake",
    "csv_pandas",
    "csv_rowwise",
    "measured",
    "xlsx_intake",
    "xlsx_loader",
    "xlsx_pandas",
]

SYSTEM_ID = "BATCH-BENCH"
CHUNK_ROWS = 50_000


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measured(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `work`, adding its wall seconds, CPU seconds, and the memory it added."""
    before = _rss_kib()
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    result["seconds"] = time.perf_counter() - wall
    result["cpu"] = time.process_time() - cpu
    result["added_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return result


def _intake(path: str) -> dict[str, Any]:
    """Load + normalize + validate: `Row`s with their `Report`s, as `batch run` ingests."""
    now = datetime.now(UTC)
    source = open_input(Path(path), InputOptions(system_id=SYSTEM_ID, chunk_rows=CHUNK_ROWS))
    rows = ready = 0
    for chunk in source.chunks(now):
        rows += len(chunk)
        ready += sum(1 for row in chunk if row.report is not None)
    return {"rows": rows, "ready": ready}


def xlsx_loader(path: str) -> dict[str, Any]:
    """Our loader alone (`batch.intake.load`): header found, each record as cells and its number."""

    def work() -> dict[str, Any]:
        table = open_table(Path(path), sheet=None, score=header_matcher({}))
        return {"rows": sum(len(chunk.rows) for chunk in table.read(CHUNK_ROWS))}

    return measured(work)


def xlsx_intake(path: str) -> dict[str, Any]:
    """Our loader plus normalization and validation, on the workbook."""
    return measured(lambda: _intake(path))


def xlsx_pandas(path: str, engine: str) -> dict[str, Any]:
    """The baseline: `pandas.read_excel` with the given engine, into a DataFrame."""
    return measured(lambda: {"rows": len(pd.read_excel(path, engine=engine))})  # type: ignore[call-overload]


def csv_intake(path: str) -> dict[str, Any]:
    """Load + normalize + validate the CSV, as `batch run` does before sending."""
    return measured(lambda: _intake(path))


def csv_pandas(path: str) -> dict[str, Any]:
    """The baseline: `pandas.read_csv` alone, every column as text (no rule applied)."""
    return measured(lambda: {"rows": len(pd.read_csv(path, sep=";", encoding="cp1252", dtype=str))})


def csv_rowwise(path: str) -> dict[str, Any]:
    """The same rules row by row in plain Python (`benchmarks.rowwise`)."""

    def work() -> dict[str, Any]:
        rows = ready = 0
        for row in read_rows(Path(path), SYSTEM_ID, datetime.now(UTC)):
            rows += 1
            ready += row.report is not None
        return {"rows": rows, "ready": ready}

    return measured(work)
