"""Files that cannot be used stop the run with one clear line (and exit 2 from the CLI)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from intake_kit import DANISH_HEADER, ROW_FULL, SYSTEM_ID, read, write_text, write_xlsx

from batch.errors import InputError
from batch.intake import InputOptions, open_inputs


def _garbage(path: Path) -> Path:
    path.write_bytes(random.Random(3).randbytes(4096))
    return path


def _password_protected(path: Path) -> Path:
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml", reason="msoffcrypto encrypts it")
    plain = write_xlsx(path.with_name("plain.xlsx"), [DANISH_HEADER, ROW_FULL])
    with plain.open("rb") as source, path.open("wb") as target:
        ooxml.OOXMLFile(source).encrypt("hemmelig", target)
    return path


BAD_FILES = {
    "empty": (lambda d: _touch(d / "tom.csv"), "empty"),
    "blank lines only": (lambda d: _write(d / "blank.csv", b"\r\n\r\n  \r\n"), "empty"),
    "binary garbage as .csv": (lambda d: _garbage(d / "data.csv"), "not a text (CSV) file"),
    "xlsx that is not a zip": (lambda d: _write(d / "bog.xlsx", b"CPR;Navn\n1;2\n"), "not a zip"),
    "garbage .xlsx": (lambda d: _garbage(d / "bog.xlsx"), "not a zip"),
    "truncated xlsx": (lambda d: _truncated(d / "halv.xlsx"), "cannot be read as a workbook"),
    "password-protected": (lambda d: _password_protected(d / "kode.xlsx"), "password-protected"),
    "no header": (
        lambda d: write_text(d / "uden.csv", [["a", "b"], ["1", "2"]]),
        "no header row in the first 20 rows",
    ),
}


def _touch(path: Path) -> Path:
    path.touch()
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _truncated(path: Path) -> Path:
    whole = write_xlsx(path.with_name("hel.xlsx"), [DANISH_HEADER, ROW_FULL]).read_bytes()
    return _write(path, whole[: len(whole) // 2])


def _assert_one_clear_line(error: InputError, path: Path, expected: str) -> None:
    message = str(error)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected in message


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_is_one_clear_line(tmp_path, kind):
    """Each kind of unusable file raises InputError naming the file and what is wrong."""
    make, expected = BAD_FILES[kind]
    path = make(tmp_path)

    with pytest.raises(InputError) as caught:
        read(path)

    _assert_one_clear_line(caught.value, path, expected)


def test_missing_sheet_lists_the_sheets(tmp_path):
    """A sheet name or index that doesn't exist names the sheets there are."""
    path = write_xlsx(tmp_path / "bog.xlsx", [DANISH_HEADER, ROW_FULL], sheet="Unge")

    with pytest.raises(InputError) as by_name:
        read(path, sheet="Fix")
    with pytest.raises(InputError) as by_index:
        read(path, sheet=3)

    _assert_one_clear_line(by_name.value, path, 'no sheet named "Fix" (sheets: "Unge")')
    _assert_one_clear_line(by_index.value, path, "no sheet number 3")


def test_missing_required_column_lists_headers_and_suggests(tmp_path):
    """A missing required column lists the headers found and the closest one to map."""
    header = ["CPR-nr.", "Inst.nummer", "Kontaktperson", "Kontakt e-mail", "Kontakt registreret"]
    path = write_text(tmp_path / "mangler.csv", [header, ["0910054836", "751001", "a", "b", "c"]])

    with pytest.raises(InputError) as caught:
        read(path)

    message = str(caught.value)
    _assert_one_clear_line(caught.value, path, "missing required column KommuneInstitutionNummer")
    assert '"CPR-nr.", "Inst.nummer", "Kontaktperson"' in message
    assert '"Inst.nummer" -> KommuneInstitutionNummer' in message
    assert "--mapping" in message


def test_configured_institution_makes_its_column_optional(tmp_path):
    """With the institution number configured, a file without that column is fine."""
    header = ["CPR", "Kontaktperson", "Kontakt e-mail", "Kontakt registreret"]
    path = write_text(
        tmp_path / "ok.csv", [header, ["0910054836", "A B", "a@b.dk", "15.06.2025 14:30"]]
    )

    result = read(path, institution=751001)

    assert result.rows[0].report is not None
    assert result.rows[0].report.institution == 751001


def test_no_complete_group_is_a_missing_column(tmp_path):
    """Without every column of at least one group, the closest group's gaps are named."""
    path = write_text(
        tmp_path / "halv.csv", [["CPR", "Institutionsnummer", "Jobønske"], ["1", "2", "3"]]
    )

    with pytest.raises(InputError) as caught:
        read(path)

    _assert_one_clear_line(caught.value, path, "missing required column JobRegistreringstid")


def test_no_cpr_number_in_error_messages(tmp_path):
    """A header search that fails shows the first row with CPR numbers masked."""
    path = write_text(tmp_path / "cpr.csv", [["0910054836", "Mette"], ["0603114290", "Jonas"]])

    with pytest.raises(InputError) as caught:
        read(path)

    assert "0910054836" not in str(caught.value)
    assert "091005-XXXX" in str(caught.value)


def test_one_bad_file_stops_before_any_row(tmp_path):
    """Opening several files checks every header first; a bad second file raises at once."""
    good = write_text(tmp_path / "god.csv", [DANISH_HEADER, ROW_FULL])
    bad = _touch(tmp_path / "tom.csv")

    with pytest.raises(InputError, match=r"tom\.csv"):
        open_inputs([good, bad], InputOptions(system_id=SYSTEM_ID))


@pytest.mark.slow  # a `python -m batch` process each: a few seconds
def test_cli_validate_exits_2_without_traceback(tmp_path):
    """`batch validate` on an unusable file prints one error line and exits 2, no traceback."""
    path = _garbage(tmp_path / "data.csv")

    done = _validate_cli(tmp_path, path)

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert str(path) in done.stdout + done.stderr


@pytest.mark.slow  # a `python -m batch` process: a few seconds
def test_cli_validate_header_only_exits_0(tmp_path):
    """`batch validate` on a header-only file reports zero rows and exits 0."""
    path = write_text(tmp_path / "tom.csv", [DANISH_HEADER])

    done = _validate_cli(tmp_path, path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def _validate_cli(tmp_path: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "batch",
            "validate",
            str(path),
            "--system-id",
            SYSTEM_ID,
            "--state-dir",
            str(tmp_path / "state"),
            "--report-dir",
            str(tmp_path / "reports"),
            "--log-format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )


def test_cpr_in_file_name_or_header_is_masked(tmp_path):
    """A CPR number in the file name or a header cell never appears unmasked in the error."""
    header = ["CPR", "Kontaktperson", "0910054836"]
    path = write_text(tmp_path / "0603114290.csv", [header, ["1", "2", "3"]])

    with pytest.raises(InputError) as caught:
        read(path)

    message = str(caught.value)
    assert "missing required column" in message
    assert "0910054836" not in message
    assert "0603114290" not in message
    assert "060311-XXXX.csv" in message
