"""Parsing of registration times: exact values."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import numpy as np
import pandas as pd
import pytest

from batch.intake import times
from batch.intake.times import COPENHAGEN


def _objects(*values):
    return pd.Series(list(values), dtype=object)


def _texts(*values):
    return pd.Series(list(values), dtype="str")


def _utc(values: pd.Series, date_only_time: time | None = None) -> list[str | None]:
    parsed = times.datetimes(values, date_only_time)
    return [
        None if pd.isna(moment) else moment.tz_convert(UTC).strftime("%Y-%m-%d %H:%M:%S")
        for moment in parsed.moments
    ]


def test_daylight_saving_time_is_applied():
    """15.06.2025 14:30 is sent as 12:30 UTC (summer), 03-01-2025 08:00 as 07:00 UTC (winter)."""
    assert _utc(_texts("15.06.2025 14:30", "03-01-2025 08:00")) == [
        "2025-06-15 12:30:00",
        "2025-01-03 07:00:00",
    ]


@pytest.mark.parametrize(
    "written",
    [
        "15.06.2025 14:30",
        "15.06.2025 14.30",
        "15-06-2025 14:30",
        "15/06/2025 14:30",
        "15.06.2025 14:30:00",
        "15.6.2025 14:30",
        "15.06.2025 kl. 14.30",
        "2025-06-15T14:30",
        "2025-06-15 14:30:00",
        "2025-06-15T14:30:00.250",
        "2025-06-15T12:30:00Z",
        "2025-06-15T14:30:00+02:00",
        "2025-06-15T13:30:00+0100",
        "45823.604166666664",
        "45823,604166666664",
    ],
)
def test_every_accepted_format(written):
    """Each accepted way of writing 15 June 2025 14:30 in Denmark is the same moment."""
    assert _utc(_texts(written)) == ["2025-06-15 12:30:00"]


def test_workbook_values():
    """Excel datetimes are local time, serials are days since 1899-12-30, dates lack a time."""
    values = _objects(datetime(2025, 6, 15, 14, 30), 45823.604166666664, date(2025, 6, 15), 45823)

    parsed = times.datetimes(values)

    assert _utc(values)[:2] == ["2025-06-15 12:30:00", "2025-06-15 12:30:00"]
    assert parsed.date_only.tolist() == [False, False, True, True]


def test_repeated_october_hour_is_its_first_occurrence():
    """02:30 on the last Sunday of October is taken as summer time (+02:00), the first pass."""
    parsed = times.datetimes(_texts("26.10.2025 02:30"))

    moment = parsed.moments.iloc[0]
    assert moment.utcoffset().total_seconds() == 2 * 3600
    assert _utc(_texts("26.10.2025 02:30")) == ["2025-10-26 00:30:00"]


def test_skipped_march_hour_is_flagged():
    """02:30 on the last Sunday of March does not exist in Denmark: flagged, no moment."""
    parsed = times.datetimes(_texts("30.03.2025 02:30", "30.03.2025 03:30"))

    assert parsed.nonexistent.tolist() == [True, False]
    assert parsed.unreadable.tolist() == [False, False]
    assert _utc(_texts("30.03.2025 02:30", "30.03.2025 03:30")) == [None, "2025-03-30 01:30:00"]


def test_problems_are_told_apart():
    """Empty, unreadable, impossible and date-only values each get their own flag."""
    parsed = times.datetimes(
        _texts(None, "i går", "31.02.2025 10:00", "15.06.2025 24:00", "15.06.2025", "2025-06-15")
    )

    assert parsed.missing.tolist() == [True, False, False, False, False, False]
    assert parsed.unreadable.tolist() == [False, True, True, True, False, False]
    assert parsed.date_only.tolist() == [False, False, False, False, True, True]


def test_date_only_takes_the_configured_time():
    """With a configured time, a bare date is that time on that day, local time."""
    values = _texts("15.06.2025", "03-01-2025", "15.06.2025 14:30")

    parsed = times.datetimes(values, time(12, 0))

    assert not parsed.date_only.any()
    assert _utc(values, time(12, 0)) == [
        "2025-06-15 10:00:00",
        "2025-01-03 11:00:00",
        "2025-06-15 12:30:00",
    ]


def test_python_datetimes_carry_zone_and_fold():
    """Reports get aware datetimes in Copenhagen; the second 02:30 in October has fold=1."""
    values = _texts("2025-10-26T02:30:00+02:00", "2025-10-26T02:30:00+01:00", None, "x")

    (moments,) = times.python_datetimes(times.datetimes(values).moments)

    first, second, missing, unreadable = moments
    # (PEP 495: a time in the repeated hour never equals one in another zone; compare in UTC)
    assert first.astimezone(UTC) == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    assert second.astimezone(UTC) == datetime(2025, 10, 26, 1, 30, tzinfo=UTC)
    assert (first.tzinfo, second.tzinfo) == (COPENHAGEN, COPENHAGEN)
    assert (first.fold, second.fold) == (0, 1)
    assert (missing, unreadable) == (None, None)


def test_python_datetimes_over_several_columns():
    """Several columns convert together and each keeps its own rows."""
    first = times.datetimes(_texts("15.06.2025 14:30", None)).moments
    second = times.datetimes(_texts(None, "15.06.2025 14:30")).moments

    left, right = times.python_datetimes(first, second)

    moment = datetime(2025, 6, 15, 14, 30, tzinfo=COPENHAGEN)
    assert (left, right) == ([moment, None], [None, moment])
    assert times.python_datetimes() == []


def test_many_rows_mixed_shapes_keep_their_places():
    """Fixed-width, general and serial shapes mixed in one column land on their own rows."""
    shapes = ["15.06.2025 14:30", "2025-06-15T14:30:00", "15.6.2025 14:30", "45823.604166666664"]
    values = _texts(*(shapes * 250))

    result = np.asarray(_utc(values))

    assert (result == "2025-06-15 12:30:00").all()
