"""The facade: several files, counts, and leaving the process as it found it."""

from __future__ import annotations

import gc

from intake_kit import (
    DANISH_HEADER,
    NOW,
    ROW_CONTACT_ONLY,
    ROW_FULL,
    SYSTEM_ID,
    write_text,
    write_xlsx,
)

from batch.intake import InputOptions, open_inputs


def test_several_files_in_one_run(tmp_path):
    """Each file keeps its own name, sheet, headers, rows and counts."""
    csv_path = write_text(tmp_path / "a.csv", [DANISH_HEADER, ROW_FULL, [], ROW_CONTACT_ONLY])
    xlsx_path = write_xlsx(tmp_path / "b.xlsx", [DANISH_HEADER, ROW_CONTACT_ONLY], sheet="Unge")

    files = open_inputs([csv_path, xlsx_path], InputOptions(system_id=SYSTEM_ID))
    rows = [[row for chunk in opened.chunks(NOW) for row in chunk] for opened in files]

    assert [(f.source_file, f.sheet, f.rows, f.blank) for f in files] == [
        (str(csv_path), None, 2, 1),
        (str(xlsx_path), "Unge", 1, 0),
    ]
    assert [[(r.source_file, r.source_row, r.sheet) for r in file_rows] for file_rows in rows] == [
        [(str(csv_path), 2, None), (str(csv_path), 4, None)],
        [(str(xlsx_path), 2, "Unge")],
    ]
    assert rows[0][1].report == rows[1][0].report  # the same data in either format


def test_cells_are_the_users_own_values(tmp_path):
    """Cells hold what the file said (not the cleaned values); empty cells are None."""
    path = write_text(tmp_path / "a.csv", [DANISH_HEADER, ROW_CONTACT_ONLY])

    (opened,) = open_inputs([path], InputOptions(system_id=SYSTEM_ID))
    (row,) = next(opened.chunks(NOW))

    assert row.cells["Mobil"] == "20-12-34-56"
    assert row.cells["Jobønske"] is None
    assert list(row.cells) == DANISH_HEADER


def test_garbage_collector_is_left_as_found(tmp_path):
    """Building rows pauses the garbage collector only for the chunk, in either state."""
    path = write_text(tmp_path / "a.csv", [DANISH_HEADER, ROW_FULL])
    options = InputOptions(system_id=SYSTEM_ID)

    assert gc.isenabled()
    list(open_inputs([path], options)[0].chunks(NOW))
    assert gc.isenabled()
    gc.disable()
    try:
        list(open_inputs([path], options)[0].chunks(NOW))
        assert not gc.isenabled()
    finally:
        gc.enable()
