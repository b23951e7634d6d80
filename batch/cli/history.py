"""The commands that read the journal only, `report` and `status`; nothing is sent."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click
import structlog

from batch.cli.options import _common_options, _fail, _start
from batch.errors import BatchError
from batch.journal import Journal
from batch.logging import RESULT_LOGGER
from batch.pipeline import exit_code_for, rebuild_report

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["report", "status"]


@click.command()
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
    structlog.get_logger(RESULT_LOGGER).info(
        "report written", **result.facts(), workbook=str(result.paths.workbook)
    )
    sys.exit(exit_code_for(result.counts))


@click.command()
@_common_options
def status(config_file: Path | None, **flags: Any) -> None:
    """Show the runs the journal holds, with their rows per outcome."""
    settings, console = _start(config_file, flags)
    try:
        with Journal.open(settings.state_dir) as journal:
            console.runs([(info, journal.counts(info.run_id)) for info in journal.runs()])
    except BatchError as error:
        _fail(console, error)
