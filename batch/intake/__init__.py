"""The intake facade: open an input file, then stream it as validated rows, chunk by chunk.

load (records and row numbers) -> columns (which header is which field) -> normalize -> validate
-> a `RowBatch` per chunk: the rows as columns, read as `Row`s carrying the user's own cells and
a `Report` exactly when nothing blocks sending (see `batch.intake.batch`).
`open_input` reads the header and checks the required columns (see `batch.intake.columns`), so
a file that cannot be used stops the run before anything is sent; a file with a header and no
rows is fine and yields nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from batch.errors import InputError
from batch.i18n import _
from batch.intake import text as text_cells
from batch.intake import times as time_cells
from batch.intake.batch import CameFrom, RowBatch, cell_lists
from batch.intake.columns import ColumnMap, header_matcher, map_columns, unique_headers
from batch.intake.load import open_table
from batch.intake.text import mail_syntax_ok
from batch.intake.validate import Fields, validate
from batch.privacy import mask_cpr

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from batch.intake.mapping import MappedFields
    from batch.intake.table import RawChunk, Table
from batch.intake.notes import ReadNotes
from batch.intake.shape import drop_rows, totals_rows

__all__ = ["InputFile", "InputOptions", "RowBatch", "open_input", "open_inputs"]

_NUMBERS = frozenset({"KommuneInstitutionNummer", "KontaktTelefon"})  # numbers that are data
_TEXT_FIELDS = ("KontaktNavn", "KontaktMail", "JobOnsker", "UddannelsesOnsker", "ModtagerSystemID")
_TIME_FIELDS = ("KontaktRegistreringstid", "JobRegistreringstid", "UddannelsesRegistreringstid")


@dataclass(frozen=True, slots=True)
class InputOptions:
    """How to read input files: configured fallbacks, sheet, extra header mapping, time rules."""

    system_id: str  # ModtagerSystemID where the file has none
    institution: int | None = None  # KommuneInstitutionNummer where the file has none
    sheet: str | int | None = None  # workbook sheet by name or 0-based index; None: first usable
    mapping: Mapping[str, MappedFields] = field(default_factory=dict)  # header -> field(s)
    date_only_time: time | None = None  # a date without a time is an issue unless this is set
    future_tolerance: timedelta = timedelta(minutes=5)
    # Rows read, checked and journaled at a time. The peak of reading a 1,000,000-row CSV into
    # the journal: 634 MiB at 50,000, 504 at 20,000, 474 at 10,000; CPU 59.6, 63.2 and 71.5 s.
    chunk_rows: int = 20_000
    header_row: int | None = None  # 1-based row of the header, as Excel shows it; None: detect
    hidden_rows: str = "send"  # rows hidden in a workbook: "send", or "skip" (to Fix, unsent)


class InputFile:
    """One opened input file; `rows` and `blank` are final once `chunks()` is exhausted."""

    def __init__(self, table: Table, columns: ColumnMap, options: InputOptions) -> None:
        self.source_file = table.source_file
        self.sheet = table.sheet
        self.headers = columns.headers
        # header -> canonical field, for the workbook to merge columns of several files
        self.fields: dict[str, str] = {}
        for name, index in columns.fields.items():
            self.fields.setdefault(columns.headers[index], name)
        self.rows = 0
        self.blank = 0
        self.notes = ReadNotes.start(table, columns)
        self.fix_of: str | None = None  # a fed-back Fix sheet: the run whose workbook it is
        self._table = table
        self._columns = columns
        self._options = options
        self._mail_verdicts: dict[str, bool] = {}

    def chunks(self, now: datetime) -> Iterator[RowBatch]:
        """Stream the file's rows; `now` is the moment the future-time and age checks use.

        Each chunk is a `RowBatch`: columns, with a `Row` built only for a row asked for.

        Each chunk with rows is held back until the next one comes, so that the file's last
        rows can be checked for a totals row (`batch.intake.shape`) before they are handed on.
        """
        held: RawChunk | None = None
        for raw in self._table.read(self._options.chunk_rows):
            self.blank += raw.blank
            if raw.rows:
                if held is not None:
                    yield self._counted(held, now)
                held = raw
        if held is not None:
            positions = self._columns.positions
            numbers = [positions[i] for f, i in self._columns.fields.items() if f in _NUMBERS]
            cpr = self._columns.fields.get("CPRNr")
            totals = totals_rows(held, None if cpr is None else positions[cpr], numbers)
            self.notes.totals.extend(held.rows[i] for i in totals)
            held = drop_rows(held, totals)
            if held.rows:
                yield self._counted(held, now)

    def _counted(self, raw: RawChunk, now: datetime) -> RowBatch:
        rows = self._batch(raw, now)
        self.rows += len(rows)
        return rows

    def _mail_ok(self, address: str) -> bool:
        verdict = self._mail_verdicts.get(address)
        if verdict is None:
            verdict = self._mail_verdicts[address] = mail_syntax_ok(address)
        return verdict

    def _batch(self, raw: RawChunk, now: datetime) -> RowBatch:
        fields = self._fields(raw)
        issues = validate(fields, now, self._options.future_tolerance, mail_ok=self._mail_ok)
        issues = self.notes.note_hidden(raw.rows, issues, skip=self._options.hidden_rows == "skip")
        return RowBatch(
            source_file=self.source_file,
            sheet=self.sheet,
            headers=self.headers,
            numbers=raw.rows,
            cells=[raw.columns[position] for position in self._columns.positions],
            issues=issues,
            text=fields.text,
            times={name: times.moments for name, times in fields.times.items()},
            came_from=self._came_from(raw),
        )

    def _came_from(self, raw: RawChunk) -> list[CameFrom] | None:
        """Where each row of a fed-back Fix sheet was read before (None: not a Fix sheet)."""
        results = self._columns.results
        if "Source file" not in results or "Source row" not in results:
            return None
        files, numbers = cell_lists(
            [raw.columns[results["Source file"]], raw.columns[results["Source row"]]]
        )
        origins = (
            cell_lists([raw.columns[results["Origin"]]])[0]
            if "Origin" in results
            else [None] * len(raw.rows)
        )
        return [
            (str(file), int(str(number).strip()), None if origin is None else str(origin))
            if file is not None and str(number).strip().isdigit()
            else None
            for file, number, origin in zip(files, numbers, origins, strict=True)
        ]

    def _fields(self, raw: RawChunk) -> Fields:
        size = len(raw.rows)

        def column(name: str) -> pd.Series:
            index = self._columns.fields.get(name)
            if index is None:
                return pd.Series([None] * size, dtype="str")
            return raw.columns[self._columns.positions[index]]

        options = self._options
        text = {name: text_cells.text(column(name)) for name in _TEXT_FIELDS}
        text["CPRNr"] = text_cells.cpr(column("CPRNr"))
        text["KontaktTelefon"] = text_cells.phone(column("KontaktTelefon"))
        institution = text_cells.integer(column("KommuneInstitutionNummer"))
        if options.institution is not None:
            institution = institution.fillna(str(options.institution))
        text["KommuneInstitutionNummer"] = institution
        if options.system_id.strip():
            text["ModtagerSystemID"] = text["ModtagerSystemID"].fillna(options.system_id.strip())
        times = {
            name: time_cells.datetimes(column(name), options.date_only_time)
            for name in _TIME_FIELDS
        }
        headers = {name: self._columns.header(name) for name in (*text, *times)}
        overlong = np.zeros(size, dtype=bool)
        overlong[sorted(raw.overlong)] = True
        places = list(self._columns.fields.values())
        shared = frozenset(f for f, i in self._columns.fields.items() if places.count(i) > 1)
        return Fields(text=text, times=times, headers=headers, overlong=overlong, shared=shared)


def open_input(path: Path, options: InputOptions) -> InputFile:
    """Open one file and check its header; `InputError` (one clear line) if it can't be used.

    The message is masked once more here: it may quote a file name or header cells, and no
    CPR number may reach a log line or the console unmasked.
    """
    try:
        table = open_table(
            path,
            sheet=options.sheet,
            score=header_matcher(options.mapping),
            header_row=options.header_row,
        )
        where = table.source_file
        if table.sheet is not None:
            where = _('{source}, sheet "{sheet}"').format(source=where, sheet=table.sheet)
        columns = map_columns(
            unique_headers(table.header, table.first_column),
            options.mapping,
            institution_configured=options.institution is not None,
            source=where,
        )
    except InputError as error:
        raise InputError(mask_cpr(str(error))) from error
    return InputFile(table, columns, options)


def open_inputs(paths: Sequence[Path], options: InputOptions) -> list[InputFile]:
    """Open every file first, so that one bad file stops the run before anything is sent."""
    return [open_input(path, options) for path in paths]
