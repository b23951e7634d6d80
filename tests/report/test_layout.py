"""The row sheets' columns: shared fields merged across inputs, so the Fix sheet reads back in."""

from __future__ import annotations

from batch.intake.columns import map_columns
from batch.records import RESULT_COLUMNS
from batch.report import InputSheet
from batch.report._layout import column_layout

EXPORT = ("CPR-nr.", "Institutionsnummer", "Kontaktperson", "Kontakt e-mail", "Mobil",
          "Kontakt registreret", "Bemærkning")  # fmt: skip
HANDMADE = ("Personnummer", "Kontakt navn", "E-mail", "Telefon", "Kontakt registreringstid",
            "Bemærkning")  # fmt: skip


def _inputs(*headers: tuple[str, ...], **fields: dict[str, str]) -> tuple[InputSheet, ...]:
    return tuple(
        InputSheet(f"in{n}.csv", None, h, 1, 0, fields.get(f"in{n}", {}))
        for n, h in enumerate(headers)
    )


def test_same_field_under_different_names_shares_a_column():
    """Headers naming one field in different inputs share a column titled as the first names it."""
    layout = column_layout(_inputs(EXPORT, HANDMADE))
    assert layout.titles == EXPORT
    assert layout.members[0] == ("CPR-nr.", "Personnummer")
    assert layout.members[-1] == ("Bemærkning",)
    assert layout.cpr == frozenset({0})


def test_merged_layout_reads_back_as_one_input():
    """The Fix sheet's header row maps without two columns claiming one field."""
    columns = column_layout(_inputs(EXPORT, HANDMADE)).columns
    mapped = map_columns(columns, {}, institution_configured=False, source="Fix")
    assert mapped.header("CPRNr") == "CPR-nr."
    assert mapped.header("KontaktMail") == "Kontakt e-mail"
    assert set(RESULT_COLUMNS).isdisjoint(mapped.headers)


def test_values_come_from_each_rows_own_header():
    """A row shows its own input's value in the shared column; absent columns are empty."""
    layout = column_layout(_inputs(EXPORT, HANDMADE))
    values = layout.values({"Personnummer": 101084123, "Telefon": "12345678", "Bemærkning": "x"})
    assert values[0] == 101084123
    assert values[layout.titles.index("Mobil")] == "12345678"
    assert values[layout.titles.index("Institutionsnummer")] is None


def test_within_one_input_the_canonical_name_wins():
    """In one input, the exact field name takes the field; an alias beside it stays plain data."""
    layout = column_layout(_inputs(("CPRNr", "CPR", "KontaktNavn"), ("Personnummer",)))
    assert layout.titles == ("CPRNr", "CPR", "KontaktNavn")
    assert layout.members[0] == ("CPRNr", "Personnummer")
    assert layout.members[1] == ("CPR",)


def test_run_mapping_decides_when_given():
    """Fields as the run mapped them (a mapping file) decide which columns are merged."""
    layout = column_layout(
        _inputs(("CPR", "Note"), ("Elevens nummer", "Note"), in1={"Elevens nummer": "CPRNr"})
    )
    assert layout.titles == ("CPR", "Note")
    assert layout.members[0] == ("CPR", "Elevens nummer")


def test_result_columns_of_a_fed_back_workbook_are_left_out():
    """A result workbook's own result columns are not copied as input columns."""
    layout = column_layout(_inputs(("CPR", *RESULT_COLUMNS)))
    assert layout.columns == ("CPR", *RESULT_COLUMNS)
