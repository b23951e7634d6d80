"""The `Summary` sheet: a chart of the run, the counts, what each sheet means and what to do.

Written for the municipal data team who open the workbook without having run the job: it opens
with a picture of how the run went (a native Excel chart of the rows per sheet, so it stays
live and prints sharply), then every sheet explained in a sentence, linked, with what (if
anything) to do next. Every label is in the run's language; setting names stay as typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from batch.i18n import N_, _
from batch.outcomes import SUMMARY_TITLE, sheet_title
from batch.privacy import mask_cpr
from batch.records import Outcome
from batch.report._cells import DATETIME_WIDTH, excel_datetime
from batch.report._model import AGED_SHEET
from batch.report._reading import write_reading
from batch.report._sheets import LINE_POINTS, TAB_COLORS, print_setup, text_lines

if TYPE_CHECKING:
    from collections.abc import Mapping

    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

    from batch.report._cells import Styles
    from batch.report._model import RunSummary

__all__ = ["SHEET_GUIDE", "Guide", "write_summary_sheet"]


class Guide(NamedTuple):
    """What a sheet means, and what to do with it (`{workbook}`, `{sheet}`: this workbook)."""

    meaning: str
    todo: str


SHEET_GUIDE: Mapping[Outcome, Guide] = {
    Outcome.ACCEPTED: Guide(meaning=N_("UDB accepted these rows."), todo=N_("Nothing.")),
    Outcome.READY: Guide(
        meaning=N_(
            "Dry run: these rows are valid and a real run would send them. Nothing was sent."
        ),
        todo=N_("Send them with `batch run` on the same files."),
    ),
    Outcome.FIX: Guide(
        meaning=N_(
            "UDB, or the checks made before sending, rejected these rows for data that can be "
            "corrected. The highlighted cells are the ones to correct; a comment on each says "
            "what is wrong, and Result text says what to do."
        ),
        todo=N_(
            "Correct the highlighted cells in this sheet, save the workbook, and run "
            "`batch run {workbook} --sheet {sheet}`. The result columns are ignored on the way in."
        ),
    ),
    Outcome.DROP: Guide(
        meaning=N_(
            "UDB will never accept these rows as they are: the young person is unknown to UDB "
            "(14) or lives in another municipality (86). Those aged 25 or more (15) are on "
            "their own sheet below."
        ),
        todo=N_(
            "Check the CPR number and KommuneInstitutionNummer. If they are right, remove the "
            "rows from the export: they are not sent again."
        ),
    ),
    Outcome.RETRY: Guide(
        meaning=N_(
            "These rows could not be sent, or UDB had a temporary error (101, time-outs, "
            "service unavailable)."
        ),
        todo=N_(
            "Nothing, usually: the next run sends them again by itself. If they stay here run "
            "after run, check the connection and the settings below."
        ),
    ),
    Outcome.UNCHANGED: Guide(
        meaning=N_(
            "Not sent: UDB already has exactly this data from an earlier run, or newer data "
            "for the same young person."
        ),
        todo=N_("Nothing. To send them anyway, run with --resend-all."),
    ),
}

_STATUS = {
    "finished": N_("Finished"),
    "interrupted": N_("Interrupted: the rows not yet sent are in Retry"),
    "broken": N_("Stopped early because the service kept failing: the rows not sent are in Retry"),
    "stopped": N_("Stopped as asked (--max-rows or --until): the rows not yet sent are in Retry"),
    "setup": N_(
        "Stopped by a set-up problem (see Why): fix it, then run again; the rows not sent are "
        "in Retry"
    ),
    "failed": N_("Failed"),
}
_AGED_MEANING = N_(
    "Not sent, and nobody needs to act: the young person is 25 or more, and UDB holds data on "
    "young people under 25 only (15)."
)
_AGED_COLOR = "#7F7F7F"
_WIDTHS = (24, DATETIME_WIDTH, 60, 60)
_MAX_FIRST = 50  # the first column grows to show the inputs' file names, up to this
_CHART_ROWS = 16  # rows of 20 px the chart covers (its height is 300 px)
NEW_ISSUES = N_(
    "Not reported on an earlier night: the same file name with the same cells was not in this "
    "sheet before. Rows already reported keep being counted above until they are fixed."
)


def write_summary_sheet(
    book: Workbook, styles: Styles, summary: RunSummary, counts: Mapping[Outcome, int], name: str
) -> None:
    """Add the `Summary` sheet to `book`; `name` is the workbook's file name."""
    sheet = book.add_worksheet(_(SUMMARY_TITLE))
    files = max((len(source.source_file) + 2 for source in summary.inputs), default=0)
    widths = (min(max(_WIDTHS[0], files), _MAX_FIRST), *_WIDTHS[1:])
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width, styles.wrap if col >= 2 else None)  # noqa: PLR2004
    sheet.set_row(0, 21)
    sheet.write_string(
        0, 0, _("Result of run {run_id}").format(run_id=summary.run_id), styles.title
    )
    sheet.write_string(1, 0, _("Status"), styles.bold)
    status = summary.status
    sheet.write_string(1, 1, _(_STATUS[status]) if status in _STATUS else status)
    line = 2
    if summary.message:
        sheet.write_string(2, 0, _("Why"), styles.bold)
        sheet.write_string(2, 1, mask_cpr(summary.message))
        line = 3
    for text in summary.warnings:  # start-up warnings: certificates, risky settings
        sheet.write_string(line, 0, _("Warning"), styles.bold)
        sheet.write_string(line, 1, mask_cpr(text))
        line += 1
    table = line + 1 + _CHART_ROWS
    _chart(book, sheet, counts, anchor=line + 1, table=table)
    line = _sheets_table(
        sheet, styles=styles, summary=summary, counts=counts, name=name, line=table
    )
    line = _times(sheet, styles, summary, sum(counts.values()), line + 1)
    line = _inputs(sheet, styles, summary, line + 1)
    line = write_reading(sheet, styles, summary, name, line + 1)
    _settings(sheet, styles, summary, name, line)
    print_setup(sheet, landscape=True)


