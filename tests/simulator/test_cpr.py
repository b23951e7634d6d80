"""Unit tests for batch.intake.cpr: the century rule and age."""

from datetime import date

import pytest

from batch.intake.cpr import age_on, birth_date


@pytest.mark.parametrize(
    ("cpr", "expected"),
    [
        ("0101604123", date(1960, 1, 1)),
        ("1505625123", date(1862, 5, 15)),
        ("0101084123", date(2008, 1, 1)),
        ("0101000123", date(1900, 1, 1)),
        ("3112993999", date(1999, 12, 31)),
        ("0101364123", date(2036, 1, 1)),
        ("0101374123", date(1937, 1, 1)),
        ("0101369123", date(2036, 1, 1)),
        ("0101379123", date(1937, 1, 1)),
        ("0101575123", date(2057, 1, 1)),
        ("0101588123", date(1858, 1, 1)),
        ("010160-4123", date(1960, 1, 1)),
    ],
)
def test_birth_date_follows_century_rule(cpr, expected):
    """The 7th digit and the two-digit year give the century as cpr.dk describes."""
    assert birth_date(cpr) == expected


@pytest.mark.parametrize(
    "cpr", ["", "123", "01016041234", "3102004123", "abcdefghij", "0113604123"]
)
def test_birth_date_none_for_unreadable(cpr):
    """A malformed number or an impossible date gives None, not an exception."""
    assert birth_date(cpr) is None


def test_birth_date_ignores_modulus_11():
    """A number failing the modulus-11 check still has a birth date (valid since 2007)."""
    assert birth_date("0101084124") == date(2008, 1, 1)


@pytest.mark.parametrize(
    ("cpr", "day", "expected"),
    [
        ("0101604123", date(2024, 1, 1), 64),
        ("0101604123", date(2023, 12, 31), 63),
        ("0101084123", date(2025, 6, 1), 17),
        ("1505625123", date(1900, 5, 14), 37),
        ("0101993123", date(2024, 1, 1), 25),
        ("0201993123", date(2024, 1, 1), 24),
        ("2902084123", date(2025, 2, 28), 16),
        ("2902084123", date(2025, 3, 1), 17),
    ],
)
def test_age_on(cpr, day, expected):
    """Age counts whole years and steps up on the birthday itself."""
    assert age_on(cpr, day) == expected


def test_age_on_unreadable_is_none():
    """An unreadable CPR number has no age."""
    assert age_on("9999999999", date(2024, 1, 1)) is None
