"""Measurements 4 and 5: sending to the simulator with 50 ms latency, free and rate-limited.

Measurement 4 also runs signed over mutual TLS, as production does (`benchmarks.measure_signed`).

The simulator runs as `python -m batch simulator` in its own process, so the CPU figures are
the client's alone. Sequential runs (the plain zeep loop, our client alone, the scheduler at
concurrency 1) send fewer rows than the concurrent ones: 2,000 rows one after the other at
50 ms each would take 100 s a run; their rates do not depend on the row count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchmarks.common import Context, Line, Section, Simulator, Task, Verdict, rounds, run_child
from benchmarks.data import write_registry
from benchmarks.measure_signed import measure_signed

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["measure_rate", "measure_submit"]

LATENCY_MS = 50.0
ROWS = 2_000
SEQUENTIAL_ROWS = 200
PROFILE_ROWS = 1_000
RATE, BURST, RATE_ROWS, RATE_CONCURRENCY = 50.0, 5, 500, 8
SPEEDUP_TARGET = 20
CPU_TARGET_MS = 1.0
RATE_TARGET = 0.95
COLUMNS = ("rows", "req/s", "CPU ms/req", "x zeep loop", "peak MiB")
ZEEP = "plain zeep loop, sequential (baseline)"


def _registry(ctx: Context, people: int) -> Path:
    path = ctx.scratch / f"registry-{people}.csv"
    if not path.exists():
        write_registry(path, people)
    return path


def _figures(result: dict[str, Any], zeep: dict[str, Any]) -> dict[str, Any]:
    rate = result["rows"] / result["seconds"]
    return {
        "rows": result["rows"],
        "req/s": rate,
        "CPU ms/req": 1000 * result["cpu"] / result["rows"],
        "x zeep loop": rate / (zeep["rows"] / zeep["seconds"]),
        "peak MiB": result["maxrss_kib"] / 1024,
    }


def _tasks(wsdl: str, rows: int, few: int) -> list[Task]:
    sequential = {"wsdl": wsdl, "rows": few}
    engine = [
        Task(f"scheduler+journal, concurrency {n}", "engine", {**args, "concurrency": n})
        for n, args in (
            (1, sequential),
            (8, {"wsdl": wsdl, "rows": rows}),
            (32, {"wsdl": wsdl, "rows": rows}),
        )
    ]
    return [
        Task(ZEEP, "zeep-loop", sequential),
        Task("UdbClient.send alone, sequential", "client-loop", sequential),
        *engine,
    ]


def measure_submit(ctx: Context) -> Section:
    """4. Requests/s at concurrency 1, 8, 32 vs a plain zeep loop; client CPU per request."""
    rows, few = ctx.size(ROWS, 40), ctx.size(SEQUENTIAL_ROWS, 20)
    registry = _registry(ctx, max(rows, ctx.size(PROFILE_ROWS, 100)))
    with Simulator(latency_ms=LATENCY_MS, registry=registry) as simulator:
        tasks = _tasks(simulator.wsdl, rows, few)
        medians = rounds(tasks, ctx.runs)
    title = f"Submission, simulator +{LATENCY_MS:g} ms latency, no rate limit"
    section = Section(4, title, COLUMNS)
    zeep = medians[ZEEP]
    for task in tasks:
        section.lines.append(Line(task.label, _figures(medians[task.label], zeep)))
    figures = {line.label: line.figures for line in section.lines}
    c32 = figures[tasks[4].label]
    client = figures[tasks[1].label]
    section.verdicts += [
        Verdict.at_least("concurrency 32 vs zeep loop (x)", c32["x zeep loop"], SPEEDUP_TARGET),
        Verdict.at_most("client CPU ms/req, UdbClient alone", client["CPU ms/req"], CPU_TARGET_MS),
        Verdict.at_most("client CPU ms/req, whole run at c32", c32["CPU ms/req"], CPU_TARGET_MS),
    ]
    section.notes.append(
        f"sequential runs send {few} rows (x {LATENCY_MS:g} ms each), concurrent ones {rows}; "
        "CPU ms/req is this client process's CPU (all threads) over the sending phase, the "
        "simulator runs in another process; 'whole run' includes scheduler and SQLite journal."
    )
    _profile(ctx, registry, section)
    measure_signed(ctx, registry, section, lambda result: _figures(result, zeep), LATENCY_MS)
    return section


def _profile(ctx: Context, registry: Path, section: Section) -> None:
    """Where the client's time goes: UdbClient.send in a loop under pyinstrument, no latency."""
    rows = ctx.size(PROFILE_ROWS, 100)
    with Simulator(latency_ms=0.0, registry=registry) as simulator:
        args = {"rows": rows, "wsdl": simulator.wsdl}
        parts = rounds([Task("client CPU by part", "client-breakdown", args)], ctx.runs)
        result = run_child(Task("profile", "client-profile", args))
    split = parts["client CPU by part"]
    whole = split["envelope_cpu_ms"] + split["post_cpu_ms"]
    section.extra["client_cpu_ms"] = {
        "build the envelope: zeep's template, filled (client.envelope)": split["envelope_cpu_ms"],
        "HTTP exchange + reply reading (client.post)": split["post_cpu_ms"],
        "UdbClient.send, both (warm, back to back)": whole,
    }
    name = "client CPU ms/req, UdbClient alone, no latency"
    section.verdicts.insert(1, Verdict.at_most(name, whole, CPU_TARGET_MS))
    section.extra["profile"] = {
        "what": f"UdbClient.send x {rows}, sequential, simulator without latency, pyinstrument "
        "timed by this thread's CPU clock (time.thread_time); the profiler's per-call cost "
        "inflates call-heavy code (zeep) against C code (sockets, lxml)",
        "cpu_ms_per_request_profiled": 1000 * result["cpu"] / rows,
        "top": result["top"],
    }


def measure_rate(ctx: Context) -> Section:
    """5. A rate-limited run: achieved / configured rate, and the most requests in any second."""
    rows = ctx.size(RATE_ROWS, 100)
    registry = _registry(ctx, rows)
    args = {"rows": rows, "concurrency": RATE_CONCURRENCY, "rate": RATE, "burst": BURST}
    with Simulator(latency_ms=LATENCY_MS, registry=registry) as simulator:
        label = f"scheduler, rate {RATE:g}/s, burst {BURST}, concurrency {RATE_CONCURRENCY}"
        task = Task(label, "engine", {"wsdl": simulator.wsdl, **args})
        result = rounds([task], ctx.runs, worst=("max_1s",))[label]
    achieved = result["rows"] / result["seconds"]
    columns = ("rows", "req/s", "achieved / rate", "max in any 1 s", "rate + burst")
    section = Section(5, f"Rate-limited run ({rows} rows, capacity ~160/s at c8 +50 ms)", columns)
    figures = {
        "rows": rows,
        "req/s": achieved,
        "achieved / rate": achieved / RATE,
        "max in any 1 s": result["max_1s"],
        "rate + burst": RATE + BURST,
    }
    section.lines.append(Line(label, figures))
    most = result["max_1s"]
    section.verdicts += [
        Verdict.at_least("achieved / configured", achieved / RATE, RATE_TARGET),
        Verdict.at_most("max requests in any 1 s window", most, RATE + BURST, shown=str(most)),
    ]
    section.notes.append(
        "achieved = rows sent / elapsed sending phase (client side); windows are counted from "
        "the journal's attempt start times (attempts.at), sliding; the worst of the runs."
    )
    return section
