"""The Summary's section on how the inputs were read: every header and what became of it.

Plain rows under the Summary's other sections: per input its columns (letter, header, the
field(s) it fed or "ignored", by which rule), then its notes: rows hidden in the sheet (every
row number), hidden columns, totals rows left out. The team reads here why a column was not
used without running `batch columns` themselves.
"""

from __future__ import annotations

import shlex
from pathlib import PurePath
from typing import TYPE_CHECKING

from batch.i18n import _
from batch.intake.notes import row_list
from batch.privacy import mask_cpr
from batch.records import Outcome

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

    from batch.intake.notes import HeaderNote, ReadNotes
    from batch.report._cells import Styles
    from batch.report._model import RunSummary

__all__ = ["next_command", "write_reading"]


def write_reading(
    sheet: Worksheet, styles: Styles, summary: RunSummary, name: str, line: int
) -> int:
    """Write the section from `line` on; return the first free line after it."""
    line = _next_steps(sheet, styles, summary, name, line)
    for source in summary.inputs:
        notes = source.notes
        if notes is None or not notes.columns:
            continue
        where = source.source_file + (f' ("{source.sheet}")' if source.sheet else "")
        titles = (_("Columns of {input}").format(input=where), _("Header"), _("Feeds"), _("How"))
        for col, title in enumerate(titles):
            sheet.write_string(line, col, title, styles.header)
        for note in notes.columns:
            line += 1
            sheet.write_string(line, 0, note.column)
            sheet.write_string(line, 1, mask_cpr(note.header))
            sheet.write_string(line, 2, ", ".join(note.fields) or _("ignored"))
            sheet.write_string(line, 3, _rule(note))
        for text in _notes(notes, workbook=source.sheet is not None):
            line += 1
            sheet.write_string(line, 0, _("Note"), styles.bold)
            sheet.write_string(line, 2, text)
        line += 2
    return line


def next_command(summary: RunSummary, name: str) -> str:
    """The command that sends the corrected Fix sheet, to paste where the run was started."""
    folder = PurePath(summary.report_dir) if summary.report_dir else PurePath()
    return shlex.join(["batch", "run", str(folder / name), "--sheet", "Fix", *summary.next_flags])


def _next_steps(sheet: Worksheet, styles: Styles, summary: RunSummary, name: str, line: int) -> int:
    """The next command when rows await fixing, and the rows fixed but still wrong at source."""
    start = line
    if not summary.dry_run and summary.counts.get(Outcome.FIX, 0):
        sheet.write_string(line, 0, _("Next command"), styles.bold)
        sheet.write_string(line, 1, next_command(summary, name))
        line += 1
        sheet.write_string(
            line,
            1,
            _(
                "Correct the Fix sheet, save the workbook, and run this in the folder the run "
                "was started from. The run remembers its mapping, institution and system id."
            ),
        )
        line += 1
    if summary.still_wrong:
        sheet.write_string(line, 0, _("Fixed here, still wrong in the source"), styles.bold)
        sheet.write_number(line, 1, summary.still_wrong)
        text = _(
            "Rows corrected through a Fix sheet earlier and accepted, but read again unchanged "
            "from the export: they are in Unchanged (code fixed). Correct them in the source "
            "system so the next export is right."
        )
        sheet.write_string(line, 2, text)
        line += 1
    return line + 1 if line > start else line


def _rule(note: HeaderNote) -> str:
    rules = {
        "alias": _("its name"),
        "mapping": _("the mapping file"),
        "duplicate": _("a second column for {field}: ignored").format(field=note.suggestion),
        "result": _("a result column of an earlier run: not read"),
    }
    if note.rule == "fuzzy":
        return _("a near match of the name (score {score})").format(score=f"{note.score:.2f}")
    if note.rule in rules:
        return rules[note.rule]
    if note.suggestion:
        return _("not a known name; looks like {field}: map it in a mapping file").format(
            field=note.suggestion
        )
    return _("not a known name")


def _notes(notes: ReadNotes, *, workbook: bool) -> list[str]:
    lines = []
    if notes.hidden_rows:
        rows = row_list(notes.hidden_rows)
        if notes.skipped_hidden:
            lines.append(_("Hidden rows, not sent (in Fix): {rows}").format(rows=rows))
        else:
            lines.append(_("Hidden rows, sent as any other: {rows}").format(rows=rows))
    if notes.hidden_columns:
        columns = ", ".join(notes.hidden_columns)
        lines.append(_("Hidden columns, read as any other: {columns}").format(columns=columns))
    if notes.totals:
        rows = row_list(notes.totals)
        lines.append(_("Totals rows, left out (not data): {rows}").format(rows=rows))
    if workbook and not notes.hidden_checked:
        lines.append(_("Hidden rows and columns: not checked for this kind of file"))
    return lines
