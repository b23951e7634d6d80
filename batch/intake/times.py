"""Vectorized parsing of registration times in the shapes people and workbooks write them.

Like the text cleaners, `datetimes` takes a pandas Series of raw cells and never raises on odd
values: what cannot be read is flagged for validation, and parsing its own result is a no-op.

Times: ISO 8601 (`T` or space, optional seconds, fraction and offset), `dd-mm-yyyy`,
`dd.mm.yyyy` and `dd/mm/yyyy` (one-digit day and month too), each with an optional `HH:MM`,
`HH.MM` or `HH:MM:SS` (also after `kl.`); workbook datetimes, and workbook serial numbers (days
since 1899-12-30, also written as text). A time without an offset is Danish local time
(Europe/Copenhagen): the repeated hour in October is taken as its first occurrence and the
skipped hour in March is flagged. A fraction of a second is dropped. A workbook cell holding
a datetime at exactly 00:00 reaches us as a date (calamine's reading of it), so it counts as a
date without a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from batch.intake.text import matches, text_array

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["COPENHAGEN", "Times", "datetimes", "python_datetimes"]

COPENHAGEN = ZoneInfo("Europe/Copenhagen")

_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "s")
_SERIAL_MAX = 2_958_465  # 9999-12-31
_SECONDS_PER_DAY = 86_400

_DANISH = (
    r"^(?P<d>\d{1,2})[-./](?P<m>\d{1,2})[-./](?P<y>\d{4})"
    r"(?:[ T]+(?:kl\.? *)?(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?)?$"
)
_ISO = (
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?)?"
    r" *(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_SERIAL = r"^\d{1,7}(?:[.,]\d+)?$"
# The shapes nearly every file uses, with every part at a fixed place: cut, not parsed.
_FIXED_DANISH = r"^\d{2}[-./]\d{2}[-./]\d{4}(?:[ T]\d{2}[:.]\d{2}(?:[:.]\d{2})?)?$"
_FIXED_ISO = r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$"
_FIXED_PLACES = {  # part -> (start, stop) in each fixed shape
    "danish": {"d": (0, 2), "m": (3, 5), "y": (6, 10), "H": (11, 13), "M": (14, 16), "S": (17, 19)},
    "iso": {"y": (0, 4), "m": (5, 7), "d": (8, 10), "H": (11, 13), "M": (14, 16), "S": (17, 19)},
}
_PARTS = ("y", "m", "d", "H", "M", "S")


@dataclass(frozen=True, slots=True)
class Times:
    """Parsed times (tz-aware, Europe/Copenhagen; NaT where none) and why a value has none."""

    moments: pd.Series
    missing: np.ndarray  # empty cell
    unreadable: np.ndarray  # not a date and time in any accepted form, or not a real date
    date_only: np.ndarray  # a date without a time, and no configured time to use
    nonexistent: np.ndarray  # a local time in the hour skipped when summer time begins


def datetimes(values: pd.Series, date_only_time: time | None = None) -> Times:
    """Parse registration times; a bare date takes `date_only_time` or is flagged."""
    parts = _Parts(len(values))
    rest = _take_workbook_datetimes(values, parts)
    strings = pa.nulls(len(values), pa.large_string()) if rest is None else text_array(rest)
    missing = np.asarray(strings.is_null().to_numpy(zero_copy_only=False)) & ~parts.found
    todo = _fill_fixed(parts, strings, ~missing & ~parts.found)
    todo = _fill_general(parts, strings, todo)
    _fill_serial(parts, strings, todo)
    date_only = (parts.hour < 0) & parts.found
    if date_only_time is not None:
        parts.set_time(date_only, date_only_time)
        date_only = np.zeros_like(date_only)
    wall = parts.wall(~date_only)
    local, nonexistent = _localize(wall, parts.offset)
    unreadable = ~missing & ~date_only & wall.isna().to_numpy()
    moments = pd.Series(local, index=values.index)
    return Times(moments, missing, unreadable & ~nonexistent, date_only, nonexistent)


def _take_workbook_datetimes(values: pd.Series, parts: _Parts) -> pd.Series | None:
    """Put a workbook's naive datetimes straight into `parts`; the rest (None: nothing) is text."""
    if isinstance(values.dtype, pd.StringDtype):
        return values
    cells = values.tolist()
    rows = [i for i, v in enumerate(cells) if type(v) is datetime and v.tzinfo is None]
    if not rows:
        return values
    moments = pd.DatetimeIndex([cells[i] for i in rows]).as_unit("us").to_numpy()
    days = moments.astype("datetime64[D]")
    months = moments.astype("datetime64[M]")
    clock = (moments.astype("datetime64[s]") - days.astype("datetime64[s]")).astype(np.int64)
    parts.put(
        np.asarray(rows),
        {
            "y": moments.astype("datetime64[Y]").astype(np.int64) + 1970,
            "m": months.astype(np.int64) % 12 + 1,
            "d": (days - months.astype("datetime64[D]")).astype(np.int64) + 1,
            "H": clock // 3600,
            "M": clock % 3600 // 60,
            "S": clock % 60,
        },
    )
    if len(rows) + sum(1 for v in cells if v is None or v == "") == len(cells):
        return None
    rest = values.copy()
    rest.iloc[rows] = None
    return rest


