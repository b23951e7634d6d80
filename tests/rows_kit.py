"""Rows built in code and a scripted sender (no I/O), for the journal, scheduler and pipeline."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from batch.records import Answer, Contact, Failure, Report, Row, Wish
from batch.submit import SubmitSettings, submit_run

CPH = ZoneInfo("Europe/Copenhagen")
BASE = datetime(2024, 3, 1, 9, 0, tzinfo=CPH)


def when(days: float = 0) -> datetime:
    """A registration time `days` after a fixed base moment."""
    return BASE + timedelta(days=days)


def report(
    cpr: str = "0101084123",
    *,
    contact: float | None = 0,
    job: float | None = None,
    education: float | None = None,
    name: str = "Karen Hansen",
    job_text: str = "Tømrer",
    institution: int = 751001,
) -> Report:
    """A valid report; each group given as days after BASE (None: group absent)."""
    return Report(
        system_id="BATCH-TEST",
        cpr=cpr,
        institution=institution,
        contact=None
        if contact is None
        else Contact(name=name, mail="karen@example.dk", phone=12345678, registered=when(contact)),
        job=None if job is None else Wish(text=job_text, registered=when(job)),
        education=None if education is None else Wish(text="Gymnasium", registered=when(education)),
    )


def row(n: int, rep: Report | None, *, source_file: str = "input.csv", **cells: object) -> Row:
    """A row as the loader would produce it, numbered as a spreadsheet shows it."""
    shown = {"CPR": rep.cpr if rep else "", **cells}
    return Row(source_file=source_file, source_row=n, cells=shown, report=rep)  # type: ignore[arg-type]


@dataclass
class Call:
    """One request the scripted sender received."""

    report: Report
    at: float
    thread: str


@dataclass
class ScriptedSender:
    """A `Sender` that answers from a script per CPR (then `default`), recording every call."""

    script: dict[str, list[Answer | Failure]] = field(default_factory=dict)
    default: Answer | Failure = field(default_factory=lambda: Answer(ok=True))
    delay: float = 0.0
    calls: list[Call] = field(default_factory=list)
    hook: Callable[[Report], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seen: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def send(self, report: Report) -> Answer | Failure:
        """Record the call, then answer from the CPR's script."""
        with self._lock:
            self.calls.append(Call(report, time.monotonic(), threading.current_thread().name))
            index = self._seen[report.cpr]
            self._seen[report.cpr] += 1
            answers = self.script.get(report.cpr, [])
            answer = answers[index] if index < len(answers) else self.default
        if self.hook is not None:
            self.hook(report)
        if self.delay:
            time.sleep(self.delay)
        return answer

    def calls_for(self, cpr: str) -> list[Call]:
        """The calls for one CPR, in arrival order."""
        with self._lock:
            return [call for call in self.calls if call.report.cpr == cpr]


def fictitious_cprs(count: int, *, offset: int = 0) -> list[str]:
    """Distinct fictitious CPR numbers of people born 2008-2012 (7th digit 4: 2000s)."""
    cprs = []
    for n in range(offset, offset + count):
        day, month, year = n % 28 + 1, (n // 28) % 12 + 1, 8 + (n // 336) % 5
        cprs.append(f"{day:02d}{month:02d}{year:02d}4{(n // 1680) % 1000:03d}")
    assert len(set(cprs)) == count, "ran out of distinct numbers"
    return cprs


def write_registry(path: Path, cprs: list[str], *, kui: int = 751001) -> Path:
    """A simulator registry (`cpr;home_kui;name`) holding `cprs`, all living in `kui`."""
    lines = ["cpr;home_kui;name", *(f"{cpr};{kui};Person {n}" for n, cpr in enumerate(cprs))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def crash_rows(known: list[str], unknown: list[str], total: int) -> list[Row]:
    """The crash test's input: mostly known CPRs (some twice, newest last), a few unknown ones.

    Every row's payload is distinct, so "each accepted payload received once" is countable.
    """
    rows = []
    for n in range(total):
        if n % 20 == 19:
            rep = report(unknown[n % len(unknown)], contact=n % 7, name=f"Unknown {n}")
        else:
            rep = report(known[n % len(known)], contact=n // len(known), name=f"Contact {n}")
        rows.append(row(n + 2, rep))
    return rows


FAST_RETRY = {"backoff_initial": 0.001, "backoff_max": 0.01, "rate": None}


def submit_rows(journal, rows, sender, *, stop=None, progress=None, **settings):
    """Ingest `rows` into a new run and submit them (fast retries, no rate limit by default).

    Returns the run id and the `SubmitStats`.
    """
    run_id = journal.start_run(inputs=["input.csv"], settings={})
    journal.add_rows(run_id, rows)
    stats = submit_run(
        journal,
        run_id,
        sender,
        SubmitSettings(**{**FAST_RETRY, **settings}),
        stop=stop or threading.Event(),
        on_progress=progress,
    )
    return run_id, stats
