"""Benchmark: the submission engine end to end against the simulator, beside a plain zeep loop.

The simulator runs in a child process (so this process's CPU time is the client's alone) with
an added latency per answer, like a real service over a network. Each line is one run into a
fresh journal: requests per second, and client CPU milliseconds per request (engine, journal
and SOAP client together). The last lines compare with a plain sequential zeep loop over the
same rows (and the project's client alone, which isolates the engine's own cost), and show
how close a configured rate limit is kept.

    .venv/bin/python benchmarks/engine_bench.py [--latency-ms 50] [--rows 1000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import zeep

from batch.journal import Journal
from batch.records import Contact, Report, Row
from batch.service.client import ClientSettings, UdbClient
from batch.service.request import build_request
from batch.submit import SubmitSettings, submit_run

__all__ = ["main"]

SIMULATOR = """
import sys
from pathlib import Path
from batch.simulator import FaultConfig, SimulatorConfig, start_simulator
config = SimulatorConfig(registry=Path(sys.argv[1]), max_received=0,
                         faults=FaultConfig(latency_ms=float(sys.argv[2])))
with start_simulator(config) as sim:
    print(sim.wsdl_url, flush=True)
    sys.stdin.read()
"""


@dataclass(frozen=True)
class Figures:
    """One measured run."""

    label: str
    rows: int
    wall: float
    cpu: float

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.rows / self.wall

    @property
    def cpu_ms(self) -> float:
        """Client CPU milliseconds per request."""
        return 1000 * self.cpu / self.rows


def fictitious_cprs(count: int) -> list[str]:
    """Distinct fictitious CPR numbers of young people (born 2008-2012)."""
    return [
        f"{n % 28 + 1:02d}{(n // 28) % 12 + 1:02d}{8 + (n // 336) % 5:02d}4{(n // 1680):03d}"
        for n in range(count)
    ]


def make_rows(cprs: list[str]) -> list[Row]:
    """One row per CPR with a contact person registered yesterday."""
    registered = datetime.now(UTC) - timedelta(days=1)
    rows = []
    for n, cpr in enumerate(cprs):
        contact = Contact(f"Kontakt {n}", f"k{n}@example.dk", 20000000 + n, registered)
        report = Report("BATCH-BENCH", cpr, 751001, contact=contact)
        rows.append(Row("bench.csv", n + 2, {"CPR": cpr}, report))
    return rows


def run_engine(wsdl: str, rows: list[Row], label: str, **settings: object) -> Figures:
    """Ingest `rows` into a fresh journal and submit them; time the submit phase."""
    submit = SubmitSettings(**settings)  # type: ignore[arg-type]
    client_settings = ClientSettings(wsdl=wsdl, pool_size=max(submit.concurrency, 1))
    with (
        tempfile.TemporaryDirectory() as state,
        Journal.open(Path(state)) as journal,
        UdbClient(client_settings) as client,
    ):
        run_id = journal.start_run(inputs=["bench.csv"], settings={})
        journal.add_rows(run_id, rows)
        wall, cpu = time.perf_counter(), time.process_time()
        stats = submit_run(journal, run_id, client, submit, stop=threading.Event())
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert stats.accepted == len(rows), stats
    return Figures(label, len(rows), wall, cpu)


def run_zeep_loop(wsdl: str, rows: list[Row]) -> Figures:
    """The baseline: one zeep client, one request after the other, no journal."""
    client = zeep.Client(wsdl)  # type: ignore[no-untyped-call]
    wall, cpu = time.perf_counter(), time.process_time()
    for row in rows:
        assert row.report is not None
        answer = client.service.IndberetningKontaktJobOgUddOensker(**build_request(row.report))
        assert answer.Ok, answer
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Figures("plain zeep loop, sequential", len(rows), wall, cpu)


def run_client_loop(wsdl: str, rows: list[Row]) -> Figures:
    """The project's client alone, sequential, no journal: isolates the engine's own cost."""
    with UdbClient(ClientSettings(wsdl=wsdl, pool_size=1)) as client:
        wall, cpu = time.perf_counter(), time.process_time()
        for row in rows:
            assert row.report is not None
            answer = client.send(row.report)
            assert getattr(answer, "ok", False), answer
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Figures("UdbClient.send loop, sequential", len(rows), wall, cpu)


def start_simulator(registry: Path, latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    """The simulator in a child process; returns it and its WSDL address."""
    child = subprocess.Popen(
        [sys.executable, "-c", SIMULATOR, str(registry), str(latency_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


def measure(wsdl: str, rows: list[Row], latency_ms: float) -> list[Figures]:
    """Every configuration, the baseline first."""
    few = rows[: max(20, len(rows) // 10)]
    figures = [run_zeep_loop(wsdl, few), run_client_loop(wsdl, few)]
    figures.append(run_engine(wsdl, few, "engine, concurrency 1", concurrency=1, rate=None))
    for workers in (8, 32):
        count = len(rows) if workers == 32 else len(rows) // 2
        label = f"engine, concurrency {workers}"
        figures.append(run_engine(wsdl, rows[:count], label, concurrency=workers, rate=None))
    limit = 0.5 * figures[-1].rate if latency_ms else 100.0
    label = f"engine, 32 workers, rate {limit:.0f}/s"
    half = rows[: len(rows) // 2]
    figures.append(run_engine(wsdl, half, label, concurrency=32, rate=limit, burst=5))
    return figures


def report(figures: list[Figures], latency_ms: float) -> None:
    """Print the table and the ratios."""
    print(f"simulator latency {latency_ms:g} ms per answer; client CPU includes engine+journal")
    print(f"{'run':<40} {'rows':>6} {'req/s':>8} {'CPU ms/req':>11}")
    for item in figures:
        print(f"{item.label:<40} {item.rows:>6} {item.rate:>8.1f} {item.cpu_ms:>11.2f}")
    base, client, single = figures[0], figures[1], figures[2]
    print(f"engine c1 / zeep loop: {single.rate / base.rate:.2f}x req/s, "
          f"{single.cpu_ms / base.cpu_ms:.2f}x CPU per request")  # fmt: skip
    print(f"engine's own CPU per request (c1 minus client loop): "
          f"{single.cpu_ms - client.cpu_ms:.2f} ms")  # fmt: skip
    for item in figures[3:5]:
        print(f"{item.label} / zeep loop: {item.rate / base.rate:.1f}x req/s")
    limited = figures[-1]
    configured = float(limited.label.split("rate ")[1].removesuffix("/s"))
    print(f"rate limit kept: achieved {limited.rate:.1f}/s of {configured:.0f}/s "
          f"= {limited.rate / configured:.2f} of the limit")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args(argv)
    rows = make_rows(fictitious_cprs(args.rows))
    with tempfile.TemporaryDirectory() as scratch:
        registry = Path(scratch) / "registry.csv"
        lines = ["cpr;home_kui;name", *(f"{r.report.cpr};751001;P" for r in rows if r.report)]
        registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
        child, wsdl = start_simulator(registry, args.latency_ms)
        try:
            figures = measure(wsdl, rows, args.latency_ms)
        finally:
            assert child.stdin is not None
            child.stdin.close()
            child.wait(timeout=30)
    report(figures, args.latency_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