def _chart(
    book: Workbook, sheet: Worksheet, counts: Mapping[Outcome, int], *, anchor: int, table: int
) -> None:
    """A column per sheet, its height the sheet's rows, drawn from the table below it."""
    chart = book.add_chart({"type": "column"})
    if chart is None:  # pragma: no cover - only for an unknown chart type
        return
    title, first, last = sheet.get_name(), table + 1, table + len(counts) + 1  # + Aged 25+
    chart.add_series(
        {
            "name": _("Rows"),
            "categories": [title, first, 0, last, 0],
            "values": [title, first, 1, last, 1],
            "points": [{"fill": {"color": color}} for color in _colors(counts)],
            "data_labels": {"value": True},
            "gap": 60,
        }
    )
    chart.set_title({"name": _("Rows per sheet"), "name_font": {"size": 12}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"min": 0, "major_gridlines": {"visible": True}})
    chart.set_size({"width": 720, "height": 20 * _CHART_ROWS - 20})
    sheet.insert_chart(anchor, 0, chart, {"x_offset": 4, "y_offset": 6})


def _colors(counts: Mapping[Outcome, int]) -> list[str]:
    """The bars' colours in table order: each sheet's tab colour, Aged 25+ after Drop."""
    colors = []
    for outcome in counts:
        colors.append(TAB_COLORS[outcome])
        if outcome is Outcome.DROP:
            colors.append(_AGED_COLOR)
    return colors


