"""The `reconcile` command: the final outcome of every row of some files, across all runs."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from batch.cli.options import _common_options, _fail, _input_options, _sheet, _start
from batch.errors import BatchError
from batch.intake import open_input
from batch.journal import verdicts
from batch.pipeline import input_options
from batch.report.reconcile import FileRows, reconcile, write_reconciliation

if TYPE_CHECKING:
    from batch.config import Settings

__all__ = ["reconcile_command"]


@click.command("reconcile")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True)
)
@_input_options
@_common_options
def reconcile_command(
    files: tuple[Path, ...], sheet: str | None, config_file: Path | None, **flags: Any
) -> None:
    """Every row of FILES with its final outcome across all runs, and a workbook of it.

    The document to hand over at the end of a migration: accepted (in which run), unchanged,
    fix, drop, aged 25+ or not yet sent; the totals add up to the rows in the files. Exit 0
    when every row is settled, 3 when some are not yet sent. Nothing is sent.
    """
    settings, console = _start(config_file, flags)
    try:
        sources = [_rows_of(path, settings, _sheet(sheet)) for path in files]
        result = reconcile(sources, lambda name: verdicts(settings.state_dir, name))
        path = write_reconciliation(settings.report_dir, result, datetime.now(UTC))
    except BatchError as error:
        _fail(console, error)
    console.reconciliation(result.totals, path)
    unsent = sum(totals["not_sent"] for totals in result.totals.values())
    sys.exit(3 if unsent else 0)


def _rows_of(path: Path, settings: Settings, sheet: str | int | None) -> FileRows:
    """The file read again as a run reads it: which rows it has, by sheet and row number."""
    source = open_input(path, input_options(settings, sheet))
    rows = [
        (row.sheet, row.source_row) for chunk in source.chunks(datetime.now(UTC)) for row in chunk
    ]
    return FileRows(Path(source.source_file).name, rows)
