"""Builders for intake fixture files (every format, built in tmp_path) and a way to read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl

from batch.intake import InputFile, InputOptions, open_input

if TYPE_CHECKING:
    from batch.records import Row
from input_examples.generate import EXPORT_HEADERS

# The moment every test runs "at": ages and future times are judged against it.
NOW = datetime(2025, 11, 27, 9, 0, tzinfo=UTC)
SYSTEM_ID = "KUI-TEST"

# The header of the bundled example export (Danish spellings, as a municipal export writes
# them), and two rows under it.
DANISH_HEADER = list(EXPORT_HEADERS)
ROW_FULL = [
    "091005-4836",
    "751001",
    "Mette Holm",
    "mette.holm@kui.ungekommune.dk",
    "+45 20 12 34 56",
    "15.06.2025 14:30",
    "Tømrer",
    "15.06.2025 14:30",
    "EUX Byggeri",
    "15.06.2025 14:30",
    "Aftalt på møde",
]
ROW_CONTACT_ONLY = [
    "0603114290",
    "751001",
    "Jonas Kjær",
    "jonas.kjaer@kui.ungekommune.dk",
    "20-12-34-56",
    "03-01-2025 08:00",
    "",
    "",
    "",
    "",
    "",
]


@dataclass
class Read:
    """An opened file and every row it yielded."""

    file: InputFile
    rows: list[Row]

    def by_row(self) -> dict[int, Row]:
        """Rows by source row number."""
        return {row.source_row: row for row in self.rows}


def read(path: Path, **options: Any) -> Read:
    """Open `path` with test defaults (plus `options`) and read every chunk."""
    settings = {"system_id": SYSTEM_ID, **options}
    opened = open_input(path, InputOptions(**settings))
    rows = [row for chunk in opened.chunks(NOW) for row in chunk]
    return Read(opened, rows)


def write_text(
    path: Path,
    lines: list[list[str]],
    *,
    delimiter: str = ";",
    newline: str = "\r\n",
    encoding: str = "cp1252",
    bom: bool = False,
) -> Path:
    """Write a delimited text file by hand (quoting only where a field needs it)."""

    def field(value: str) -> str:
        if any(c in value for c in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    text = newline.join(delimiter.join(field(v) for v in line) for line in lines) + newline
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xlsx(
    path: Path,
    rows: list[list[Any]],
    *,
    sheet: str = "Ark1",
    extra_sheets: dict[str, list[list[Any]]] | None = None,
    formats: dict[str, str] | None = None,
) -> Path:
    """Write a workbook with openpyxl; `formats` maps a cell (e.g. "F4") to a number format."""
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = sheet
    for row in rows:
        first.append(row)
    for name, more in (extra_sheets or {}).items():
        other = book.create_sheet(name)
        for row in more:
            other.append(row)
    for cell, number_format in (formats or {}).items():
        first[cell].number_format = number_format
    book.save(path)
    return path
