"""Input files -> chunks of raw cells, each with its row number as a spreadsheet program shows it.

A file is a workbook or a CSV by its content, not its name: `open_table` hands a zip or OLE2
file to `batch.intake.workbook` and any other to `batch.intake.csv_file`; both give a `Table`
(`batch.intake.table`) that streams `RawChunk`s.

The header is the first of the first 20 records that names at least two known columns; records
above it (titles, blank rows) are skipped. Row numbers count records, not physical lines, so a
quoted newline does not shift later rows; the header row counts. Fully blank records are not
rows: they are dropped and counted. Columns right of the last named header in a workbook are not
read; in a CSV record, fields beyond the header's width mark the record as overlong.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

from batch.errors import InputError
from batch.i18n import _
from batch.intake.csv_file import open_csv
from batch.intake.table import SAMPLE_BYTES
from batch.intake.workbook import CFB_MAGIC, ZIP_MAGIC, open_workbook

if TYPE_CHECKING:
    from pathlib import Path

    from batch.intake.table import HeaderScore, Table

__all__ = ["WORKBOOK_SUFFIXES", "open_table"]

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})


def open_table(
    path: Path, *, sheet: str | int | None, score: HeaderScore, header_row: int | None = None
) -> Table:
    """Open a CSV or workbook and find its header; an `InputError` if that is not possible.

    `score` counts the known column names in a row; the header row must have two or more.
    `header_row` (1-based, as a spreadsheet shows it) takes that row as the header instead.
    """
    source = str(path)
    head = _head(path, source)
    if not head.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise InputError(
            _("{source}: the file is empty; export the data again").format(source=source)
        )
    if head.startswith((ZIP_MAGIC, CFB_MAGIC)):
        return open_workbook(path, source, sheet, score, header_row)
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        kind = _("an OLE2 file") if suffix == ".xls" else _("a zip archive")
        raise InputError(
            _(
                "{source}: not a real {suffix} workbook (it is not {kind}): it is damaged or "
                "another kind of file renamed; open it in Excel or LibreOffice and save it again"
            ).format(source=source, suffix=suffix, kind=kind)
        )
    return open_csv(path, source, head, score, header_row)


def _head(path: Path, source: str) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(SAMPLE_BYTES)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(
            _("{source}: cannot be opened ({reason}); check the path").format(
                source=source, reason=reason
            )
        ) from error
