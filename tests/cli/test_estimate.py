"""The time estimate `batch validate` ends with."""

from __future__ import annotations

from batch.cli.estimate import send_estimate
from batch.i18n import use_language


def test_estimate_in_minutes_at_the_rate():
    """1,240 rows at 5/s: about 4 min, the number grouped as a person reads it."""
    assert send_estimate(1240, 5) == "1,240 rows to send, about 4 min at 5/s"
    assert send_estimate(1, 5) == "1 row to send, about 1 s at 5/s"
    assert send_estimate(0, 5) == "no rows to send"
    assert send_estimate(100_000, 5) == "100,000 rows to send, about 5 h 33 min at 5/s"


def test_estimate_in_danish():
    """Danish groups thousands with a dot and says rækker."""
    use_language("da")
    try:
        assert send_estimate(1240, 2.5) == "1.240 rækker skal sendes, ca. 8 min. med 2,5/s"
    finally:
        use_language("en")
