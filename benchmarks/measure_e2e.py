"""Measurement 6: one `batch run` of 1,000,000 rows end to end against the simulator.

The command is the one a municipality runs (`python -m batch run FILE --wsdl ...`), in a
process of its own whose rusage `os.wait4` reports; the simulator (no latency, its registry
knowing 99 % of the young people) runs in another. It runs once: at several hundred requests
a second a million rows take most of an hour. py-spy, when installed, samples every thread of
the thread holding the GIL from outside (`--gil --nonblocking`) for the hotspot table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from benchmarks.common import ROOT, Context, Line, Section, Simulator, Verdict, mib
from benchmarks.data import Layout, write_csv, write_registry
from benchmarks.profiles import PYSPY, attach_pyspy, pyspy_top

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["measure_e2e"]

ROWS = 1_000_000
ROWS_PER_PERSON = 4
CONCURRENCY = 16
RSS_TARGET_MIB = 1024
PYSPY_RATE = 25  # samples a second
COLUMNS = ("rows", "wall s", "rows/s", "CPU s", "peak MiB", "journal MiB", "workbook MiB")
_MIB = 1 << 20


def _inputs(ctx: Context, rows: int) -> tuple[Path, Path]:
    layout = Layout(rows, max(1, rows // ROWS_PER_PERSON))
    data = ctx.scratch / f"e2e-{rows}.csv"
    registry = ctx.scratch / f"e2e-registry-{rows}.csv"
    if not data.exists():
        print(f"  generating {rows:,} rows: {data.name}", flush=True)
        write_csv(data, layout)
        write_registry(registry, layout.people, unknown_every=100)
    return data, registry


def _command(data: Path, wsdl: str, work: Path) -> list[str]:
    return [
        sys.executable, "-m", "batch", "run", str(data), "--wsdl", wsdl,
        "--system-id", "BATCH-BENCH", "--state-dir", str(work / "state"),
        "--report-dir", str(work / "reports"), "--rate", "1000000",
        "--concurrency", str(CONCURRENCY), "--log-format", "json",
    ]  # fmt: skip


def _run(command: list[str], work: Path, profile: Path) -> dict[str, Any]:
    """Run the command once; wall time, its own rusage, exit code, and when ingest ended."""
    log = work / "run.log"
    started = time.time()
    with log.open("wb") as sink:
        child = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=sink)
        spy = attach_pyspy(child.pid, profile, PYSPY_RATE)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    ended = time.time()
    spy_cpu = None
    if spy is not None:
        _, _, spy_usage = os.wait4(spy.pid, 0)
        spy.returncode, spy_cpu = 0, spy_usage.ru_utime + spy_usage.ru_stime
    return {
        "profiler_cpu": spy_cpu,
        "exit": child.returncode,
        "started": started,
        "ended": ended,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_kib": usage.ru_maxrss,
        "read_at": _file_read_time(log),
        "log_tail": log.read_text(encoding="utf-8", errors="replace").splitlines()[-5:],
    }


def _file_read_time(log: Path) -> float | None:
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"file read"' in line:
            return datetime.fromisoformat(json.loads(line)["timestamp"]).timestamp()
    return None


def _sizes(work: Path) -> tuple[float, float, dict[str, Any]]:
    journal = sum(p.stat().st_size for p in (work / "state").glob("journal.sqlite3*"))
    workbooks = list((work / "reports").glob("*.xlsx"))
    summaries = list((work / "reports").glob("*.json"))
    summary = json.loads(summaries[0].read_text(encoding="utf-8")) if summaries else {}
    return journal / _MIB, sum(p.stat().st_size for p in workbooks) / _MIB, summary


def _phases(run: dict[str, Any], summary: dict[str, Any]) -> dict[str, float]:
    """Seconds per phase, from the run's log (file read) and its summary (run finished)."""
    finished = summary.get("finished")
    end_of_run = datetime.fromisoformat(finished).timestamp() if finished else run["ended"]
    read_at = run["read_at"] or run["started"]
    return {
        "start, read and check the file, journal its rows": read_at - run["started"],
        "send every row (journal, scheduler, client)": end_of_run - read_at,
        "write the workbook from the journal": run["ended"] - end_of_run,
    }


def measure_e2e(ctx: Context) -> Section:
    """6. `batch run` of 1,000,000 rows: wall time, peak RSS, journal size, and the hotspots."""
    rows = ctx.size(ROWS)
    data, registry = _inputs(ctx, rows)
    work = ctx.scratch / f"e2e-run-{rows}"
    work.mkdir()
    profile = work / "pyspy.txt"
    with Simulator(latency_ms=0.0, registry=registry) as simulator:
        print(f"  batch run of {rows:,} rows (once), concurrency {CONCURRENCY}", flush=True)
        run = _run(_command(data, simulator.wsdl, work), work, profile)
    journal_mib, workbook_mib, summary = _sizes(work)
    wall = run["ended"] - run["started"]
    section = Section(6, f"batch run end to end, {rows:,} rows, simulator without latency", COLUMNS)
    figures = {
        "rows": summary.get("rows", 0),
        "wall s": wall,
        "rows/s": rows / wall,
        "CPU s": run["cpu"],
        "peak MiB": mib(run["maxrss_kib"]),
        "journal MiB": journal_mib,
        "workbook MiB": workbook_mib,
    }
    section.lines.append(Line(f"batch run, concurrency {CONCURRENCY}, exit {run['exit']}", figures))
    peak = figures["peak MiB"]
    section.verdicts.append(Verdict.at_most("peak RSS (MiB)", peak, RSS_TARGET_MIB))
    section.extra["outcomes"] = {
        k: summary.get(k) for k in ("accepted", "fix", "drop", "retry", "unchanged")
    }
    section.extra["phases"] = _phases(run, summary)
    _notes(section, run, profile, rows)
    return section


def _notes(section: Section, run: dict[str, Any], profile: Path, rows: int) -> None:
    section.notes.append(
        f"run once (not 3 times): {rows:,} SOAP requests; outcomes {section.extra['outcomes']}"
    )
    if run["exit"] not in (0, 1):
        section.notes.append("the run did not finish cleanly: " + " | ".join(run["log_tail"]))
    if PYSPY is None or not profile.exists():
        section.notes.append("no profile: py-spy is not installed (pip install py-spy)")
        return
    found = pyspy_top(profile)
    held = found["samples"] / PYSPY_RATE
    wall = run["ended"] - run["started"]
    section.extra["profile"] = {
        "what": f"py-spy record --gil --nonblocking --rate {PYSPY_RATE} --function: the thread "
        f"holding the GIL; GIL held {held:.0f} s of {wall:.0f} s wall ({100 * held / wall:.0f} %)"
        f", process CPU {run['cpu']:.0f} s, so ~{max(run['cpu'] - held, 0):.0f} s CPU ran "
        f"without the GIL (SQLite, sockets); py-spy itself used {run['profiler_cpu'] or 0:.0f} s",
        **found,
    }
