"""A `RowBatch`'s journal texts made column by column: cells, payloads, sort keys.

Byte for byte what the row-by-row path stores (`pack_cells`, `dump_cells`, `Report.to_json`,
`sort_micros` of `Report.latest_registration`): the payload's keyed digest decides whether a
row is unchanged since UDB last accepted it, across versions, so one byte of difference would
send every row again. `tests/journal/test_columnar.py` holds the two paths side by side.

Each JSON text is joined from per-column pieces by pyarrow; the only per-row Python left is
the few values JSON must escape (a quote, a backslash, a control character) and, for a
workbook, the cells that are not text.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from batch.intake.batch import TIME_FIELDS, cell_lists
from batch.intake.text import matches
from batch.intake.times import COPENHAGEN
from batch.journal._base import _encode_cell

if TYPE_CHECKING:
    from collections.abc import Sequence

    from batch.intake.batch import RowBatch

__all__ = ["cells_json", "payloads"]

_NEEDS_ESCAPE = '[\\x00-\\x1f"\\\\]'  # what json.dumps(ensure_ascii=False) escapes in a string
_NULL = pa.scalar("null", pa.large_string())
_WHOLE = "^[0-9]{1,18}$"  # digits int64 holds: int() and a cast agree on these


def cells_json(batch: RowBatch, *, as_object: bool = False) -> list[str]:
    """Each row's cells as `pack_cells` stores them (a list of values), or as `dump_cells`."""
    columns = [_value_json(column) for column in batch.cells]
    if as_object:
        names = [json.dumps(header, ensure_ascii=False) + ": " for header in batch.headers]
        columns = [_joined(name, column) for name, column in zip(names, columns, strict=True)]
        return _joined("{", _listed(columns), "}").to_pylist()  # type: ignore[no-any-return]
    return _joined("[", _listed(columns), "]").to_pylist()  # type: ignore[no-any-return]


def payloads(batch: RowBatch, rows: np.ndarray) -> tuple[list[str], list[int]]:
    """`Report.to_json()` and the sort key of each of `rows` (rows without issues).

    Keys in `to_json`'s sorted order: contact (mail, name, phone, registered), cpr, education
    (registered, text), institution, job, system_id.
    """
    take = pa.array(rows, pa.int64())
    text = {name: _arrow(series).take(take) for name, series in batch.text.items()}
    times, sort_keys = _moments(batch, rows)
    contact_time = times["KontaktRegistreringstid"]
    contact = _group(
        contact_time,
        '{"mail": ',
        _quoted(text["KontaktMail"]),
        ', "name": ',
        _quoted(text["KontaktNavn"]),
        ', "phone": ',
        _integer_json(text["KontaktTelefon"]),
        ', "registered": ',
        contact_time,
        "}",
    )
    payload = _joined(
        '{"contact": ',
        contact,
        ', "cpr": ',
        _quoted(text["CPRNr"]),
        ', "education": ',
        _wish(times["UddannelsesRegistreringstid"], text["UddannelsesOnsker"]),
        ', "institution": ',
        _integer_json(text["KommuneInstitutionNummer"]),
        ', "job": ',
        _wish(times["JobRegistreringstid"], text["JobOnsker"]),
        ', "system_id": ',
        _quoted(text["ModtagerSystemID"]),
        "}",
    )
    return payload.to_pylist(), sort_keys


def _wish(moment: Any, wish: Any) -> Any:  # noqa: ANN401 - pyarrow arrays
    return _group(moment, '{"registered": ', moment, ', "text": ', _quoted(wish), "}")


def _group(moment: Any, *parts: Any) -> Any:  # noqa: ANN401 - pyarrow arrays
    """A group's object where it has its registration time (as `Report` has it), else null."""
    return pc.if_else(moment.is_valid(), _joined(*parts), _NULL)


