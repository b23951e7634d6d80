"""Normalization of CPR numbers, phones, numbers and text: exact values."""

from __future__ import annotations

import pandas as pd

from batch.intake import text


def _objects(*values):
    return pd.Series(list(values), dtype=object)


def _texts(*values):
    return pd.Series(list(values), dtype="str")


def _clean(series: pd.Series) -> list[str | None]:
    return [None if pd.isna(v) else v for v in series.tolist()]


def test_cpr_numbers():
    """Spaces and hyphens go, a lost leading zero comes back, Excel's numbers become text."""
    values = _objects(
        "091005-4836", 101054836, 101054836.0, " 0101 05\u20134836 ", "0910054836.0", None, "12"
    )

    assert _clean(text.cpr(values)) == [
        "0910054836",
        "0101054836",
        "0101054836",
        "0101054836",
        "0910054836",
        None,
        "12",
    ]


def test_phone_numbers():
    """Every common way of writing a Danish mobile number becomes its 8 digits."""
    values = _objects(
        "+45 20 12 34 56",
        "20-12-34-56",
        "0045 3012 4567",
        51234567.0,
        "(+45) 2012.3456",
        "+4520123456",
        "2012 345",
        "",
    )

    assert _clean(text.phone(values)) == [
        "20123456",
        "20123456",
        "30124567",
        "51234567",
        "20123456",
        "20123456",
        "2012345",
        None,
    ]


def test_whole_numbers():
    """Institution numbers written with `.0`, a thousands separator or spaces are cleaned."""
    values = _objects("751001", 751001.0, "751.001", "751001,0", " 751 001 ", "abc")

    assert _clean(text.integer(values)) == ["751001"] * 5 + ["abc"]


def test_text_is_trimmed_collapsed_nfc_and_placeholders_are_missing():
    """Text is trimmed and collapsed, NFC, without control characters; NULL, -, n/a are empty."""
    values = _texts(
        "  Søren\u00a0\t Ærbødig ",
        "a\x00b\u200bc",
        "e\u0301",
        "n/a",
        "-",
        "NULL",
        "null",
        "#N/A",
        "",
        "   ",
        "Null og nix",
        "linje\r\nto",
        None,
    )

    assert _clean(text.text(values)) == [
        "Søren Ærbødig",
        "abc",
        "\u00e9",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "Null og nix",
        "linje to",
        None,
    ]
