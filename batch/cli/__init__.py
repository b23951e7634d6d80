"""The `batch` command: options -> settings -> pipeline -> exit code; nothing else."""

from __future__ import annotations

import sys
from typing import Any

import click
import structlog

from batch import __version__
from batch.cli import check, columns, history, journal, ops, reconcile, run, simulator, tokens, web
from batch.cli.exit_codes import EXIT_CODES, EXIT_INTERNAL
from batch.cli.helptext import LanguageGroup, help_language
from batch.cli.options import early_log_format
from batch.i18n import N_, _, use_language
from batch.logging import configure_logging, json_lines
from batch.privacy import mask_cpr

__all__ = ["main"]

log = structlog.get_logger(__name__)


_ARGS = "batch.args"


class _Guarded(LanguageGroup):
    """Turns a bug's exception into one masked line and exit 70, never a raw traceback.

    A traceback could carry a CPR number from a row's data; the log gets the traceback through
    the masking processor instead. The journal is consistent at any instant, so the same command
    can simply be run again once the cause is fixed.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGS] = list(args)  # kept to see --log-format when parsing fails
        use_language(help_language(args))  # `--help` is answered while parsing
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as error:
            if not _json_wanted(ctx.meta.get(_ARGS, [])):
                raise
            # JSON logs: a usage error is one JSON line too, not click's text on stderr.
            message = mask_cpr(error.format_message())
            log.error("usage error", message=message, exit_code=error.exit_code)  # noqa: TRY400 - no traceback for a usage error
            sys.exit(error.exit_code)
        except (click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Exception as error:  # the last line of defence, by design
            what = {"kind": type(error).__name__, "message": mask_cpr(str(error))}
            line = INTERNAL_ERROR.format(**what)  # the log stays English
            log.exception("internal error", message=line, exit_code=EXIT_INTERNAL)
            if not _json_wanted(ctx.meta.get(_ARGS, [])):
                shown = _("error: {message}").format(message=_(INTERNAL_ERROR).format(**what))
                sys.stderr.write(shown + "\n")
            sys.exit(EXIT_INTERNAL)


INTERNAL_ERROR = N_(
    "internal error ({kind}: {message}); details are in the log; the journal is consistent, "
    "run the command again"
)


def _json_wanted(args: list[str]) -> bool:
    """Whether the command line (or BATCH_LOG_FORMAT) asks for JSON logs, read before click.

    When it does, logging is set up for JSON here, since the command never got to do it.
    """
    chosen = None
    for index, arg in enumerate(args):
        if arg == "--log-format" and index + 1 < len(args):
            chosen = args[index + 1]
        elif arg.startswith("--log-format="):
            chosen = arg.partition("=")[2]
    log_format = early_log_format({"log_format": chosen})
    wanted = json_lines(log_format)
    if wanted:
        configure_logging(log_format="json")
    return wanted


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
    ops.backup,
    reconcile.reconcile_command,
    journal.purge_command,
    journal.history,
    simulator.simulator,
    web.serve,
    web.user,
    tokens.token,
):
    main.add_command(_command)
