"""Options shared by several commands, declared once, and the start-up they all go through."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from batch.config import HIDDEN_ROWS, OPTIONS, parse_time, resolve_settings
from batch.console import Console
from batch.errors import BatchError
from batch.i18n import LANGUAGES, _, resolve_language, use_language
from batch.logging import configure_logging, json_lines
from batch.privacy import mask_cpr

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import time

    from batch.config import Settings

__all__ = ["INPUT_SUFFIXES"]

INPUT_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods"})


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
            help="Where result workbooks are written (default ~/.local/share/batch/reports).",
        ),
        click.option(
            "--log-format",
            type=click.Choice(["auto", "console", "json"]),
            help="Log format: pretty on a terminal, JSON lines otherwise (auto).",
        ),
        click.option("--quiet", is_flag=True, default=None, help="Only warnings and errors."),
        click.option(
            "--language",
            type=click.Choice(LANGUAGES),
            help="Language of the console and workbook: da or en (default: the locale's).",
        ),
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
        click.option(
            "--date-only-time",
            callback=_time_flag,
            metavar="HH:MM",
            help="Time of day for registration dates given without one (default: an error).",
        ),
        click.option(
            "--header-row",
            type=click.IntRange(min=1),
            help="Row of the header as Excel numbers it (default: found by its names).",
        ),
        click.option(
            "--hidden-rows",
            type=click.Choice(HIDDEN_ROWS),
            help="Rows hidden in a workbook: send them (default) or skip them into Fix.",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _parsed(_ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    """A flag's text parsed as its setting parses it in the environment or the config file."""
    if value is None:
        return None
    option = next(option for option in OPTIONS if option.name == param.name)
    try:
        return option.parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _selection_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options that decide which rows a run sends (`validate` counts with them too)."""
    decorators = [
        click.option(
            "--newest-only",
            is_flag=True,
            default=None,
            help="Per person and group send only the newest registration; older rows are "
            "Unchanged.",
        ),
        click.option(
            "--resend-dropped",
            is_flag=True,
            default=None,
            help="Send again rows UDB rejected for good (14, 15, 86) with the same data.",
        ),
        click.option(
            "--drop-recheck-days",
            callback=_parsed,
            help="Days after which a row UDB rejected for good is sent again (default 30).",
        ),
        click.option(
            "--registered-since",
            callback=_parsed,
            help="Send only rows registered on or after this date (YYYY-MM-DD).",
        ),
        click.option(
            "--registered-before",
            callback=_parsed,
            help="Send only rows registered before this date (YYYY-MM-DD).",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _limit_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options that decide how long a run sends, and how it reports its progress."""
    decorators = [
        click.option(
            "--max-rows", callback=_parsed, help="Send at most N rows, then stop (exit 3)."
        ),
        click.option(
            "--until",
            callback=_parsed,
            help="Stop sending at this Danish local time: HH:MM (the next one) or "
            "'YYYY-MM-DD HH:MM'; exit 3.",
        ),
        click.option(
            "--progress-interval",
            callback=_parsed,
            help="Seconds between progress events in the log (default 60).",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _time_flag(_ctx: click.Context, _param: click.Parameter, value: str | None) -> time | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise click.BadParameter(
            _('"{value}" is not a time of day such as 12:00').format(value=value)
        ) from None


def _settings(config_file: Path | None, **flags: Any) -> Settings:
    return resolve_settings(flags, config_file=config_file)


def _sheet(value: str | None) -> str | int | None:
    return int(value) if value is not None and value.isdigit() else value


def early_log_format(flags: dict[str, Any]) -> str:
    """The log format before the settings are read: flag, then BATCH_LOG_FORMAT, else auto.

    A config error must already come out as JSON when JSON was asked for (a config file that
    cannot be read cannot say so itself).
    """
    chosen = flags.get("log_format") or os.environ.get("BATCH_LOG_FORMAT", "auto")
    return chosen if chosen in {"auto", "console", "json"} else "auto"


def _start(config_file: Path | None, flags: dict[str, Any]) -> tuple[Settings, Console]:
    log_format = early_log_format(flags)
    configure_logging(log_format=log_format, quiet=bool(flags.get("quiet")))  # type: ignore[arg-type]
    console = Console(quiet=bool(flags.get("quiet")), machine=json_lines(log_format))
    # The flag or the locale until the settings are read, so that their errors are in it too.
    use_language(resolve_language(flags.get("language")))
    try:
        settings = _settings(config_file, **flags)
    except BatchError as error:
        _fail(console, error)
    configure_logging(log_format=settings.log_format, quiet=settings.quiet)  # type: ignore[arg-type]
    use_language(resolve_language(settings.language))
    return settings, Console(quiet=settings.quiet, machine=json_lines(settings.log_format))


def _fail(console: Console, error: BatchError) -> None:
    console.error(
        mask_cpr(str(error)),
        event="command refused",
        error=type(error).__name__,
        exit_code=error.exit_code,
    )
    sys.exit(error.exit_code)
