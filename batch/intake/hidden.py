"""Which rows and columns of a workbook's sheet are hidden (by a filter or by hand).

calamine, which reads the cells, does not say what is hidden; openpyxl does but reads every
cell as a Python object. So each format's own record of it is read here, apart from the cells:

- `.xlsx`/`.xlsm`: only the sheet's XML is scanned, as bytes: the `<row>` tags with
  `hidden="1"` (their `r` attribute is the row number as Excel shows it), the `<col>` ranges
  with `hidden="1"`, and whether the sheet has an `<autoFilter>` (then hidden rows are most
  likely hidden by that filter). `bytes.find` over the decompressed stream, a few MiB at a
  time, finds the few tags to read; a regular expression over every tag cost three quarters of
  reading the cells, this costs a small fraction of it (see BENCHMARKS.md).
- `.ods`: the `<table:table-row>` and `<table:table-column>` tags of the sheet in
  `content.xml`, counted with their `number-rows-repeated`/`number-columns-repeated`; a
  `table:visibility` of `collapse` (hidden by hand) or `filter` (hidden by a filter) hides.
- `.xls`: the sheet's BIFF8 records in the `Workbook` stream: ROW records marked hidden,
  COLINFO ranges marked hidden, and an AUTOFILTERINFO record for a filter.

`.xlsb` is not checked (no reader here tells), and the Summary says so.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING
from xml.etree import ElementTree as ET

from xlrd.compdoc import CompDoc, CompDocError

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
    """What is hidden in `sheet` of the workbook at `path`; None when its kind cannot tell."""
    try:
        if not zipfile.is_zipfile(path):
            return _xls(path, sheet)  # what is no OLE2 file is refused: not checked
        with zipfile.ZipFile(path) as archive:
            if _ODS_CONTENT in archive.namelist():
                with archive.open(_ODS_CONTENT) as stream:
                    return _scan_ods(stream, sheet)
            member = _sheet_member(archive, sheet)
            if member is None:
                return None
            with archive.open(member) as stream:
                return _scan(stream)
    except (
        zipfile.BadZipFile,
        KeyError,
        ET.ParseError,
        OSError,
        CompDocError,
        struct.error,
        IndexError,
    ):
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


_ODS_CONTENT = "content.xml"
# Each pattern starts with its own literal, so `re` skims to it at C speed (an alternation of
# them cost five times as much); a sheet's tags are found between its start and its end.
_ODS_SHEET = re.compile(rb"<table:table ([^>]*)>")
_ODS_END = b"</table:table>"
_ODS_ROW = re.compile(rb"<table:table-row(?=[\s/>])([^>]*)>")  # not -row-group
_ODS_COLUMN = re.compile(rb"<table:table-column(?=[\s/>])([^>]*)>")
_ODS_NAME = re.compile(rb'\btable:name="([^"]*)"')
_ODS_REPEAT = re.compile(rb'\btable:number-(?:rows|columns)-repeated="(\d+)"')
_ODS_HIDDEN = re.compile(rb'\btable:visibility="(collapse|filter)"')
_MOST_REPEATED = 100_000  # a hidden block larger than this is empty rows past the data


@dataclass(slots=True)
class _OdsSheet:
    """What is found of one sheet while `content.xml` goes by, block after block."""

    name: bytes
    in_sheet: bool = False
    done: bool = False
    filtered: bool = False
    row: int = 1  # the next row's number, as LibreOffice shows it
    column: int = 0  # the next column's, 0-based as `Hidden.columns`
    rows: set[int] = field(default_factory=set)
    columns: set[int] = field(default_factory=set)

    def block(self, text: bytes, cut: int) -> None:
        """Follow the complete tags in `text[:cut]`: the sheet's start, its rows, its end."""
        position = 0
        if not self.in_sheet:
            found = self._start(text, cut)
            if found is None:
                return
            self.in_sheet, position = True, found
        end = text.find(_ODS_END, position, cut)
        stop = cut if end < 0 else end
        for tag in _ODS_COLUMN.finditer(text, position, stop):
            self.column = self._take(tag[1], self.column, self.columns)
        for tag in _ODS_ROW.finditer(text, position, stop):
            self.row = self._take(tag[1], self.row, self.rows)
        self.done = end >= 0

    def _start(self, text: bytes, cut: int) -> int | None:
        """Where the wanted sheet's rows begin in `text`, if its start tag is there."""
        for tag in _ODS_SHEET.finditer(text, 0, cut):
            named = _ODS_NAME.search(tag[1])
            if named is not None and _xml_text(named[1]) == self.name:
                return tag.end()
        return None

    def _take(self, attributes: bytes, first: int, hidden: set[int]) -> int:
        """Note a row's or column's numbers if it is hidden; return the number after it."""
        repeat = _ODS_REPEAT.search(attributes)
        count = int(repeat[1]) if repeat else 1
        visibility = _ODS_HIDDEN.search(attributes)
        if visibility is not None:
            self.filtered = self.filtered or visibility[1] == b"filter"
            hidden.update(range(first, first + min(count, _MOST_REPEATED)))
        return first + count


