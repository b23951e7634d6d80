"""Commands for the people who run `batch` as a service: `backup`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import structlog

from batch.cli.options import _common_options, _fail, _start
from batch.errors import BatchError
from batch.i18n import _
from batch.journal import backup_journal
from batch.logging import RESULT_LOGGER

__all__ = ["backup"]

result_log = structlog.get_logger(RESULT_LOGGER)


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@_common_options
def backup(file: Path, config_file: Path | None, **flags: Any) -> None:
    """Copy the journal to FILE (a new file), safely, even while a run is going.

    Uses SQLite's online backup: one consistent snapshot, without waiting for a running
    `batch run`. FILE is created readable by its owner only (the journal holds CPR numbers)
    and is never overwritten.
    """
    settings, console = _start(config_file, flags)
    try:
        source = backup_journal(settings.state_dir, file)
    except BatchError as error:
        _fail(console, error)
    result_log.info("backup written", journal=str(source), backup=str(file))
    console.notice(_("journal {source} copied to {backup}").format(source=source, backup=file))
    sys.exit(0)