def _moments(batch: RowBatch, rows: np.ndarray) -> tuple[dict[str, Any], list[int]]:
    """Each time of `rows` as `isoformat()` JSON text (null: none) and each row's sort key.

    Built as `batch.intake.times.python_datetimes` builds a `Row`'s times: each distinct
    moment once, from its UTC second, as a datetime in Copenhagen (which sets `fold`).
    """
    columns = [batch.times[name].iloc[rows] for name in TIME_FIELDS]
    codes, uniques = pd.factorize(pd.concat(columns, ignore_index=True), use_na_sentinel=True)
    seconds = pd.DatetimeIndex(uniques).as_unit("s").asi8.tolist()
    texts = [f'"{datetime.fromtimestamp(s, COPENHAGEN).isoformat()}"' for s in seconds]
    known = pa.array([*texts, None], pa.large_string())
    by_field = np.where(codes < 0, len(texts), codes).reshape(len(TIME_FIELDS), len(rows))
    micros = np.asarray([*seconds, np.iinfo(np.int64).min], dtype=np.int64)[by_field]
    latest = micros.max(axis=0) if len(rows) else np.zeros(0, dtype=np.int64)
    sort_keys = (np.where(latest == np.iinfo(np.int64).min, 0, latest) * 1_000_000).tolist()
    times = {
        name: known.take(pa.array(code)) for name, code in zip(TIME_FIELDS, by_field, strict=True)
    }
    return times, sort_keys


def _value_json(column: pd.Series) -> Any:  # noqa: ANN401 - a pyarrow large_string array
    """Each cell of a column as JSON text: text joined by pyarrow, other values one by one."""
    if isinstance(column.dtype, pd.StringDtype):
        return _quoted(_arrow(column))
    (values,) = cell_lists([column])
    texts = [json.dumps(value, ensure_ascii=False, default=_encode_cell) for value in values]
    return pa.array(texts, pa.large_string())


def _quoted(strings: Any) -> Any:  # noqa: ANN401 - pyarrow large_string arrays
    """Strings as `json.dumps(ensure_ascii=False)` writes them, a missing one as `null`."""
    quoted = _joined('"', strings, '"')
    odd = matches(strings, _NEEDS_ESCAPE)
    if odd.any():
        mask = pa.array(odd)
        escaped = [json.dumps(s, ensure_ascii=False) for s in strings.filter(mask).to_pylist()]
        quoted = pc.replace_with_mask(quoted, mask, pa.array(escaped, pa.large_string()))
    return pc.fill_null(quoted, _NULL)


def _integer_json(strings: Any) -> Any:  # noqa: ANN401 - pyarrow large_string arrays
    """`int(text)` as JSON (null: none); a cast for plain digits, `int` for anything else."""
    whole = matches(strings, _WHOLE)
    numbers = pc.cast(pc.cast(strings.filter(pa.array(whole)), pa.int64()), pa.large_string())
    texts = pc.replace_with_mask(
        pa.nulls(len(strings), pa.large_string()), pa.array(whole), numbers
    )
    other = np.flatnonzero(~whole & np.asarray(strings.is_valid().to_numpy(zero_copy_only=False)))
    if other.size:
        odd = [str(int(s)) for s in strings.take(pa.array(other)).to_pylist()]
        texts = pc.replace_with_mask(texts, _mask(other, len(strings)), pa.array(odd, texts.type))
    return pc.fill_null(texts, _NULL)


def _mask(rows: np.ndarray, size: int) -> Any:  # noqa: ANN401 - a pyarrow bool array
    mask = np.zeros(size, dtype=bool)
    mask[rows] = True
    return pa.array(mask)


def _listed(columns: Sequence[Any]) -> Any:  # noqa: ANN401 - pyarrow arrays
    """Columns of JSON texts joined row by row with `, `, as `json.dumps` separates items."""
    return pc.binary_join_element_wise(*columns, _scalar(", "))


def _joined(*parts: Any) -> Any:  # noqa: ANN401 - pyarrow arrays and plain strings
    """Parts (arrays, or a string for every row) concatenated row by row; null if any is."""
    texts = [_scalar(part) if isinstance(part, str) else part for part in parts]
    return pc.binary_join_element_wise(*texts, _scalar(""))


def _scalar(text: str) -> Any:  # noqa: ANN401 - a pyarrow scalar
    return pa.scalar(text, pa.large_string())


def _arrow(series: pd.Series) -> Any:  # noqa: ANN401 - a pyarrow large_string array
    strings = pa.array(series, type=pa.large_string(), from_pandas=True)
    return strings.combine_chunks() if isinstance(strings, pa.ChunkedArray) else strings
