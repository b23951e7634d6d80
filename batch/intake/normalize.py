"""Vectorized clean-up of raw cells into what the spec wants: CPR, phone, numbers, times, text.

Every function takes a pandas Series of raw cells (pyarrow-backed text from a CSV, or Python
objects from a workbook) and never raises on odd values: what cannot be cleaned is left for
validation to flag. Each is idempotent, so a value cleaned twice is the value cleaned once.

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
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = [
    "COPENHAGEN",
    "PLACEHOLDERS",
    "Times",
    "as_text",
    "cpr",
    "datetimes",
    "integer",
    "phone",
    "python_datetimes",
    "text",
]

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
PLACEHOLDERS = frozenset({"null", "-", "n/a", "#n/a"})  # compared case-insensitively

_PLACEHOLDER_MAX = max(len(p) for p in PLACEHOLDERS)
# Clean text: printable Latin-1, no space doubled or at an end. Only the other rows take the
# slow path (regex replacement costs about a microsecond a row, a match a tenth of that).
_CLEAN = "^(?:[\x21-\x7e\xa1-\xac\xae-\xff]+(?: [\x21-\x7e\xa1-\xac\xae-\xff]+)*)?$"
_CONTROL = "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\xad\u200b-\u200d\u2060\ufeff]"
_SPACES = "[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
_BEYOND_LATIN1 = "[^\x00-\xff]"  # text in Latin-1 alone is already NFC
_DASHES_AND_SPACES = "[ \\-\u2010-\u2015]"  # after text(): spaces are plain and single
_PHONE_NOISE = "[ \\-.()/\u2010-\u2015]"

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


def as_text(values: pd.Series) -> pd.Series:
    """Raw cells as text (str dtype, missing as NA): numbers without `.0`, datetimes in ISO."""
    if isinstance(values.dtype, pd.StringDtype):
        return values
    return pd.Series(pd.array(_arrow_text(values), dtype="str"), index=values.index)


def _arrow_text(values: pd.Series) -> Any:  # noqa: ANN401 - a pyarrow large_string array
    """`as_text` straight to pyarrow; a column of one kind (the usual case) in one pass."""
    if isinstance(values.dtype, pd.StringDtype):
        return _arrow(values)
    cells = values.tolist()
    kinds = set(map(type, cells))
    if kinds <= {str, type(None)}:
        texts = cells
    elif kinds == {float}:
        texts = _float_texts(np.asarray(cells, dtype=np.float64))
    else:
        texts = [v if type(v) is str or type(v) is float else _to_text(v) for v in cells]
        if float in kinds:
            where = [i for i, value in enumerate(texts) if type(value) is float]
            floats = np.fromiter((texts[i] for i in where), dtype=np.float64, count=len(where))
            for index, text in zip(where, _float_texts(floats), strict=True):
                texts[index] = text
    return pa.array(texts, type=pa.large_string())


def _float_texts(floats: np.ndarray) -> list[str | None]:
    """Floats as text: whole ones (most: Excel stores every number as one) as integers."""
    whole = np.isfinite(floats) & (np.abs(floats) < 1e16)  # noqa: PLR2004 - exact as integers
    whole[whole] = np.floor(floats[whole]) == floats[whole]
    if whole.all():
        texts: list[str | None] = floats.astype(np.int64).astype(str).tolist()
        return texts
    texts = [None] * len(floats)
    for index, text in zip(
        np.flatnonzero(whole).tolist(),
        floats[whole].astype(np.int64).astype(str).tolist(),
        strict=True,
    ):
        texts[index] = text
    for index in np.flatnonzero(~whole).tolist():
        texts[index] = _float_text(float(floats[index]))
    return texts


def _to_text(value: object) -> str | None:
    if value is None or value is pd.NaT or isinstance(value, str):
        return None if value is pd.NaT else value  # type: ignore[return-value]
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, datetime):  # an aware one in UTC: some zones' offsets have seconds
        moment = value if value.tzinfo is None else value.astimezone(UTC)
        return moment.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return None if _is_na(value) else str(value)


def _float_text(value: float) -> str | None:  # NaN and infinity are no value
    if value != value or value in (float("inf"), float("-inf")):  # noqa: PLR0124 - NaN
        return None
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)  # noqa: PLR2004


def _is_na(value: object) -> bool:
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):  # an array-like cell: not a missing value
        return False


def text(values: pd.Series) -> pd.Series:
    """Trimmed, whitespace runs collapsed, NFC, no control characters; empty and NULL are NA."""
    return _series(_text(values))


def cpr(values: pd.Series) -> pd.Series:
    """10-character text: spaces and hyphens gone, a lost leading zero (9 digits) put back."""
    strings = _text(values)
    strings = pc.replace_substring(pc.replace_substring(strings, "-", ""), " ", "")
    strings = _fix_rows(strings, "^[0-9]{10}$", _cpr_noise)
    nine = _matches(strings, "^[0-9]{9}$")
    if nine.any():
        strings = _replace_rows(strings, nine, _with_leading_zero)
    return _series(_nfc(strings))


def _with_leading_zero(strings: Any) -> Any:  # noqa: ANN401 - pyarrow arrays
    zero, nothing = pa.scalar("0", strings.type), pa.scalar("", strings.type)
    return pc.binary_join_element_wise(zero, strings, nothing)


def _cpr_noise(strings: Any) -> Any:  # noqa: ANN401 - pyarrow arrays
    strings = pc.replace_substring_regex(strings, _DASHES_AND_SPACES, "")
    return _drop_decimal_zeros(strings)


def _drop_decimal_zeros(strings: Any) -> Any:  # noqa: ANN401 - `751001.0` from a spreadsheet
    zeros = _matches(strings, "^[0-9]+[.,]0+$")
    if not zeros.any():
        return strings
    return _replace_rows(strings, zeros, lambda s: pc.replace_substring_regex(s, "[.,]0+$", ""))


def phone(values: pd.Series) -> pd.Series:
    """Digits only, without spaces, hyphens, dots or a +45/0045 prefix (8 digits when valid)."""
    strings = _text(values)
    for noise in (" ", "-", "."):
        strings = pc.replace_substring(strings, noise, "")
    strings = _fix_rows(
        strings, "^[0-9]{8}$", lambda s: pc.replace_substring_regex(s, _PHONE_NOISE, "")
    )
    prefixed = _matches(strings, "^(?:[+]45|0045)[0-9]{8}$")
    if prefixed.any():
        strings = _replace_rows(strings, prefixed, lambda s: pc.utf8_slice_codeunits(s, -8))
    return _series(_nfc(strings))


def integer(values: pd.Series) -> pd.Series:
    """Digits of a whole number: `751001.0` and `751.001` (thousands separator) are 751001."""
    strings = _fix_rows(_text(values), "^[0-9]+$", _integer_noise)
    return _series(_nfc(strings))


def _integer_noise(strings: Any) -> Any:  # noqa: ANN401 - pyarrow arrays
    strings = _drop_decimal_zeros(strings)
    grouped = _matches(strings, "^[0-9]{1,3}(?:[. ][0-9]{3})+$")
    if not grouped.any():
        return strings
    return _replace_rows(strings, grouped, lambda s: pc.replace_substring_regex(s, "[. ]", ""))


def _text(values: pd.Series) -> Any:  # noqa: ANN401 - a pyarrow large_string array
    strings = _arrow_text(values)
    strings = _fix_rows(strings, _CLEAN, _clean)
    lengths = np.asarray(pc.utf8_length(strings).to_numpy(zero_copy_only=False))
    missing = lengths == 0
    short = lengths <= _PLACEHOLDER_MAX
    if short.any():
        lowered = pc.utf8_lower(strings.filter(pa.array(short)))
        placeholder = pc.is_in(lowered, value_set=pa.array(sorted(PLACEHOLDERS), pa.large_string()))
        missing[np.flatnonzero(short)] |= np.asarray(placeholder.to_numpy(zero_copy_only=False))
    if missing.any():
        strings = pc.if_else(pa.array(missing), pa.scalar(None, pa.large_string()), strings)
    return strings


def _clean(strings: Any) -> Any:  # noqa: ANN401 - pyarrow arrays
    strings = pc.replace_substring_regex(strings, _CONTROL, "")
    strings = pc.utf8_trim(pc.replace_substring_regex(strings, _SPACES, " "), " ")
    return _nfc(strings)


def _nfc(strings: Any) -> Any:  # noqa: ANN401 - pyarrow arrays
    """NFC, again after characters were removed (that can leave combining marks unordered)."""
    wide = _matches(strings, _BEYOND_LATIN1)
    if wide.any():
        strings = _replace_rows(strings, wide, lambda s: pc.utf8_normalize(s, "NFC"))
    return strings


def _arrow(values: pd.Series) -> Any:  # noqa: ANN401 - a pyarrow large_string array
    strings = pa.array(values, type=pa.large_string(), from_pandas=True)
    return strings.combine_chunks() if isinstance(strings, pa.ChunkedArray) else strings


def _series(strings: Any) -> pd.Series:  # noqa: ANN401 - a pyarrow string array
    """Back to pandas text; a value cleaned down to nothing is missing, like an empty cell."""
    empty = pc.equal(pc.utf8_length(strings), 0)
    strings = pc.if_else(empty, pa.scalar(None, strings.type), strings)
    return pd.Series(pd.array(strings, dtype="str"))


def _fix_rows(strings: Any, clean: str, fix: Callable[[Any], Any]) -> Any:  # noqa: ANN401
    """Apply `fix` only to the rows not matching `clean` (the slow path for the few odd ones)."""
    odd = ~_matches(strings, clean) & np.asarray(strings.is_valid().to_numpy(zero_copy_only=False))
    return _replace_rows(strings, odd, fix) if odd.any() else strings


def _replace_rows(strings: Any, rows: np.ndarray, fix: Callable[[Any], Any]) -> Any:  # noqa: ANN401
    mask = pa.array(rows)
    fixed = fix(strings.filter(mask))
    return pc.replace_with_mask(strings, mask, fixed.cast(strings.type))


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
    strings = pa.nulls(len(values), pa.large_string()) if rest is None else _text(rest)
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


def _matches(strings: Any, pattern: str) -> np.ndarray:  # noqa: ANN401
    found = pc.fill_null(pc.match_substring_regex(strings, pattern), fill_value=False)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _matches_where(strings: Any, pattern: str, todo: np.ndarray) -> np.ndarray:  # noqa: ANN401
    """`_matches` for the `todo` rows only (the others are False): most rows are done early."""
    if todo.all():
        return _matches(strings, pattern)
    hits = np.zeros(len(todo), dtype=bool)
    rows = np.flatnonzero(todo)
    if rows.size:
        hits[rows] = _matches(strings.take(pa.array(rows)), pattern)
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
