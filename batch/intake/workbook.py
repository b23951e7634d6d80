"""Workbooks -> a `Table`: the sheet with a header, read by calamine one chunk of rows at a time.

Workbooks (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`) are read by calamine, recognised by their
content rather than their name, and their cells keep the types they have in the sheet (a
datetime stays a datetime, a number a number).

Memory: a workbook sheet is held by calamine in its compact native form, and only one chunk of
rows at a time exists as Python objects.
"""

from __future__ import annotations

import itertools
import mmap
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import pandas as pd
import python_calamine

from batch.errors import InputError
from batch.i18n import N_, _
from batch.intake.hidden import hidden_cells
from batch.intake.table import (
    HEADER_SEARCH_ROWS,
    MIN_HEADER_MATCHES,
    HeaderScore,
    RawChunk,
    RawValue,
    Table,
    cell_value,
    no_header_message,
)
from batch.outcomes import outcome_of_sheet
from batch.privacy import mask_cpr

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["CFB_MAGIC", "ZIP_MAGIC", "open_workbook"]

ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: legacy .xls, or an encrypted workbook


def open_workbook(
    path: Path,
    source: str,
    sheet: str | int | None,
    score: HeaderScore,
    header_row: int | None = None,
) -> Table:
    """Open a workbook and find the sheet and row of its header, or `InputError`.

    `header_row` (1-based) takes that row of the sheet as the header, whatever it names.
    """
    if _is_encrypted_package(path):
        raise InputError(_(_PROTECTED_MESSAGE).format(source=source))
    try:
        with path.open("rb") as file:
            book = python_calamine.CalamineWorkbook.from_filelike(file)
            name, rows, header_index = _choose_sheet(book, sheet, score, source, header_row)
    except python_calamine.PasswordError as error:
        raise InputError(_(_PROTECTED_MESSAGE).format(source=source)) from error
    except (python_calamine.CalamineError, ValueError, OSError) as error:
        reason = mask_cpr(str(error).splitlines()[0] if str(error) else type(error).__name__)
        raise InputError(
            _(
                "{source}: cannot be read as a workbook ({reason}); it may be damaged: open it in "
                "Excel or LibreOffice and save it again"
            ).format(source=source, reason=reason)
        ) from error
    header_cells, first_column, data = rows
    width = _header_width(header_cells)
    header = tuple(cell_value(value) for value in header_cells[:width])

    def read(chunk_rows: int) -> Iterator[RawChunk]:
        return _sheet_chunks(data, header_index + 2, width, chunk_rows)

    hidden = hidden_cells(path, name)
    return Table(source, name, header_index + 1, header, first_column, read, hidden)


_PROTECTED_MESSAGE = N_(
    "{source}: the workbook is password-protected; remove the password (Excel: File > Info > "
    "Protect Workbook > Encrypt with Password) and save it again"
)
# An encrypted .xlsx is an OLE2 file holding a stream of this name (MS-OFFCRYPTO).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def _is_encrypted_package(path: Path) -> bool:
    with path.open("rb") as file:
        if file.read(len(CFB_MAGIC)) != CFB_MAGIC:
            return False
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(_ENCRYPTED_PACKAGE) >= 0


SheetRows = tuple[Sequence[RawValue], int, Iterator[Sequence[RawValue]]]


