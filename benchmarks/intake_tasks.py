"""Child-process tasks of measurements 1 and 2: read a file one way, say how long it took.

Each task times only the reading (imports and interpreter start are outside the clock) and
counts the rows it produced, so a reader that silently lost rows would show.
"""

from __future__ import annotations

import hashlib
import resource
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
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


def _intake(path: str, *, as_rows: bool = False) -> dict[str, Any]:
    """Load + normalize + validate: a `RowBatch` per chunk, as `batch run` ingests.

    `batch run` hands each batch to the journal as columns; `as_rows` also builds every row
    as a `Row` with its `Report`, as a consumer that takes rows one by one does.
    """
    now = datetime.now(UTC)
    source = open_input(Path(path), InputOptions(system_id=SYSTEM_ID, chunk_rows=CHUNK_ROWS))
    rows = 0
    ready: list[int] = []
    for chunk in source.chunks(now):
        rows += len(chunk)
        if as_rows:
            ready += [row.source_row for row in chunk if row.report is not None]
        else:
            ready += np.asarray(chunk.numbers)[chunk.sendable()].tolist()
    return {"rows": rows, "ready": len(ready), "ready_rows": ready_digest(ready)}


def ready_digest(numbers: list[int]) -> str:
    """A short digest of the row numbers found ready to send: equal digests, the same rows."""
    return hashlib.sha256(np.asarray(numbers, dtype=np.int64).tobytes()).hexdigest()[:16]


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


def csv_intake(path: str, *, as_rows: bool = False) -> dict[str, Any]:
    """Load + normalize + validate the CSV, as `batch run` does before sending."""
    return measured(lambda: _intake(path, as_rows=as_rows))


def csv_pandas(path: str) -> dict[str, Any]:
    """The baseline: `pandas.read_csv` alone, every column as text (no rule applied)."""
    return measured(lambda: {"rows": len(pd.read_csv(path, sep=";", encoding="cp1252", dtype=str))})


def csv_rowwise(path: str) -> dict[str, Any]:
    """The same rules row by row in plain Python (`benchmarks.rowwise`)."""

    def work() -> dict[str, Any]:
        rows = 0
        ready: list[int] = []
        for row in read_rows(Path(path), SYSTEM_ID, datetime.now(UTC)):
            rows += 1
            if row.report is not None:
                ready.append(row.source_row)
        return {"rows": rows, "ready": len(ready), "ready_rows": ready_digest(ready)}

    return measured(work)
