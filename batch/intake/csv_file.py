"""CSV/TSV files -> a `Table`: delimiter and header sniffed, then records streamed by pyarrow.

CSV/TSV text is read by pyarrow's streaming CSV reader (quoted delimiters and newlines, CRLF or
LF), with the encoding (see `batch.intake.csv_encoding`) and the delimiter (`;` `,` tab `|`)
detected first.

Memory: a CSV is streamed in blocks of a few MiB; a record larger than a block (a 50 MB cell)
makes pyarrow fail, so the file is read again with blocks eight times larger (up to the file's
size, at most 256 MiB), skipping the records already handed on: that record then costs only its
own row (a too-long field).
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from batch.errors import InputError
from batch.i18n import _
from batch.intake.csv_encoding import MIXED, MixedText, detect_encoding, looks_binary, sample_text
from batch.intake.table import (
    HEADER_SEARCH_ROWS,
    MIN_HEADER_MATCHES,
    SAMPLE_BYTES,
    HeaderScore,
    RawChunk,
    Table,
    no_header_message,
)
from batch.privacy import mask_cpr

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

__all__ = ["DELIMITERS", "open_csv"]

DELIMITERS = (";", ",", "\t", "|")

_BLOCK_BYTES = 4 << 20  # pyarrow reads about this much text per batch
_MAX_BLOCK_BYTES = 256 << 20  # a record larger than this makes the file unreadable


def open_csv(
    path: Path, source: str, head: bytes, score: HeaderScore, header_row: int | None = None
) -> Table:
    """Open a CSV/TSV file whose first bytes are `head` and find its header, or `InputError`."""
    encoding = detect_encoding(path, head)
    text = sample_text(head, encoding, complete=len(head) < SAMPLE_BYTES)
    if looks_binary(text):
        raise InputError(
            _(
                "{source}: not a text (CSV) file; export the data again as CSV or as a workbook"
            ).format(source=source)
        )
    found = _find_csv_header(text, score, header_row)
    if found is None and header_row is not None:
        raise InputError(
            _("{source}: has no row {row}; check the header row").format(
                source=source, row=header_row
            )
        )
    if found is None:
        raise InputError(no_header_message(source, _first_text_record(text)))
    delimiter, header_row, header = found

    layout = _CsvLayout(encoding, delimiter, header_row, tuple(header))

    def read(chunk_rows: int) -> Iterator[RawChunk]:
        return _csv_chunks(path, layout, chunk_rows)

    return Table(source, None, header_row, tuple(header), 0, read)


def _find_csv_header(
    text: str, score: HeaderScore, header_row: int | None = None
) -> tuple[str, int, list[str]] | None:
    """The delimiter whose split finds the best header, the header's record number, its cells.

    With `header_row` given, that record is the header whatever it names; only the delimiter is
    chosen (the split naming most known columns, then the widest).
    """
    best: tuple[int, int, str, int, list[str]] | None = None
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            records = list(itertools.islice(reader, header_row or HEADER_SEARCH_ROWS))
        except csv.Error:
            continue
        start = 0 if header_row is None else header_row - 1
        least = MIN_HEADER_MATCHES if header_row is None else 0
        for index, record in enumerate(records[start:], start=start):
            matches = score(record)
            if matches >= least:
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
            _("a record is larger than {size} MiB").format(size=_MAX_BLOCK_BYTES >> 20)
            if block_bytes >= _MAX_BLOCK_BYTES
            else _("a quoted field is never closed")
        )
        raise InputError(_CANNOT_READ().format(path=path, reason=reason)) from error.__cause__
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
        source = stack.enter_context(MixedText(path)) if layout.encoding == MIXED else path
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
                        _(
                            '{path}, row {row}, column "{column}": a quote (") opens in this '
                            "cell and is not closed where the cell ends, so the next {count} "
                            "record(s) of the file were read into this one cell. Close or "
                            "remove the quote in the file and run it again"
                        ).format(
                            path=path, row=row, column=layout.header[position], count=swallowed
                        )
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
            encoding="utf8" if layout.encoding in ("utf-8", MIXED) else layout.encoding,
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
        raise InputError(_CANNOT_READ().format(path=path, reason=message)) from error


def _CANNOT_READ() -> str:  # noqa: N802 - a message, translated when it is raised
    return _("{path}: cannot be read as CSV ({reason}); export it again")


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
    """Records whose every cell is empty or spaces; each column checks only those still blank.

    Nearly every record has its first cell filled, so the other columns have few rows to look
    at, instead of a trimmed copy of every cell.
    """
    blank = np.ones(rows, dtype=bool)
    for column in columns:
        todo = np.flatnonzero(blank)
        if not todo.size:
            break
        cells = column if todo.size == rows else column.take(pa.array(todo))
        empty = pc.fill_null(
            pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(cells)), 0), fill_value=True
        )
        blank[todo] = empty.to_numpy(zero_copy_only=False)
    return blank
