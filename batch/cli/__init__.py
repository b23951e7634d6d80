"""The `batch` command: options -> settings -> pipeline -> exit code; nothing else."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import structlog

from batch import __version__
from batch.config import resolve_settings
from batch.console import Console
from batch.errors import BatchError
from batch.journal import Journal
from batch.logging import configure_logging
from batch.pipeline import exit_code_for, rebuild_report, run_job
from batch.privacy import mask_cpr
from batch.simulator import FaultConfig, SimulatorConfig, serve_forever

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import FrameType

    from batch.config import Settings
    from batch.pipeline import RunResult

__all__ = ["EXIT_CODES", "main"]

# Shown under --help of the group and of run/validate; "\b" keeps click from rewrapping it.
EXIT_CODES = """\b
Exit codes:
  0    every row accepted or unchanged (validate: every row ready)
  1    the run finished and some rows are in Fix or Drop
  2    usage, configuration or input-file error; nothing was sent
  3    some rows could not be sent (Retry): run again later; wins over 1
  70   internal error (a bug): one masked line here, the details in the log
  130  interrupted by Ctrl-C (SIGINT); 143 stopped by SIGTERM
"""

EXIT_USAGE = 2
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug, not the user's input
EXIT_SIGNALLED = 128
INPUT_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods"})

log = structlog.get_logger(__name__)


def _common_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options every command that reads settings shares; each also has a BATCH_* variable."""
    decorators = [
        click.option(
            "--config",
            "config_file",
            type=click.Path(path_type=Path, dir_okay=False),
            envvar="BATCH_CONFIG",
            help="TOML config file (also BATCH_CONFIG).",
        ),
        click.option(
            "--state-dir",
            type=click.Path(path_type=Path, file_okay=False),
            help="Where the journal lives (default ~/.local/state/batch).",
        ),
        click.option(
            "--report-dir",
            type=click.Path(path_type=Path, file_okay=False),
            help="Where result workbooks are written (default reports/).",
        ),
        click.option(
            "--log-format",
            type=click.Choice(["auto", "console", "json"]),
            help="Log format: pretty on a terminal, JSON lines otherwise (auto).",
        ),
        click.option("--quiet", is_flag=True, default=None, help="Only warnings and errors."),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _input_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options on how to read the input files."""
    decorators = [
        click.option(
            "--sheet",
            help="Sheet to read, by name or 0-based index "
            "(default: the first with a recognisable header).",
        ),
        click.option(
            "--mapping",
            type=click.Path(path_type=Path, dir_okay=False),
            help="TOML file mapping your column headers to the spec's field names.",
        ),
        click.option("--system-id", help="ModtagerSystemID: your system's SystemName on IPL."),
        click.option(
            "--institution",
            type=int,
            help="KommuneInstitutionNummer for rows that have none in the file.",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _settings(config_file: Path | None, **flags: Any) -> Settings:
    return resolve_settings(flags, config_file=config_file)


def _sheet(value: str | None) -> str | int | None:
    return int(value) if value is not None and value.isdigit() else value


class _Guarded(click.Group):
    """Turns a bug's exception into one masked line and exit 70, never a raw traceback.

    A traceback could carry a CPR number from a row's data; the log gets the traceback through
    the masking processor instead. The journal is consistent at any instant, so the same command
    can simply be run again once the cause is fixed.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as error:  # the last line of defence, by design
            log.exception("internal error")
            sys.stderr.write(
                f"error: internal error ({type(error).__name__}: {mask_cpr(str(error))}); "
                "details are in the log; the journal is consistent, run the command again\n"
            )
            sys.exit(EXIT_INTERNAL)


@click.group(
    cls=_Guarded,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES,
)
@click.version_option(__version__, prog_name="batch")
def main() -> None:
    """Report KUI contact persons, job and education wishes to STIL's Youth Database (UDB).

    Reads CSV/Excel/ODS exports, validates every row, sends one request per row to the
    service IndberetningKontaktJobOgUddOensker and writes a result workbook in which every
    input row stands in exactly one sheet: Accepted, Fix, Drop, Retry or Unchanged.
    """


@main.command(epilog=EXIT_CODES)
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
    "--resend-all",
    is_flag=True,
    default=None,
    help="Send every valid row, even ones UDB already accepted or has newer data for.",
)
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


@main.command(epilog=EXIT_CODES)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True)
)
@_input_options
@_common_options
def validate(
    files: tuple[Path, ...], sheet: str | None, config_file: Path | None, **flags: Any
) -> None:
    """Dry run: read and validate FILES and write the workbook; nothing is sent.

    Rows that would be sent are in the sheet Ready; the journal is not touched.
    """
    settings, console = _start(config_file, flags)
    sys.exit(_run_files(list(files), settings, console, _sheet(sheet), dry_run=True))


