"""CSV and TSV: encodings, delimiters, quoting, header detection and exact row numbers."""

from __future__ import annotations

from datetime import datetime

import pytest
from intake_kit import DANISH_HEADER, ROW_CONTACT_ONLY, ROW_FULL, SYSTEM_ID, read, write_text

from batch.errors import InputError
from batch.intake import csv_encoding, csv_file
from batch.intake.times import COPENHAGEN
from batch.records import Contact, Report, Wish

MOMENT = datetime(2025, 6, 15, 14, 30, tzinfo=COPENHAGEN)
FULL_REPORT = Report(
    system_id=SYSTEM_ID,
    cpr="0910054836",
    institution=751001,
    contact=Contact("Mette Holm", "mette.holm@kui.ungekommune.dk", 20123456, MOMENT),
    job=Wish("Tømrer", MOMENT),
    education=Wish("EUX Byggeri", MOMENT),
)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("cp1252", False), ("utf-8", False), ("utf-8", True), ("utf-16", False), ("latin-1", False)],
)
def test_encodings_read_danish_letters_exactly(tmp_path, encoding, bom):
    """Windows-1252, UTF-8 with and without BOM, UTF-16 and Latin-1 all give the same rows."""
    path = write_text(
        tmp_path / "eksport.csv", [DANISH_HEADER, ROW_FULL], encoding=encoding, bom=bom
    )

    result = read(path)

    assert result.file.headers == tuple(DANISH_HEADER)  # no BOM glued to the first header
    assert [row.source_row for row in result.rows] == [2]
    row = result.rows[0]
    assert row.report == FULL_REPORT
    assert row.cells["Bemærkning"] == "Aftalt på møde"
    assert row.cells["CPR-nr."] == "091005-4836"


def test_latin1_bytes_undefined_in_cp1252_still_read(tmp_path):
    """A byte Windows-1252 leaves undefined (0x81) makes the file Latin-1, not an error."""
    path = tmp_path / "latin.csv"
    content = ";".join(DANISH_HEADER) + "\n" + ";".join([*ROW_FULL[:-1], "note \x81"]) + "\n"
    path.write_bytes(content.encode("latin-1"))

    result = read(path)

    assert result.rows[0].report == FULL_REPORT
    assert result.rows[0].cells["Bemærkning"] == "note \x81"


@pytest.mark.parametrize(
    ("delimiter", "suffix"), [(";", ".csv"), (",", ".csv"), ("\t", ".tsv"), ("|", ".txt")]
)
def test_delimiters_are_detected(tmp_path, delimiter, suffix):
    """Semicolon, comma, tab and pipe files are split on their own delimiter."""
    path = write_text(
        tmp_path / f"eksport{suffix}",
        [DANISH_HEADER, ROW_FULL, ROW_CONTACT_ONLY],
        delimiter=delimiter,
        encoding="utf-8",
    )

    result = read(path)

    assert [row.source_row for row in result.rows] == [2, 3]
    assert result.rows[0].report == FULL_REPORT
    assert result.rows[1].report is not None
    assert result.rows[1].report.contact is not None
    assert result.rows[1].report.contact.phone == 20123456


def test_quoted_delimiters_and_newlines_keep_later_row_numbers(tmp_path):
    """A quoted `;` and a quoted newline stay in their cell; later rows keep their numbers."""
    noted = [*ROW_FULL[:-1], 'Ringede; "aftale" om møde\r\nNæste linje']
    path = write_text(tmp_path / "q.csv", [DANISH_HEADER, noted, ROW_CONTACT_ONLY, ROW_FULL])

    result = read(path)

    assert [row.source_row for row in result.rows] == [2, 3, 4]
    assert result.rows[0].cells["Bemærkning"] == 'Ringede; "aftale" om møde\r\nNæste linje'
    assert all(row.report is not None for row in result.rows)


def _with_stray_quote(lines: list[str], line: int, field: int) -> list[str]:
    cells = lines[line].split(";")
    cells[field] = '"' + cells[field]
    return [*lines[:line], ";".join(cells), *lines[line + 1 :]]


