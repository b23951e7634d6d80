"""What a person at a terminal sees: a notice line, a progress bar, a summary table, errors.

Human output goes to stderr except the summary, which goes to stdout so that a scheduler's
mail or a shell pipe gets it. On a terminal there is a progress bar of the rows to send, with
requests/s and the ETA of the rows still to send (rows skipped as unchanged count for neither);
elsewhere (cron, CI, a pipe) there is none. Logs are separate (`batch.logging`).

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

from batch.i18n import _
from batch.privacy import mask_cpr
from batch.records import Outcome

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

    from batch.journal import RunInfo
    from batch.pipeline import RunResult
    from batch.submit import Snapshot

__all__ = ["Console", "ProgressSink"]

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


class ProgressSink:
    """Receives the row counts from the pipeline; shows them only when there is a bar."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def total(self, rows: int) -> None:
        """The number of rows to send is known: start the bar."""
        if self._progress is not None:
            self._task = self._progress.add_task("sending", total=rows)

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
            self._err.print(f"error: {mask_cpr(text)}", style="bold red", markup=False)

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
        """Rows per outcome, status and where the workbook is; JSON logs: on a terminal only."""
        if self.quiet or (self.machine and not self._out.is_terminal):
            return
        table = Table(title=f"run {result.run_id}: {result.status}", title_justify="left")
        table.add_column("outcome")
        table.add_column("rows", justify="right")
        for outcome in _ORDER:
            if outcome in result.counts and (
                outcome is not Outcome.READY or result.counts[outcome]
            ):
                table.add_row(outcome.value, f"{result.counts[outcome]:,}")
            if outcome is Outcome.DROP and result.aged:
                table.add_row(_("  of which aged 25+ (needs nobody)"), f"{result.aged:,}")
        table.add_row("blank (skipped)", f"{result.blank:,}")
        table.add_row("total", f"{result.rows:,}", style="bold")
        self._out.print(table)
        if result.counts.get(Outcome.FIX) or result.counts.get(Outcome.DROP):
            self._out.print(
                _(
                    "new: {fix} in Fix, {drop} in Drop; the rest were reported on an earlier night"
                ).format(fix=f"{result.new[0]:,}", drop=f"{result.new[1]:,}"),
                markup=False,
            )
        if result.message:
            self._out.print(result.message, markup=False)
        self._out.print(f"workbook: {result.paths.workbook}", markup=False)
        self._out.print(f"summary:  {result.paths.summary}", markup=False)

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
        self._out.print(f"workbook: {workbook}", markup=False)

    def runs(self, runs: Sequence[tuple[RunInfo, dict[Outcome, int]]]) -> None:
        """The journal's runs, newest last; times in Danish local time, as run ids and workbooks.

        The zone is shown (CET or CEST) so a reader on a UTC server is not misled.
        """
        table = Table(title="runs in the journal", title_justify="left")
        for column in (
            "run",
            "started",
            "status",
            *(o.value for o in _ORDER if o is not Outcome.READY),
        ):
            table.add_column(column)
        for info, counts in runs:
            table.add_row(
                info.run_id,
                info.started.astimezone(_DANISH).strftime("%Y-%m-%d %H:%M %Z"),
                info.status,
                *(f"{counts.get(o, 0):,}" for o in _ORDER if o is not Outcome.READY),
            )
        self._out.print(table)

    def show(self, table: Table) -> None:
        """A table of a reading command (`status`, `purge`, `history`)."""
        self._out.print(table)

    def line(self, text: str) -> None:
        """One line of a reading command's output, CPR numbers masked."""
        self._out.print(mask_cpr(text), markup=False)
