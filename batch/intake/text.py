"""Vectorized clean-up of raw cells into text: trimmed text, CPR numbers, phones, whole numbers.

Every function takes a pandas Series of raw cells (pyarrow-backed text from a CSV, or Python
objects from a workbook) and never raises on odd values: what cannot be cleaned is left for
validation to flag. Each is idempotent, so a value cleaned twice is the value cleaned once.
The e-mail syntax check lives here too, for validation to use on the cleaned addresses.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import email_validator
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "PLACEHOLDERS",
    "as_text",
    "cpr",
    "integer",
    "mail_syntax_ok",
    "matches",
    "phone",
    "text",
    "text_array",
    "valid_mails",
]

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
    return _series(text_array(values))


def cpr(values: pd.Series) -> pd.Series:
    """10-character text: spaces and hyphens gone, a lost leading zero (9 digits) put back."""
    strings = text_array(values)
    strings = pc.replace_substring(pc.replace_substring(strings, "-", ""), " ", "")
    strings = _fix_rows(strings, "^[0-9]{10}$", _cpr_noise)
    nine = matches(strings, "^[0-9]{9}$")
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
    zeros = matches(strings, "^[0-9]+[.,]0+$")
    if not zeros.any():
        return strings
    return _replace_rows(strings, zeros, lambda s: pc.replace_substring_regex(s, "[.,]0+$", ""))


def phone(values: pd.Series) -> pd.Series:
    """Digits only, without spaces, hyphens, dots or a +45/0045 prefix (8 digits when valid)."""
    strings = text_array(values)
    for noise in (" ", "-", "."):
        strings = pc.replace_substring(strings, noise, "")
    strings = _fix_rows(
        strings, "^[0-9]{8}$", lambda s: pc.replace_substring_regex(s, _PHONE_NOISE, "")
    )
    prefixed = matches(strings, "^(?:[+]45|0045)[0-9]{8}$")
    if prefixed.any():
        strings = _replace_rows(strings, prefixed, lambda s: pc.utf8_slice_codeunits(s, -8))
    return _series(_nfc(strings))


def integer(values: pd.Series) -> pd.Series:
    """Digits of a whole number: `751001.0` and `751.001` (thousands separator) are 751001."""
    strings = _fix_rows(text_array(values), "^[0-9]+$", _integer_noise)
    return _series(_nfc(strings))


def _integer_noise(strings: Any) -> Any:  # noqa: ANN401 - pyarrow arrays
    strings = _drop_decimal_zeros(strings)
    grouped = matches(strings, "^[0-9]{1,3}(?:[. ][0-9]{3})+$")
    if not grouped.any():
        return strings
    return _replace_rows(strings, grouped, lambda s: pc.replace_substring_regex(s, "[. ]", ""))


def text_array(values: pd.Series) -> Any:  # noqa: ANN401 - a pyarrow large_string array
    """`text` as a pyarrow large_string array (missing: null), for cleaners built on it."""
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
    wide = matches(strings, _BEYOND_LATIN1)
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
    odd = ~matches(strings, clean) & np.asarray(strings.is_valid().to_numpy(zero_copy_only=False))
    return _replace_rows(strings, odd, fix) if odd.any() else strings


def _replace_rows(strings: Any, rows: np.ndarray, fix: Callable[[Any], Any]) -> Any:  # noqa: ANN401
    mask = pa.array(rows)
    fixed = fix(strings.filter(mask))
    return pc.replace_with_mask(strings, mask, fixed.cast(strings.type))


def matches(strings: Any, pattern: str) -> np.ndarray:  # noqa: ANN401
    """Whether each string matches `pattern` (a null does not), as a numpy bool array."""
    found = pc.fill_null(pc.match_substring_regex(strings, pattern), fill_value=False)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def valid_mails(mail: pd.Series, mail_ok: Callable[[str], bool]) -> pd.Series:
    """Whether each address passes the syntax check; each distinct address is checked once."""
    good = [address for address in mail.dropna().unique() if mail_ok(address)]
    return mail.isin(good)


def mail_syntax_ok(address: str) -> bool:
    """email-validator's syntax check, with no DNS lookup."""
    try:
        email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True