@pytest.mark.parametrize("closed_later", [False, True], ids=["to-the-end", "by-a-later-quote"])
def test_a_quote_that_swallows_records_is_refused_with_row_and_column(tmp_path, closed_later):
    """A quote not closed where its cell ends hides the records after it: refused, saying where."""
    rows = [DANISH_HEADER, ROW_FULL, ROW_CONTACT_ONLY, ROW_FULL, ROW_CONTACT_ONLY, ROW_FULL]
    lines = [";".join(row) for row in rows]
    lines = _with_stray_quote(lines, 2, DANISH_HEADER.index("Kontaktperson"))
    if closed_later:  # a second stray quote two records on pairs with the first
        lines[4] = lines[4] + '"'
    path = tmp_path / "citat.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")

    with pytest.raises(InputError, match='row 3, column "Kontaktperson"') as caught:
        read(path)

    assert "quote" in str(caught.value)
    assert str(caught.value).startswith(str(path))


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_title_rows_and_blank_rows_are_skipped_and_counted(tmp_path, newline):
    """Rows above the header are not data; blank rows below it count as blank, not as rows."""
    blank = [""] * len(DANISH_HEADER)
    lines = [
        ["Ungeliste efterår 2025"],
        [],
        DANISH_HEADER,
        ROW_FULL,
        blank,
        [],
        ["   "] + [""] * (len(DANISH_HEADER) - 1),
        ROW_CONTACT_ONLY,
    ]
    path = write_text(tmp_path / "titel.csv", lines, newline=newline)

    result = read(path)

    assert [row.source_row for row in result.rows] == [4, 8]
    assert result.file.rows == 2
    assert result.file.blank == 3


def test_short_rows_are_padded_and_long_rows_flagged(tmp_path):
    """A record with fewer fields is a row; one with more fields gets an issue, in its place."""
    short = ROW_CONTACT_ONLY[:6]
    long = [*ROW_FULL, "løst felt", "endnu et"]
    path = write_text(tmp_path / "skæv.csv", [DANISH_HEADER, short, long, ROW_FULL])

    result = read(path)

    rows = result.by_row()
    assert sorted(rows) == [2, 3, 4]
    assert rows[2].report is not None
    assert rows[2].cells["Bemærkning"] is None
    assert [issue.slug for issue in rows[3].issues] == ["extra-fields"]
    assert rows[3].report is None
    assert rows[4].report == FULL_REPORT


def test_header_only_file_has_no_rows(tmp_path):
    """A file with a header and nothing under it is a quiet night: zero rows, no error."""
    path = write_text(tmp_path / "tom.csv", [DANISH_HEADER])

    result = read(path)

    assert result.rows == []
    assert (result.file.rows, result.file.blank) == (0, 0)
    assert result.file.headers == tuple(DANISH_HEADER)


def test_rows_across_chunks_keep_their_numbers(tmp_path):
    """Chunking never shifts or loses a row: 25 rows read 4 at a time are numbered 2..26."""
    lines = [DANISH_HEADER] + [ROW_FULL] * 25
    path = write_text(tmp_path / "mange.csv", lines, encoding="utf-8")

    result = read(path, chunk_rows=4)

    assert [row.source_row for row in result.rows] == list(range(2, 27))
    assert all(row.report == FULL_REPORT for row in result.rows)


def test_unknown_columns_and_duplicate_headers_are_carried(tmp_path):
    """Columns the spec doesn't know are kept; a repeated header is made unique."""
    header = [*DANISH_HEADER, "Note", "Note", ""]
    path = write_text(tmp_path / "ekstra.csv", [header, [*ROW_FULL, "a", "b", "c"]])

    result = read(path)

    assert result.file.headers[-3:] == ("Note", "Note (2)", "Column N")
    assert result.rows[0].cells["Note (2)"] == "b"
    assert result.rows[0].cells["Column N"] == "c"
    assert result.rows[0].source_file == str(path)
    assert result.rows[0].sheet is None


def _big_cell_file(path, cell_bytes):
    """300 KB of rows, a blank row, a row with a huge job wish, then five more rows."""
    huge = [*ROW_FULL[:6], "Tømrer " + "x" * cell_bytes, *ROW_FULL[7:]]
    blank = [""] * len(DANISH_HEADER)
    return write_text(path, [DANISH_HEADER, *[ROW_FULL] * 2000, blank, huge, *[ROW_FULL] * 5])


