"""The result workbook and its JSON summary: every input row, in exactly one sheet, owner-only.

The workbook has `Summary`, then one sheet per outcome (`Accepted` or, for a dry run, `Ready`,
then `Fix`, `Drop`, `Retry`, `Unchanged`), named in the run's language (`Oversigt`, `Godkendt`,
`Ret`, ... in Danish). Each row sheet shows the input's own columns with
their original headers and values (a field that several inputs name differently shares one
column), then the result columns, so the user recognises their data and the `Fix` sheet can be
corrected in Excel and fed straight back to `batch run`.

The writer is xlsxwriter in constant-memory mode, chosen by measurement (see
`benchmarks/report_bench.py`): it streams rows to disk, so memory stays flat for any run size.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from itertools import filterfalse
from pathlib import Path
from typing import NamedTuple

from xlsxwriter.workbook import Workbook

from batch.i18n import _
from batch.intake.result_book import RUN_ID_PROPERTY
from batch.records import Outcome, RowResult
from batch.report._cells import Styles, excel_datetime
from batch.report._files import (
    create_private,
    first_free,
    publish,
    remove_orphaned_work,
    report_stem,
    work_prefix,
)
from batch.report._layout import column_layout
from batch.report._metrics import NightTally, write_metrics
from batch.report._model import (
    AGED_SHEET,
    SHEET_NAMES,
    InputSheet,
    ReportIntegrityError,
    ReportPaths,
    RunSummary,
    checked_counts,
    needs_nobody,
    result_facts,
    run_facts,
    sheet_names_for,
    sheet_outcomes,
    sheet_title,
    summary_facts,
    summary_json,
)
from batch.report._sheets import EXCEL_MAX_ROWS, MAX_COMMENTED_ROWS, RowSheets
from batch.report._summary_sheet import write_summary_sheet

__all__ = [
    "AGED_SHEET",
    "RUN_ID_PROPERTY",
    "SHEET_NAMES",
    "InputSheet",
    "NightTally",
    "ReportIntegrityError",
    "ReportPaths",
    "RunSummary",
    "needs_nobody",
    "result_facts",
    "run_facts",
    "sheet_names_for",
    "sheet_outcomes",
    "sheet_title",
    "summary_facts",
    "summary_json",
    "write_metrics",
    "write_report",
]


RowsFor = Callable[[Outcome], Iterable[RowResult]]


class _Limits(NamedTuple):
    """Rows per sheet (Excel's limit; tests pass less) and Fix rows that get comments."""

    rows: int
    commented: int


def write_report(report_dir: Path, summary: RunSummary, rows_for: RowsFor) -> ReportPaths:
    """Write the workbook and its JSON summary to `report_dir`; return where they are.

    `rows_for(outcome)` is called once per row sheet, in sheet order, and streams that sheet's
    rows. Raises `ReportIntegrityError`, leaving nothing behind, when the counts do not add up
    to the rows read or the rows streamed differ from the counts.
    """
    return _write_report(report_dir, summary, rows_for, max_rows=EXCEL_MAX_ROWS)


def _write_report(
    report_dir: Path,
    summary: RunSummary,
    rows_for: RowsFor,
    *,
    max_rows: int,
    max_commented: int = MAX_COMMENTED_ROWS,
) -> ReportPaths:
    counts = checked_counts(summary)
    report_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Danish time, like every time in the workbook, whatever the server's own time zone.
    local_start = excel_datetime(summary.started).strftime("%Y%m%d-%H%M%S")
    stem = first_free(report_dir, report_stem(summary.inputs, local_start))
    # A private 0o700 directory beside the final files: xlsxwriter's own temporary files (which
    # hold the rows) go there too, and all of it goes away whatever happens.
    remove_orphaned_work(report_dir)
    with tempfile.TemporaryDirectory(dir=report_dir, prefix=work_prefix()) as work:
        workbook, summary_file = Path(work, f"{stem}.xlsx"), Path(work, f"{stem}.json")
        with create_private(workbook) as handle:
            book = Workbook(handle, {"constant_memory": True, "tmpdir": work})
            # Read back when the workbook's Fix sheet is fed to a run: which run it reports.
            book.set_custom_property(RUN_ID_PROPERTY, summary.run_id)
            try:
                limits = _Limits(max_rows, max_commented)
                _fill(book, summary, counts, rows_for, name=workbook.name, limits=limits)
            except BaseException:
                _abandon(book)
                raise
            book.close()
        document = summary_json(summary, report_dir / workbook.name)
        with create_private(summary_file) as handle:
            handle.write(json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"))
        paths = publish(report_dir, stem, workbook, summary_file)
    if paths.workbook.name != workbook.name:  # lost a race for the name: say where it went
        _rewrite_json(paths, summary)
    return paths


def _fill(
    book: Workbook,
    summary: RunSummary,
    counts: dict[Outcome, int],
    rows_for: RowsFor,
    *,
    name: str,
    limits: _Limits,
) -> None:
    """Write every sheet, checking that each sheet got exactly as many rows as counted."""
    styles = Styles.create(book)
    write_summary_sheet(book, styles, summary, counts, name)
    layout = column_layout(summary.inputs)
    sheets = RowSheets(book, styles, layout, limits.rows, limits.commented)
    for outcome, expected in counts.items():
        written = sheets.write(sheet_title(outcome), outcome, _apart(rows_for(outcome), aged=False))
        if outcome is Outcome.DROP:  # the rows that need nobody, on a sheet of their own
            written += sheets.write(_(AGED_SHEET), outcome, _apart(rows_for(outcome), aged=True))
        if written != expected:
            raise ReportIntegrityError(
                f"{expected} rows were counted as {outcome.value} but {written} were handed over"
            )


def _apart(rows: Iterable[RowResult], *, aged: bool) -> Iterator[RowResult]:
    """The rows of one side of the Drop split (rows of other outcomes are never aged).

    `filter` rather than a generator: every row of every sheet passes through here.
    """
    return filter(needs_nobody, rows) if aged else filterfalse(needs_nobody, rows)


def _abandon(book: Workbook) -> None:
    """Close the row files xlsxwriter keeps open per sheet, so the directory can go."""
    for sheet in book.worksheets():
        handle = getattr(sheet, "row_data_fh", None)
        if handle is not None and not handle.closed:
            handle.close()


def _rewrite_json(paths: ReportPaths, summary: RunSummary) -> None:
    """Point the JSON summary at the workbook's actual name (already owner-only)."""
    document = summary_json(summary, paths.workbook)
    paths.summary.write_text(json.dumps(document, ensure_ascii=False, indent=2), "utf-8")
