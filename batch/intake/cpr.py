"""The CPR number's birth date and age, by cpr.dk's century rule, for checks that need an age."""

from __future__ import annotations

import re
from datetime import date

__all__ = ["age_on", "birth_date"]

# DDMMYY then four digits; the hyphen is tolerated because people write CPR numbers with it.
_CPR = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})-?([0-9])[0-9]{3}")

# Highest two-digit year that still belongs to the 2000s, by the 7th digit; above it the
# number belongs to the older century (1900s for 4 and 9, 1800s for 5-8).
_LAST_2000S_YEAR = {4: 36, 9: 36, 5: 57, 6: 57, 7: 57, 8: 57}
_OLDER_CENTURY = {4: 1900, 9: 1900, 5: 1800, 6: 1800, 7: 1800, 8: 1800}


def _century(seventh_digit: int, two_digit_year: int) -> int:
    """The 7th digit, read with the year, gives the century (cpr.dk); 0-3 are always 1900s."""
    last_2000s = _LAST_2000S_YEAR.get(seventh_digit)
    if last_2000s is None:
        return 1900
    if two_digit_year <= last_2000s:
        return 2000
    return _OLDER_CENTURY[seventh_digit]


def birth_date(cpr: str) -> date | None:
    """Birth date of a CPR number, or None when it is not DDMMYYSSSS or not a real date.

    The modulus-11 check digit is deliberately not checked: since 2007 numbers without it are
    issued and fully valid.
    """
    match = _CPR.fullmatch(cpr.strip())
    if match is None:
        return None
    day, month, year, seventh = (int(part) for part in match.groups())
    try:
        return date(_century(seventh, year) + year, month, day)
    except ValueError:
        return None


def age_on(cpr: str, day: date) -> int | None:
    """Age in whole years on `day` (a birthday counts from its own date), or None if unreadable.

    Someone born on 29 February turns a year older on 1 March in a non-leap year, as the
    comparison of (month, day) tuples gives.
    """
    born = birth_date(cpr)
    if born is None:
        return None
    had_birthday = (day.month, day.day) >= (born.month, born.day)
    return day.year - born.year - (0 if had_birthday else 1)
