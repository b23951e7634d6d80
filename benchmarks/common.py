"""What every measurement shares: child processes, the simulator process, medians, results.

Each measured thing runs in a child process of its own (`python -m benchmarks.child TASK`), so
its peak RSS is its own (`os.wait4` gives the rusage of exactly that child) and its CPU time
never mixes with the simulator's, which always runs in another process. Alternatives take
turns within each round, so the machine's noise spreads over all of them alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = [
    "ROOT",
    "Context",
    "Line",
    "Section",
    "Simulator",
    "Task",
    "Verdict",
    "environment_note",
    "mib",
    "rounds",
    "run_child",
]

ROOT = Path(__file__).resolve().parent.parent
_KIB_PER_MIB = 1024


@dataclass(frozen=True)
class Context:
    """The run's options: how many rounds, at what scale, where to put generated files."""

    runs: int
    quick: bool
    scratch: Path

    def size(self, full: int, minimum: int = 1) -> int:
        """`full` rows, or a twentieth of it (at least `minimum`) in a quick run."""
        return full if not self.quick else max(minimum, full // 20)


@dataclass
class Line:
    """One row of a section's table: what was measured and its median figures."""

    label: str
    figures: dict[str, Any]


@dataclass
class Verdict:
    """A figure set against the issue's target."""

    name: str
    value: float | None
    target: str
    met: bool | None
    shown: str = ""

    def __post_init__(self) -> None:
        if not self.shown:
            self.shown = "-" if self.value is None else f"{self.value:.2f}"

    @classmethod
    def at_least(cls, name: str, value: float, target: float) -> Verdict:
        """Met when `value` is `target` or more."""
        return cls(name, value, f">= {target:g}", value >= target)

    @classmethod
    def at_most(
        cls, name: str, value: float, target: float, shown: str = "", wanted: str = ""
    ) -> Verdict:
        """Met when `value` is `target` or less."""
        return cls(name, value, f"<= {wanted or f'{target:g}'}", value <= target, shown)


@dataclass
class Section:
    """One of the six measurements: its table, its verdicts, and notes on how it was run."""

    number: int
    title: str
    columns: tuple[str, ...]
    lines: list[Line] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The section as plain data for the JSON report."""
        return asdict(self)


@dataclass(frozen=True)
class Task:
    """One child process to run: a task name of `benchmarks.child` and its keyword arguments."""

    label: str
    name: str
    args: dict[str, Any]


def mib(kib: float) -> float:
    """KiB (as `ru_maxrss` counts on Linux) in MiB."""
    return kib / _KIB_PER_MIB


def run_child(task: Task) -> dict[str, Any]:
    """Run one task in a fresh interpreter; its JSON result plus its own rusage.

    Adds `wall_process` (seconds, the whole child), `cpu_process`, and `maxrss_kib`.
    """
    command = [sys.executable, "-m", "benchmarks.child", task.name, json.dumps(task.args)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode(errors="replace")
    if child.returncode != 0:
        tail = "\n".join(errors.strip().splitlines()[-15:])
        raise RuntimeError(f"{task.label} failed (exit {child.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    result["cpu_process"] = usage.ru_utime + usage.ru_stime
    result["maxrss_kib"] = usage.ru_maxrss
    return result


def _median(values: Sequence[Any]) -> Any:  # noqa: ANN401 - numbers, or the first of anything else
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return statistics.median(values)
    return values[0]


def rounds(
    tasks: Sequence[Task], runs: int, *, worst: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """Run every task `runs` times, taking turns; the median of each figure, by label.

    Figures named in `worst` take the largest value of the runs instead of the median.
    """
    results: dict[str, list[dict[str, Any]]] = {task.label: [] for task in tasks}
    for round_number in range(1, runs + 1):
        for task in tasks:
            result = run_child(task)
            results[task.label].append(result)
            seconds = result.get("seconds", float("nan"))
            print(f"  round {round_number}/{runs}: {task.label}: {seconds:.1f} s", flush=True)
    return {
        label: {
            key: max(r[key] for r in items) if key in worst else _median([r[key] for r in items])
            for key in items[0]
        }
        for label, items in results.items()
    }


class Simulator:
    """The UDB simulator as `python -m batch simulator` in its own process, on loopback."""

    def __init__(
        self,
        *,
        latency_ms: float = 0.0,
        registry: Path | None = None,
        options: Sequence[str] = (),
    ) -> None:
        """Start it; `options` are more command-line options (TLS, `--require-signature`)."""
        command = [sys.executable, "-m", "batch", "simulator", "--port", "0"]
        command += ["--latency-ms", str(latency_ms), *options]
        if registry is not None:
            command += ["--registry", str(registry)]
        self._process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self._process.stdout is not None
        first = self._process.stdout.readline()
        if "WSDL at " not in first:
            self.stop()
            raise RuntimeError(f"the simulator did not start: {first!r}")
        self.wsdl = first.split("WSDL at ", 1)[1].strip()

    def stop(self) -> None:
        """Ctrl-C, as a person stops it; then wait for it to end.

        A simulator started from a shell's background job inherits SIGINT ignored and never
        hears the Ctrl-C: after a short wait it gets SIGTERM, which a background job does not
        ignore.
        """
        for signum, seconds in ((signal.SIGINT, 5), (signal.SIGTERM, 25)):
            if self._process.poll() is not None:
                break
            self._process.send_signal(signum)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=seconds)
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def environment_note() -> Iterator[str]:
    """Lines on the machine, for the report."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    yield f"{os.cpu_count()} CPUs ({cpu}), {pages / 2**30:.1f} GiB memory"
    yield f"Python {sys.version.split()[0]} on {sys.platform}"
