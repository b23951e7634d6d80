"""Header matching, built-in aliases, mapping files and the required-column check."""

from __future__ import annotations

import pytest
from intake_kit import DANISH_HEADER, ROW_FULL, read, write_text

from batch.errors import ConfigError, InputError
from batch.intake.columns import (
    IGNORE,
    header_key,
    header_matcher,
    load_mapping,
    map_columns,
    unique_headers,
)
from batch.records import CANONICAL_FIELDS, RESULT_COLUMNS


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("CPR-nr.", "CPRNr"),
        ("  cpr nr ", "CPRNr"),
        ("Personnummer", "CPRNr"),
        ("INSTNR", "KommuneInstitutionNummer"),
        ("Kontakt E-mail", "KontaktMail"),
        ("e_mail", "KontaktMail"),
        ("Tlf.", "KontaktTelefon"),
        ("Jobønske", "JobOnsker"),
        ("jobonske", "JobOnsker"),
        ("JobOensker", "JobOnsker"),
        ("Uddannelsesønske registreret", "UddannelsesRegistreringstid"),
        ("uddannelsesoenske-registreret", "UddannelsesRegistreringstid"),
        ("kontaktregistreringstid", "KontaktRegistreringstid"),
        ("UDDANNELSESONSKER", "UddannelsesOnsker"),
    ],
)
def test_headers_match_whatever_the_spelling(written, canonical):
    """Case, spaces, punctuation and ø/o/oe, æ/ae, å/aa spellings don't matter."""
    header = DANISH_HEADER.copy()
    header[CANONICAL_FIELDS.index(canonical)] = written  # the Danish header is in spec order

    columns = map_columns(header, {}, institution_configured=False, source="f.csv")

    assert columns.header(canonical) == written


def test_danish_letters_fold_to_one_key():
    """The Danish letters and their two-letter spellings share one key."""
    assert header_key("Bemærkning") == header_key("Bemaerkning")
    assert header_key("Jobønske") == header_key("Jobonske") == header_key("Joboenske")
    assert header_key("Århus") == header_key("Aarhus")


def test_every_alias_in_the_issue_is_known(tmp_path):
    """A file using only the issue's aliases maps every canonical field."""
    header = [
        "cpr-nr.",
        "instnr",
        "kontakt navn",
        "kontaktemail",
        "mobilnummer",
        "kontakt registreringstid",
        "jobønsker",
        "jobønske registreret",
        "uddannelsesønsker",
        "uddannelsesønske registreret",
    ]
    columns = map_columns(header, {}, institution_configured=False, source="f.csv")

    assert set(columns.fields) == set(CANONICAL_FIELDS) - {"ModtagerSystemID"}
    assert columns.header("KontaktTelefon") == "mobilnummer"


def test_mapping_file_maps_other_headers(tmp_path):
    """A TOML mapping maps any header (matched loosely) to a field; values may be any spelling."""
    mapping_path = tmp_path / "kolonner.toml"
    mapping_path.write_text(
        '[columns]\n"Ung CPR" = "CPRNr"\n"Vejleder" = "kontaktnavn"\n'
        '"Vejleder mail" = "KontaktMail"\n"Hvornår" = "KontaktRegistreringstid"\n'
        '"Mobil" = "ignore"\n',
        encoding="utf-8",
    )
    mapping = load_mapping(mapping_path)
    header = ["ung cpr", "Vejleder", "Vejleder-mail", "Hvornår", "Mobil", "Institutionsnummer"]
    row = [
        "0910054836",
        "Mette Holm",
        "mette@kui.ungekommune.dk",
        "15.06.2025 14:30",
        "1",
        "751001",
    ]
    path = write_text(tmp_path / "egen.csv", [header, row])

    result = read(path, mapping=mapping)

    assert mapping["Vejleder"] == "KontaktNavn"
    assert mapping["Mobil"] == IGNORE
    report = result.rows[0].report
    assert report is not None
    assert report.contact is not None
    assert (report.cpr, report.contact.name, report.contact.phone) == (
        "0910054836",
        "Mette Holm",
        None,
    )
    assert result.rows[0].cells["Mobil"] == "1"  # ignored as a field, still carried as data


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[columns\n", "cannot be read"),
        ('[columns]\n"Navn" = "KontaktNavnet"\n', "did you mean KontaktNavn?"),
        ('[columns]\n"Navn" = 3\n', "is not a field name"),
        ('columns = "x"\n', "must be a table"),
    ],
)
def test_bad_mapping_file_is_a_config_error(tmp_path, content, expected):
    """A mapping file that is not TOML or names no field is a ConfigError saying what to fix."""
    path = tmp_path / "kolonner.toml"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ConfigError, match=expected):
        load_mapping(path)


