"""What the Runs pages show, read from the journal without its lock (beside a run under way).

Every run of the state directory is in the journal, whichever door it came through: the
nightly job and `batch run` write it as the web app does, so the list needs nothing else to
run. Who started a run is in the audit log for the web app and the API; a run not there came
from the command line: the nightly job when its files came from an inbox the journal knows,
else the nightly job or a person at a terminal.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from batch.errors import ConfigError, StateError
from batch.journal import open_read_only, snapshot
from batch.journal._base import LOCAL_ZONE
from batch.pipeline import rebuild_report
from batch.web.accounts import private_dir
from batch.web.audit import run_starters

if TYPE_CHECKING:
    from batch.records import Outcome, RowResult

__all__ = [
    "OUTCOMES",
    "STATUSES",
    "RunFilter",
    "RunLine",
    "find_workbook",
    "recent",
    "run_detail",
    "run_lines",
    "run_rows",
    "written_again",
]

# The order of the chart's stacks and the tables' columns: good news first, trouble last.
OUTCOMES = ("accepted", "unchanged", "ready", "fix", "drop", "retry")
STATUSES = ("running", "finished", "interrupted", "broken", "failed")


@dataclass(frozen=True, slots=True)
class RunLine:
    """One run as the list shows it."""

    run_id: str
    started: datetime  # local (Danish) time
    finished: datetime | None
    status: str
    dry_run: bool
    files: list[str]
    counts: dict[str, int]
    started_by: str | None  # None: the command line
    purged: bool
    from_inbox: bool = False  # its files came from an inbox (`batch run --inbox`: nightly)

    @property
    def total(self) -> int:
        """Rows of the run in every outcome."""
        return sum(self.counts.values())

    def file_names(self) -> list[str]:
        """The inputs by their names (a path's last part; a web upload as recorded)."""
        return [name if name.startswith("web ") else Path(name).name for name in self.files]


@dataclass(frozen=True, slots=True)
class RunFilter:
    """The list's filter: runs started from `since` to `until` (local days), status, file."""

    since: date | None = None
    until: date | None = None
    status: str = ""
    file: str = ""

    def keeps(self, line: RunLine) -> bool:
        """Whether `line` passes every part of the filter that is set."""
        day = line.started.date()
        wanted = self.file.casefold()
        return (
            (self.since is None or day >= self.since)
            and (self.until is None or day <= self.until)
            and (not self.status or line.status == self.status)
            and (not wanted or any(wanted in name.casefold() for name in line.files))
        )


def run_lines(state_dir: Path) -> list[RunLine]:
    """Every run, newest first; none before anything has run."""
    try:
        journal = open_read_only(state_dir)
    except StateError:
        return []
    starters = run_starters(state_dir)
    try:
        with snapshot(journal):
            inboxes = set(journal.places("inbox"))
            lines = [
                RunLine(
                    run_id=info.run_id,
                    started=info.started.astimezone(LOCAL_ZONE),
                    finished=info.finished.astimezone(LOCAL_ZONE) if info.finished else None,
                    status=info.status,
                    dry_run=info.dry_run,
                    files=info.files,
                    counts={k.value: n for k, n in journal.counts(info.run_id).items() if n},
                    started_by=starters.get(info.run_id),
                    purged=journal.purged(info.run_id) is not None,
                    from_inbox=any(Path(file).parent in inboxes for file in info.files),
                )
                for info in journal.runs()
            ]
    finally:
        journal.close()
    return lines[::-1]


def recent(lines: list[RunLine], days: int = 30, now: datetime | None = None) -> list[RunLine]:
    """The runs of the last `days` days, oldest first (the chart's order)."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    return sorted((line for line in lines if line.started >= since), key=lambda x: x.started)


def run_detail(state_dir: Path, run_id: str) -> RunLine | None:
    """One run, or None when the journal holds no such run."""
    return next((line for line in run_lines(state_dir) if line.run_id == run_id), None)


def run_rows(
    state_dir: Path, run_id: str, outcome: Outcome, page: int, size: int
) -> list[RowResult]:
    """Page `page` (from 0) of the run's rows of one outcome, in input order."""
    journal = open_read_only(state_dir)
    try:
        with snapshot(journal):
            rows = journal.results(run_id, outcome)
            return list(itertools.islice(rows, page * size, (page + 1) * size))
    finally:
        journal.close()


def written_again(state_dir: Path, run_id: str) -> tuple[str, bytes] | None:
    """The run's workbook (name, bytes) written afresh from the journal; nothing left on disk.

    For a run whose workbook was moved away or is not written yet (a run under way: its rows
    so far). None once retention deleted the run's rows.
    """
    with tempfile.TemporaryDirectory(
        prefix="workbook-", dir=private_dir(state_dir / "web")
    ) as work:
        try:
            result = rebuild_report(state_dir, Path(work), run_id)
        except (ConfigError, StateError):
            return None
        return result.paths.workbook.name, result.paths.workbook.read_bytes()


def find_workbook(state_dir: Path, report_dir: Path, run_id: str) -> Path | None:
    """The run's workbook where its run wrote it (found by its JSON summary), if still there."""
    try:
        journal = open_read_only(state_dir)
    except StateError:
        return None
    try:
        folders = dict.fromkeys([report_dir.expanduser(), *journal.places("reports")])
    finally:
        journal.close()
    for folder in folders:
        for summary in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            found = _workbook_of(summary, run_id)
            if found is not None:
                return found
    return None


def _workbook_of(summary: Path, run_id: str) -> Path | None:
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("run_id") != run_id:
        return None
    workbook = summary.with_suffix(".xlsx")
    return workbook if workbook.is_file() else None
