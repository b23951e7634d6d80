"""Which rows and columns of an `.xlsx` sheet are hidden (by a filter or by hand).

calamine, which reads the cells, does not say what is hidden; openpyxl does but reads every
cell as a Python object. Here only the sheet's XML is scanned, as bytes: the `<row>` tags with
`hidden="1"` (their `r` attribute is the row number as Excel shows it), the `<col>` ranges with
`hidden="1"`, and whether the sheet has an `<autoFilter>` (then hidden rows are most likely
hidden by that filter). A regular expression over the decompressed stream, a few MiB at a time,
costs a small fraction of reading the cells (see BENCHMARKS.md). Other formats (`.xls`,
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
_HIDDEN_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\bhidden="(?:1|true)"[^>]*>')
_HIDDEN_COL = re.compile(rb'<(?:\w+:)?col\b[^>]*?\bhidden="(?:1|true)"[^>]*>')
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_COL_RANGE = re.compile(rb'\bmin="(\d+)"[^>]*?\bmax="(\d+)"|\bmax="(\d+)"[^>]*?\bmin="(\d+)"')
_FILTER = re.compile(rb"<(?:\w+:)?autoFilter\b")
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
    rows: set[int] = set()
    columns: set[int] = set()
    filtered = False
    tail = b""
    while block := stream.read(_BLOCK):
        text = tail + block
        for tag in _HIDDEN_ROW.findall(text):
            if number := _ROW_NUMBER.search(tag):
                rows.add(int(number[1]))
        for tag in _HIDDEN_COL.findall(text):
            if span := _COL_RANGE.search(tag):
                low, high = (
                    (int(span[1]), int(span[2])) if span[1] else (int(span[4]), int(span[3]))
                )
                columns.update(range(low - 1, min(high, 16384)))
        filtered = filtered or _FILTER.search(text) is not None
        opened = text.rfind(b"<")
        tail = text[opened:] if opened >= 0 and text.find(b">", opened) < 0 else b""
    return Hidden(frozenset(rows), frozenset(columns), filtered)
