"""What a person at a terminal sees: a notice line, a progress bar, a summary table, errors.

Human output goes to stderr except the summary, which goes to stdout so that a scheduler's
mail or a shell pipe gets it. On a terminal there is a progress bar with rows/s and ETA;
elsewhere (cron, CI, a pipe) there is none. Logs are separate (`batch.logging`).

Every word comes from the catalog, in the run's language. The summary names the sheets as the
workbook does and shows the same numbers as its Summary sheet: the rows per sheet add up to
the total, and blank rows (skipped, not counted) stand apart below it. Times are Danish local
time with the zone, as in the workbook; a thousand rows with one code are one entry.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.console import Console as RichConsole
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from batch.i18n import N_, _
from batch.outcomes import sheet_title
from batch.privacy import mask_cpr
from batch.records import Outcome

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Iterator, Sequence
    from datetime import datetime

    from batch.journal import RunInfo
    from batch.pipeline import RunResult

__all__ = ["Console", "ProgressSink", "danish_time", "grouped_codes"]

DANISH_TIME = ZoneInfo("Europe/Copenhagen")
_REAL_RUN = (Outcome.ACCEPTED, Outcome.FIX, Outcome.DROP, Outcome.RETRY, Outcome.UNCHANGED)
_DRY_RUN = (Outcome.READY, Outcome.FIX, Outcome.DROP, Outcome.RETRY, Outcome.UNCHANGED)
_STATUS = {
    "finished": N_("finished"),
    "interrupted": N_("interrupted"),
    "broken": N_("stopped: the service kept failing"),
    "failed": N_("failed"),
    "running": N_("running"),
}
_TIMES = "\N{MULTIPLICATION SIGN}"  # 280 x 57, as a person writes it
_CODES_SHOWN = 6  # the most frequent codes of a sheet; the rest are summed as "..."


def danish_time(moment: datetime) -> str:
    """A moment as a Danish case worker reads it, with its zone: `02-12-2026 01:50 CET`."""
    return moment.astimezone(DANISH_TIME).strftime("%d-%m-%Y %H:%M %Z")


def grouped_codes(codes: Counter[str]) -> str:
    """`280` times 57, `14` times 3: repeated codes as one entry each, most frequent first."""
    common = codes.most_common()
    shown = [f"{code} {_TIMES} {count:,}" for code, count in common[:_CODES_SHOWN]]
    rest = sum(count for _code, count in common[_CODES_SHOWN:])
    if rest:
        shown.append(_("other codes {times} {count}").format(times=_TIMES, count=f"{rest:,}"))
    return ", ".join(shown)


class ProgressSink:
    """Receives the row counts from the pipeline; shows them only when there is a bar."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def total(self, rows: int) -> None:
        """The number of rows to send is known: start the bar."""
        if self._progress is not None:
            self._task = self._progress.add_task(_("sending"), total=rows)

    def advance(self, rows: int) -> None:
        """`rows` more rows reached their final outcome."""
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, rows)


class _RowsPerSecond(ProgressColumn):
    """Rows per second, which rich has only for bytes."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else _("{speed} rows/s").format(speed=f"{speed:,.0f}"))


class Console:
    """The terminal side of a command."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self._out = RichConsole(file=sys.stdout, highlight=False, soft_wrap=True)
        if not self._out.is_terminal:  # a pipe or a log file: never wrap a run id or a path
            self._out = RichConsole(file=sys.stdout, highlight=False, soft_wrap=True, width=200)
        self._err = RichConsole(file=sys.stderr, highlight=False, soft_wrap=True)

    def notice(self, text: str) -> None:
        """A line the user must see first (e.g. that the simulator is in use)."""
        if not self.quiet:
            self._err.print(mask_cpr(text), markup=False)

    def error(self, text: str) -> None:
        """One clear line; never a traceback for a user's mistake."""
        line = _("error: {message}").format(message=mask_cpr(text))
        self._err.print(line, style="bold red", markup=False)

    @contextlib.contextmanager
    def progress(self) -> Iterator[ProgressSink]:
        """A progress bar on a terminal; a silent sink anywhere else."""
        if self.quiet or not self._err.is_terminal:
            yield ProgressSink(None)
            return
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RowsPerSecond(),
            TimeElapsedColumn(),
            TextColumn(_("ETA")),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=self._err, transient=True) as bar:
            yield ProgressSink(bar)

    def summary(self, result: RunResult) -> None:
        """Rows per sheet (with their codes grouped), the total, status, times, the files."""
        if self.quiet:
            return
        status = _(_STATUS[result.status]) if result.status in _STATUS else result.status
        title = _("run {run_id}: {status}").format(run_id=result.run_id, status=status)
        table = Table(title=title, title_justify="left")
        for column in (_("sheet"), _("rows"), _("codes")):
            table.add_column(column, justify="right" if column == _("rows") else "left")
        for outcome in _DRY_RUN if result.dry_run else _REAL_RUN:
            codes = grouped_codes(result.codes[outcome]) if outcome in result.codes else ""
            table.add_row(sheet_title(outcome), f"{result.counts.get(outcome, 0):,}", codes)
        table.add_row(_("total"), f"{result.rows:,}", "", style="bold")
        self._out.print(table)
        if result.blank:
            self._out.print(_("blank rows skipped (not counted above): {count}").format(
                count=f"{result.blank:,}"), markup=False)  # fmt: skip
        if result.started is not None and result.finished is not None:
            self._out.print(_("started {started}, finished {finished}").format(
                started=danish_time(result.started), finished=danish_time(result.finished)
            ), markup=False)  # fmt: skip
        if result.message:
            self._out.print(mask_cpr(result.message), markup=False)
        self._out.print(_("workbook: {path}").format(path=result.paths.workbook), markup=False)
        self._out.print(_("summary:  {path}").format(path=result.paths.summary), markup=False)

    def runs(self, runs: Sequence[tuple[RunInfo, dict[Outcome, int]]]) -> None:
        """The journal's runs, newest last; times in Danish local time with the zone."""
        table = Table(title=_("runs in the journal"), title_justify="left")
        for column in (_("run"), _("started"), _("status"), *map(sheet_title, _REAL_RUN)):
            table.add_column(column)
        for info, counts in runs:
            status = _(_STATUS[info.status]) if info.status in _STATUS else info.status
            table.add_row(
                info.run_id,
                danish_time(info.started),
                status,
                *(f"{counts.get(o, 0):,}" for o in _REAL_RUN),
            )
        self._out.print(table)

    def show(self, table: Table) -> None:
        """A table of a reading command (`status`, `purge`, `history`)."""
        self._out.print(table)

    def line(self, text: str) -> None:
        """One line of a reading command's output, CPR numbers masked."""
        self._out.print(mask_cpr(text), markup=False)
