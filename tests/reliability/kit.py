"""Helpers for the reliability suite: fictitious rows, the CLI in the background, row accounting.

Rows use people from the simulator's registry who live in KUI 751001 and have no scripted
failure, so UDB accepts them when that KUI reports. To get many distinct payloads from a few
dozen people, each row gets its own registration time and text; a person's rows grow newer
down the file, so the changed-only and never-older-over-newer rules send every one of them.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from batch.intake.cpr import age_on
from batch.records import CANONICAL_FIELDS
from batch.simulator.rules import AGE_LIMIT
from tests.e2e.helpers import Run, placed_rows, read_rows, summary_of, workbook_of

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from batch.simulator import ReceivedRequest, RunningSimulator

REGISTRY = Path(__file__).resolve().parents[2] / "batch" / "simulator" / "registry.csv"
KUI = "751001"
# The spec's names from CPRNr to JobRegistreringstid: contact and job, no education wish.
HEADER = CANONICAL_FIELDS[: CANONICAL_FIELDS.index("JobRegistreringstid") + 1]
OUTCOME_KEYS = ("accepted", "fix", "drop", "retry", "unchanged")
# Registration times start here and go one minute further per row: always in the past (UDB's
# 280), never near the skipped hour of a daylight saving change (02:00 local).
FIRST_TIME = (datetime.now() - timedelta(days=30)).replace(
    hour=8, minute=0, second=0, microsecond=0
)
SAFETY_TIMEOUT = 180.0  # seconds; only ever reached when something hangs
PARALLEL = 2  # CLI processes at once: one per core (start-up is CPU-bound)

T = TypeVar("T")


def accepted_people() -> list[str]:
    """CPR numbers UDB's simulator accepts from KUI 751001 (fictitious, from its registry)."""
    with REGISTRY.open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle, delimiter=";"))
    return [record["cpr"] for record in records if _accepted(record, date.today())]


def _accepted(record: dict[str, str], today: date) -> bool:
    age = age_on(record["cpr"], today)
    return (
        record["home_kui"] == KUI
        and not (record.get("fails_with") or "").strip()
        and age is not None
        and age < AGE_LIMIT
    )


