"""Recognising a result workbook fed back as input, and which run wrote it.

A result workbook (see `batch.report`) has the sheets `Summary` and `Fix`, in any language the
catalog knows (`Oversigt` and `Ret` in Danish), and names its run in
a custom document property, which Excel and LibreOffice keep when the workbook is edited and
saved; the run id also stands in the Summary sheet, where it is looked for when the property is
gone. Only the workbook's small parts are read, never its rows.
"""

from __future__ import annotations

import re
import zipfile
from typing import TYPE_CHECKING

import python_calamine

from batch.i18n import every_translation
from batch.outcomes import SUMMARY_TITLE, sheet_names_for
from batch.records import Outcome

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["FIX_SHEET", "RUN_ID_PROPERTY", "is_result_workbook", "workbook_run_id"]

FIX_SHEET = "Fix"  # `--sheet Fix` finds a Danish workbook's `Ret` too (`outcome_of_sheet`)
RUN_ID_PROPERTY = "batch_run_id"
_RUN_ID = re.compile(r"\d{8}T\d{6}-[a-z]{4}")  # batch.journal's run ids
_PROPERTY = re.compile(
    rb'name="' + RUN_ID_PROPERTY.encode() + rb'"[^>]*>\s*<vt:lpwstr>([^<]{1,64})</vt:lpwstr>'
)


def _sheet_names(path: Path) -> list[str]:
    try:
        with path.open("rb") as file:
            return list(python_calamine.CalamineWorkbook.from_filelike(file).sheet_names)
    except (python_calamine.CalamineError, ValueError, OSError):
        return []


def is_result_workbook(path: Path) -> bool:
    """Whether `path` is a workbook written by batch (it has the Summary and Fix sheets)."""
    if path.suffix.lower() not in {".xlsx", ".xlsm"}:
        return False
    names = set(_sheet_names(path))
    return bool(names & set(every_translation(SUMMARY_TITLE))) and bool(
        names & set(sheet_names_for(Outcome.FIX))
    )


def workbook_run_id(path: Path) -> str | None:
    """The id of the run whose result `path` is, or None when it cannot be told."""
    try:
        with zipfile.ZipFile(path) as archive:
            custom = archive.read("docProps/custom.xml")
    except (zipfile.BadZipFile, KeyError, OSError):
        custom = b""
    if found := _PROPERTY.search(custom):
        return found[1].decode("utf-8", "replace").strip()
    return _run_id_in_summary(path)


def _run_id_in_summary(path: Path) -> str | None:
    summaries = every_translation(SUMMARY_TITLE)
    try:
        with path.open("rb") as file:
            book = python_calamine.CalamineWorkbook.from_filelike(file)
            name = next((name for name in book.sheet_names if name in summaries), None)
            if name is None:
                return None
            sheet = book.get_sheet_by_name(name)
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell, str) and (found := _RUN_ID.search(cell)):
                        return found[0]
    except (python_calamine.CalamineError, ValueError, OSError):
        return None
    return None
