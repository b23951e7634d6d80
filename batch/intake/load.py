"""Input files -> chunks of raw cells, each with its row number as a spreadsheet program shows it.

CSV/TSV text is read by pyarrow's streaming CSV reader (quoted delimiters and newlines, CRLF or
LF), with the encoding (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252, Latin-1) and
the delimiter (`;` `,` tab `|`) detected first. A file that is mostly UTF-8 but has lines that
are not (rows pasted in from a Windows-1252 export) is decoded line by line: UTF-8 where the line
is valid UTF-8, Windows-1252 (Latin-1 where 1252 leaves a byte undefined) where it is not. Read
whole as Windows-1252, every other row's æøå would reach UDB as mojibake
("T\u00c3\u00b8mrer"); read as UTF-8 with replacement, the pasted rows would lose theirs. That
slower path (Python per bad line) is only taken when strict UTF-8 decoding fails and the file's
other non-ASCII bytes are valid UTF-8; a plain UTF-8 or Windows-1252 file is decoded by pyarrow
alone.

Workbooks (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`) are read by calamine, recognised by their
content rather than their name, and their cells keep the types they have in the sheet (a
datetime stays a datetime, a number a number).

The header is the first of the first 20 records that names at least two known columns; records
above it (titles, blank rows) are skipped. Row numbers count records, not physical lines, so a
quoted newline does not shift later rows; the header row counts. Fully blank records are not
rows: they are dropped and counted. Columns right of the last named header in a workbook are not
read; in a CSV record, fields beyond the header's width mark the record as overlong.

Memory: a CSV is streamed in blocks of a few MiB; a record larger than a block (a 50 MB cell)
makes pyarrow fail, so the file is read again with blocks eight times larger (up to the file's
size, at most 256 MiB), skipping the records already handed on: that record then costs only its
own row (a too-long field). A workbook sheet is held by calamine in its compact native form,
and only one chunk of rows at a time exists as Python objects.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import mmap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import python_calamine

from batch.errors import InputError
from batch.privacy import mask_cpr
from batch.records import CellValue

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "HEADER_SEARCH_ROWS",
    "MIN_HEADER_MATCHES",
    "WORKBOOK_SUFFIXES",
    "RawChunk",
    "Table",
    "cell_value",
    "cell_values",
    "open_table",
]

HEADER_SEARCH_ROWS = 20
MIN_HEADER_MATCHES = 2
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})
DELIMITERS = (";", ",", "\t", "|")

_ZIP_MAGIC = b"PK\x03\x04"
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: legacy .xls, or an encrypted workbook
_SAMPLE_BYTES = 256 * 1024
_SCAN_BYTES = 1 << 20
_BLOCK_BYTES = 4 << 20  # pyarrow reads about this much text per batch
_MAX_BLOCK_BYTES = 256 << 20  # a record larger than this makes the file unreadable
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
# More control characters (NUL included) than this share of the sample: not a text file. Random
# bytes read as Windows-1252 are about a quarter control characters; a stray NUL in a cell is a
# few in a thousand, and text normalization drops it.
_MAX_CONTROL_SHARE = 0.05
_MIXED = "utf-8+cp1252"  # mostly UTF-8, some lines Windows-1252: decoded line by line
# A file that is not valid UTF-8 is still "mostly UTF-8" when at least this share of its
# non-ASCII bytes form valid UTF-8 sequences; in Windows-1252 text they are a rare accident.
_MIN_UTF8_SHARE = 0.1
_COUNT_ALL_BYTES, _COUNT_EVERY = 8 << 20, 8  # then only every eighth block is counted

# What load hands on: pyarrow strings from a CSV, calamine's Python values from a workbook.
RawValue = CellValue | date | time | timedelta
HeaderScore = Callable[[Sequence[Any]], int]


@dataclass(frozen=True, slots=True)
class RawChunk:
    """Consecutive records of one table: their row numbers and their raw cells by position."""

    rows: list[int]  # as a spreadsheet program shows them (the header row counts)
    columns: list[pd.Series]  # one per header position: str dtype (CSV) or object (workbook)
    overlong: frozenset[int]  # indices into `rows` of CSV records with data beyond the header
    blank: int  # fully blank records dropped (summed over a file's chunks: the file's count)


@dataclass(frozen=True, slots=True)
class Table:
    """An opened input: where its header is and how to stream its records after the header."""

    source_file: str
    sheet: str | None
    header_row: int
    header: tuple[CellValue, ...]
    first_column: int  # 0-based column of the first cell (workbooks skip empty left columns)
    read: Callable[[int], Iterator[RawChunk]]  # chunk size in rows -> chunks


def open_table(path: Path, *, sheet: str | int | None, score: HeaderScore) -> Table:
    """Open a CSV or workbook and find its header; an `InputError` if that is not possible.

    `score` counts the known column names in a row; the header row must have two or more.
    """
    source = str(path)
    head = _head(path, source)
    if not head.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise InputError(f"{source}: the file is empty; export the data again")
    if head.startswith((_ZIP_MAGIC, _CFB_MAGIC)):
        return _open_workbook(path, source, sheet, score)
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        kind = "an OLE2 file" if suffix == ".xls" else "a zip archive"
        raise InputError(
            f"{source}: not a real {suffix} workbook (it is not {kind}): it is damaged or "
            "another kind of file renamed; open it in Excel or LibreOffice and save it again"
        )
    return _open_csv(path, source, head, score)


def _head(path: Path, source: str) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(_SAMPLE_BYTES)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(f"{source}: cannot be opened ({reason}); check the path") from error


# -- CSV ---------------------------------------------------------------------------------------


def _open_csv(path: Path, source: str, head: bytes, score: HeaderScore) -> Table:
    encoding = _detect_encoding(path, head)
    text = _sample_text(head, encoding, complete=len(head) < _SAMPLE_BYTES)
    if _looks_binary(text):
        raise InputError(
            f"{source}: not a text (CSV) file; export the data again as CSV or as a workbook"
        )
    found = _find_csv_header(text, score)
    if found is None:
        raise InputError(_no_header_message(source, _first_text_record(text)))
    delimiter, header_row, header = found

    layout = _CsvLayout(encoding, delimiter, header_row, tuple(header))

    def read(chunk_rows: int) -> Iterator[RawChunk]:
        return _csv_chunks(path, layout, chunk_rows)

    return Table(source, None, header_row, tuple(header), 0, read)


def _detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 if the whole file decodes as UTF-8, mixed if it mostly does, else cp1252/Latin-1."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    scan = _EncodingScan()
    with path.open("rb") as file:
        while block := file.read(_SCAN_BYTES):
            scan.feed(block)
    return scan.verdict()


class _EncodingScan:
    """What a file's bytes say about its encoding, block by block.

    Until strict UTF-8 decoding fails this costs a decode and an `isascii` per block; after it
    fails, the valid UTF-8 sequences are counted (numpy, about 1 ms per MiB) in the first 8 MiB
    and then in every eighth block, which keeps a large Windows-1252 file's scan cheap.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._utf8 = True
        self._utf8_text = False  # a non-ASCII block decoded as UTF-8
        self._undefined = False  # a byte Windows-1252 leaves undefined
        self._pairs = self._high = 0  # UTF-8 lead+continuation pairs; bytes >= 0x80
        self._counted = self._skipped = 0  # bytes counted; blocks since the last counted one

    def feed(self, block: bytes) -> None:
        self._undefined = self._undefined or any(byte in block for byte in _CP1252_UNDEFINED)
        if self._utf8:
            try:
                self._decoder.decode(block)
            except UnicodeDecodeError:
                self._utf8 = False
            else:
                self._utf8_text = self._utf8_text or not block.isascii()
                return
        if self._counted >= _COUNT_ALL_BYTES and self._skipped < _COUNT_EVERY - 1:
            self._skipped += 1
            return
        self._counted, self._skipped = self._counted + len(block), 0
        data = np.frombuffer(block, dtype=np.uint8)
        high = data >= 0x80  # noqa: PLR2004 - the first non-ASCII byte
        lead = (data[:-1] >= 0xC2) & (data[:-1] <= 0xF4)  # noqa: PLR2004 - UTF-8 lead bytes
        self._pairs += int(np.count_nonzero(lead & high[1:] & (data[1:] < 0xC0)))  # noqa: PLR2004
        self._high += int(np.count_nonzero(high))

    def verdict(self) -> str:
        if self._utf8:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self._utf8 = False
            else:
                return "utf-8"
        if self._utf8_text or 2 * self._pairs >= _MIN_UTF8_SHARE * max(self._high, 1):
            return _MIXED
        return "latin-1" if self._undefined else "cp1252"


