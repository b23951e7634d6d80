"""Property tests: normalization never raises on any cell value and is idempotent."""

from __future__ import annotations

from datetime import time

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from batch.intake import text, times

# Anything a cell can hold: text (any Unicode, with the odd shapes people type), numbers,
# booleans, datetimes, dates, times, or nothing.
_SHAPES = st.sampled_from(
    [
        "15.06.2025 14:30",
        "2025-10-26T02:30:00+01:00",
        "30.03.2025 02:30",
        "45823.5",
        "+45 20 12 34 56",
        "091005-4836",
        "NULL",
        " - ",
        "751.001",
        "e\u0301\u200b\x00",
    ]
)
CELLS = st.one_of(
    st.none(),
    st.text(),
    _SHAPES,
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(),
    st.dates(),
    st.times(),
)
COLUMNS = st.lists(CELLS, max_size=12)
TEXT_COLUMNS = st.lists(st.one_of(st.none(), st.text(), _SHAPES), max_size=12)
CLEANERS = (text.text, text.cpr, text.phone, text.integer)


def _listed(series: pd.Series) -> list[object]:
    return [None if pd.isna(value) else value for value in series.tolist()]


@settings(max_examples=60, deadline=None)
@given(COLUMNS)
def test_cleaners_never_raise_and_are_idempotent_on_cells(cells):
    """Text, CPR, phone and number cleaning accept any cells; cleaning twice changes nothing."""
    column = pd.Series(cells, dtype=object)
    for clean in CLEANERS:
        once = clean(column)
        assert len(once) == len(cells)
        assert _listed(clean(once)) == _listed(once)


@settings(max_examples=60, deadline=None)
@given(TEXT_COLUMNS)
def test_cleaners_never_raise_and_are_idempotent_on_csv_text(values):
    """The same holds for pyarrow-backed text, as read from a CSV file."""
    column = pd.Series(values, dtype="str")
    for clean in CLEANERS:
        once = clean(column)
        assert _listed(clean(once)) == _listed(once)


@settings(max_examples=60, deadline=None)
@given(COLUMNS, st.sampled_from([None, time(12, 0)]))
def test_datetimes_never_raise_and_are_idempotent(cells, date_only_time):
    """Any cell parses to a moment or a flag; parsing the moments again gives the same moments."""
    column = pd.Series(cells, dtype=object)

    once = times.datetimes(column, date_only_time)
    twice = times.datetimes(once.moments, date_only_time)

    assert len(once.moments) == len(cells)
    assert _listed(twice.moments) == _listed(once.moments)
    flags = once.missing.astype(int) + once.unreadable + once.date_only + once.nonexistent
    has_moment = once.moments.notna().to_numpy()
    assert ((flags == 1) ^ has_moment).all()  # each value: exactly a moment or one flag