def test_missing_mapping_file_is_a_config_error(tmp_path):
    """A mapping file that isn't there is a ConfigError naming it."""
    with pytest.raises(ConfigError, match=r"kolonner\.toml"):
        load_mapping(tmp_path / "kolonner.toml")


def test_top_level_pairs_are_accepted_as_a_mapping(tmp_path):
    """Header = field pairs at the top level work without a [columns] table."""
    path = tmp_path / "m.toml"
    path.write_text('"Ung" = "CPRNr"\n', encoding="utf-8")

    assert load_mapping(path) == {"Ung": "CPRNr"}


def test_two_columns_for_one_field_is_an_error():
    """Two headers at the same level for one field must be resolved by the user."""
    header = ["CPR", "Personnummer", "Kontaktperson", "Kontakt e-mail", "Kontakt registreret"]

    with pytest.raises(InputError, match='"CPR", "Personnummer" all look like CPRNr'):
        map_columns(header, {}, institution_configured=True, source="f.csv")


def test_mapping_and_canonical_name_beat_an_alias():
    """A mapping entry wins over the canonical name, which wins over an alias."""
    header = ["CPRNr", "cpr", "Kontaktperson", "Kontakt e-mail", "Kontakt registreret", "Ung"]

    plain = map_columns(header, {}, institution_configured=True, source="f.csv")
    mapped = map_columns(header, {"Ung": "CPRNr"}, institution_configured=True, source="f.csv")

    assert plain.header("CPRNr") == "CPRNr"
    assert mapped.header("CPRNr") == "Ung"


def test_result_columns_are_not_input_columns():
    """The result workbook's own columns are dropped from the headers, wherever they stand."""
    header = [*DANISH_HEADER[:3], *RESULT_COLUMNS, *DANISH_HEADER[3:]]

    columns = map_columns(header, {}, institution_configured=False, source="f.csv")

    assert columns.headers == tuple(DANISH_HEADER)
    assert columns.positions[3] == 3 + len(RESULT_COLUMNS)


def test_unique_headers_name_blank_and_repeated_columns():
    """Blank headers get their column letter, repeats a number, numbers become text."""
    assert unique_headers(["Note", None, "note", 2025.0, "", "Note"], first_column=1) == (
        "Note",
        "Column C",
        "note (2)",
        "2025",
        "Column F",
        "Note (3)",
    )
    assert unique_headers([""] * 28)[26:] == ("Column AA", "Column AB")


def test_header_detection_needs_two_known_names():
    """A row counts as the header when it names two or more known columns."""
    count = header_matcher({"Ung": "CPRNr"})

    assert count(["Ung", "Vejleder"]) == 1
    assert count(["Ung", "Kontaktperson", 7, None]) == 2
    assert count(DANISH_HEADER) == 10
    assert count(ROW_FULL) == 0


def test_a_field_header_repeated_is_two_claims_on_that_field():
    """Two columns headed CPRNr (the second renamed `CPRNr (2)`) are a tie, not a silent pick."""
    header = ["CPRNr", "Kontaktperson", "Kontakt e-mail", "Kontakt registreret"]
    repeated = unique_headers([*header, "cprnr"])

    with pytest.raises(InputError, match=r'"CPRNr", "cprnr \(2\)" all look like CPRNr'):
        map_columns(repeated, {}, institution_configured=True, source="f.csv")
    chosen = map_columns(
        repeated, {"cprnr (2)": IGNORE}, institution_configured=True, source="f.csv"
    )
    assert chosen.header("CPRNr") == "CPRNr"
    notes = map_columns(
        unique_headers([*header, "Note", "Note"]), {}, institution_configured=True, source="f.csv"
    )
    assert notes.headers[-2:] == ("Note", "Note (2)")
    assert set(notes.fields) == {"CPRNr", "KontaktNavn", "KontaktMail", "KontaktRegistreringstid"}
