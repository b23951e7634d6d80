"""The commands that read input files, `run` and `validate`, and the run loop behind them."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import structlog

from batch.cli.estimate import send_estimate
from batch.cli.exit_codes import EXIT_CODES, EXIT_SETUP, EXIT_SIGNALLED, EXIT_USAGE
from batch.cli.journal import retention_option
from batch.cli.options import (
    INPUT_SUFFIXES,
    _common_options,
    _input_options,
    _limit_options,
    _selection_options,
    _sheet,
    _start,
)
from batch.errors import BatchError
from batch.i18n import N_, _
from batch.pipeline import EXIT_UNSENT, exit_code_for, run_job
from batch.privacy import mask_cpr
from batch.records import Outcome
from batch.retention import remember_inbox

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

    from batch.config import Settings
    from batch.console import Console
    from batch.pipeline import RunResult

__all__ = ["run", "validate"]

# The logger keeps the name it had before the CLI became a package: log readers filter on it.
log = structlog.get_logger("batch.cli")


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
@click.option(
    "--proxy",
    help="Proxy URL for the service (http://host:port), or none; wins over HTTPS_PROXY. "
    "A URL with a password only from the config file or BATCH_PROXY.",
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
    settings, console = _start(config_file, flags)
    if inbox is not None:
        sys.exit(_run_inbox(inbox, settings, console, _sheet(sheet)))
    if not files:
        raise click.UsageError("give at least one input file, or --inbox DIR")
    sys.exit(_run_files(list(files), settings, console, _sheet(sheet), dry_run=False))


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
    """First SIGINT/SIGTERM: stop taking rows and finish cleanly. Second: stop at once."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.received: int | None = None

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is not None:
            os._exit(128 + signum)  # the journal is SQLite in WAL mode: consistent at any instant
        self.received = signum
        self.stop.set()

    @property
    def exit_code(self) -> int | None:
        return None if self.received is None else 128 + self.received


def _run_files(
    files: list[Path],
    settings: Settings,
    console: Console,
    sheet: str | int | None,
    *,
    dry_run: bool,
) -> int:
    signals = _Signals()
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
                on_status=progress.status,
            )
    except BatchError as error:
        console.error(mask_cpr(str(error)))
        return error.exit_code
    console.summary(result)
    if dry_run:
        console.notice(send_estimate(result.counts.get(Outcome.READY, 0), settings.rate))
    _log_summary(result)
    if result.setup_problem:
        assert result.stop_cause is not None
        console.error(_(SETUP_PROBLEM).format(cause=result.stop_cause.text(_)))
        return EXIT_SETUP
    return signals.exit_code or exit_code_for(result.counts)


SETUP_PROBLEM = N_(
    "set-up problem: {cause}. Sending stopped; the rows not sent are in Retry. "
    "Fix it, then run again (`batch check` helps)"
)


def _log_summary(result: RunResult) -> None:
    log.info(
        "run finished",
        status=result.status,
        rows=result.rows,
        blank=result.blank,
        workbook=str(result.paths.workbook),
        stop_cause=result.stop_cause.slug if result.stop_cause else None,
        **{outcome.value: count for outcome, count in result.counts.items()},
    )


def _inbox_files(inbox: Path) -> Iterator[Path]:
    for path in sorted(inbox.iterdir()):
        if path.is_file() and path.suffix.lower() in INPUT_SUFFIXES:
            yield path


def _run_inbox(inbox: Path, settings: Settings, console: Console, sheet: str | int | None) -> int:
    """One run per file, so one bad file cannot hold back the others; the worst code wins.

    A file that could not be read goes to failed/; a file whose rows were all settled (sent,
    or found to need fixing by a person) goes to done/. A file with rows still to send (exit
    3) or whose run was interrupted stays in the inbox: the next run sends what is left and
    reports what was already accepted as Unchanged. A set-up problem (exit 4) stops the
    inbox: every other file would meet it too. `max_run_minutes` covers the whole inbox:
    each file's run gets what is left of it, and files not reached stay for the next night.
    """
    try:  # its done/ and failed/ files expire with the retention period
        remember_inbox(settings.state_dir, inbox)
    except BatchError as error:
        console.error(mask_cpr(str(error)))
        return error.exit_code
    worst = 0
    end = (
        None
        if settings.max_run_minutes is None
        else time.monotonic() + 60 * settings.max_run_minutes
    )
    for path in _inbox_files(inbox):
        if end is not None:
            left = (end - time.monotonic()) / 60
            if left <= 0:
                return max(worst, EXIT_UNSENT)
            settings = dataclasses.replace(settings, max_run_minutes=left)
        code = _run_files([path], settings, console, sheet, dry_run=False)
        if code in (EXIT_USAGE, 0, 1):
            target = inbox / ("failed" if code == EXIT_USAGE else "done")
            target.mkdir(mode=0o700, exist_ok=True)
            shutil.move(str(path), target / path.name)
        if code >= EXIT_SIGNALLED or code == EXIT_SETUP:
            return code
        worst = max(worst, code)
    return worst
