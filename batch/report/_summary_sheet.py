"""The `Summary` sheet: the counts at a glance, what each sheet means and what to do with it.

Written for the municipal data team who open the workbook without having run the job: every
sheet is explained in a sentence, links to itself, and says what (if anything) to do next.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from batch.i18n import N_, _
from batch.privacy import mask_cpr
from batch.records import Outcome
from batch.report._cells import Styles, excel_datetime
from batch.report._model import AGED_SHEET, SHEET_NAMES, RunSummary
from batch.report._reading import write_reading

if TYPE_CHECKING:
    from collections.abc import Mapping

    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

__all__ = ["SHEET_GUIDE", "Guide", "write_summary_sheet"]


class Guide(NamedTuple):
    """What a sheet means, and what to do with it (`{workbook}`: this workbook's file name)."""

    meaning: str
    todo: str


SHEET_GUIDE: Mapping[Outcome, Guide] = {
    Outcome.ACCEPTED: Guide(meaning="UDB accepted these rows.", todo="Nothing."),
    Outcome.READY: Guide(
        meaning="Dry run: these rows are valid and a real run would send them. Nothing was sent.",
        todo="Send them with `batch run` on the same files.",
    ),
    Outcome.FIX: Guide(
        meaning="UDB, or the checks made before sending, rejected these rows for data that can "
        "be corrected. Result text says what, column by column.",
        todo="Correct the highlighted cells in this sheet, save the workbook, and run "
        "`batch run {workbook} --sheet Fix`. The result columns are ignored on the way in.",
    ),
    Outcome.DROP: Guide(
        meaning="UDB will never accept these rows as they are: the young person is unknown to "
        "UDB (14) or lives in another municipality (86). Those aged 25 or more (15) are on "
        "their own sheet.",
        todo="Check the CPR number and KommuneInstitutionNummer. If they are right, remove the "
        "rows from the export: they are not sent again.",
    ),
    Outcome.RETRY: Guide(
        meaning="These rows could not be sent, or UDB had a temporary error (101, time-outs, "
        "service unavailable).",
        todo="Nothing, usually: the next run sends them again by itself. If they stay here run "
        "after run, check the connection and the settings below.",
    ),
    Outcome.UNCHANGED: Guide(
        meaning="Not sent: UDB already has exactly this data from an earlier run, or newer data "
        "for the same young person.",
        todo="Nothing. To send them anyway, run with --resend-all.",
    ),
}

_STATUS = {
    "finished": "Finished",
    "interrupted": "Interrupted: the rows not yet sent are in Retry",
    "broken": "Stopped early because the service kept failing: the rows not sent are in Retry",
    "stopped": "Stopped as asked (--max-rows or --until): the rows not yet sent are in Retry",
    "setup": "Stopped by a set-up problem (see Why): fix it, then run again; the rows not sent "
    "are in Retry",
    "failed": "Failed",
}
_WIDTHS = (24, 14, 70, 80)
NEW_ISSUES = N_(
    "Not reported on an earlier night: the same file name with the same cells was not in this "
    "sheet before. Rows already reported keep being counted above until they are fixed."
)


def write_summary_sheet(
    book: Workbook, styles: Styles, summary: RunSummary, counts: Mapping[Outcome, int], name: str
) -> None:
    """Add the `Summary` sheet to `book`; `name` is the workbook's file name."""
    sheet = book.add_worksheet("Summary")
    for col, width in enumerate(_WIDTHS):
        sheet.set_column(col, col, width, styles.wrap if col >= 2 else None)  # noqa: PLR2004
    sheet.write_string(0, 0, f"Result of run {summary.run_id}", styles.bold)
    sheet.write_string(1, 0, "Status", styles.bold)
    sheet.write_string(1, 1, _STATUS.get(summary.status, summary.status))
    line = 2
    if summary.message:
        sheet.write_string(2, 0, "Why", styles.bold)
        sheet.write_string(2, 1, mask_cpr(summary.message))
        line = 3
    for text in summary.warnings:  # start-up warnings: certificates, risky settings
        sheet.write_string(line, 0, "Warning", styles.bold)
        sheet.write_string(line, 1, mask_cpr(text))
        line += 1
    line = _sheets_table(
        sheet, styles=styles, summary=summary, counts=counts, name=name, line=line + 1
    )
    line = _times(sheet, styles, summary, sum(counts.values()), line + 1)
    line = _inputs(sheet, styles, summary, line + 1)
    line = write_reading(sheet, styles, summary, name, line + 1)
    _settings(sheet, styles, summary, name, line)


def _sheets_table(
    sheet: Worksheet,
    *,
    styles: Styles,
    summary: RunSummary,
    counts: Mapping[Outcome, int],
    name: str,
    line: int,
) -> int:
    _header(sheet, styles, line, ("Sheet", "Rows", "What it means", "What to do"))
    for outcome, count in counts.items():
        line += 1
        guide = SHEET_GUIDE[outcome]
        shown = count - summary.aged if outcome is Outcome.DROP else count
        item = (SHEET_NAMES[outcome], shown, guide.meaning, guide.todo)
        _sheet_line(sheet, styles, line, item, name)
        if outcome is Outcome.DROP:  # the rows that need nobody, counted apart
            line += 1
            meaning = _(
                "Not sent, and nobody needs to act: the young person is 25 or more, and UDB "
                "holds data on young people under 25 only (15)."
            )
            _sheet_line(sheet, styles, line, (AGED_SHEET, summary.aged, meaning, _("Nothing.")))
    sheet.write_string(line + 1, 0, "Total", styles.bold)
    sheet.write_number(line + 1, 1, sum(counts.values()), styles.bold)
    sheet.write_string(line + 2, 0, "Blank rows")
    sheet.write_number(line + 2, 1, sum(s.blank for s in summary.inputs))
    sheet.write_string(line + 2, 2, "Empty rows in the inputs: skipped, not counted above.")
    for offset, (label, count) in enumerate(
        ((_("New in Fix"), summary.new_fix), (_("New in Drop"), summary.new_drop)), start=3
    ):
        sheet.write_string(line + offset, 0, label)
        sheet.write_number(line + offset, 1, count)
        sheet.write_string(line + offset, 2, _(NEW_ISSUES))
    return line + 5


def _sheet_line(
    sheet: Worksheet, styles: Styles, line: int, item: tuple[str, int, str, str], name: str = ""
) -> None:
    title, count, meaning, todo = item
    sheet.write_url(line, 0, f"internal:'{title}'!A1", styles.link, title)
    sheet.write_number(line, 1, count)
    sheet.write_string(line, 2, meaning)
    sheet.write_string(line, 3, todo.format(workbook=name))


def _times(sheet: Worksheet, styles: Styles, summary: RunSummary, _rows: int, line: int) -> int:
    _header(sheet, styles, line, ("Time (Danish)", "", "", ""))
    seconds = (summary.finished - summary.started).total_seconds()
    for offset, (label, moment) in enumerate(
        (("Started", summary.started), ("Finished", summary.finished)), start=1
    ):
        sheet.write_string(line + offset, 0, label)
        sheet.write_datetime(line + offset, 1, excel_datetime(moment), styles.datetime)
    sheet.write_string(line + 3, 0, "Duration")
    sheet.write_string(line + 3, 1, _duration(seconds))
    # Requests, not rows: after a resume most rows are skipped as unchanged in a blink, and a
    # rate of rows would say nothing about the load on the service.
    sheet.write_string(line + 4, 0, _("Requests"))
    sheet.write_number(line + 4, 1, summary.requests)
    sheet.write_string(line + 5, 0, _("Requests per second"))
    rate = summary.requests / seconds if seconds > 0 else 0
    sheet.write_number(line + 5, 1, round(rate, 1))
    return line + 6


def _inputs(sheet: Worksheet, styles: Styles, summary: RunSummary, line: int) -> int:
    _header(sheet, styles, line, ("Input", "Rows", "Blank rows", "Sheet"))
    for source in summary.inputs:
        line += 1
        sheet.write_string(line, 0, source.source_file)
        sheet.write_number(line, 1, source.rows)
        sheet.write_number(line, 2, source.blank)
        sheet.write_string(line, 3, source.sheet or "")
    return line + 1


def _settings(sheet: Worksheet, styles: Styles, summary: RunSummary, name: str, line: int) -> None:
    _header(sheet, styles, line, ("Setting", "Value", "", ""))
    rows = {
        "Run id": summary.run_id,
        "Dry run": "yes" if summary.dry_run else "no",
        _("Version of batch"): summary.version or "",
        "Workbook": name,
        **summary.settings,
    }
    for offset, (key, value) in enumerate(rows.items(), start=1):
        sheet.write_string(line + offset, 0, key)
        sheet.write_string(line + offset, 1, value)


def _header(sheet: Worksheet, styles: Styles, line: int, titles: tuple[str, ...]) -> None:
    for col, title in enumerate(titles):
        if title:
            sheet.write_string(line, col, title, styles.header)
        else:
            sheet.write_blank(line, col, None, styles.header)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
