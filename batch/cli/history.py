"""The commands that read the journal only, `report` and `status`; nothing is sent."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click
import structlog
from rich.table import Table

from batch.cli.options import _common_options, _fail, _start
from batch.errors import BatchError
from batch.i18n import _
from batch.journal import ServiceMemory, format_local, snapshot
from batch.logging import RESULT_LOGGER
from batch.pipeline import exit_code_for, open_journal_to_read, rebuild_report
from batch.report import result_facts

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["report", "status"]


@click.command()
@click.argument("run_id", required=False)
@_common_options
def report(run_id: str | None, config_file: Path | None, **flags: Any) -> None:
    """Write the workbook of the last run (or RUN_ID) again from the journal.

    Works beside a run under way: its workbook so far, rows not yet sent in Retry.
    """
    settings, console = _start(config_file, flags)
    try:
        result = rebuild_report(settings.state_dir, settings.report_dir, run_id)
    except BatchError as error:
        _fail(console, error)
    console.summary(result)
    structlog.get_logger(RESULT_LOGGER).info(
        "report written", **result_facts(result), workbook=str(result.paths.workbook)
    )
    sys.exit(exit_code_for(result.counts))


@click.command()
@_common_options
def status(config_file: Path | None, **flags: Any) -> None:
    """Show the runs the journal holds, with their rows per outcome, and the memory per service.

    Works beside a run under way (read-only, one consistent moment of the journal).
    """
    settings, console = _start(config_file, flags)
    try:
        with open_journal_to_read(settings.state_dir) as journal, snapshot(journal):
            console.runs([(info, journal.counts(info.run_id)) for info in journal.runs()])
            console.show(_memory_table(journal.memories()))
    except BatchError as error:
        _fail(console, error)


def _memory_table(memories: list[ServiceMemory]) -> Table:
    """What each service is remembered to have accepted: why a row is Unchanged there."""
    table = Table(title=_("memory per service"), title_justify="left")
    for column in (_("service"), _("system id"), _("rows remembered"), _("last accepted")):
        table.add_column(column)
    for memory in memories:
        last = memory.last_accepted
        table.add_row(
            memory.service.endpoint,
            memory.service.system_id,
            f"{memory.remembered:,}",
            "" if last is None else format_local(datetime.fromisoformat(last)),
        )
    return table