def _utf8_lines(data: bytes) -> bytes:
    """UTF-8 text: lines valid as UTF-8 kept as they are, each other line decoded as cp1252.

    Python work is per line that is not UTF-8; the valid stretches between them are checked by
    the codec in one call each.
    """
    parts: list[bytes | memoryview] = []
    view = memoryview(data)
    start = 0
    while True:
        try:
            codecs.utf_8_decode(view[start:], "strict", True)  # noqa: FBT003 - final
        except UnicodeDecodeError as error:
            bad = start + error.start
            line = data.rfind(b"\n", start, bad) + 1 or start
            stop = data.find(b"\n", bad) + 1 or len(data)
            parts += [view[start:line], _legacy_text(data[line:stop]).encode()]
            start = stop
        else:
            parts.append(view[start:])
            return b"".join(parts)


def _legacy_text(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:  # a byte cp1252 leaves undefined: a Latin-1 line
        return line.decode("latin-1")


class _MixedText(io.RawIOBase):
    """A mostly-UTF-8 file read as UTF-8 (see `_utf8_lines`), streamed in whole lines."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._file = path.open("rb")
        self._carry = bytearray()  # the start of a line not yet complete
        self._out = memoryview(b"")  # transcoded, not yet read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:  # noqa: ANN401 - a writable buffer
        while not self._out and not self._fill():
            pass
        size = min(len(buffer), len(self._out))
        memoryview(buffer).cast("B")[:size] = self._out[:size]
        self._out = self._out[size:]
        return size

    def _fill(self) -> bool:
        """Transcode the next complete lines; True when there is output or nothing is left."""
        block = self._file.read(_SCAN_BYTES)
        newline = block.rfind(b"\n")
        if block and newline < 0:
            self._carry += block
            return False
        self._carry += block[: newline + 1] if block else b""
        self._out = memoryview(_utf8_lines(bytes(self._carry)))
        self._carry = bytearray(block[newline + 1 :]) if block else bytearray()
        return True

    def close(self) -> None:
        self._file.close()
        super().close()


def _sample_text(head: bytes, encoding: str, *, complete: bool) -> str:
    if encoding == _MIXED:
        text = _utf8_lines(head).decode("utf-8-sig", errors="replace")
    else:
        codec = "utf-8-sig" if encoding == "utf-8" else encoding
        text = head.decode(codec, errors="replace")
    if not complete:  # drop the record cut off at the end of the sample
        text = text[: max(text.rfind("\n"), 0)]
    return text


def _looks_binary(text: str) -> bool:
    controls = sum(1 for c in text if (c < " " and c not in "\t\r\n") or "\x7f" <= c < "\xa0")
    return controls > _MAX_CONTROL_SHARE * max(len(text), 1)


def _find_csv_header(text: str, score: HeaderScore) -> tuple[str, int, list[str]] | None:
    """The delimiter whose split finds the best header, the header's record number, its cells."""
    best: tuple[int, int, str, int, list[str]] | None = None
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            records = list(itertools.islice(reader, HEADER_SEARCH_ROWS))
        except csv.Error:
            continue
        for index, record in enumerate(records):
            matches = score(record)
            if matches >= MIN_HEADER_MATCHES:
                candidate = (matches, len(record), delimiter, index + 1, record)
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
                break
    return None if best is None else (best[2], best[3], best[4])


def _first_text_record(text: str) -> list[str]:
    for record in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
        if any(cell.strip() for cell in record):
            return record
    return []


@dataclass(frozen=True, slots=True)
class _CsvLayout:
    encoding: str
    delimiter: str
    header_row: int
    header: tuple[str, ...]

    @property
    def width(self) -> int:
        return len(self.header)


class _BlockTooSmall(Exception):  # noqa: N818 - a signal to read again, not an error
    """pyarrow met a record larger than its block."""


def _csv_chunks(path: Path, layout: _CsvLayout, chunk_rows: int) -> Iterator[RawChunk]:
    """Stream the records; read again with larger blocks when one record exceeds a block."""
    progress = _Progress(done=layout.header_row)
    block_bytes = _BLOCK_BYTES
    while True:
        try:
            yield from _csv_pass(path, layout, chunk_rows, block_bytes, progress)
        except _BlockTooSmall as error:
            block_bytes = _larger_block(path, block_bytes, error)
        else:
            return


@dataclass(slots=True)
class _Progress:
    done: int  # records up to this number are handed on (or are the header and above it)


def _larger_block(path: Path, block_bytes: int, error: _BlockTooSmall) -> int:
    """Eight times the block, at most the file's size (one block then holds any record)."""
    limit = min(_MAX_BLOCK_BYTES, path.stat().st_size + 1)
    if block_bytes >= limit:
        reason = (
            f"a record is larger than {_MAX_BLOCK_BYTES >> 20} MiB"
            if block_bytes >= _MAX_BLOCK_BYTES
            else "a quoted field is never closed"
        )
        raise InputError(f"{path}: cannot be read as CSV ({reason}); export it again") from (
            error.__cause__
        )
    return min(block_bytes * 8, limit)


def _csv_pass(
    path: Path, layout: _CsvLayout, chunk_rows: int, block_bytes: int, progress: _Progress
) -> Iterator[RawChunk]:
    """One reading of the file from its start, handing on the records after `progress.done`."""
    invalid: list[tuple[int, str]] = []  # (record number, raw text) of records pyarrow skipped

    def on_invalid(row: Any) -> str:  # noqa: ANN401 - pyarrow's InvalidRow is untyped
        invalid.append((int(row.number), str(row.text)))
        return "skip"

    with contextlib.ExitStack() as stack:
        source = stack.enter_context(_MixedText(path)) if layout.encoding == _MIXED else path
        reader = _guarded(path, lambda: _arrow_reader(source, layout, on_invalid, block_bytes))
        numbering = _Numbering(invalid, layout.delimiter, layout.width)
        pending: list[pa.Table] = []
        while (batch := _guarded(path, lambda: next(reader, None))) is not None:
            pending.append(_quotes_closed(path, layout, numbering.table(batch)))
            if sum(t.num_rows for t in pending) >= chunk_rows:
                yield from _table_chunks(pa.concat_tables(pending), progress.done, chunk_rows)
                progress.done, pending = max(progress.done, numbering.seen), []
        pending.append(_quotes_closed(path, layout, numbering.leftover()))
        yield from _table_chunks(pa.concat_tables(pending), progress.done, chunk_rows)


_MIN_WIDTH_FOR_QUOTE_CHECK = 4  # narrower files: a remark line could look like a record


def _may_hold_line_break(column: pa.ChunkedArray) -> bool:
    """One pass over the column's raw bytes: far cheaper than a per-cell search, rarely true."""
    for chunk in column.chunks:
        data = chunk.buffers()[2]
        if data is not None and np.any(np.frombuffer(data, dtype=np.uint8) == ord("\n")):
            return True
    return False


def _quotes_closed(path: Path, layout: _CsvLayout, table: pa.Table) -> pa.Table:
    """`table`, unless a quote opened in one of its cells was never closed where it should be.

    Such a cell runs on over the next records, line breaks and all (to the end of the file,
    or to the next stray quote): those records would be neither sent nor listed as rows. A
    real multi-line cell (a remark) has no line holding a whole record's worth of delimiters,
    so a line that does gives the quote away. The file is refused, as one too broken to read.
    """
    if layout.width < _MIN_WIDTH_FOR_QUOTE_CHECK:
        return table
    for position in range(layout.width):
        column = table[f"c{position}"]
        if not _may_hold_line_break(column):
            continue
        breaks = pc.fill_null(pc.match_substring(column, "\n"), fill_value=False)
        for index in np.flatnonzero(breaks.to_numpy(zero_copy_only=False)).tolist():
            lines = str(column[index].as_py()).splitlines()[1:]
            swallowed = sum(line.count(layout.delimiter) >= layout.width - 1 for line in lines)
            if swallowed:
                row = table["_row"][index].as_py()
                raise InputError(
                    mask_cpr(
                        f'{path}, row {row}, column "{layout.header[position]}": a quote (") '
                        f"opens in this cell and is not closed where the cell ends, so the "
                        f"next {swallowed} record(s) of the file were read into this one cell. "
                        f"Close or remove the quote in the file and run it again"
                    )
                )
    return table


def _arrow_reader(
    source: Path | io.RawIOBase,
    layout: _CsvLayout,
    on_invalid: Callable[[Any], str],
    block_bytes: int,
) -> Any:  # noqa: ANN401 - pyarrow's reader is untyped
    """The streaming CSV reader of pyarrow: fields as text, empty ones null, records numbered."""
    names = [f"c{i}" for i in range(layout.width)]
    return pa_csv.open_csv(
        source,
        read_options=pa_csv.ReadOptions(
            encoding="utf8" if layout.encoding in ("utf-8", _MIXED) else layout.encoding,
            column_names=names,
            use_threads=False,  # record numbers of skipped records are only known single-threaded
            block_size=block_bytes,
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=layout.delimiter,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            null_values=[""],  # an empty field is an empty cell, quoted or not
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def _guarded(path: Path, step: Callable[[], Any]) -> Any:  # noqa: ANN401 - pyarrow is untyped
    """Run one pyarrow reading step; what it can't parse becomes a one-line `InputError`."""
    try:
        return step()
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        if "straddl" in str(error):  # "straddling object straddles two block boundaries"
            raise _BlockTooSmall from error
        message = mask_cpr(" ".join(str(error).split())[:200])
        raise InputError(f"{path}: cannot be read as CSV ({message}); export it again") from error


class _Numbering:
    """Gives each record its number: pyarrow's batches interleaved with the records it skipped.

    pyarrow skips records whose field count differs from the header's (reporting their record
    number and text); here they are split again by the csv module, padded or cut to the
    header's width, and put back in their place, so short rows are rows like any other.
    """

    def __init__(self, invalid: list[tuple[int, str]], delimiter: str, width: int) -> None:
        self._invalid = invalid
        self._delimiter = delimiter
        self._width = width
        self._next = 1

    @property
    def seen(self) -> int:
        """The number of the last record of the batches numbered so far."""
        return self._next - 1

    def table(self, batch: Any) -> pa.Table:  # noqa: ANN401 - a pyarrow RecordBatch
        rows = batch.num_rows
        skipped = self._take_skipped(rows)
        numbers = np.arange(self._next, self._next + rows + len(skipped), dtype=np.int64)
        self._next += rows + len(skipped)
        table = pa.Table.from_batches([batch])
        if not skipped:
            return _with_numbers(table, numbers, overlong=None)
        kept = numbers[~np.isin(numbers, np.asarray(list(skipped), dtype=np.int64))]
        return self._merge(_with_numbers(table, kept, overlong=None), skipped)

    def leftover(self) -> pa.Table:
        """Skipped records after the last batch (a file ending in short rows)."""
        skipped = {number: text for number, text in self._invalid if number >= self._next}
        self._invalid.clear()
        empty = pa.table({f"c{i}": pa.array([], pa.string()) for i in range(self._width)})
        table = _with_numbers(empty, np.asarray([], dtype=np.int64), overlong=None)
        return self._merge(table, skipped)

    def _take_skipped(self, rows: int) -> dict[int, str]:
        """Skipped records numbered within this batch's span (they come in order)."""
        skipped: dict[int, str] = {}
        end = self._next + rows
        while self._invalid and self._invalid[0][0] < end + len(skipped):
            number, text = self._invalid.pop(0)
            skipped[number] = text
        return skipped

    def _merge(self, table: pa.Table, skipped: dict[int, str]) -> pa.Table:
        if not skipped:
            return table
        cells, overlong = [], []
        for text in skipped.values():
            fields = next(csv.reader(io.StringIO(text, newline=""), delimiter=self._delimiter), [])
            overlong.append(any(f.strip() for f in fields[self._width :]))
            cells.append([f or None for f in (fields + [""] * self._width)[: self._width]])
        columns = {
            f"c{i}": pa.array([row[i] for row in cells], pa.string()) for i in range(self._width)
        }
        numbers = np.asarray(list(skipped), dtype=np.int64)
        extra = _with_numbers(pa.table(columns), numbers, overlong=np.asarray(overlong))
        merged = pa.concat_tables([table, extra])
        return merged.take(pa.array(np.argsort(merged["_row"].to_numpy(), kind="stable")))


def _with_numbers(table: pa.Table, numbers: np.ndarray, overlong: np.ndarray | None) -> pa.Table:
    flags = np.zeros(len(numbers), dtype=bool) if overlong is None else overlong
    return table.append_column("_row", pa.array(numbers)).append_column("_long", pa.array(flags))


def _table_chunks(table: pa.Table, done: int, chunk_rows: int) -> Iterator[RawChunk]:
    """Drop records up to `done` (the header, or handed on before), drop blank ones, chunk."""
    table = table.filter(pc.greater(table["_row"], done))
    columns = [table[name] for name in table.column_names if name.startswith("c")]
    blank = _all_blank(columns, table.num_rows)
    blank_count = int(np.count_nonzero(blank))
    if blank_count:
        table = table.filter(pa.array(~blank))
    if table.num_rows == 0:
        if blank_count:
            yield RawChunk([], [], frozenset(), blank_count)
        return
    for start in range(0, table.num_rows, chunk_rows):
        part = table.slice(start, chunk_rows)
        long_rows = np.flatnonzero(part["_long"].to_numpy())
        yield RawChunk(
            rows=part["_row"].to_pylist(),
            columns=[pd.Series(pd.array(part[n], dtype="str")) for n in part.column_names[:-2]],
            overlong=frozenset(long_rows.tolist()),
            blank=blank_count if start == 0 else 0,
        )


def _all_blank(columns: Sequence[Any], rows: int) -> np.ndarray:
    blank = np.ones(rows, dtype=bool)
    for column in columns:
        empty = pc.fill_null(
            pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0), fill_value=True
        )
        blank &= empty.to_numpy(zero_copy_only=False)
    return blank


# -- Workbooks ---------------------------------------------------------------------------------


def _open_workbook(path: Path, source: str, sheet: str | int | None, score: HeaderScore) -> Table:
    if _is_encrypted_package(path):
        raise InputError(_PROTECTED_MESSAGE.format(source=source))
    try:
        with path.open("rb") as file:
            book = python_calamine.CalamineWorkbook.from_filelike(file)
            name, rows, header_index = _choose_sheet(book, sheet, score, source)
    except python_calamine.PasswordError as error:
        raise InputError(_PROTECTED_MESSAGE.format(source=source)) from error
    except (python_calamine.CalamineError, ValueError, OSError) as error:
        reason = mask_cpr(str(error).splitlines()[0] if str(error) else type(error).__name__)
        raise InputError(
            f"{source}: cannot be read as a workbook ({reason}); it may be damaged: open it in "
            "Excel or LibreOffice and save it again"
        ) from error
    header_cells, first_column, data = rows
    width = _header_width(header_cells)
    header = tuple(cell_value(value) for value in header_cells[:width])

    def read(chunk_rows: int) -> Iterator[RawChunk]:
        return _sheet_chunks(data, header_index + 2, width, chunk_rows)

    return Table(source, name, header_index + 1, header, first_column, read)


_PROTECTED_MESSAGE = (
    "{source}: the workbook is password-protected; remove the password (Excel: File > Info > "
    "Protect Workbook > Encrypt with Password) and save it again"
)
# An encrypted .xlsx is an OLE2 file holding a stream of this name (MS-OFFCRYPTO).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def _is_encrypted_package(path: Path) -> bool:
    with path.open("rb") as file:
        if file.read(len(_CFB_MAGIC)) != _CFB_MAGIC:
            return False
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(_ENCRYPTED_PACKAGE) >= 0


SheetRows = tuple[Sequence[RawValue], int, Iterator[Sequence[RawValue]]]


def _choose_sheet(
    book: python_calamine.CalamineWorkbook,
    wanted: str | int | None,
    score: HeaderScore,
    source: str,
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
        head = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
        for index, cells in enumerate(head):
            if score(cells) >= MIN_HEADER_MATCHES:
                first_column = sheet.start[1] if sheet.start else 0
                data = itertools.chain(head[index + 1 :], rows)
                return name, (cells, first_column, data), index
        if wanted is not None:
            first = next((r for r in head if any(cell_value(v) is not None for v in r)), [])
            raise InputError(_no_header_message(f'{source}, sheet "{name}"', first))
    raise InputError(
        f"{source}: no sheet has a header row in its first {HEADER_SEARCH_ROWS} rows (sheets: "
        f"{listed}); the header must name at least two known columns such as CPRNr and "
        "KontaktNavn, or map your headers in a mapping file (--mapping)"
    )


def _sheet_name(names: list[str], wanted: str | int, source: str, listed: str) -> str:
    if isinstance(wanted, int):
        if 0 <= wanted < len(names):
            return names[wanted]
        raise InputError(
            f"{source}: has no sheet number {wanted} (counting from 0; sheets: {listed})"
        )
    for name in names:
        if name == wanted or name.strip().casefold() == wanted.strip().casefold():
            return name
    raise InputError(f'{source}: has no sheet named "{wanted}" (sheets: {listed}); check --sheet')


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


def cell_values(values: Sequence[RawValue]) -> list[CellValue]:
    """`cell_value` over a column; floats (most numbers in a workbook) in one numpy pass."""
    kinds = set(map(type, values))
    if kinds <= {str}:  # all text
        return [value or None for value in values]  # type: ignore[misc]
    cells: list[Any] = [(v or None) if type(v) is str else v for v in values]
    if kinds - {str, float, int, bool, datetime}:  # dates, times, durations: one by one
        cells = [cell_value(v) if type(v) in _CONVERTED else v for v in cells]
    if float in kinds:
        where = [i for i, value in enumerate(values) if type(value) is float]
        floats = np.fromiter((values[i] for i in where), dtype=np.float64, count=len(where))
        for index, number in zip(where, _whole_numbers(floats), strict=True):
            cells[index] = number
    return cells


def _whole_numbers(floats: np.ndarray) -> list[int | float]:
    """Whole floats as ints (a CPR number or a phone typed into Excel), the rest unchanged."""
    whole = np.isfinite(floats) & (np.abs(floats) < 2**53)
    whole[whole] = np.floor(floats[whole]) == floats[whole]
    if whole.all():
        numbers: list[int | float] = floats.astype(np.int64).tolist()
        return numbers
    numbers = floats.tolist()
    for index, number in zip(
        np.flatnonzero(whole).tolist(), floats[whole].astype(np.int64).tolist(), strict=True
    ):
        numbers[index] = number
    return numbers


_CONVERTED = frozenset({date, time, timedelta})


def cell_value(value: RawValue) -> CellValue:
    """A workbook value as an input cell: empty text is None, a date is a datetime at 0:00."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, datetime | bool | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)  # noqa: DTZ001 - a naive sheet value
    if value is None:
        return None
    return str(value)


def _no_header_message(where: str, first: Sequence[Any]) -> str:
    shown = ", ".join(f'"{mask_cpr(str(c))}"' for c in first[:6] if str(c).strip()) or "nothing"
    return (
        f"{where}: no header row in the first {HEADER_SEARCH_ROWS} rows (the first row holds "
        f"{shown}); the header must name at least two known columns such as CPRNr and "
        "KontaktNavn, or map your headers in a mapping file (--mapping)"
    )