def _choose_sheet(
    book: python_calamine.CalamineWorkbook,
    wanted: str | int | None,
    score: HeaderScore,
    source: str,
    header_row: int | None = None,
) -> tuple[str, SheetRows, int]:
    names = list(book.sheet_names)
    listed = ", ".join(f'"{n}"' for n in names)
    worksheets = [
        meta.name
        for meta in book.sheets_metadata
        if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
    ]
    candidates = worksheets if wanted is None else [_sheet_name(names, wanted, source, listed)]
    for name in candidates:
        sheet = book.get_sheet_by_name(name)
        rows = sheet.iter_rows()
        head = list(itertools.islice(rows, header_row or HEADER_SEARCH_ROWS))
        start = 0 if header_row is None else header_row - 1
        for index, cells in enumerate(head[start:], start=start):
            if score(cells) >= _least_matches(header_row, several=len(candidates) > 1):
                first_column = sheet.start[1] if sheet.start else 0
                data = itertools.chain(head[index + 1 :], rows)
                return name, (cells, first_column, data), index
        if wanted is not None:
            first = next((r for r in head if any(cell_value(v) is not None for v in r)), [])
            where = _('{source}, sheet "{sheet}"').format(source=source, sheet=name)
            raise InputError(no_header_message(where, first))
    raise InputError(
        _(
            "{source}: no sheet has a header row in its first {count} rows (sheets: {sheets}); "
            "the header must name at least two known columns such as CPRNr and KontaktNavn, or "
            "map your headers in a mapping file (--mapping), or give the row with --header-row"
        ).format(source=source, count=HEADER_SEARCH_ROWS, sheets=listed)
    )


def _least_matches(header_row: int | None, *, several: bool) -> int:
    """Known names a header row needs: two when searched for, none in a row the user chose.

    One when the sheet is still to be chosen, so that a title sheet is passed over.
    """
    if header_row is None:
        return MIN_HEADER_MATCHES
    return 1 if several else 0


def _sheet_name(names: list[str], wanted: str | int, source: str, listed: str) -> str:
    if isinstance(wanted, int):
        if 0 <= wanted < len(names):
            return names[wanted]
        raise InputError(
            _("{source}: has no sheet number {number} (counting from 0; sheets: {sheets})").format(
                source=source, number=wanted, sheets=listed
            )
        )
    for name in names:
        if name == wanted or name.strip().casefold() == wanted.strip().casefold():
            return name
    # A result workbook names its sheets in its own language: `--sheet Fix` finds `Ret`.
    outcome = outcome_of_sheet(wanted)
    if outcome is not None:
        for name in names:
            if outcome_of_sheet(name) is outcome:
                return name
    raise InputError(
        _('{source}: has no sheet named "{sheet}" (sheets: {sheets}); check --sheet').format(
            source=source, sheet=wanted, sheets=listed
        )
    )


def _header_width(cells: Sequence[RawValue]) -> int:
    named = [i for i, value in enumerate(cells) if cell_value(value) is not None]
    return named[-1] + 1 if named else 0


def _sheet_chunks(
    rows: Iterator[Sequence[RawValue]], first_row: int, width: int, chunk_rows: int
) -> Iterator[RawChunk]:
    numbers: list[int] = []
    kept: list[Sequence[RawValue]] = []
    blank = 0
    for number, row in enumerate(rows, start=first_row):
        if _blank_row(row):
            blank += 1
            continue
        numbers.append(number)
        kept.append(row)
        if len(kept) == chunk_rows:
            yield _sheet_chunk(numbers, kept, width, blank)
            numbers, kept, blank = [], [], 0
    if kept or blank:
        yield _sheet_chunk(numbers, kept, width, blank)


def _blank_row(cells: Sequence[RawValue]) -> bool:
    """Only empty or whitespace text (calamine gives "" for an empty cell)."""
    for value in cells:  # noqa: SIM110 - a loop beats all(generator) here: the first cell decides
        if type(value) is not str or (value and not value.isspace()):
            return False
    return True


def _sheet_chunk(
    numbers: list[int], rows: list[Sequence[RawValue]], width: int, blank: int
) -> RawChunk:
    """Rows -> the header's columns (calamine's rows all have the sheet's width)."""
    columns = list(itertools.zip_longest(*rows, fillvalue=""))[:width] if rows else []
    columns += [("",) * len(rows)] * (width - len(columns)) if rows else []
    return RawChunk(
        numbers, [pd.Series(column, dtype=object) for column in columns], frozenset(), blank
    )