class _Parts:
    """Date and time parts by row (-1: absent), offset in minutes (NaN: local time)."""

    def __init__(self, rows: int) -> None:
        self.found = np.zeros(rows, dtype=bool)
        self.year, self.month, self.day = (np.full(rows, -1, dtype=np.int64) for _ in range(3))
        self.hour, self.minute, self.second = (np.full(rows, -1, dtype=np.int64) for _ in range(3))
        self.offset = np.full(rows, np.nan)

    def put(self, rows: np.ndarray, parts: dict[str, np.ndarray]) -> None:
        self.found[rows] = True
        for name, target in zip(_PARTS, self._arrays(), strict=True):
            target[rows] = parts[name]

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (self.year, self.month, self.day, self.hour, self.minute, self.second)

    def set_time(self, rows: np.ndarray, moment: time) -> None:
        self.hour[rows], self.minute[rows], self.second[rows] = (
            moment.hour,
            moment.minute,
            moment.second,
        )

    def wall(self, timed: np.ndarray) -> pd.Series:
        """Naive wall-clock datetimes; NaT where absent, out of range or not a real date."""
        second = np.where(self.second < 0, 0, self.second)
        ok = (
            self.found
            & timed
            & (self.year >= 1)
            & (self.year <= 9999)  # noqa: PLR2004
            & (self.month >= 1)
            & (self.month <= 12)  # noqa: PLR2004
            & (self.hour <= 23)  # noqa: PLR2004
            & (self.minute <= 59)  # noqa: PLR2004
            & (second <= 59)  # noqa: PLR2004
        )
        months = np.where(ok, (self.year - 1970) * 12 + self.month - 1, 0)
        first = months.astype("datetime64[M]").astype("datetime64[D]")
        month_days = ((months + 1).astype("datetime64[M]").astype("datetime64[D]") - first).astype(
            np.int64
        )
        ok &= (self.day >= 1) & (self.day <= month_days)
        clock = np.where(ok, self.hour * 3600 + self.minute * 60 + second, 0)
        stamps = first.astype("datetime64[s]") + np.where(ok, self.day - 1, 0) * 86_400 + clock
        stamps = np.where(ok, stamps, np.datetime64("NaT", "s")).astype("datetime64[us]")
        return pd.Series(stamps)


def _fill_fixed(parts: _Parts, strings: Any, todo: np.ndarray) -> np.ndarray:  # noqa: ANN401
    lengths = np.asarray(pc.binary_length(strings).to_numpy(zero_copy_only=False))
    for shape, pattern in (("danish", _FIXED_DANISH), ("iso", _FIXED_ISO)):
        hits = _matches_where(strings, pattern, todo)
        for width in (10, 16, 19):
            rows = np.flatnonzero(hits & (lengths == width))
            if rows.size:
                digits = _byte_matrix(strings.take(pa.array(rows)), width)
                parts.put(rows, _cut(digits, _FIXED_PLACES[shape]))
        todo = todo & ~hits
    return todo


def _byte_matrix(strings: Any, width: int) -> np.ndarray:  # noqa: ANN401 - pyarrow strings
    """The UTF-8 bytes of strings all `width` bytes long, as a rows x width array of digits."""
    strings = strings.cast(pa.large_string())
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int64)
    offsets = offsets[strings.offset : strings.offset + len(strings) + 1]
    data = np.frombuffer(strings.buffers()[2], dtype=np.uint8)
    matrix = data[offsets[0] : offsets[-1]].reshape(len(strings), width)
    return matrix.astype(np.int64) - ord("0")


