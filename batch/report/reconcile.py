"""`batch reconcile`: every row of the given files, its final outcome across all runs, a workbook.

`batch status` lists runs one by one, and adding them up double-counts: a later run lists the
rows an earlier one got accepted as Unchanged. Here each row of each file gets one final word,
from every run that read it, oldest first:

- `accepted` when any run got it accepted (the last such run and time are shown);
- otherwise the latest run's outcome: `unchanged` (UDB already had it, newer data, superseded,
  or left out by a filter: the text says which), `fix`, `drop`, or `aged` (25 or more: needs
  nobody);
- `not_sent` when no run closed it (never read, still in Retry, or its run is still going).

So the totals add up to the rows in the files, which are read again for exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from xlsxwriter.workbook import Workbook

from batch.i18n import N_, _
from batch.report._cells import Styles, excel_datetime
from batch.report._files import create_private, first_free

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from batch.journal import RowVerdict

__all__ = ["FINALS", "FileRows", "Reconciliation", "reconcile", "write_reconciliation"]

FINALS: dict[str, str] = {  # key -> what a person reads
    "accepted": N_("accepted"),
    "unchanged": N_("unchanged"),
    "fix": N_("fix"),
    "drop": N_("drop"),
    "aged": N_("aged 25+ (needs nobody)"),
    "not_sent": N_("not yet sent"),
}
_AGED_CODE = "15"


@dataclass(frozen=True, slots=True)
class FileRows:
    """One input file as read now: its name and the (sheet, row number) of every row."""

    name: str
    rows: list[tuple[str | None, int]]


@dataclass(frozen=True, slots=True)
class RowFinal:
    """One row's final word."""

    file: str
    sheet: str | None
    source_row: int
    final: str
    verdict: RowVerdict | None


@dataclass
class Reconciliation:
    """The rows and their totals per file (each total adds up to the file's rows)."""

    rows: list[RowFinal] = field(default_factory=list)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)


def _final(latest: RowVerdict | None, accepted: RowVerdict | None) -> tuple[str, RowVerdict | None]:
    if accepted is not None:
        return "accepted", accepted
    if latest is None or latest.outcome in (None, "retry", "ready"):
        return "not_sent", latest
    if latest.outcome == "drop" and _AGED_CODE in (latest.code or "").split(", "):
        return "aged", latest
    return latest.outcome, latest


def reconcile(
    files: Iterable[FileRows], verdicts_of: Callable[[str], Iterable[RowVerdict]]
) -> Reconciliation:
    """Fold every run's verdicts into one final word per row of each file."""
    result = Reconciliation()
    for source in files:
        latest: dict[tuple[str | None, int], RowVerdict] = {}
        accepted: dict[tuple[str | None, int], RowVerdict] = {}
        for seen in verdicts_of(source.name):
            key = (seen.sheet, seen.source_row)
            latest[key] = seen
            if seen.outcome == "accepted":
                accepted[key] = seen
        totals = dict.fromkeys(FINALS, 0)
        for sheet, number in source.rows:
            final, verdict = _final(latest.get((sheet, number)), accepted.get((sheet, number)))
            totals[final] += 1
            result.rows.append(RowFinal(source.name, sheet, number, final, verdict))
        result.totals[source.name] = totals
    return result


def write_reconciliation(report_dir: Path, result: Reconciliation, now: datetime) -> Path:
    """Write the workbook (owner-only) and return its path."""
    report_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    stem = first_free(report_dir, f"reconcile-{excel_datetime(now):%Y%m%d-%H%M%S}")
    path = report_dir / f"{stem}.xlsx"
    with create_private(path) as handle:
        book = Workbook(handle, {"constant_memory": True})
        styles = Styles.create(book)
        _summary(book, styles, result)
        _rows(book, styles, result)
        book.close()
    return path


def _summary(book: Workbook, styles: Styles, result: Reconciliation) -> None:
    sheet = book.add_worksheet(_("Summary"))
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, len(FINALS) + 1, 14)
    titles = [_("File"), _("Rows"), *(_(label) for label in FINALS.values())]
    for col, title in enumerate(titles):
        sheet.write_string(0, col, title, styles.header)
    line = 0
    grand = dict.fromkeys(FINALS, 0)
    for line, (name, totals) in enumerate(result.totals.items(), start=1):
        sheet.write_string(line, 0, name)
        sheet.write_number(line, 1, sum(totals.values()))
        for col, key in enumerate(FINALS, start=2):
            sheet.write_number(line, col, totals[key])
            grand[key] += totals[key]
    sheet.write_string(line + 1, 0, _("Total"), styles.bold)
    sheet.write_number(line + 1, 1, sum(grand.values()), styles.bold)
    for col, key in enumerate(FINALS, start=2):
        sheet.write_number(line + 1, col, grand[key], styles.bold)


def _rows(book: Workbook, styles: Styles, result: Reconciliation) -> None:
    sheet = book.add_worksheet(_("Rows"))
    titles = [_("File"), _("Sheet"), _("Row"), _("Final outcome"), _("Run"), _("Last attempt")]
    titles += [_("Result code"), _("Result text")]
    for col, (title, width) in enumerate(zip(titles, (30, 12, 8, 22, 22, 18, 12, 80), strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, title, styles.header)
    for line, row in enumerate(result.rows, start=1):
        sheet.write_string(line, 0, row.file)
        sheet.write_string(line, 1, row.sheet or "")
        sheet.write_number(line, 2, row.source_row)
        sheet.write_string(line, 3, _(FINALS[row.final]))
        verdict = row.verdict
        if verdict is None:
            continue
        sheet.write_string(line, 4, verdict.run_id)
        if verdict.last_attempt:
            moment = excel_datetime(datetime.fromisoformat(verdict.last_attempt))
            sheet.write_datetime(line, 5, moment, styles.datetime)
        sheet.write_string(line, 6, verdict.code or "")
        sheet.write_string(line, 7, verdict.text or "")
    sheet.autofilter(0, 0, max(len(result.rows), 1), len(titles) - 1)
    sheet.freeze_panes(1, 0)
