"""The data team's afternoon: columns -> validate -> run -> fix -> run again, as they did it.

Every test here runs the real `batch` command (a child process) on files made the way people
make them, against the project's simulator over real HTTP on loopback where something is sent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from batch.intake.mapping import load_mapping
from tests.e2e.helpers import UNMASKED_CPR, read_rows, run_cli, summary_of, workbook_of
from tests.e2e.team_kit import HEADER, person_row, team_workbook

pytestmark = pytest.mark.slow


@pytest.fixture
def dirs(tmp_path):
    return tmp_path / "state", tmp_path / "reports"


def _cli(dirs, *args, env=None):
    return run_cli(*args, state_dir=dirs[0], report_dir=dirs[1], env=env)


def _summary_texts(workbook: Path) -> list[str]:
    book = load_workbook(workbook, read_only=True)
    texts = [str(v) for row in book["Summary"].iter_rows(values_only=True) for v in row if v]
    book.close()
    return texts


def test_columns_shows_every_header_and_saves_a_mapping(tmp_path, dirs):
    """`batch columns`: each header's field or "ignored", examples masked, a mapping to reuse."""
    header = [*HEADER, "Bemærkning", "KontaktMial", "Jobønskee"]
    rows = [[*person_row(0), "ring efter 16", "x@kui.dk", "Tømrer"]]
    path = team_workbook(tmp_path / "unge.xlsx", rows, header=header, title="Udtræk 1. dec.")
    mapping = tmp_path / "kolonner.toml"

    done = _cli(dirs, "columns", path, "--save-mapping", mapping)

    assert done.code == 0, done.output
    assert "header in row 2" in done.stdout
    assert "Bemærkning" in done.stdout
    assert "ignored" in done.stdout
    assert "near match" in done.stdout  # Jobønskee feeds JobOnsker, with its score
    assert "looks like KontaktMail" in done.stdout  # KontaktMial: "Kontakt e-mail" won
    assert "091005-XXXX" in done.stdout or "0910XXXXXX" in done.stdout.replace("-", "")
    assert not UNMASKED_CPR.search(done.output)
    saved = load_mapping(mapping)
    assert saved["CPR-nr."] == "CPRNr"
    assert saved["Bemærkning"] == "ignore"
    again = _cli(dirs, "columns", path, "--mapping", mapping)
    assert again.code == 0, again.output
    assert "mapping file" in again.stdout


def test_a_missing_field_names_its_headers_and_its_setting(tmp_path, dirs):
    """No institution column: the message names the field, the headers and --institution."""
    rows = [[r[0], r[2], r[3], r[4]] for r in (person_row(0),)]
    header = ["CPR-nr.", "Kontaktperson", "Kontakt e-mail", "Kontakt registreret"]
    path = team_workbook(tmp_path / "unge.xlsx", rows, header=header)

    done = _cli(dirs, "validate", path)

    assert done.code == 2, done.output
    assert "KommuneInstitutionNummer" in done.stderr
    assert "Institutionsnummer".casefold() in done.stderr.casefold()
    assert "--institution" in done.stderr
    assert "BATCH_INSTITUTION" in done.stderr
    assert "Traceback" not in done.output


def test_hidden_rows_and_a_totals_row_are_said_and_followed(tmp_path, dirs):
    """A filtered sheet with a totals row: hidden rows named, sent by default, skipped on ask."""
    rows = [person_row(i) for i in range(4)]
    path = team_workbook(
        tmp_path / "unge.xlsx",
        rows,
        hidden_rows=(1, 2),
        hidden_columns=("B",),
        totals=True,
        use_filter=True,
    )

    sent = _cli(dirs, "validate", path)
    skipped = _cli(dirs, "validate", path, "--hidden-rows", "skip")

    assert sent.code == 0, sent.output
    assert "2 rows were hidden by a filter (3-4)" in sent.stderr
    assert "row 6 is a totals row: left out" in sent.stderr
    assert 'B "Institutionsnummer"' in sent.stderr
    book = workbook_of(dirs[1])
    assert skipped.code == 1, skipped.output
    sheets = read_rows(book)
    assert sorted(int(str(r["Source row"])) for r in sheets["Fix"]) == [3, 4]
    assert all(r["Result code"] == "hidden-row" for r in sheets["Fix"])
    assert summary_of(book)["rows"] == 4  # the totals row is no row
    texts = _summary_texts(book)
    assert any("Totals rows, left out (not data): 6" in t for t in texts)
    assert any("Hidden rows, not sent (in Fix): 3-4" in t for t in texts)
    assert "Kontakt e-mail" in texts  # the columns table: every header and what it fed


def test_validate_shows_what_would_be_sent_and_how_long(tmp_path, dirs):
    """The Ready sheet holds the request field by field as sent; validate estimates the time."""
    rows = [person_row(0), person_row(1)]
    rows[0][0] = "091005-4836"  # as a person types it: sent without the hyphen
    path = team_workbook(tmp_path / "unge.xlsx", rows)

    done = _cli(dirs, "validate", path, "--rate", "5")

    assert done.code == 0, done.output
    assert "2 rows to send, about 1 s at 5/s" in done.stderr
    assert "CPRNr" in done.stderr  # the short form of the columns table
    ready = read_rows(workbook_of(dirs[1]))["Ready"]
    first = next(r for r in ready if r["Source row"] == 2)
    assert first["CPR-nr."] == "091005-4836"  # the user's own cell, as written
    assert first["Sent: CPRNr"] == "0910054836"
    assert first["Sent: KommuneInstitutionNummer"] == "751001"
    assert str(first["Sent: KontaktRegistreringstid"]).endswith(("+01:00", "+02:00"))
    assert first["Sent: JobOnsker"] is None  # no job wish: left out of the request