def _cut(digits: np.ndarray, places: dict[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    """Each part's number from its digit columns; -1 for a part beyond the string."""
    cut = {}
    width = digits.shape[1]
    for name, (start, stop) in places.items():
        if stop > width:
            cut[name] = np.full(len(digits), -1, dtype=np.int64)
            continue
        number = np.zeros(len(digits), dtype=np.int64)
        for column in range(start, stop):
            number = number * 10 + digits[:, column]
        cut[name] = number
    return cut


def _integers(strings: Any) -> np.ndarray:  # noqa: ANN401 - pyarrow strings, null = absent
    numbers = pc.cast(strings, pa.int64())
    return np.asarray(pc.fill_null(numbers, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _matches_where(strings: Any, pattern: str, todo: np.ndarray) -> np.ndarray:  # noqa: ANN401
    """`matches` for the `todo` rows only (the others are False): most rows are done early."""
    if todo.all():
        return matches(strings, pattern)
    hits = np.zeros(len(todo), dtype=bool)
    rows = np.flatnonzero(todo)
    if rows.size:
        hits[rows] = matches(strings.take(pa.array(rows)), pattern)
    return hits


def _fill_general(parts: _Parts, strings: Any, todo: np.ndarray) -> np.ndarray:  # noqa: ANN401
    for pattern in (_DANISH, _ISO):
        hits = _matches_where(strings, pattern, todo)
        if not hits.any():
            continue
        rows = np.flatnonzero(hits)
        found = pc.extract_regex(strings.take(pa.array(rows)), pattern)
        fields = {
            name: _integers(pc.if_else(pc.equal(found.field(name), ""), None, found.field(name)))
            for name in _PARTS
        }
        parts.put(rows, fields)
        if pattern is _ISO:
            parts.offset[rows] = _offset_minutes(found.field("z").to_pylist())
        todo = todo & ~hits
    return todo


def _offset_minutes(zones: Iterable[str | None]) -> list[float]:
    minutes = []
    for zone in zones:
        if not zone:
            minutes.append(np.nan)
        elif zone == "Z":
            minutes.append(0.0)
        else:
            digits = zone[1:].replace(":", "")
            size = int(digits[:2]) * 60 + int(digits[2:4] or 0)
            minutes.append(float(size if zone[0] == "+" else -size))
    return minutes


def _fill_serial(parts: _Parts, strings: Any, todo: np.ndarray) -> np.ndarray:  # noqa: ANN401
    hits = _matches_where(strings, _SERIAL, todo)
    if not hits.any():
        return todo
    rows = np.flatnonzero(hits)
    text_values = pc.replace_substring(strings.take(pa.array(rows)), ",", ".")
    days = np.asarray(pc.cast(text_values, pa.float64()).to_numpy(zero_copy_only=False))
    usable = (days >= 1) & (days <= _SERIAL_MAX)
    rows, days = rows[usable], days[usable]
    seconds = np.rint(days * _SECONDS_PER_DAY).astype(np.int64)
    moments = pd.DatetimeIndex(_EXCEL_EPOCH + seconds.astype("timedelta64[s]"))
    whole_day = seconds % _SECONDS_PER_DAY == 0
    parts.put(
        rows,
        {
            "y": moments.year.to_numpy(np.int64),
            "m": moments.month.to_numpy(np.int64),
            "d": moments.day.to_numpy(np.int64),
            "H": np.where(whole_day, -1, moments.hour.to_numpy(np.int64)),
            "M": np.where(whole_day, -1, moments.minute.to_numpy(np.int64)),
            "S": np.where(whole_day, -1, moments.second.to_numpy(np.int64)),
        },
    )
    return np.asarray(todo & ~hits, dtype=bool)


def _localize(wall: pd.Series, offset: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """Local wall times -> Copenhagen (first occurrence if repeated); with an offset, convert."""
    has_offset = ~np.isnan(offset)
    naive = wall.mask(has_offset)
    local = naive.dt.tz_localize(
        COPENHAGEN, ambiguous=np.ones(len(wall), dtype=bool), nonexistent="NaT"
    )
    nonexistent = (naive.notna() & local.isna()).to_numpy()
    if has_offset.any():
        minutes = pd.to_timedelta(np.where(has_offset, offset, 0), unit="m")
        utc = (wall - minutes).dt.tz_localize("UTC").dt.tz_convert(COPENHAGEN)
        local = local.mask(has_offset, utc)
    return local.dt.as_unit("us"), nonexistent


def python_datetimes(*columns: pd.Series) -> list[list[datetime | None]]:
    """Tz-aware `datetime`s in Copenhagen (None for NaT) for each column, of equal lengths.

    Each distinct moment is built once over all the columns (a row's contact and wish are
    often registered at the same moment), from its UTC timestamp, which also sets `fold` for
    the repeated hour in October and is several times faster than pandas' own conversion.
    """
    if not columns:
        return []
    size = len(columns[0])
    codes, uniques = pd.factorize(pd.concat(columns, ignore_index=True), use_na_sentinel=True)
    seconds = pd.DatetimeIndex(uniques).as_unit("s").asi8.tolist()
    built: list[datetime | None] = [datetime.fromtimestamp(s, COPENHAGEN) for s in seconds]
    built.append(None)  # code -1 (NaT) picks the last entry
    every = [built[code] for code in codes.tolist()]
    return [every[start : start + size] for start in range(0, size * len(columns), size)]
