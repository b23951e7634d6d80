"""`describe_columns`: what every header of a file becomes, and the mapping it can be saved as."""

from __future__ import annotations

from intake_kit import DANISH_HEADER, ROW_FULL, SYSTEM_ID, read, write_text, write_xlsx

from batch.intake import InputOptions
from batch.intake.describe import describe_columns
from batch.intake.mapping import load_mapping, mapping_text


def _options(**extra):
    return InputOptions(system_id=SYSTEM_ID, **extra)


def test_every_header_says_what_it_feeds_with_an_example(tmp_path):
    """Aliases, an unknown column and a typo: field, rule, example and normalized value."""
    header = ["CPR-nr.", "Kontaktperson", "KontaktMial", "Bemærkning", "Kontakt registreret"]
    row = ["091005-4836", "Mette  Holm", "mette@kui.dk", "hej", "15.06.2025 14:30"]
    path = write_text(tmp_path / "eksport.csv", [header, row])

    report = describe_columns(path, _options())

    uses = {use.header: use for use in report.headers}
    assert (uses["CPR-nr."].field, uses["CPR-nr."].rule) == ("CPRNr", "alias")
    assert (uses["CPR-nr."].example, uses["CPR-nr."].normalized) == ("091005-4836", "0910054836")
    assert uses["Kontaktperson"].normalized == "Mette Holm"
    assert (uses["KontaktMial"].field, uses["KontaktMial"].rule) == ("KontaktMail", "fuzzy")
    assert uses["KontaktMial"].score is not None
    assert 0.88 <= uses["KontaktMial"].score < 1
    assert (uses["Bemærkning"].field, uses["Bemærkning"].rule) == (None, "ignored")
    assert uses["Kontakt registreret"].normalized == "2025-06-15T14:30:00+02:00"
    assert [use.column for use in report.headers] == ["A", "B", "C", "D", "E"]
    assert report.header_row == 1


def test_missing_fields_name_their_headers_and_setting(tmp_path):
    """A field no header feeds lists the headers it accepts and the setting that stands in."""
    path = write_text(tmp_path / "eksport.csv", [["CPR", "Kontaktperson"], ["0910054836", "A"]])

    report = describe_columns(path, _options())

    needs = {need.field: need for need in report.missing}
    assert needs["KommuneInstitutionNummer"].required
    assert needs["KommuneInstitutionNummer"].setting == "institution"
    assert "Institutionsnummer".casefold() in [
        h.casefold() for h in needs["KommuneInstitutionNummer"].accepts
    ]
    assert needs["ModtagerSystemID"].setting == "system_id"
    assert not needs["ModtagerSystemID"].required
    assert needs["KontaktMail"].required
    assert not report.usable


def test_an_ignored_header_like_a_field_gets_a_suggestion(tmp_path):
    """A header close to a field, but not close enough to feed it, names the field."""
    header = ["CPR", "Kontaktperson", "Kontakt e-mail", "Kontakt registreret", "Kontakt-tlf nr"]
    path = write_text(
        tmp_path / "e.csv", [header, ["0910054836", "A", "a@b.dk", "1.1.2025 8:00", "1"]]
    )

    report = describe_columns(path, _options(institution=751001))

    (phone,) = [use for use in report.headers if use.header == "Kontakt-tlf nr"]
    assert phone.field is None
    assert phone.suggestion == "KontaktTelefon"
    assert report.usable


def test_one_column_feeds_several_fields_through_the_mapping(tmp_path):
    """A single "Registreringsdato" mapped to all three registration times feeds all three."""
    mapping_path = tmp_path / "m.toml"
    mapping_path.write_text(
        '[columns]\n"Registreringsdato" = ["KontaktRegistreringstid", "JobRegistreringstid",'
        ' "UddannelsesRegistreringstid"]\n',
        encoding="utf-8",
    )
    mapping = load_mapping(mapping_path)
    header = ["CPR", "Kontaktperson", "Kontakt e-mail", "Jobønske", "Registreringsdato"]
    row = ["0910054836", "Mette Holm", "mette@kui.dk", "Tømrer", "15.06.2025 14:30"]
    path = write_text(tmp_path / "e.csv", [header, row])

    report = describe_columns(path, _options(mapping=mapping, institution=751001))
    result = read(path, mapping=mapping, institution=751001)

    (used,) = [use for use in report.headers if use.header == "Registreringsdato"]
    assert used.rule == "mapping"
    assert used.fields == (
        "KontaktRegistreringstid",
        "JobRegistreringstid",
        "UddannelsesRegistreringstid",
    )
    sent = result.rows[0].report
    assert sent is not None
    assert sent.contact is not None
    assert sent.job is not None
    assert sent.contact.registered == sent.job.registered


def test_the_saved_mapping_reads_the_file_the_same_way(tmp_path):
    """`mapping_text` of the mapping in use, loaded again, maps every header the same way."""
    header = [*DANISH_HEADER, "Eget felt"]
    path = write_xlsx(tmp_path / "e.xlsx", [["Udtræk fra KUI"], header, [*ROW_FULL, "x"]])

    report = describe_columns(path, _options())
    saved = tmp_path / "saved.toml"
    saved.write_text(mapping_text(report.mapping, comment="from e.xlsx"), encoding="utf-8")
    again = describe_columns(path, _options(mapping=load_mapping(saved)))

    assert report.header_row == 2
    assert report.sheets == ("Ark1",)
    assert load_mapping(saved)["Eget felt"] == "ignore"
    assert [u.fields for u in again.headers] == [u.fields for u in report.headers]
    assert {u.rule for u in again.headers} == {"mapping"}


def test_a_chosen_header_row_is_used_whatever_it_names(tmp_path):
    """`header_row` takes that row as the header, for a workbook and a CSV alike."""
    rows = [["Titel", "Dato"], ["Ung", "Vejleder"], ["0910054836", "Mette"]]
    book = write_xlsx(tmp_path / "e.xlsx", rows)
    text = write_text(tmp_path / "e.csv", rows)

    for path in (book, text):
        report = describe_columns(path, _options(header_row=2))
        assert report.header_row == 2
        assert [use.header for use in report.headers] == ["Ung", "Vejleder"]
        assert [use.example for use in report.headers] == ["0910054836", "Mette"]


def test_a_fix_sheet_row_knows_where_it_was_read_before(tmp_path):
    """A Fix sheet's Source file/row/Origin columns (saved as CSV too) become `came_from`."""
    header = [*DANISH_HEADER, "Source file", "Source row", "Origin", "Result code"]
    first = [*ROW_FULL, "eksport.csv", "5", "", "280"]
    second = [*ROW_FULL, "rettelse.xlsx [Fix]", "2", "Fix of eksport.csv row 9", "280"]
    path = write_text(tmp_path / "fix.csv", [header, first, second])

    rows = read(path).rows

    assert rows[0].came_from == ("eksport.csv", 5, None)
    assert rows[1].came_from == ("rettelse.xlsx [Fix]", 2, "Fix of eksport.csv row 9")
    assert "Source row" not in rows[0].cells  # result columns are not the row's data