def test_a_record_larger_than_a_block_costs_only_its_row(tmp_path, monkeypatch):
    """A record over pyarrow's block: read again with larger blocks, one row to fix, none twice."""
    monkeypatch.setattr(csv_file, "_BLOCK_BYTES", 64 << 10)  # a 1 MB cell then needs two regrowths
    path = _big_cell_file(tmp_path / "stor.csv", 1 << 20)

    result = read(path, chunk_rows=100)  # chunks are handed on before pyarrow fails

    assert [row.source_row for row in result.rows] == [*range(2, 2002), *range(2003, 2009)]
    assert result.file.blank == 1
    huge = result.by_row()[2003]
    assert [issue.slug for issue in huge.issues] == ["job-wish-too-long"]
    assert [row.source_row for row in result.rows if row.report != FULL_REPORT] == [2003]


def test_a_record_larger_than_the_largest_block_is_one_clear_line(tmp_path, monkeypatch):
    """Blocks grow to a cap; a record beyond it makes the file unreadable, saying why."""
    monkeypatch.setattr(csv_file, "_BLOCK_BYTES", 64 << 10)
    monkeypatch.setattr(csv_file, "_MAX_BLOCK_BYTES", 1 << 20)
    path = _big_cell_file(tmp_path / "stor.csv", 2 << 20)

    with pytest.raises(InputError, match="a record is larger than 1 MiB") as caught:
        read(path)

    assert str(caught.value).startswith(str(path))


def test_a_nul_byte_in_a_cell_is_dropped_not_a_binary_file(tmp_path):
    """One NUL inside a cell: the file is text, the NUL is dropped like any control character."""
    nul = [*ROW_FULL[:6], "Tøm\x00rer", *ROW_FULL[7:]]
    path = write_text(tmp_path / "nul.csv", [DANISH_HEADER, ROW_FULL, nul, ROW_FULL])

    result = read(path)

    assert [row.source_row for row in result.rows] == [2, 3, 4]
    assert all(row.report == FULL_REPORT for row in result.rows)
    assert result.rows[1].cells["Jobønske"] == "Tøm\x00rer"  # the user's own cell, as read


def test_lines_not_in_utf8_are_read_as_windows_1252_in_a_utf8_file(tmp_path):
    """A UTF-8 file with a cp1252 header and a Latin-1 row: every line's æøå read exactly."""
    quoted = [*ROW_FULL[:-1], "Aftalt på\r\nmøde"]
    latin = [*ROW_FULL[:-1], "Aftalt på møde \x81"]
    lines = [
        _line(DANISH_HEADER).encode("cp1252"),
        _line(ROW_FULL).encode("utf-8"),
        _line(latin).encode("latin-1"),
        _line(quoted).encode("utf-8"),
    ]
    path = tmp_path / "blandet.csv"
    path.write_bytes(b"".join(lines))

    result = read(path)

    assert result.file.headers == tuple(DANISH_HEADER)
    assert [row.source_row for row in result.rows] == [2, 3, 4]
    assert all(row.report == FULL_REPORT for row in result.rows)
    notes = [row.cells["Bemærkning"] for row in result.rows]
    assert notes == ["Aftalt på møde", "Aftalt på møde \x81", "Aftalt på\r\nmøde"]


def _line(cells: list[str]) -> str:
    return ";".join(f'"{cell}"' if "\n" in cell else cell for cell in cells) + "\r\n"


def test_mixed_text_stream_decodes_each_line_across_read_blocks(tmp_path, monkeypatch):
    """The transcoding stream gives the same text whatever its block size cuts through."""
    monkeypatch.setattr(csv_encoding, "_SCAN_BYTES", 7)  # lines and characters cut across blocks
    lines = ["Tømrer æøå\n", "Smørrebrød\n", "", "Ærø €\r\n", "ascii\n", "sidste å"]
    encodings = ["utf-8", "cp1252", "utf-8", "cp1252", "cp1252", "utf-8"]
    path = tmp_path / "linjer.csv"
    path.write_bytes(b"".join(t.encode(e) for t, e in zip(lines, encodings, strict=True)))

    with csv_encoding.MixedText(path) as stream:
        assert stream.read().decode("utf-8") == "".join(lines)
