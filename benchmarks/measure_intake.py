"""Measurements 1 and 2: reading a workbook, and reading plus checking a large CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchmarks.common import Context, Line, Section, Task, Verdict, mib, rounds
from benchmarks.data import Layout, write_csv, write_xlsx

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["figures", "measure_csv", "measure_xlsx"]

XLSX_ROWS = 200_000
CSV_ROWS = 1_000_000
ROWS_PER_PERSON = 4  # a migration file holds several rows per young person
SPEED_TARGET = 10
SHARE_TARGET = 0.5
COLUMNS = ("rows", "rows/s", "seconds", "CPU s", "peak MiB", "x baseline")


def figures(result: dict[str, Any], baseline: dict[str, Any] | None) -> dict[str, Any]:
    """The usual columns of a reading measurement, with the speed ratio to the baseline."""
    return {
        "rows": result["rows"],
        "rows/s": result["rows"] / result["seconds"],
        "seconds": result["seconds"],
        "CPU s": result["cpu"],
        "peak MiB": mib(result["maxrss_kib"]),
        "x baseline": None if baseline is None else baseline["seconds"] / result["seconds"],
    }


def _generated(ctx: Context, name: str, rows: int) -> Path:
    path = ctx.scratch / name
    if not path.exists():
        print(f"  generating {rows:,} rows: {path.name}", flush=True)
        layout = Layout(rows, max(1, rows // ROWS_PER_PERSON))
        (write_xlsx if name.endswith(".xlsx") else write_csv)(path, layout)
    return path


def measure_xlsx(ctx: Context) -> Section:
    """1. Our loader vs `pandas.read_excel(engine="openpyxl")` on a 200,000-row workbook."""
    rows = ctx.size(XLSX_ROWS)
    path = str(_generated(ctx, f"export-{rows}.xlsx", rows))
    baseline = "pandas.read_excel(engine='openpyxl')"
    calamine = "pandas.read_excel(engine='calamine')"
    tasks = [
        Task("batch.intake.load (our loader)", "xlsx-loader", {"path": path}),
        Task("batch.intake: load+normalize+validate", "xlsx-intake", {"path": path}),
        Task(baseline, "xlsx-pandas", {"path": path, "engine": "openpyxl"}),
        Task(calamine, "xlsx-pandas", {"path": path, "engine": "calamine"}),
    ]
    medians = rounds(tasks, ctx.runs)
    section = Section(1, f"Loading {rows:,} rows from .xlsx (11 columns)", COLUMNS)
    for task in tasks:
        section.lines.append(Line(task.label, figures(medians[task.label], medians[baseline])))
    ours = medians[tasks[0].label]
    speed = medians[baseline]["seconds"] / ours["seconds"]
    section.verdicts.append(Verdict.at_least("loader vs pandas+openpyxl (x)", speed, SPEED_TARGET))
    section.notes += _count_notes(medians)
    section.notes.append(
        "x baseline = the reader's speed over pandas.read_excel(engine='openpyxl'); "
        "'our loader' yields every record as raw cells with its row number, which is what "
        "pandas does too; the intake line adds normalization, validation and Row objects."
    )
    return section


def measure_csv(ctx: Context) -> Section:
    """2. Load + normalize + validate a 1,000,000-row cp1252 CSV, vs read_csv and a plain loop."""
    rows = ctx.size(CSV_ROWS)
    path = str(_generated(ctx, f"export-{rows}.csv", rows))
    baseline = "pandas.read_csv alone (C engine, dtype=str)"
    tasks = [
        Task("batch.intake: load+normalize+validate", "csv-intake", {"path": path}),
        Task(baseline, "csv-pandas", {"path": path}),
        Task("row-by-row pure Python, same rules", "csv-rowwise", {"path": path}),
        Task(_AS_ROWS, "csv-intake", {"path": path, "as_rows": True}),
    ]
    medians = rounds(tasks, ctx.runs)
    section = Section(2, f"Load + normalize + validate {rows:,} rows of cp1252 CSV", COLUMNS)
    for task in tasks:
        section.lines.append(Line(task.label, figures(medians[task.label], medians[baseline])))
    ours, loop = medians[tasks[0].label], medians[tasks[2].label]
    share = medians[baseline]["seconds"] / ours["seconds"]
    versus_loop = loop["seconds"] / ours["seconds"]
    section.verdicts += [
        Verdict.at_least("intake as a fraction of read_csv's speed", share, SHARE_TARGET),
        Verdict("intake vs row-by-row Python (x)", versus_loop, "ratio (no target)", None),
    ]
    section.notes += _ready_notes(medians)
    section.notes += _count_notes(medians)
    section.notes.append(
        "batch.intake yields a RowBatch per chunk (columns; `batch run` journals them as such); "
        f"'{_AS_ROWS}' also builds every row as a Row with its Report, as a consumer that takes "
        "rows one by one does."
    )
    return section


_AS_ROWS = "batch.intake, then every row as a Row"


def _ready_notes(medians: dict[str, dict[str, Any]]) -> list[str]:
    """Whether every reader found the same rows ready to send (by their row numbers)."""
    found = {
        label: (result.get("ready"), result.get("ready_rows"))
        for label, result in medians.items()
        if "ready" in result
    }
    if len(set(found.values())) <= 1:
        count = next(iter(found.values()))[0] if found else 0
        return [f"every reader found the same {count:,} rows ready to send (by row number)"]
    return [f"rows ready to send differ (count, digest of row numbers): {found}"]


def _count_notes(medians: dict[str, dict[str, Any]]) -> list[str]:
    counts = {label: result["rows"] for label, result in medians.items()}
    if len(set(counts.values())) == 1:
        return []
    return [f"row counts differ between readers: {counts}"]
