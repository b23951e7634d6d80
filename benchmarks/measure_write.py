"""Measurement 3: writing the result workbook, against openpyxl's normal (in-memory) mode.

The writers and their data are those of `benchmarks/report_bench.py` (the report module's own
benchmark), each run through its child mode in a process of its own: `report` is
`batch.report.write_report` (xlsxwriter in constant-memory mode, five outcome sheets plus a
summary); the others write the same rows to one sheet.
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import Context, Line, Section, Task, Verdict, mib, rounds

__all__ = ["measure_write"]

ROWS = 200_000
NORMAL = "openpyxl-normal"
WRITERS = {
    "report": "batch.report.write_report (xlsxwriter constant_memory)",
    NORMAL: "openpyxl normal mode (baseline)",
    "openpyxl-write-only": "openpyxl write_only mode",
    "xlsxwriter-raw": "xlsxwriter constant_memory, bare rows",
}
BARE = "xlsxwriter-raw"
COLUMNS = (
    "rows/s",
    "seconds",
    "CPU s",
    "peak MiB",
    "added MiB",
    "speed x",
    "memory x",
    "CPU x bare",
)
SPEED_TARGET = 1.5
MEMORY_TARGET = 1 / 3
BARE_TARGET = 0.9  # issue 18: the report >= 0.9x bare xlsxwriter constant_memory


def _figures(
    result: dict[str, Any], normal: dict[str, Any], bare: dict[str, Any]
) -> dict[str, Any]:
    return {
        "rows/s": result["rows"] / result["seconds"],
        "seconds": result["seconds"],
        "CPU s": result["cpu"],
        "peak MiB": mib(result["maxrss_kib"]),
        "added MiB": mib(result["added_kib"]),
        "speed x": normal["seconds"] / result["seconds"],
        "memory x": result["added_kib"] / normal["added_kib"],
        "CPU x bare": bare["cpu"] / result["cpu"],
    }


def measure_write(ctx: Context) -> Section:
    """3. 200,000 rows into the result workbook: rows/s and memory, vs openpyxl normal mode."""
    rows = ctx.size(ROWS)
    tasks = [
        Task(label, "report-writer", {"writer": writer, "rows": rows})
        for writer, label in WRITERS.items()
    ]
    medians = rounds(tasks, ctx.runs)
    normal, bare = medians[WRITERS[NORMAL]], medians[WRITERS[BARE]]
    section = Section(3, f"Writing the result workbook, {rows:,} rows x 14 columns", COLUMNS)
    for task in tasks:
        section.lines.append(Line(task.label, _figures(medians[task.label], normal, bare)))
    ours = section.lines[0].figures
    section.verdicts += [
        Verdict.at_least("speed vs openpyxl normal (x)", ours["speed x"], SPEED_TARGET),
        Verdict.at_most(
            "added memory vs openpyxl normal", ours["memory x"], MEMORY_TARGET, wanted="1/3"
        ),
        Verdict.at_least(
            "3b. report vs bare xlsxwriter constant_memory, CPU (x)",
            ours["CPU x bare"],
            BARE_TARGET,
        ),
    ]
    section.notes += [
        (
            "added MiB = peak RSS minus RSS before writing (imports excluded); speed x and "
            "memory x are relative to openpyxl normal mode; CPU x bare = bare xlsxwriter's CPU "
            "time over this writer's (the writing only, in its own process). The report writes "
            "5 outcome sheets and a summary sheet, with issue 13's highlighted cells, comments, "
            "row heights and print set-up; the others one sheet of the same rows."
        ),
        _choice(section),
    ]
    return section


def _choice(section: Section) -> str:
    """Which writer this measurement picks: the fastest one within the memory target."""
    fitting = [line for line in section.lines if line.figures["memory x"] <= MEMORY_TARGET]
    if not fitting:
        return "no writer stays within the memory target"
    best = max(fitting, key=lambda line: line.figures["rows/s"])
    ours = section.lines[0]
    overhead = best.figures["rows/s"] / ours.figures["rows/s"]
    return (
        f"fastest writer within the memory target: {best.label}; the report module runs at "
        f"1/{overhead:.2f} of its speed (formats, five sheets, cell conversion)."
    )