@main.command()
@click.argument("run_id", required=False)
@_common_options
def report(run_id: str | None, config_file: Path | None, **flags: Any) -> None:
    """Write the workbook of the last run (or RUN_ID) again from the journal."""
    settings, console = _start(config_file, flags)
    try:
        result = rebuild_report(settings.state_dir, settings.report_dir, run_id)
    except BatchError as error:
        _fail(console, error)
    console.summary(result)
    sys.exit(exit_code_for(result.counts))


@main.command()
@_common_options
def status(config_file: Path | None, **flags: Any) -> None:
    """Show the runs the journal holds, with their rows per outcome."""
    settings, console = _start(config_file, flags)
    try:
        with Journal.open(settings.state_dir) as journal:
            console.runs([(info, journal.counts(info.run_id)) for info in journal.runs()])
    except BatchError as error:
        _fail(console, error)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, help="Port (0: any free port).")
@click.option(
    "--registry",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="CSV of young people (cpr;home_kui;name); default: the bundled one.",
)
@click.option("--seed", default=0, show_default=True, help="Seed for every random fault.")
@click.option("--latency-ms", default=0.0, show_default=True, help="Added to every answer.")
@click.option(
    "--error-503-rate",
    default=0.0,
    show_default=True,
    help="Share of requests answered 503 (IPL000001).",
)
@click.option("--error-500-rate", default=0.0, show_default=True, help="Share answered HTTP 500.")
@click.option(
    "--udb-101-rate", default=0.0, show_default=True, help="Share answered with UDB's code 101."
)
@click.option(
    "--drop-rate",
    default=0.0,
    show_default=True,
    help="Share whose connection is closed without an answer.",
)
@click.option(
    "--slow-rate", default=0.0, show_default=True, help="Share answered only after --slow-seconds."
)
@click.option("--slow-seconds", default=5.0, show_default=True, help="Delay of slow answers.")
@click.option("--rate-limit", type=float, help="Requests/s above which it answers 429.")
@click.option(
    "--retry-after",
    "retry_after_seconds",
    default=1.0,
    show_default=True,
    help="Retry-After seconds sent with 429.",
)
@click.option("--outage", is_flag=True, help="Answer 503 to everything.")
@click.option("--tls-cert", type=click.Path(path_type=Path, exists=True), help="Serve HTTPS.")
@click.option("--tls-key", type=click.Path(path_type=Path, exists=True), help="Key of --tls-cert.")
@click.option(
    "--client-ca",
    type=click.Path(path_type=Path, exists=True),
    help="Require client certificates signed by this CA (mutual TLS).",
)
@click.option(
    "--require-signature",
    is_flag=True,
    help="Reject requests without a valid WS-Security signature.",
)
def simulator(**options: Any) -> None:
    """Run the UDB simulator in the foreground, to rehearse before production.

    It serves the WSDL at <address>?wsdl, validates every request against the schema and
    answers as UDB does from its registry: 14 unknown CPR, 15 aged 25 or more, 86 not the
    young person's home KUI, 280 registration time in the future, otherwise Ok.
    """
    fault_names = [name for name in FaultConfig.__dataclass_fields__ if name in options]
    faults = FaultConfig(**{name: options.pop(name) for name in fault_names})
    config = SimulatorConfig(**options, faults=faults)
    serve_forever(config)


def _start(config_file: Path | None, flags: dict[str, Any]) -> tuple[Settings, Console]:
    console = Console(quiet=bool(flags.get("quiet")))
    try:
        settings = _settings(config_file, **flags)
    except BatchError as error:
        _fail(console, error)
    configure_logging(log_format=settings.log_format, quiet=settings.quiet)  # type: ignore[arg-type]
    return settings, console


def _fail(console: Console, error: BatchError) -> None:
    console.error(mask_cpr(str(error)))
    sys.exit(error.exit_code)


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
                on_total=progress.total,
                on_progress=progress.advance,
            )
    except BatchError as error:
        console.error(mask_cpr(str(error)))
        return error.exit_code
    console.summary(result)
    _log_summary(result)
    return signals.exit_code or exit_code_for(result.counts)


def _log_summary(result: RunResult) -> None:
    log.info(
        "run finished",
        status=result.status,
        rows=result.rows,
        blank=result.blank,
        workbook=str(result.paths.workbook),
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
    reports what was already accepted as Unchanged.
    """
    worst = 0
    for path in _inbox_files(inbox):
        code = _run_files([path], settings, console, sheet, dry_run=False)
        if code in (EXIT_USAGE, 0, 1):
            target = inbox / ("failed" if code == EXIT_USAGE else "done")
            target.mkdir(mode=0o700, exist_ok=True)
            shutil.move(str(path), target / path.name)
        if code >= EXIT_SIGNALLED:
            return code
        worst = max(worst, code)
    return worst
