"""Validation rules and UDB's local pre-checks, through whole files."""

from __future__ import annotations

import pytest
from intake_kit import DANISH_HEADER, ROW_FULL, SYSTEM_ID, read, write_text

from batch.outcomes import result_text
from batch.records import Issue, Row

COLUMN = dict(zip(DANISH_HEADER, range(len(DANISH_HEADER)), strict=True))


def _row(**changes: str) -> list[str]:
    """The full example row with some cells changed (keys are headers, spaces as `_`)."""
    row = ROW_FULL.copy()
    for key, value in changes.items():
        row[COLUMN[key.replace("_", " ")]] = value
    return row


def _read_rows(
    tmp_path, *rows: list[str], header: list[str] = DANISH_HEADER, **options
) -> list[Row]:
    path = write_text(tmp_path / "rows.csv", [header, *rows], encoding="utf-8")
    return read(path, **options).rows


def _slugs(row: Row) -> list[str]:
    return [issue.slug for issue in row.issues]


def _mod11_fails(cpr: str) -> bool:
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    return sum(int(d) * w for d, w in zip(cpr, weights, strict=True)) % 11 != 0


def test_valid_row_has_no_issues_and_a_report(tmp_path):
    """The example row is valid: no issues, and a report to send."""
    (row,) = _read_rows(tmp_path, ROW_FULL)

    assert row.issues == ()
    assert row.report is not None


@pytest.mark.parametrize(
    ("cpr", "slug"),
    [
        ("", "cpr-missing"),
        ("09100548", "cpr-invalid"),
        ("091005483X", "cpr-invalid"),
        ("3102054836", "cpr-birth-date"),
        ("0913054836", "cpr-birth-date"),
    ],
)
def test_bad_cpr_numbers(tmp_path, cpr, slug):
    """A CPR number must be 10 digits with a real date of birth."""
    (row,) = _read_rows(tmp_path, _row(**{"CPR-nr.": cpr}))

    assert _slugs(row) == [slug]
    assert row.report is None
    assert row.issues[0].column == "CPR-nr."
    assert row.issues[0].field == "CPRNr"
    assert "CPR-nr." in row.issues[0].message


def test_modulus_11_is_not_checked(tmp_path):
    """A CPR number failing the old modulus-11 check is valid (issued since 2007)."""
    cpr = "0910054837"
    assert _mod11_fails(cpr)

    (row,) = _read_rows(tmp_path, _row(**{"CPR-nr.": cpr}))

    assert row.issues == ()


def test_aged_25_today_is_dropped_with_code_15(tmp_path):
    """Turning 25 today (in Copenhagen) is UDB's code 15: hard, not sent; 24 is fine."""
    turns_25, still_24 = "2711004001", "2811004001"  # 27/28 Nov 2000; tests run on 27 Nov 2025

    old, young = _read_rows(tmp_path, _row(**{"CPR-nr.": turns_25}), _row(**{"CPR-nr.": still_24}))

    assert old.issues == (
        Issue(
            slug="age-limit",
            message=result_text(15, checked_locally=True),
            field="CPRNr",
            column="CPR-nr.",
            code="15",
            hard=True,
        ),
    )
    assert old.report is None
    assert young.issues == ()


def test_registration_in_the_future_is_code_280(tmp_path):
    """A time more than the tolerance after now is UDB's 280 (soft); within it is fine."""
    # Tests run at 2025-11-27 10:00 Copenhagen time; the tolerance is 5 minutes.
    later = _row(Jobønske_registreret="27.11.2025 10:06")
    almost = _row(Jobønske_registreret="27.11.2025 10:04")

    future, fine = _read_rows(tmp_path, later, almost)

    assert future.issues == (
        Issue(
            slug="registration-in-future",
            message=result_text(280, checked_locally=True),
            field="JobRegistreringstid",
            column="Jobønske registreret",
            code="280",
        ),
    )
    assert not future.issues[0].hard
    assert fine.issues == ()


@pytest.mark.parametrize(
    ("written", "slug"),
    [
        ("15.06.2025", "contact-time-date-only"),
        ("30.03.2025 02:15", "contact-time-nonexistent"),
        ("i går", "contact-time-invalid"),
        ("31.06.2025 10:00", "contact-time-invalid"),
    ],
)
def test_time_problems(tmp_path, written, slug):
    """A bare date, a time skipped by summer time and an unreadable time are issues."""
    (row,) = _read_rows(tmp_path, _row(Kontakt_registreret=written))

    assert _slugs(row) == [slug]
    assert row.issues[0].column == "Kontakt registreret"


def test_date_only_with_configured_time_is_fine(tmp_path):
    """With a configured time of day, a bare date is valid."""
    from datetime import time

    (row,) = _read_rows(tmp_path, _row(Kontakt_registreret="15.06.2025"), date_only_time=time(12))

    assert row.issues == ()
    assert row.report is not None
    assert row.report.contact is not None
    assert row.report.contact.registered.isoformat() == "2025-06-15T12:00:00+02:00"


