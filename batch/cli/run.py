"""The commands that read input files, `run` and `validate`, and the run loop behind them."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import structlog

from batch.cli.estimate import next_steps, send_estimate
from batch.cli.exit_codes import EXIT_CODES, EXIT_SETUP
from batch.cli.inbox import FileRun, inbox_lock, run_inbox
from batch.cli.journal import retention_option
from batch.cli.options import (
    _common_options,
    _input_options,
    _limit_options,
    _selection_options,
    _sheet,
    _start,
)
from batch.errors import BatchError, ReportWriteError, SetupError
from batch.i18n import N_, _
from batch.journal.retention import remember_inbox
from batch.logging import RESULT_LOGGER
from batch.pipeline import EXIT_UNSENT, exit_code_for, run_job
from batch.privacy import mask_cpr
from batch.records import Outcome
from batch.report import NightTally, result_facts, write_metrics

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import FrameType

    from batch.config import Settings
    from batch.console import Console

__all__ = ["run", "validate"]

# The logger keeps the name it had before the CLI became a package: log readers filter on it.
log = structlog.get_logger("batch.cli")
result_log = structlog.get_logger(RESULT_LOGGER)  # kept under --quiet: monitoring reads it


@click.command(epilog=EXIT_CODES)
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--inbox",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Process every file in this folder; move each to done/ or failed/ after.",
)
@click.option("--wsdl", help="WSDL path or URL of the service (default: built-in simulator).")
@click.option("--endpoint", help="Service address, overriding the one in the WSDL.")
@click.option("--rate", type=float, help="Requests per second at most (default 5).")
@click.option("--concurrency", type=int, help="Requests in flight at most (default 4).")
@click.option("--max-attempts", type=int, help="Attempts per row before Retry (default 5).")
@click.option("--connect-timeout", type=float, help="Seconds to connect (default 5).")
@click.option("--read-timeout", type=float, help="Seconds to wait for an answer (default 30).")
@click.option(
    "--proxy",
    help="Proxy URL for the service (http://host:port), or none; wins over HTTPS_PROXY. "
    "A URL with a password only from the config file or BATCH_PROXY.",
)
@click.option(
    "--retry-after-max",
    type=float,
    help="Longest Retry-After honoured, in seconds (default 120).",
)
@click.option(
    "--cert-warn-days",
    type=click.IntRange(min=0),
    help="Warn when a certificate expires within this many days (default 30).",
)
@click.option(
    "--max-run-minutes",
    type=float,
    help="Stop the run after this many minutes, as on Ctrl-C (the workbook is written).",
)
@click.option(
    "--resend-all",
    is_flag=True,
    default=None,
    help="Send every valid row, even ones UDB already accepted or has newer data for.",
)
@click.option(
    "--require-file",
    is_flag=True,
    default=None,
    help="With --inbox: a night without an export is an error (exit 2).",
)
@click.option(
    "--metrics-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a Prometheus textfile (node_exporter) after the run.",
)
@_limit_options
@_selection_options
@retention_option
@_input_options
@_common_options
def run(
    files: tuple[Path, ...],
    inbox: Path | None,
    sheet: str | None,
    config_file: Path | None,
    **flags: Any,
) -> None:
    """Send the rows of FILES (CSV, TSV, XLSX, XLSM, XLS, ODS) to UDB and write the workbook.

    Running it again after a crash or an interruption finishes the work: rows UDB already
    accepted are not sent twice (they show as Unchanged).
    """
    if inbox is None and not files:
        raise click.UsageError(_("give at least one input file, or --inbox DIR"))
    settings, console = _start(config_file, flags)
    tally = NightTally()
    if inbox is not None:
        code = _run_inbox(inbox, settings, console, _sheet(sheet), tally)
    else:
        code = _run_files(list(files), settings, console, _sheet(sheet), dry_run=False, tally=tally)
    _write_metrics(settings, console, tally, code)
    sys.exit(code)


@click.command(epilog=EXIT_CODES)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True)
)
@click.option(
    "--wsdl", help="The service whose memory counts (as for `run`; default: built-in simulator)."
)
@click.option("--endpoint", help="Service address, overriding the one in the WSDL.")
@click.option("--rate", type=float, help="Requests per second for the time estimate (default 5).")
@click.option(
    "--resend-all",
    is_flag=True,
    default=None,
    help="Count every valid row as to be sent, as `run --resend-all` would send it.",
)
@_selection_options
@_input_options
@_common_options
def validate(
    files: tuple[Path, ...], sheet: str | None, config_file: Path | None, **flags: Any
) -> None:
    """Dry run: read and validate FILES and write the workbook; nothing is sent.

    Rows that would be sent are in the sheet Ready, field by field as they would go; the
    journal is not touched. Ends with how long sending would take at the rate.
    """
    settings, console = _start(config_file, flags)
    sys.exit(_run_files(list(files), settings, console, _sheet(sheet), dry_run=True))


class _Signals:
    """First SIGINT/SIGTERM: stop taking rows, finish those in flight, write the workbook.

    Second: stop at once, saying in one line which command writes the workbook (the journal is
    SQLite in WAL mode, consistent at any instant; `batch report` closes the cut-off run and
    writes its workbook, and the next `batch run` sends what is left).
    """

    def __init__(self, report_command: str) -> None:
        self.stop = threading.Event()
        self.received: int | None = None
        self._line = (
            _("stopped at once; the workbook of this run is written by: {command}").format(
                command=report_command
            )
            + "\n"
        ).encode("utf-8", "replace")

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is not None:
            with contextlib.suppress(OSError):
                os.write(sys.stderr.fileno(), self._line)
            os._exit(128 + signum)
        self.received = signum
        self.stop.set()

    @property
    def exit_code(self) -> int | None:
        return None if self.received is None else 128 + self.received


def _report_command(settings: Settings) -> str:
    """`batch report`, with the folders this command was given on its command line."""
    words = ["batch", "report"]
    for name in ("state_dir", "report_dir"):
        if settings.sources.get(name) == "flag":
            words += [f"--{name.replace('_', '-')}", str(getattr(settings, name))]
    return shlex.join(words)


def _run_files(
    files: list[Path],
    settings: Settings,
    console: Console,
    sheet: str | int | None,
    *,
    dry_run: bool,
    tally: NightTally | None = None,
) -> int:
    done = _run_one(files, settings, console, sheet, dry_run=dry_run, tally=tally)
    if done.error is not None:
        _show_error(console, done.error)
    return done.code


def _run_one(
    files: list[Path],
    settings: Settings,
    console: Console,
    sheet: str | int | None,
    *,
    dry_run: bool,
    tally: NightTally | None = None,
    signals: _Signals | None = None,
) -> FileRun:
    """One run; an error that stops it is returned, not shown (the inbox decides about notes)."""
    if signals is None:
        signals = _Signals(_report_command(settings))
        signals.install()
    try:
        with console.progress() as progress:
            result = run_job(
                files,
                settings,
                sheet=sheet,
                dry_run=dry_run,
                stop=signals.stop,
                notice=console.notice,
                on_total=progress.total,
                on_progress=progress.advance,
                stop_code=lambda: signals.exit_code,
                on_status=progress.status,
            )
    except ReportWriteError as error:  # the rows are recorded: monitoring must see the run
        _log_facts(error.facts, tally, workbook=None)
        return FileRun(error.exit_code, error=error)
    except BatchError as error:
        return FileRun(error.exit_code, error=error)
    console.summary(result)
    if dry_run:
        console.notice(send_estimate(result.counts.get(Outcome.READY, 0), settings.rate))
    for line in next_steps(result, dry_run=dry_run):
        console.notice(line)
    _log_facts(
        result_facts(result),
        tally,
        blank=result.blank,
        workbook=str(result.paths.workbook),
        summary=str(result.paths.summary),
    )
    if result.setup_problem:
        assert result.stop_cause is not None
        console.error(
            _(SETUP_PROBLEM).format(cause=result.stop_cause.text(_)),
            event="run stopped",
            stop_cause=result.stop_cause.slug,
            exit_code=EXIT_SETUP,
        )
        return FileRun(signals.exit_code or EXIT_SETUP, result, stop=True)
    return FileRun(signals.exit_code or exit_code_for(result.counts), result)


SETUP_PROBLEM = N_(
    "set-up problem: {cause}. Sending stopped; the rows not sent are in Retry. "
    "Fix it, then run again (`batch check` helps)"
)


def _log_facts(facts: Mapping[str, object], tally: NightTally | None, **more: object) -> None:
    """The `run finished` line: one JSON object per run, what monitoring reads."""
    if tally is not None:
        tally.add(facts)
    result_log.info("run finished", **facts, **more)


def _show_error(console: Console, error: BatchError) -> None:
    """One line for a person, or one JSON event with the exit code for a log collector."""
    event = "run stopped" if isinstance(error, SetupError) else "run refused"
    kind = type(error).__name__
    console.error(mask_cpr(str(error)), event=event, error=kind, exit_code=error.exit_code)


def _run_inbox(
    inbox: Path,
    settings: Settings,
    console: Console,
    sheet: str | int | None,
    tally: NightTally,
) -> int:
    """Every export in `inbox`, under a lock on the folder (see `batch.cli.inbox`)."""
    # One handler for the whole inbox: a signal between two files stops before the next one.
    signals = _Signals(_report_command(settings))
    signals.install()
    # `max_run_minutes` covers the whole inbox: each file's run gets what is left of it, and
    # files not reached stay for the next night.
    minutes = settings.max_run_minutes
    end = None if minutes is None else time.monotonic() + 60 * minutes

    def run_file(path: Path) -> FileRun:
        if signals.exit_code is not None:
            return FileRun(signals.exit_code, stop=True)
        budget = settings
        if end is not None:
            left = (end - time.monotonic()) / 60
            if left <= 0:
                return FileRun(EXIT_UNSENT, stop=True)
            budget = dataclasses.replace(settings, max_run_minutes=left)
        return _run_one([path], budget, console, sheet, dry_run=False, tally=tally, signals=signals)

    try:
        with inbox_lock(inbox):
            remember_inbox(settings.state_dir, inbox)  # done/, failed/ expire with retention
            return run_inbox(
                inbox,
                run_file,
                lambda error: _show_error(console, error),
                require_file=settings.require_file,
            )
    except BatchError as error:
        _show_error(console, error)
        return error.exit_code


def _write_metrics(settings: Settings, console: Console, tally: NightTally, code: int) -> None:
    """The Prometheus textfile, when asked for; failing to write it changes no exit code."""
    if settings.metrics_file is None:
        return
    try:
        write_metrics(settings.metrics_file, tally, code)
    except OSError as error:
        console.error(
            _("the metrics file {path} cannot be written ({why})").format(
                path=settings.metrics_file, why=error.strerror
            ),
            event="metrics not written",
        )