def _xml_text(raw: bytes) -> bytes:
    """An attribute's value with XML's escapes undone (a sheet named `A & B`)."""
    for escaped, plain in ((b"&lt;", b"<"), (b"&gt;", b">"), (b"&quot;", b'"'), (b"&apos;", b"'")):
        raw = raw.replace(escaped, plain)
    return raw.replace(b"&amp;", b"&")


def _scan_ods(stream: IO[bytes], sheet: str) -> Hidden | None:
    """Read `content.xml` a few MiB at a time until the sheet has ended; None: no such sheet."""
    found = _OdsSheet(sheet.encode("utf-8"))
    tail = b""
    while not found.done and (block := stream.read(_BLOCK)):
        text = tail + block
        opened = text.rfind(b"<")
        cut = opened if opened >= 0 and text.find(b">", opened) < 0 else len(text)
        found.block(text, cut)
        tail = text[cut:]
    if not found.done:
        return None
    return Hidden(frozenset(found.rows), frozenset(found.columns), found.filtered)


# BIFF8 records (MS-XLS): a sheet's ROW records carry fDyZero (hidden), its COLINFO records
# fHidden; AUTOFILTERINFO means an autofilter. A BOUNDSHEET record in the workbook's globals
# gives each sheet's name and where its records start in the `Workbook` stream.
_RECORD = struct.Struct("<HH")  # record type, size
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_BOF, _EOF, _BOUNDSHEET, _BIFF8 = 0x0809, 0x000A, 0x0085, 0x0600
_ROW, _COLINFO, _AUTOFILTERINFO = 0x0208, 0x007D, 0x009D
_ROW_HIDDEN, _COLUMN_HIDDEN = 0x20, 0x01


def _xls(path: Path, sheet: str) -> Hidden | None:
    """A `.xls` sheet's hidden rows and columns, from its records; None: not a BIFF8 workbook.

    xlrd's container reader finds the stream; its sheet reader, which decodes every cell, took
    five times as long as calamine reading the cells (BENCHMARKS.md), so the records are read
    here.
    """
    with path.open("rb") as file:
        stream = CompDoc(file.read(), logfile=io.StringIO()).get_named_stream("Workbook")
    if (
        not stream
        or _RECORD.unpack_from(stream)[0] != _BOF
        or _U16.unpack_from(stream, 4)[0] != _BIFF8
    ):
        return None
    start = _sheet_starts(stream).get(sheet)
    return None if start is None else _scan_xls(stream, start)


def _sheet_starts(stream: bytes) -> dict[str, int]:
    """Each sheet's name and where its records start, from the globals' BOUNDSHEET records."""
    starts = {}
    position = 0
    while position + 4 <= len(stream):
        kind, size = _RECORD.unpack_from(stream, position)
        body = position + 4
        if kind == _BOUNDSHEET:
            count, wide = stream[body + 6], stream[body + 7] & 1
            raw = stream[body + 8 : body + 8 + count * (2 if wide else 1)]
            (start,) = _U32.unpack_from(stream, body)
            starts[raw.decode("utf-16-le" if wide else "latin-1")] = start
        elif kind == _EOF:
            break
        position = body + size
    return starts


def _scan_xls(stream: bytes, position: int) -> Hidden:
    """Walk one sheet's records to its end: a tight loop, as a large sheet has a record a cell.

    The columns and the filter come before the cells, the rows' ROW records among them.
    """
    rows: set[int] = set()
    columns: set[int] = set()
    filtered = False
    end, record = len(stream) - 4, _RECORD.unpack_from
    while position <= end:
        kind, size = record(stream, position)
        if kind == _ROW:
            if stream[position + 16] & _ROW_HIDDEN:
                rows.add(_U16.unpack_from(stream, position + 4)[0] + 1)
        elif kind == _COLINFO and stream[position + 12] & _COLUMN_HIDDEN:
            first, last = record(stream, position + 4)
            columns.update(range(first, last + 1))
        elif kind == _AUTOFILTERINFO:
            filtered = True
        elif kind == _EOF:
            break
        position += 4 + size
    return Hidden(frozenset(rows), frozenset(columns), filtered)