def _sheets_table(
    sheet: Worksheet,
    *,
    styles: Styles,
    summary: RunSummary,
    counts: Mapping[Outcome, int],
    name: str,
    line: int,
) -> int:
    _header(sheet, styles, line, (_("Sheet"), _("Rows"), _("What it means"), _("What to do")))
    for outcome, count in counts.items():
        line += 1
        guide = SHEET_GUIDE[outcome]
        todo = _(guide.todo).format(workbook=name, sheet=sheet_title(Outcome.FIX))
        shown = count - summary.aged if outcome is Outcome.DROP else count
        item = (sheet_title(outcome), shown, _(guide.meaning), todo)
        _sheet_line(sheet, styles, line, item)
        if outcome is Outcome.DROP:  # the rows that need nobody, counted apart
            line += 1
            item = (_(AGED_SHEET), summary.aged, _(_AGED_MEANING), _("Nothing."))
            _sheet_line(sheet, styles, line, item)
    sheet.write_string(line + 1, 0, _("Total"), styles.bold)
    sheet.write_number(line + 1, 1, sum(counts.values()), styles.bold)
    sheet.write_string(line + 2, 0, _("Blank rows"))
    sheet.write_number(line + 2, 1, sum(s.blank for s in summary.inputs))
    sheet.write_string(line + 2, 2, _("Empty rows in the inputs: skipped, not counted above."))
    for offset, (label, count) in enumerate(
        ((_("New in Fix"), summary.new_fix), (_("New in Drop"), summary.new_drop)), start=3
    ):
        sheet.write_string(line + offset, 0, label)
        sheet.write_number(line + offset, 1, count)
        sheet.write_string(line + offset, 2, _(NEW_ISSUES))
    return line + 5


def _sheet_line(
    sheet: Worksheet, styles: Styles, line: int, item: tuple[str, int, str, str]
) -> None:
    """One sheet's line: its linked name, rows, what they mean and what to do, rows tall enough."""
    title, count, meaning, todo = item
    lines = max(text_lines(meaning, _WIDTHS[2]), text_lines(todo, _WIDTHS[3]))
    sheet.set_row(line, lines * LINE_POINTS)  # LibreOffice keeps heights as written
    sheet.write_url(line, 0, f"internal:'{title}'!A1", styles.link, title)
    sheet.write_number(line, 1, count, styles.body)
    sheet.write_string(line, 2, meaning)
    sheet.write_string(line, 3, todo)


def _times(sheet: Worksheet, styles: Styles, summary: RunSummary, _rows: int, line: int) -> int:
    _header(sheet, styles, line, (_("Time (Danish)"), "", "", ""))
    seconds = (summary.finished - summary.started).total_seconds()
    for offset, (label, moment) in enumerate(
        ((_("Started"), summary.started), (_("Finished"), summary.finished)), start=1
    ):
        sheet.write_string(line + offset, 0, label)
        sheet.write_datetime(line + offset, 1, excel_datetime(moment), styles.datetime)
    sheet.write_string(line + 3, 0, _("Duration"))
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
    _header(sheet, styles, line, (_("Input"), _("Rows"), _("Blank rows"), _("Sheet")))
    for source in summary.inputs:
        line += 1
        sheet.write_string(line, 0, source.source_file)
        sheet.write_number(line, 1, source.rows)
        sheet.write_number(line, 2, source.blank)
        sheet.write_string(line, 3, source.sheet or "")
    return line + 1


def _settings(sheet: Worksheet, styles: Styles, summary: RunSummary, name: str, line: int) -> None:
    """The run's settings under their own names (as typed in a config file), values as set."""
    _header(sheet, styles, line, (_("Setting"), _("Value"), "", ""))
    rows = {
        _("Run id"): summary.run_id,
        _("Dry run"): _("yes") if summary.dry_run else _("no"),
        _("Version of batch"): summary.version or "",
        _("Workbook"): name,
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
        return _("{hours} h {minutes:02d} min {seconds:02d} s").format(
            hours=hours, minutes=minutes, seconds=secs
        )
    if minutes:
        return _("{minutes} min {seconds:02d} s").format(minutes=minutes, seconds=secs)
    return _("{seconds} s").format(seconds=secs)
