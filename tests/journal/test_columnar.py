"""A `RowBatch` goes into the journal byte for byte as its `Row`s would, one by one."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from batch.intake import InputOptions, open_input
from batch.intake.batch import TEXT_FIELDS, TIME_FIELDS, RowBatch
from batch.intake.times import COPENHAGEN
from batch.journal import JOURNAL_NAME, Journal
from batch.journal._base import dump_cells
from batch.journal._columnar import cells_json
from batch.journal._ingest import _batch_values, row_values
from batch.journal._keys import Pseudonyms
from batch.records import Issue
from benchmarks.data import Layout, write_csv

KEYS = Pseudonyms(b"k" * 32)
HEADERS = ("CPR", "Navn", "Note")
ISSUE = Issue(slug="cpr-invalid", message='"CPR" is wrong.', field="CPRNr", column="CPR")
SECONDS = st.integers(min_value=-5_000_000_000, max_value=7_000_000_000)  # years 1811-2191
TEXT = st.text(max_size=12)
ROW = st.fixed_dictionaries(
    {
        "cells": st.tuples(*(st.none() | TEXT for _ in HEADERS)),
        "workbook": st.none()
        | st.integers(-(2**60), 2**60)
        | st.floats()
        | st.booleans()
        | TEXT
        | st.datetimes(),
        "CPRNr": TEXT,
        "KommuneInstitutionNummer": st.from_regex("[0-9]{1,10}", fullmatch=True),
        # validation leaves a sendable row no group without its text (the phone is optional)
        "KontaktNavn": TEXT,
        "KontaktMail": TEXT,
        "KontaktTelefon": st.none() | st.from_regex("[0-9]{8}", fullmatch=True),
        "JobOnsker": TEXT,
        "UddannelsesOnsker": TEXT,
        "ModtagerSystemID": TEXT,
        "times": st.tuples(*(st.none() | SECONDS for _ in TIME_FIELDS)),
        "issue": st.booleans(),
    }
)


def _batch(rows: list[dict[str, object]]) -> RowBatch:
    """A batch made straight from column values, as the intake would hand it on."""

    def text(values: list[object]) -> pd.Series:
        return pd.Series(pd.array(values, dtype="str"))

    def moments(values: list[object]) -> pd.Series:
        stamps = pd.to_datetime(pd.Series(values, dtype="float64"), unit="s", utc=True)
        return stamps.dt.tz_convert(COPENHAGEN).dt.as_unit("us")

    cells = [text([row["cells"][n] for row in rows]) for n in range(len(HEADERS))]  # type: ignore[index]
    return RowBatch(
        source_file="export.csv",
        sheet=None,
        headers=(*HEADERS, "Dato"),
        numbers=list(range(2, len(rows) + 2)),
        cells=[*cells, pd.Series([row["workbook"] for row in rows], dtype=object)],
        issues=[(ISSUE,) if row["issue"] else () for row in rows],
        text={name: text([row[name] for row in rows]) for name in TEXT_FIELDS},
        times={
            name: moments([row["times"][n] for row in rows])  # type: ignore[index]
            for n, name in enumerate(TIME_FIELDS)
        },
    )


def _one_by_one(batch: RowBatch) -> list[object]:
    """What the journal stored for each row before batches: `row_values` of each `Row`."""
    source = (3, list(batch.headers))
    return [row_values(100 + n, 7, source, row, KEYS) for n, row in enumerate(batch)]


@settings(max_examples=150, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=8))
def test_columns_make_the_rows_own_values(rows):
    """Cells, payload JSON, digests and sort keys from the columns equal each `Row`'s own."""
    batch = _batch(rows)

    values = _batch_values((100, 7), 3, batch, cells_json(batch), KEYS)

    assert values == _one_by_one(batch)
    assert cells_json(batch, as_object=True) == [dump_cells(row.cells) for row in batch]


def test_export_rows_make_the_same_values(tmp_path):
    """On the benchmark's kind of export (odd phones, bad mails, future times) nothing differs."""
    path = write_csv(tmp_path / "export.csv", Layout(3000, 700))
    opened = open_input(path, InputOptions(system_id="BENCH"))
    batches = list(opened.chunks(datetime(2025, 11, 27, 9, tzinfo=UTC)))

    for batch in batches:
        assert _batch_values((100, 7), 3, batch, cells_json(batch), KEYS) == _one_by_one(batch)
    assert sum(len(batch) for batch in batches) == 3000
    assert any(any(batch.issues) for batch in batches)  # both kinds of row were compared


def _stored(state) -> list[tuple[object, ...]]:
    with sqlite3.connect(state / JOURNAL_NAME) as conn:
        return conn.execute(
            "SELECT s.source_row, s.payload_hash, s.person, s.sort_key, s.status, s.outcome, "
            "s.code, d.cells, d.payload, d.text, d.fix_cells FROM slim_rows s "
            "JOIN row_data d ON d.row_id = s.id ORDER BY s.id"
        ).fetchall()


def test_journal_stores_a_batch_as_its_rows(tmp_path):
    """`add_rows` of a batch stores exactly what `add_rows` of its `Row`s in a list stores."""
    path = write_csv(tmp_path / "export.csv", Layout(400, 100))
    now = datetime(2025, 11, 27, 9, tzinfo=UTC)
    key = None
    for name, as_rows in (("columns", False), ("rows", True)):
        state = tmp_path / name
        if key is not None:  # the same key, so that the digests compare too
            state.mkdir(mode=0o700)
            (state / "memory.key").write_bytes(key)
            (state / "memory.key").chmod(0o600)
        with Journal.open(state) as journal:
            run_id = journal.start_run(inputs=[str(path)], settings={})
            for batch in open_input(path, InputOptions(system_id="BENCH")).chunks(now):
                journal.add_rows(run_id, list(batch) if as_rows else batch)
        key = (state / "memory.key").read_bytes()

    columns, rows = _stored(tmp_path / "columns"), _stored(tmp_path / "rows")
    assert len(columns) == 400
    assert columns == rows
