"""Plain rows written as one piece of XML: the workbook is byte for byte xlsxwriter's own."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch.records import Outcome, RowResult
from batch.report import _write_report
from batch.report._rowxml import PlainRows

if TYPE_CHECKING:
    from pathlib import Path

LONG = "Gymnasium (STX), gerne med naturvidenskabelig studieretning og udlandsophold. " * 3
# Texts that make xlsxwriter escape, preserve or step aside; the rest comes from hypothesis.
AWKWARD = [
    "Tømrer & VVS <lærling>",
    " indrykket",
    "hale ",
    "\tfane",
    "linje 1\nlinje 2",
    "\x01styretegn\x1f",
    "_x0041_ bogstaveligt",
    "ikke-tegn \ufffe\uffff",
    "<r>ligner rig tekst</r>",
    "\u00a0hårdt mellemrum",
    "x" * 16_400,  # past half of Excel's limit: left to xlsxwriter
    "",
    LONG,
]
TEXTS = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
)
VALUES = st.one_of(
    st.none(),
    TEXTS,
    st.integers(min_value=-(10**16), max_value=10**16),
    st.sampled_from([10**15 - 1, -(10**15) + 1, 10**15, 0, 101084123]),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(
        min_value=datetime(1850, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=2))]),
    ),
)
OUTCOMES = st.sampled_from([Outcome.ACCEPTED, Outcome.DROP, Outcome.RETRY, Outcome.UNCHANGED])


@pytest.fixture
def run(make_summary, make_streamer):
    """The sample run's summary and row streamer, for rows of the test's own."""
    return make_summary, make_streamer


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as book:
        return {name: book.read(name) for name in book.namelist() if "docProps" not in name}


def _both(tmp_path: Path, rows: dict[Outcome, list[RowResult]], monkeypatch, run) -> list[dict]:
    """The same run's workbook written with plain rows, then by xlsxwriter cell by cell."""
    summary, streamer = run
    books, plain_write, written = [], PlainRows.write, []

    def counted(self: PlainRows, *args: object) -> bool:
        written.append(done := plain_write(self, *args))
        return done

    monkeypatch.setattr(PlainRows, "write", counted)
    for label in ("plain", "cells"):
        if label == "cells":
            monkeypatch.setattr(PlainRows, "of", classmethod(lambda _cls, *_args: None))
        paths = _write_report(
            tmp_path / label, summary(rows), streamer(rows), max_rows=40, max_commented=5
        )
        books.append(_parts(paths.workbook))
    monkeypatch.undo()
    assert any(written), "no row went through PlainRows"
    return books


def _generated(sample, cells: list[list[object]], outcomes: list[Outcome]) -> dict[Outcome, list]:
    """The sample run (every outcome; Fix rows with highlights and comments) and rows added."""
    rows = {outcome: list(items) for outcome, items in sample.items()}
    headers = list(sample[Outcome.ACCEPTED][0].cells)  # the first input's columns
    for number, (values, outcome) in enumerate(zip(cells, outcomes, strict=False), start=10):
        row = RowResult(
            source_file="kommune.csv",
            source_row=number,
            cells=dict(zip(headers, values, strict=False)),
            outcome=outcome,
            code="14" if outcome is Outcome.DROP else None,
            text=LONG if number % 3 == 0 else None,  # a wrapped column: a taller row
            attempts=number % 4,
            last_attempt=datetime(2026, 11, 27, 8, 15, tzinfo=UTC) if number % 2 else None,
        )
        rows.setdefault(outcome, []).append(row)
    return rows


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=st.lists(st.lists(VALUES, min_size=4, max_size=4), min_size=1, max_size=60),
    outcomes=st.lists(OUTCOMES, min_size=60, max_size=60),
)
def test_plain_rows_write_the_workbook_xlsxwriter_writes(
    tmp_path_factory, monkeypatch, rows, run, *, cells, outcomes
):
    """Every part (sheets, styles, comments) equal, over texts, numbers and moments of all kinds.

    Sheets of 40 rows make continuation sheets too; the Fix sheet between them numbers styles of
    its own, so the styles' order is tested across sheets.
    """
    generated = _generated(rows, cells, outcomes)
    plain, by_cell = _both(tmp_path_factory.mktemp("book"), generated, monkeypatch, run)
    assert plain.keys() == by_cell.keys()
    for name, data in by_cell.items():
        assert plain[name] == data, name


def test_a_large_sheet_is_the_same(tmp_path, monkeypatch, rows, run):
    """Hundreds of rows with heights, wrapped texts and every awkward text, on every sheet."""
    start = datetime(2026, 1, 1)
    values = [[AWKWARD[n % len(AWKWARD)], n, start + timedelta(hours=n), None] for n in range(400)]
    outcomes = [[Outcome.ACCEPTED, Outcome.DROP, Outcome.RETRY][n % 3] for n in range(400)]
    generated = _generated(rows, values, outcomes)
    plain, by_cell = _both(tmp_path, generated, monkeypatch, run)
    assert plain == by_cell
    assert b'<row r="3" ht=' in b"".join(plain.values())  # heights were written by plain rows


@pytest.mark.parametrize(
    ("values", "plain"),
    [
        (["tekst", 7, datetime(2026, 1, 1), None], True),
        (["tekst", 1.5, None, None], False),  # floats: xlsxwriter's own rules (NaN, inf)
        (["<r>x</r>", None, None, None], False),  # xlsxwriter writes this as rich text
        (["x" * 16_400, None, None, None], False),  # may be cut to Excel's limit
        ([101084123, None, None, None], False),  # a CPR number held as a number: text
        ([True, None, None, None], False),
        ([None, None, None, None], False),  # no cells: not a row of ours
        ([datetime(1899, 1, 1), None, None, None], False),  # before Excel's first day
    ],
)
def test_which_rows_are_plain(tmp_path, values, plain):
    """A row that xlsxwriter would write differently is left to it, with nothing written."""
    book = xlsxwriter.Workbook(str(tmp_path / "b.xlsx"), {"constant_memory": True})
    sheet = book.add_worksheet()
    rows = PlainRows.of(sheet, book.add_format({"num_format": "dd-mm-yyyy"}), frozenset({0}))
    assert rows is not None
    before = sheet.fh.tell()
    assert rows.write(1, values, None) is plain
    assert (sheet.fh.tell() > before) is plain
    book.close()


def test_only_constant_memory_sheets_get_plain_rows(tmp_path):
    """A workbook that keeps its rows in memory writes them itself."""
    book = xlsxwriter.Workbook(str(tmp_path / "b.xlsx"))
    sheet = book.add_worksheet()
    assert PlainRows.of(sheet, book.add_format(), frozenset()) is None
    book.close()