def test_a_group_needs_all_its_required_fields(tmp_path):
    """A contact with a phone but no name, mail or time lacks all three; wishes need a time."""
    only_phone = ["0910054836", "751001", "", "", "20123456", "", "", "", "", "", ""]
    wish_without_time = _row(Jobønske_registreret="")

    phone_row, wish_row = _read_rows(tmp_path, only_phone, wish_without_time)

    assert _slugs(phone_row) == [
        "contact-name-missing",
        "contact-mail-missing",
        "contact-time-missing",
    ]
    assert _slugs(wish_row) == ["job-time-missing"]
    assert "Jobønske registreret" in wish_row.issues[0].message


def test_a_group_whose_column_is_absent(tmp_path):
    """When a group's column is missing from the file, the message says to add it."""
    header = [
        "CPR",
        "Institutionsnummer",
        "Kontaktperson",
        "Kontakt registreret",
        "Jobønske",
        "Jobønske registreret",
    ]
    row = ["0910054836", "751001", "Mette Holm", "15.06.2025 14:30", "Smed", "15.06.2025 14:30"]

    (result,) = _read_rows(tmp_path, row, header=header)

    assert _slugs(result) == ["contact-mail-missing"]
    assert result.issues[0].column is None
    assert "no column for the contact person's e-mail (KontaktMail)" in result.issues[0].message


def test_nothing_to_report(tmp_path):
    """A row with a CPR number but no group at all has nothing to report."""
    (row,) = _read_rows(tmp_path, ["0910054836", "751001"] + [""] * 9)

    assert _slugs(row) == ["nothing-to-report"]


def test_lengths_from_the_spec(tmp_path):
    """Names and mails up to 100 characters, wishes up to 200; one more is an issue."""
    fits = _row(Kontaktperson="N" * 100, Jobønske="J" * 200, Uddannelsesønske="U" * 200)
    too_long = _row(Kontaktperson="N" * 101, Jobønske="J" * 201, Uddannelsesønske="U" * 201)
    long_mail = _row(**{"Kontakt e-mail": "m" * 80 + "@" + "d" * 17 + ".dk"})

    fine, wrong, mail = _read_rows(tmp_path, fits, too_long, long_mail)

    assert fine.issues == ()
    assert _slugs(wrong) == [
        "contact-name-too-long",
        "job-wish-too-long",
        "education-wish-too-long",
    ]
    assert _slugs(mail) == ["contact-mail-too-long"]


def test_bad_mail_and_phone(tmp_path):
    """An e-mail must pass the syntax check; a phone must be 8 digits after cleaning."""
    bad_mail = _row(**{"Kontakt e-mail": "mette.holm(at)kommune"})
    bad_phone = _row(Mobil="+45 2012 345")
    no_phone = _row(Mobil="")

    mail, phone, none = _read_rows(tmp_path, bad_mail, bad_phone, no_phone)

    assert _slugs(mail) == ["contact-mail-invalid"]
    assert _slugs(phone) == ["contact-phone-invalid"]
    assert none.issues == ()
    assert none.report is not None
    assert none.report.contact is not None
    assert none.report.contact.phone is None


def test_institution_from_file_or_configuration(tmp_path):
    """A number in the file wins for its row; the configured one fills empty cells."""
    own, empty, wrong = _read_rows(
        tmp_path,
        _row(Institutionsnummer="751002"),
        _row(Institutionsnummer=""),
        _row(Institutionsnummer="7510O1"),
        institution=751001,
    )

    assert own.report is not None
    assert own.report.institution == 751002
    assert empty.report is not None
    assert empty.report.institution == 751001
    assert _slugs(wrong) == ["institution-invalid"]


def test_institution_missing_without_configuration(tmp_path):
    """Without a configured number, an empty institution cell is an issue."""
    (row,) = _read_rows(tmp_path, _row(Institutionsnummer=""))

    assert _slugs(row) == ["institution-missing"]


def test_system_id_from_file_or_configuration(tmp_path):
    """A ModtagerSystemID in the file wins for its row; the configured one fills the rest."""
    header = [*DANISH_HEADER, "ModtagerSystemID"]
    own, configured, too_long = _read_rows(
        tmp_path,
        [*ROW_FULL, "EGET-SYSTEM"],
        [*ROW_FULL, ""],
        [*ROW_FULL, "S" * 101],
        header=header,
    )

    assert own.report is not None
    assert own.report.system_id == "EGET-SYSTEM"
    assert configured.report is not None
    assert configured.report.system_id == SYSTEM_ID
    assert _slugs(too_long) == ["system-id-too-long"]


def test_no_message_holds_a_full_cpr_number(tmp_path):
    """Issue messages name the column, never the CPR number itself."""
    rows = _read_rows(
        tmp_path,
        _row(**{"CPR-nr.": "3102054836"}),
        _row(**{"CPR-nr.": "2711004001"}),
        _row(Mobil="0910054836"),
    )

    messages = " ".join(issue.message for row in rows for issue in row.issues)
    assert messages
    for cpr in ("3102054836", "2711004001", "0910054836"):
        assert cpr not in messages