def good_rows(count: int, *, tag: str = "", first: int = 0) -> list[list[str]]:
    """`count` valid rows, each with a payload of its own (time and job text differ).

    A row is a minute after the one before: up to some 40,000 rows stay in the past.
    """
    people = accepted_people()
    rows = []
    for n in range(first, first + count):
        when = (FIRST_TIME + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%S")
        rows.append(
            [
                people[n % len(people)],
                KUI,
                "Mette Holm",
                "mette.holm@kui.example-kommune.dk",
                "20 12 34 56",
                when,
                f"Tømrer {tag}{n}",
                when,
            ]
        )
    return rows


def write_csv(
    path: Path,
    rows: Sequence[Sequence[str]],
    *,
    header: Sequence[str] = HEADER,
    encoding: str = "utf-8",
) -> Path:
    """A semicolon CSV as municipal exports are written."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def service_args(sim: RunningSimulator | str, *extra: str) -> list[str]:
    """The options that point `batch run` at a simulator (or any WSDL URL)."""
    wsdl = sim if isinstance(sim, str) else sim.wsdl_url
    return ["--wsdl", wsdl, "--system-id", "KUI-TEST", *extra]


@dataclass
class Background:
    """`python -m batch ...` running in the background, its output going to two files."""

    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    @classmethod
    def start(
        cls,
        *args: str | Path,
        state_dir: Path,
        report_dir: Path,
        logs: Path,
        env: dict[str, str] | None = None,
    ) -> Background:
        """Start the CLI as `run_cli` would, without waiting for it."""
        logs.mkdir(parents=True, exist_ok=True)
        out, err = logs / "stdout.txt", logs / "stderr.txt"
        full_env = {
            **os.environ,
            "BATCH_STATE_DIR": str(state_dir),
            "BATCH_REPORT_DIR": str(report_dir),
            "BATCH_LOG_FORMAT": "json",
            **(env or {}),
        }
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "batch", *map(str, args)],
                stdout=stdout,
                stderr=stderr,
                env=full_env,
            )
        return cls(process, out, err)

    def wait(self) -> Run:
        """Wait for the end; the exit code is negative when a signal killed the process."""
        code = self.process.wait(timeout=SAFETY_TIMEOUT)
        return Run(
            code,
            self.out.read_text(encoding="utf-8", errors="replace"),
            self.err.read_text(encoding="utf-8", errors="replace"),
        )


def run_many(jobs: Sequence[Callable[[], T]], parallel: int = PARALLEL) -> list[T]:
    """Run independent jobs (each typically one CLI process) a few at a time, in order.

    Only for runs whose assertions do not depend on timing: the machine is shared and the
    processes compete for its two cores.
    """
    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda job: job(), jobs))


def wait_for_requests(sim: RunningSimulator, count: int, cli: Background) -> int:
    """Poll until `count` requests reached the simulator (or the CLI ended); return how many."""
    deadline = time.monotonic() + SAFETY_TIMEOUT
    while time.monotonic() < deadline:
        seen = len(sim.received())
        if seen >= count or cli.process.poll() is not None:
            return seen
        time.sleep(0.002)
    raise AssertionError(f"fewer than {count} requests arrived in {SAFETY_TIMEOUT} s")


def wait_for_log(cli: Background, text: str) -> None:
    """Poll the CLI's stderr until `text` shows up (or the CLI ended)."""
    deadline = time.monotonic() + SAFETY_TIMEOUT
    while time.monotonic() < deadline:
        if text in cli.err.read_text(encoding="utf-8", errors="replace"):
            return
        if cli.process.poll() is not None:
            raise AssertionError(f"the CLI ended without logging {text!r}")
        time.sleep(0.005)
    raise AssertionError(f"{text!r} not logged in {SAFETY_TIMEOUT} s")


def accepted_digests(received: Sequence[ReceivedRequest]) -> Counter[str | None]:
    """How often the simulator accepted each payload."""
    return Counter(request.payload_digest for request in received if request.ok)


def busiest_second(received: Sequence[ReceivedRequest]) -> int:
    """The most requests that arrived within any one-second window [t, t + 1)."""
    times = sorted(request.monotonic for request in received)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


@dataclass(frozen=True)
class Book:
    """A run's workbook read back: its sheets and its JSON summary."""

    path: Path
    sheets: dict[str, list[dict[str, object]]]
    summary: dict[str, object]

    @classmethod
    def newest(cls, report_dir: Path) -> Book:
        """The newest workbook in `report_dir`."""
        path = workbook_of(report_dir)
        return cls(path, read_rows(path), summary_of(path))

    def rows(self, sheet: str) -> list[dict[str, object]]:
        """The rows of one sheet (none when the sheet is absent)."""
        return self.sheets.get(sheet, [])

    def count(self, key: str) -> int:
        """One count from the JSON summary."""
        return int(str(self.summary[key]))

    def attempts(self) -> int:
        """Attempts over every row: the requests this run made."""
        return sum(int(str(row["Attempts"] or 0)) for rows in self.sheets.values() for row in rows)

    def assert_each_row_once(self, expected: Sequence[tuple[str, int]]) -> None:
        """Every expected (file, row) in exactly one sheet, nothing else; counts add up."""
        placed = placed_rows(self.sheets)
        duplicates = [key for key, n in Counter(placed).items() if n > 1]
        assert duplicates == [], f"rows in more than one place: {duplicates[:5]}"
        assert sorted(placed) == sorted(expected)
        parts = sum(self.count(key) for key in OUTCOME_KEYS)
        assert parts == self.count("rows") == len(expected)


def csv_rows(name: str, count: int, *, first_row: int = 2) -> list[tuple[str, int]]:
    """(file, row) of `count` data rows right below a one-line header."""
    return [(name, first_row + n) for n in range(count)]
