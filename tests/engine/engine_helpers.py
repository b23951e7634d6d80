"""Helpers for the engine's tests: rows built in code and a scripted sender (no I/O)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from batch.records import Answer, Contact, Failure, Report, Row, Wish

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
