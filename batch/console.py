"""What a person at a terminal sees: a notice line, a progress bar, a summary table, errors.

Human output goes to stderr except the summary, which goes to stdout so that a scheduler's
mail or a shell pipe gets it. On a terminal there is a progress bar of the rows to send, with
requests/s and the ETA of the rows still to send (rows skipped as unchanged count for neither);
elsewhere (cron, CI, a pipe) there is none. Logs are separate (`batch.logging`).

Every word comes from the catalog, in the run's language. The summary names the sheets as the
workbook does and shows the same numbers as its Summary sheet: the rows per sheet add up to
the total, and blank rows (skipped, not counted) stand apart below it. Times are Danish local
time with the zone, as in the workbook; a thousand rows with one code are one entry.

When the logs are JSON lines (`--log-format json`, or `auto` under cron or systemd) the console
speaks JSON too: a notice or an error becomes a log event, and the summary table is printed
only to a terminal, so that every line a log collector reads is JSON.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import structlog
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
)
from rich.table import Table
from rich.text import Text

from batch.i18n import N_, _
from batch.outcomes import sheet_title
from batch.privacy import mask_cpr
from batch.records import Outcome

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Iterator, Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from batch.journal import RunInfo
    from batch.pipeline import RunResult
    from batch.submit import Snapshot

__all__ = ["Console", "ProgressSink", "danish_time", "grouped_codes"]

log = structlog.get_logger("batch.cli")

_DANISH = ZoneInfo("Europe/Copenhagen")  # as the run ids and the workbooks
_ORDER = (
    Outcome.ACCEPTED,
    Outcome.READY,
    Outcome.FIX,
    Outcome.DROP,
    Outcome.RETRY,
    Outcome.UNCHANGED,
)
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
    return moment.astimezone(_DANISH).strftime("%d-%m-%Y %H:%M %Z")


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

    def status(self, snapshot: Snapshot) -> None:
        """The bar counts rows sent out of rows to send; rows found unchanged leave the total."""
        if self._progress is None:
            return
        total = snapshot.sent + snapshot.to_go
        rate = _("{rate:,.1f} requests/s").format(rate=snapshot.requests_per_second)
        eta = snapshot.eta_seconds
        shown = "-:--:--" if eta is None else _clock(eta)
        if self._task is None:
            self._task = self._progress.add_task(_("sending"), total=total)
        self._progress.update(
            self._task, total=total, completed=snapshot.sent, rate=rate, eta=shown
        )


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class _Field(ProgressColumn):
    """A text the pipeline's snapshot set on the task (rate, ETA); empty until it arrives."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    def render(self, task: Task) -> Text:
        return Text(str(task.fields.get(self._name, "")))


class Console:
    """The terminal side of a command."""

    def __init__(self, *, quiet: bool = False, machine: bool = False) -> None:
        self.quiet = quiet
        self.machine = machine  # logs are JSON lines: so is everything else on stderr
        self._out = RichConsole(file=sys.stdout, highlight=False, soft_wrap=True)
        if not self._out.is_terminal:  # a pipe or a log file: never wrap a run id or a path
            self._out = RichConsole(file=sys.stdout, highlight=False, soft_wrap=True, width=200)
        self._err = RichConsole(file=sys.stderr, highlight=False, soft_wrap=True)

    def notice(self, text: str) -> None:
        """A line the user must see first (e.g. that the simulator is in use)."""
        if self.machine:
            log.info("notice", message=text)
        elif not self.quiet:
            self._err.print(mask_cpr(text), markup=False)

    def error(self, text: str, event: str = "error", **fields: object) -> None:
        """One clear line; never a traceback for a user's mistake. JSON: one `event` line."""
        if self.machine:
            log.error(event, message=text, **fields)
        else:
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
            _Field("rate"),
            TimeElapsedColumn(),
            TextColumn(_("ETA")),
            _Field("eta"),
        )
        with Progress(*columns, console=self._err, transient=True) as bar:
            yield ProgressSink(bar)

    def summary(self, result: RunResult) -> None:
        """Rows per sheet (with their codes grouped), the total, status, times, the files.

        JSON logs: on a terminal only.
        """
        if self.quiet or (self.machine and not self._out.is_terminal):
            return
        status = _(_STATUS[result.status]) if result.status in _STATUS else result.status
        title = _("run {run_id}: {status}").format(run_id=result.run_id, status=status)
        table = Table(title=title, title_justify="left")
        for column in (_("sheet"), _("rows"), _("codes")):
            table.add_column(column, justify="right" if column == _("rows") else "left")
        for outcome in _DRY_RUN if result.dry_run else _REAL_RUN:
            codes = grouped_codes(result.codes[outcome]) if outcome in result.codes else ""
            table.add_row(sheet_title(outcome), f"{result.counts.get(outcome, 0):,}", codes)
            if outcome is Outcome.DROP and result.aged:
                table.add_row(_("  of which aged 25+ (needs nobody)"), f"{result.aged:,}", "")
        table.add_row(_("total"), f"{result.rows:,}", "", style="bold")
        self._out.print(table)
        if result.counts.get(Outcome.FIX) or result.counts.get(Outcome.DROP):
            self._out.print(
                _(
                    "new: {fix} in Fix, {drop} in Drop; the rest were reported on an earlier night"
                ).format(fix=f"{result.new[0]:,}", drop=f"{result.new[1]:,}"),
                markup=False,
            )
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

    def reconciliation(self, totals: Mapping[str, Mapping[str, int]], workbook: Path) -> None:
        """Rows per final outcome for each file, and where the workbook is."""
        from batch.report.reconcile import FINALS  # noqa: PLC0415 - only this command

        table = Table(title=_("every row's final outcome"), title_justify="left")
        table.add_column(_("file"))
        table.add_column(_("rows"), justify="right")
        for label in FINALS.values():
            table.add_column(_(label), justify="right")
        for name, counts in totals.items():
            cells = (f"{counts[key]:,}" for key in FINALS)
            table.add_row(name, f"{sum(counts.values()):,}", *cells)
        self._out.print(table)
        self._out.print(_("workbook: {path}").format(path=workbook), markup=False)

    def runs(self, runs: Sequence[tuple[RunInfo, dict[Outcome, int]]]) -> None:
        """The journal's runs, newest last; times in Danish local time with the zone.

        The zone is shown (CET or CEST) so a reader on a UTC server is not misled.
        """
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
