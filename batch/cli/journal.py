"""The commands on the journal's memory and retention: `purge` and `history` (see README)."""

from __future__ import annotations

import re
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from batch.cli.options import _common_options, _fail, _start
from batch.config import RETENTION_HINT, retention_days
from batch.errors import BatchError
from batch.i18n import _
from batch.journal import Journal, format_local
from batch.journal.retention import cutoff_for, purge
from batch.records import Report

if TYPE_CHECKING:
    from batch.console import Console
    from batch.journal import PersonRow, Remembered
    from batch.journal.retention import PurgeResult

__all__ = ["history", "purge_command", "retention_option"]

_CPR = re.compile(r"^\s*(\d{6})-?(\d{4})\s*$")


def _check_retention(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return retention_days(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def retention_option(function: Any) -> Any:
    """`--retention-days DAYS`, checked like BATCH_RETENTION_DAYS and the config file's."""
    return click.option(
        "--retention-days",
        callback=_check_retention,
        metavar="DAYS",
        help="Days a person's data is kept in clear (default 30); see README, Personal data.",
    )(function)


def _older_than(_ctx: click.Context, _param: click.Parameter, value: float | None) -> Any:
    if value is not None and value < 0:
        raise click.BadParameter(_("must be 0 or more days; {hint}").format(hint=_(RETENTION_HINT)))
    return value


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.option(
    "--older-than",
    type=float,
    callback=_older_than,
    metavar="DAYS",
    help="Remove what is older than DAYS instead of retention_days; 0: everything settled.",
)
@click.option(
    "--inbox",
    "inboxes",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Also purge this inbox's done/ and failed/ (remembered for later purges).",
)
@click.option(
    "--memory",
    is_flag=True,
    help="Forget what every service accepted, and its key: the next run sends every row once.",
)
@retention_option
@_common_options
def purge_command(
    dry_run: bool,
    older_than: float | None,
    inboxes: tuple[Path, ...],
    memory: bool,
    config_file: Path | None,
    **flags: Any,
) -> None:
    """Delete the personal data past retention: journal rows, workbooks, inbox files.

    Rows not yet settled (pending, or in Retry) are kept whatever their age; the memory of
    what UDB accepted (pseudonymised) and each run's counts stay.
    """
    settings, console = _start(config_file, flags)
    days = settings.retention_days if older_than is None else older_than
    try:
        with Journal.open(settings.state_dir, forget_memory=memory and not dry_run) as journal:
            result = purge(
                journal,
                state_dir=settings.state_dir,
                report_dir=settings.report_dir,
                cutoff=cutoff_for(days),
                dry_run=dry_run,
                inboxes=inboxes,
            )
    except BatchError as error:
        _fail(console, error)
    _print_purge(console, result, dry_run=dry_run, memory=memory)


def _print_purge(console: Console, result: PurgeResult, *, dry_run: bool, memory: bool) -> None:
    done = result.journal
    if dry_run:
        console.line(_("Dry run: nothing was removed."))
    console.line(
        _("journal: {rows} rows and {attempts} attempts of {runs} runs").format(
            rows=done.rows, attempts=done.attempts, runs=done.runs
        )
    )
    if done.kept:
        console.line(
            _("kept: {rows} rows past retention that are not settled yet").format(rows=done.kept)
        )
    console.line(
        _("files: {files} ({size} bytes)").format(files=len(result.files), size=result.file_bytes)
    )
    for path, _size in result.files:
        console.line(f"  {path}")
    console.line(
        _("journal size: {before} bytes before, {after} bytes after").format(
            before=done.bytes_before, after=done.bytes_after
        )
    )
    if memory and not dry_run:
        console.line(_("The memory was forgotten: the next run sends every valid row once."))
    if result.failed:
        console.error(
            _("files that could not be removed: {count}; see the log").format(count=result.failed)
        )
        sys.exit(1)


def _read_cpr(console: Console) -> str:
    """From a prompt on a terminal, else the first line of stdin: never from the command line."""
    if sys.stdin.isatty():
        text = click.prompt(_("CPR number (not shown)"), hide_input=True, err=True)
    else:
        text = sys.stdin.readline()
    match = _CPR.match(text)
    if not match:
        console.error(_("a CPR number is 10 digits, e.g. 010108-1234"))
        sys.exit(2)
    return match.group(1) + match.group(2)


@click.command()
@_common_options
def history(config_file: Path | None, **flags: Any) -> None:
    """Every row of one person in the journal; the CPR number is read from a prompt or stdin.

    Answers an access request or "did it reach UDB?": run, time, file and row, outcome, code,
    text and what was sent (within retention), and what UDB is remembered to have accepted.
    """
    settings, console = _start(config_file, flags)
    cpr = _read_cpr(console)
    try:
        with Journal.open(settings.state_dir) as journal:
            rows, remembered = journal.person_history(cpr)
    except BatchError as error:
        _fail(console, error)
    console.line(_("History of {cpr}").format(cpr=cpr))
    if not rows and not remembered:
        console.line(_("The journal holds nothing for this person."))
        return
    for row in rows:
        _print_row(console, row)
    for item in remembered:
        _print_remembered(console, item)


def _when(text: str) -> str:
    return format_local(datetime.fromisoformat(text))


def _print_row(console: Console, row: PersonRow) -> None:
    place = f"{row.source_file}" + (f" [{row.sheet}]" if row.sheet else "")
    console.line(
        _("{when}  run {run}  {place} row {row}: {outcome} {code}").format(
            when=_when(row.at),
            run=row.run_id,
            place=place,
            row=row.source_row,
            outcome=row.outcome or _("not settled"),
            code=row.code or "",
        )
    )
    if row.text:
        console.line(f"    {row.text}")
    if row.sent is not None:
        console.line("    " + _("sent: {what}").format(what=_sent(row.sent)))
    elif row.outcome != "unchanged":
        console.line("    " + _("what was sent is no longer kept (retention)"))


def _sent(payload: str) -> str:
    """What a payload held, without the CPR number (the caller knows it)."""
    report = Report.from_json(payload)
    parts = [_("institution {number}").format(number=report.institution)]
    if report.contact is not None:
        contact = report.contact
        parts.append(
            _("contact {name} {mail} {phone} ({when})").format(
                name=contact.name,
                mail=contact.mail,
                phone=contact.phone or "",
                when=format_local(contact.registered),
            )
        )
    for label, wish in ((_("job wish"), report.job), (_("education wish"), report.education)):
        if wish is not None:
            parts.append(f"{label} {wish.text} ({format_local(wish.registered)})")
    return "; ".join(parts)


def _print_remembered(console: Console, item: Remembered) -> None:
    names = {
        "accepted": _("a report"),
        "contact": _("contact person"),
        "job": _("job wish"),
        "education": _("education wish"),
    }
    what = names.get(item.what, item.what)
    console.line(
        _("{service}: {what} accepted on {when} (run {run})").format(
            service=item.service, what=what, when=_when(item.at), run=item.run_id
        )
    )
