import socket

import pytest


def test_non_loopback_connect_is_refused():
    """The session guard stops a test from reaching any address outside loopback."""
    with socket.socket() as sock, pytest.raises(RuntimeError, match="loopback"):
        sock.connect(("192.0.2.1", 80))


def test_privacy_masks_cpr_variants():
    """CPR numbers with and without hyphen, and with the leading zero lost, are masked."""
    from batch.privacy import mask_cpr

    text = "a 0101084123 b 010108-4123 c 101084123 d 12345678 e 12345678901"
    assert mask_cpr(text) == "a 010108-XXXX b 010108-XXXX c 010108-XXXX d 12345678 e 12345678901"


def test_latest_registration_respects_the_repeated_october_hour():
    """02:30 in October's second pass (+01:00) is later than 02:45 in the first (+02:00)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from batch.records import Contact, Report, Wish

    zone = ZoneInfo("Europe/Copenhagen")
    first_pass = datetime(2025, 10, 26, 2, 45, tzinfo=zone)  # fold=0: +02:00
    second_pass = datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=zone)  # +01:00, 15 min later
    report = Report(
        system_id="S",
        cpr="0101084123",
        institution=751001,
        contact=Contact("N", "n@example.dk", None, first_pass),
        job=Wish("Tømrer", second_pass),
    )
    assert report.latest_registration() is second_pass


def test_privacy_masks_url_passwords():
    """A URL's user:password@ keeps the user and hides the password; e-mail addresses stay."""
    from batch.privacy import mask_cpr

    assert mask_cpr("via http://bruger:hemmelig@proxy:3128/") == "via http://bruger:***@proxy:3128/"
    assert mask_cpr("mail kim@kommune.example") == "mail kim@kommune.example"
