"""The data team's afternoon: columns -> validate -> run -> fix -> run again, as they did it.

Every test here runs the real `batch` command (a child process) on files made the way people
make them, against the project's simulator over real HTTP on loopback where something is sent.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook

from batch.intake.mapping import load_mapping
from tests.e2e.helpers import UNMASKED_CPR, Run, read_rows, run_cli, summary_of, workbook_of
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
    assert 'B \\"Institutionsnummer\\"' in sent.stderr  # a JSON log line: quotes escaped
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


def _summary_value(workbook: Path, label: str) -> object:
    book = load_workbook(workbook, read_only=True)
    for row in book["Summary"].iter_rows(values_only=True):
        if row and row[0] == label:
            book.close()
            return row[1]
    book.close()
    return None


def test_the_fix_round_trip_remembers_its_context(tmp_path, fresh_simulator):
    """Columns -> run -> fix in Excel -> the Summary's next command -> the export again.

    The export has its own headers (a mapping file) and no institution column (a flag): the
    fixed workbook goes back with no options at all, its rows say where they came from, and
    the same export sent again shows the fixed row as Unchanged, still wrong at the source.
    """
    sim = fresh_simulator()
    (tmp_path / "state").mkdir()
    work = tmp_path / "kontor"
    work.mkdir()
    header = ["Ung", "Vejleder", "Vejleder mail", "Registreret"]
    rows = [
        [row[0], row[2], row[3], row[4]] for row in (person_row(0), person_row(1), person_row(2))
    ]
    rows[1][2] = "vejleder(at)kui.dk"  # a mail address UDB's schema refuses: a row to fix
    team_workbook(work / "eksport.xlsx", rows, header=header)
    (work / "kolonner.toml").write_text(
        '[columns]\n"Ung" = "CPRNr"\n"Vejleder" = "KontaktNavn"\n'
        '"Vejleder mail" = "KontaktMail"\n"Registreret" = "KontaktRegistreringstid"\n',
        encoding="utf-8",
    )
    env = {"BATCH_STATE_DIR": str(tmp_path / "state")}
    service = ["--wsdl", sim.wsdl_url, "--system-id", "KUI-TEST", "--rate", "200"]

    def batch(*args: object) -> Run:
        return run_cli(*args, state_dir=tmp_path / "state", report_dir=Path("rapporter"),
                       env=env, cwd=work)  # fmt: skip

    first = batch("run", "eksport.xlsx", "--mapping", "kolonner.toml", "--institution",
                  "751001", *service)  # fmt: skip
    assert first.code == 1, first.output
    book_path = workbook_of(work / "rapporter")
    command = str(_summary_value(book_path, "Next command"))
    assert command.startswith("batch run rapporter/")
    assert "--sheet Fix" in command
    assert "next: correct the Fix sheet" in first.stderr

    book = load_workbook(book_path)
    fix = book["Fix"]
    titles = [cell.value for cell in fix[1]]
    assert fix.max_row == 2
    fix.cell(2, titles.index("Vejleder mail") + 1).value = "vejleder@kui.dk"
    book.save(book_path)

    checked = batch("validate", book_path.relative_to(work))  # no --sheet, no options at all
    assert checked.code == 0, checked.output
    assert "is a result workbook: reading its Fix sheet" in checked.stderr

    second = batch(*shlex.split(command)[1:])  # pasted as the Summary says, in the same folder
    assert second.code == 0, second.output
    assert "mapping" in second.stderr
    assert "institution" in second.stderr
    accepted = read_rows(workbook_of(work / "rapporter"))["Accepted"]
    assert [row["Origin"] for row in accepted] == ["Fix of eksport.xlsx [Unge] row 3"]

    third = batch("run", "eksport.xlsx", "--mapping", "kolonner.toml", "--institution",
                  "751001", *service)  # fmt: skip
    assert third.code == 0, third.output
    last = workbook_of(work / "rapporter")
    unchanged = read_rows(last)["Unchanged"]
    again = next(row for row in unchanged if row["Source row"] == 3)
    assert again["Result code"] == "fixed"
    assert "still wrong in the source system" in str(again["Result text"])
    assert _summary_value(last, "Fixed here, still wrong in the source") == 1
    assert "1 row was fixed here earlier but is still wrong" in third.stderr


def test_simulator_on_a_port_in_use_says_so_in_one_line(simulator, dirs):
    """`batch simulator --port P` with P taken: one clear line, exit 2, no traceback."""
    port = urlsplit(simulator.wsdl_url).port

    done = _cli(dirs, "simulator", "--port", str(port))

    assert done.code == 2, done.output
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "--port 0" in done.stderr
    assert "Traceback" not in done.output
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_missing_system_id_names_the_flag_the_variable_and_the_key(tmp_path, simulator, dirs):
    """The real platform without a system id: one line naming every way to set it, exit 2."""
    path = team_workbook(tmp_path / "unge.xlsx", [person_row(0)])

    done = _cli(dirs, "run", path, "--wsdl", simulator.wsdl_url)

    assert done.code == 2, done.output
    for way in ("--system-id", "BATCH_SYSTEM_ID", "system_id in the config file"):
        assert way in done.stderr
    assert "Traceback" not in done.output


def test_the_team_reads_it_in_danish(tmp_path, dirs):
    """--language da: the columns table, the notes and the row texts are Danish."""
    rows = [person_row(0), person_row(1)]
    rows[1][3] = "ikke-en-adresse"
    path = team_workbook(tmp_path / "unge.xlsx", rows, hidden_rows=(0,), totals=True)

    columns = _cli(dirs, "columns", path, "--language", "da")
    checked = _cli(dirs, "validate", path, "--language", "da")

    assert columns.code == 0, columns.output
    assert "overskrifter i række 1" in columns.stdout
    assert "kendt navn" in columns.stdout
    assert checked.code == 1, checked.output
    assert "kolonner der læses" in checked.stderr
    assert "1 række var skjult" in checked.stderr
    assert "er en sumrække: udeladt" in checked.stderr
    assert "rækker skal sendes" in checked.stderr or "række skal sendes" in checked.stderr
    book = load_workbook(workbook_of(dirs[1]), read_only=True)  # a Danish workbook: "Ret"
    lines = list(book["Ret"].iter_rows(values_only=True))
    fix = [dict(zip(lines[0], line, strict=False)) for line in lines[1:]]
    book.close()
    assert "er ikke en gyldig e-mailadresse" in str(fix[0]["Resultattekst"])
