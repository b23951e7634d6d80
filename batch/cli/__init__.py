"""The `batch` command: options -> settings -> pipeline -> exit code; nothing else."""

from __future__ import annotations

import sys
from typing import Any

import click
import structlog

from batch import __version__
from batch.cli import check, columns, history, journal, reconcile, run, simulator, web
from batch.cli.exit_codes import EXIT_CODES, EXIT_INTERNAL
from batch.privacy import mask_cpr

__all__ = ["main"]

log = structlog.get_logger(__name__)


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


# Registered from their modules (which never import this one); `--help` lists them sorted by name.
for _command in (
    check.check,
    columns.columns,
    run.run,
    run.validate,
    history.report,
    history.status,
    reconcile.reconcile_command,
    journal.purge_command,
    journal.history,
    simulator.simulator,
    web.serve,
    web.user,
):
    main.add_command(_command)
