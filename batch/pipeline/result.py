"""A run's end: its workbook written from the journal, and what the CLI tells about it.

Split from `batch.pipeline` (which re-exports these names): `write_result` writes the workbook
and the JSON summary of a run from the journal and returns the `RunResult` the CLI reports;
`rebuild_report` does so again for a finished run.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from batch.errors import ConfigError, JournalLockedError, ReportWriteError, SetupError
from batch.i18n import _
from batch.journal import Journal, format_local, open_read_only, snapshot
from batch.records import Outcome, StopCause
from batch.report import ReportPaths, summary_facts, write_report
from batch.report.from_journal import counted_rows, run_summary

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Iterator
    from pathlib import Path

    from batch.config import Settings
    from batch.preflight import Startup
    from batch.service.certs import CertificateInfo

__all__ = [
    "EXIT_FAILED_ROWS",
    "EXIT_OK",
    "EXIT_UNSENT",
    "RunResult",
    "exit_code_for",
    "next_flags_of",
    "open_journal_to_read",
    "rebuild_report",
    "write_result",
]

EXIT_OK = 0
EXIT_FAILED_ROWS = 1  # the run finished; some rows are in Fix or Drop
EXIT_UNSENT = 3  # some rows could not be sent (Retry); wins over 1


@dataclass(frozen=True, slots=True)
class RunResult:
    """What the CLI needs to tell the user and the scheduler (`codes`: per outcome, counted)."""

    run_id: str
    counts: dict[Outcome, int]
    paths: ReportPaths
    status: str
    message: str | None
    blank: int
    dry_run: bool = False
    started: datetime | None = None
    finished: datetime | None = None
    codes: dict[Outcome, Counter[str]] = field(default_factory=dict)
    stop_cause: StopCause | None = None
    warnings: tuple[str, ...] = ()
    certificates: tuple[CertificateInfo, ...] = ()
    aged: int = 0  # of the Drop rows: aged 25 or more, needing nobody
    still_wrong: int = 0  # rows fixed through a Fix sheet earlier, read again unfixed
    new: tuple[int, int] = (0, 0)  # rows in Fix, Drop not reported on an earlier night
    exit_code: int = EXIT_OK

    @property
    def setup_problem(self) -> bool:
        """The run stopped on a set-up problem: exit 4, whatever the counts say."""
        return self.stop_cause is not None and self.stop_cause.setup

    @property
    def rows(self) -> int:
        """Rows in, blank rows not counted."""
        return sum(self.counts.values())


def exit_code_for(counts: dict[Outcome, int]) -> int:
    """0 all accepted or unchanged; 3 some unsent (wins); 1 some to fix or drop."""
    if counts.get(Outcome.RETRY, 0):
        return EXIT_UNSENT
    if counts.get(Outcome.FIX, 0) or counts.get(Outcome.DROP, 0):
        return EXIT_FAILED_ROWS
    return EXIT_OK


def next_flags_of(settings: Settings) -> tuple[str, ...]:
    """Flags the next run needs to find this run again: those given on this command line."""
    flags: list[str] = []
    for name in ("state_dir", "wsdl", "endpoint"):
        value = getattr(settings, name)
        if settings.sources.get(name) == "flag" and value is not None:
            flags += [f"--{name.replace('_', '-')}", str(value)]
    return tuple(flags)


def write_result(
    journal: Journal,
    run_id: str,
    report_dir: Path,
    cause: StopCause | None = None,
    startup: Startup | None = None,
    *,
    next_flags: tuple[str, ...] = (),
    stop_code: int | None = None,
) -> RunResult:
    """Write the run's workbook and JSON summary from the journal; what the CLI reports."""
    summary = dataclasses.replace(
        run_summary(journal, run_id, cause, startup),
        still_wrong=journal.still_wrong(run_id),
        report_dir=str(report_dir),
        next_flags=next_flags,
    )
    counts = dict(summary.counts)
    code = SetupError.exit_code if cause is not None and cause.setup else exit_code_for(counts)
    summary = dataclasses.replace(summary, exit_code=stop_code or code)
    codes: dict[Outcome, Counter[str]] = {}
    try:
        paths = write_report(report_dir, summary, counted_rows(journal, run_id, codes))
    except OSError as error:  # full, read-only, not ours: the operator's to fix, not a bug
        facts = summary_facts(summary, ReportWriteError.exit_code)  # monitoring sees the run
        raise ReportWriteError(report_dir, run_id, error, facts) from error
    return RunResult(
        run_id=run_id,
        counts=counts,
        paths=paths,
        status=summary.status,
        message=summary.message,
        blank=sum(item.blank for item in summary.inputs),
        dry_run=summary.dry_run,
        started=summary.started,
        finished=summary.finished,
        codes={outcome: found for outcome, found in codes.items() if found},
        stop_cause=cause,
        warnings=summary.warnings,
        certificates=startup.certificates if startup else (),
        aged=summary.aged,
        still_wrong=summary.still_wrong,
        new=(summary.new_fix, summary.new_drop),
        exit_code=stop_code or code,
    )


def rebuild_report(state_dir: Path, report_dir: Path, run_id: str | None = None) -> RunResult:
    """Write the workbook of a run (the last one by default) again from the journal.

    While another run holds the journal, it is read without the lock, as one snapshot: a run
    under way gets the workbook of its state so far (rows not yet sent in Retry).
    """
    with open_journal_to_read(state_dir) as journal, snapshot(journal):
        run_id = run_id or journal.last_run_id()
        if run_id is None:
            raise ConfigError(
                _("the journal in {folder} holds no run yet").format(folder=state_dir)
            )
        purged = journal.purged(run_id)
        if purged is not None:
            raise ConfigError(
                _(
                    "the rows of run {run_id} were deleted on {date} (retention_days): its "
                    "workbook cannot be written again; `batch status` still shows its counts"
                ).format(run_id=run_id, date=format_local(datetime.fromisoformat(purged))[:10])
            )
        return write_result(journal, run_id, report_dir)


@contextlib.contextmanager
def open_journal_to_read(state_dir: Path) -> Iterator[Journal]:
    """The journal with its lock when free (closing dead runs), else read-only beside a run."""
    try:
        journal = Journal.open(state_dir)
    except JournalLockedError:
        journal = open_read_only(state_dir)
    with journal:
        yield journal
