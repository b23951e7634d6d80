"""Which rows and columns of an `.xlsx` sheet are hidden (by a filter or by hand).

calamine, which reads the cells, does not say what is hidden; openpyxl does but reads every
cell as a Python object. Here only the sheet's XML is scanned, as bytes: the `<row>` tags with
`hidden="1"` (their `r` attribute is the row number as Excel shows it), the `<col>` ranges with
`hidden="1"`, and whether the sheet has an `<autoFilter>` (then hidden rows are most likely
hidden by that filter). `bytes.find` over the decompressed stream, a few MiB at a time, finds
the few tags to read; a regular expression over every tag cost three quarters of reading the
cells, this costs a small fraction of it (see BENCHMARKS.md). Other formats (`.xls`,
`.xlsb`, `.ods`) are not checked, and say so.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING
from xml.etree import ElementTree as ET

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Hidden", "hidden_cells"]

_BLOCK = 4 << 20
_MARKER = b'hidden="'
_TRUE = (b"1", b"t")  # hidden="1" or hidden="true"
_TAG = re.compile(rb"<(?:\w+:)?(row|col)\b")
_EXCEL_COLUMNS = 16384
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_COL_RANGE = re.compile(rb'\bmin="(\d+)"[^>]*?\bmax="(\d+)"|\bmax="(\d+)"[^>]*?\bmin="(\d+)"')
_FILTER = b"autoFilter"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass(frozen=True, slots=True)
class Hidden:
    """A sheet's hidden rows (as Excel numbers them) and columns (0-based), and its filter."""

    rows: frozenset[int]
    columns: frozenset[int]
    filtered: bool


def hidden_cells(path: Path, sheet: str) -> Hidden | None:
    """What is hidden in `sheet` of the `.xlsx`/`.xlsm` at `path`; None when not checked."""
    try:
        with zipfile.ZipFile(path) as archive:
            member = _sheet_member(archive, sheet)
            if member is None:
                return None
            with archive.open(member) as stream:
                return _scan(stream)
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError):
        return None


def _sheet_member(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding `sheet`, from the workbook's sheet list and relationships."""
    book = ET.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314 - a local file's own part
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_PKG_REL}Relationship")}
    for entry in book.iter(f"{_MAIN}sheet"):
        if entry.get("name") == sheet:
            target = targets.get(entry.get(f"{_REL}id"), "")
            if target.startswith("/"):
                return target.lstrip("/")
            return posixpath.normpath(posixpath.join("xl", target)) if target else None
    return None


def _scan(stream: IO[bytes]) -> Hidden:
    """Find `hidden="1"` with `bytes.find` (C speed) and read only the tags around the hits."""
    rows: set[int] = set()
    columns: set[int] = set()
    tail = previous = text = b""
    while block := stream.read(_BLOCK):
        previous = text
        text = tail + block
        at = text.find(_MARKER)
        while at >= 0:
            if text[at + len(_MARKER) : at + len(_MARKER) + 1] in _TRUE:
                _take(text[text.rfind(b"<", 0, at) : text.find(b">", at) + 1], rows, columns)
            at = text.find(_MARKER, at + len(_MARKER))
        opened = text.rfind(b"<")
        tail = text[opened:] if opened >= 0 and text.find(b">", opened) < 0 else b""
    # <autoFilter> follows the rows: it is in the last two blocks read.
    return Hidden(frozenset(rows), frozenset(columns), _FILTER in previous + text)


def _take(tag: bytes, rows: set[int], columns: set[int]) -> None:
    """Add a hidden `<row>`'s number or a hidden `<col>` range (a tag cut short is skipped)."""
    kind = _TAG.match(tag)
    if kind is None or not tag.endswith(b">"):
        return
    if kind[1] == b"row":
        if number := _ROW_NUMBER.search(tag):
            rows.add(int(number[1]))
    elif span := _COL_RANGE.search(tag):
        low, high = (int(span[1]), int(span[2])) if span[1] else (int(span[4]), int(span[3]))
        columns.update(range(low - 1, min(high, _EXCEL_COLUMNS)))
