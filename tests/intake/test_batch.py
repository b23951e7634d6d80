"""A chunk is a `RowBatch`: columns that read as the `Row`s they hold, built when asked for."""

from __future__ import annotations

import pytest
from intake_kit import DANISH_HEADER, NOW, ROW_CONTACT_ONLY, ROW_FULL, SYSTEM_ID, write_text

from batch.intake import InputOptions, RowBatch, open_input


def _batch(tmp_path) -> RowBatch:
    bad = [*ROW_FULL[:1], "x", *ROW_FULL[2:]]  # an institution number that is not one
    path = write_text(tmp_path / "a.csv", [DANISH_HEADER, ROW_FULL, bad, ROW_CONTACT_ONLY])
    (batch,) = open_input(path, InputOptions(system_id=SYSTEM_ID)).chunks(NOW)
    return batch


def test_batch_reads_as_a_sequence_of_rows(tmp_path):
    """Length, indexing (negative too), slices and iteration give the same rows."""
    batch = _batch(tmp_path)
    rows = list(batch)

    assert len(batch) == 3
    assert [row.source_row for row in rows] == [2, 3, 4]
    assert batch[0] == rows[0]
    assert batch[-1] == rows[2]
    assert batch[1:] == rows[1:]
    assert batch.index(rows[1]) == 1


def test_index_beyond_the_batch_is_an_index_error(tmp_path):
    """An index past either end raises IndexError, as a list's does."""
    batch = _batch(tmp_path)

    for index in (3, -4):
        with pytest.raises(IndexError):
            batch[index]


def test_sendable_rows_are_those_with_a_report(tmp_path):
    """`sendable()` marks exactly the rows whose `Row` carries a `Report` (no issues)."""
    batch = _batch(tmp_path)

    assert batch.sendable().tolist() == [row.report is not None for row in batch]
    assert batch.sendable().tolist() == [True, False, True]
    assert batch.came_from is None  # not a fed-back Fix sheet
