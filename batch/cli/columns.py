"""The `columns` command: what every header of a file feeds, before anything is read or sent.

The logic is `batch.intake.describe`; this module only presents it: a table (rich on a
terminal, plain columns in a pipe), CPR numbers masked, and the mapping in use written to a
file with `--save-mapping` for the next run's `--mapping`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console as RichConsole
from rich.table import Table
from rich.text import Text

from batch.cli.exit_codes import EXIT_CODES, EXIT_USAGE
from batch.cli.options import _common_options, _fail, _input_options, _sheet, _start
from batch.errors import BatchError, ConfigError
from batch.i18n import _
from batch.intake.columns import setting_hint
from batch.intake.describe import describe_columns
from batch.intake.mapping import mapping_text
from batch.pipeline import input_options
from batch.privacy import mask_cpr

if TYPE_CHECKING:
    from batch.intake.describe import ColumnReport, HeaderUse

__all__ = ["columns"]


@click.command(epilog=EXIT_CODES)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--save-mapping",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the mapping in use to this TOML file, for the next run's --mapping.",
)
@_input_options
@_common_options
def columns(
    file: Path,
    sheet: str | None,
    save_mapping: Path | None,
    config_file: Path | None,
    **flags: Any,
) -> None:
    """Show what each column of FILE feeds, by which rule, with an example value.

    Also the fields no column feeds, the headers they accept, and the setting that can stand
    in. Exit 0 when a run could read the file, 2 when a required field is missing.
    """
    settings, console = _start(config_file, flags)
    try:
        report = describe_columns(file, input_options(settings, _sheet(sheet)))
        if save_mapping is not None:
            _save(save_mapping, report)
    except BatchError as error:
        _fail(console, error)
    out = RichConsole(file=sys.stdout, highlight=False, soft_wrap=True)
    if not out.is_terminal:
        out = RichConsole(file=sys.stdout, highlight=False, soft_wrap=True, width=200)
    _print(out, report)
    if save_mapping is not None:
        out.print(_("mapping written to {path}").format(path=save_mapping), markup=False)
    sys.exit(0 if report.usable else EXIT_USAGE)


def _save(path: Path, report: ColumnReport) -> None:
    where = report.source_file + (f', sheet "{report.sheet}"' if report.sheet else "")
    comment = _("Mapping made by batch columns from {file}; use it with --mapping.").format(
        file=where
    )
    try:
        path.write_text(mapping_text(report.mapping, comment=comment), encoding="utf-8")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        message = _("cannot write the mapping file {path} ({reason})")
        raise ConfigError(message.format(path=path, reason=reason)) from error


def _print(out: RichConsole, report: ColumnReport) -> None:
    where = report.source_file
    if report.sheet is not None:
        sheets = ", ".join(f'"{name}"' for name in report.sheets)
        where += " " + _('sheet "{sheet}" (sheets: {sheets})').format(
            sheet=report.sheet, sheets=sheets
        )
    title = _("{file}: header in row {row}").format(file=where, row=report.header_row)
    table = Table(title=mask_cpr(title), title_justify="left")
    for name in (_("col"), _("header"), _("feeds"), _("rule"), _("example"), _("sent as")):
        table.add_column(name)
    for use in report.headers:
        cells = (
            use.column,
            mask_cpr(use.header),
            ", ".join(use.fields) or _("ignored"),
            _rule(use),
            mask_cpr(use.example or ""),
            mask_cpr(use.normalized or ""),
        )
        table.add_row(*(Text(cell) for cell in cells))  # Text: a header is never markup
    out.print(table)
    for use in report.headers:
        if len(use.fields) > 1:
            line = _('"{header}" feeds {count} fields: {fields}').format(
                header=use.header, count=len(use.fields), fields=", ".join(use.fields)
            )
            out.print(mask_cpr(line), markup=False)
    _print_missing(out, report)


def _rule(use: HeaderUse) -> str:
    if use.rule == "fuzzy" and use.score is not None:
        return _("near match {score}").format(score=f"{use.score:.2f}")
    if use.rule == "ignored" and use.suggestion:
        return _("ignored; looks like {field}").format(field=use.suggestion)
    if use.rule == "duplicate":
        return _("second column for {field}").format(field=use.suggestion)
    names = {
        "alias": _("known name"),
        "mapping": _("mapping file"),
        "ignored": _("unknown name"),
        "result": _("result column"),
    }
    return names.get(use.rule, use.rule)


def _print_missing(out: RichConsole, report: ColumnReport) -> None:
    needs = [need for need in report.missing if not need.configured]
    if not needs:
        return
    out.print(_("Fields no column feeds:"), markup=False)
    for need in needs:
        accepts = ", ".join(f'"{header}"' for header in need.accepts)
        kind = _("required") if need.required else _("optional")
        line = _("  {field} ({kind}): a column headed {accepts}").format(
            field=need.field, kind=kind, accepts=accepts
        )
        if (hint := setting_hint(need.field)) is not None:
            line += "; " + _("or set {where}").format(where=hint)
        out.print(mask_cpr(line), markup=False)
    for use in report.headers:
        if use.suggestion and use.rule == "ignored":
            line = _(
                'Column {column} "{header}" looks like {field}: to use it, add '
                '"{header}" = "{field}" to a mapping file (--mapping)'
            ).format(column=use.column, header=use.header, field=use.suggestion)
            out.print(mask_cpr(line), markup=False)
