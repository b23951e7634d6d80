"""UDB's rules over real HTTP: Ok, 14, 15, 86 and 280, their order, and valid answers."""

import pytest
from soapkit import ALFRED, LUCAS_1991, NS, UNKNOWN, WILLIAM, answer_of, send

from batch.outcomes import UDB_CODES


def test_known_young_person_from_home_kui_is_accepted(rules_simulator):
    """A registered person under 25, reported by their home KUI, gets Ok=true and no Fejl."""
    answer = answer_of(send(rules_simulator.endpoint_url))
    assert answer.ok is True
    assert answer.code is None
    assert answer.namespace == NS


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"cpr": UNKNOWN}, 14),
        ({"cpr": LUCAS_1991}, 15),
        ({"cpr": ALFRED, "institution": 101001}, 86),
        ({"cpr": WILLIAM, "institution": 751001}, 86),
        ({"registered": "2025-06-01T12:00:01+02:00"}, 280),
    ],
)
def test_refusals_carry_code_and_danish_text(rules_simulator, kwargs, code):
    """Each rule refuses with its code and UDB's Danish text exactly as the spec lists it."""
    answer = answer_of(send(rules_simulator.endpoint_url, **kwargs))
    assert (answer.ok, answer.code, answer.text) == (False, code, UDB_CODES[code].danish)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"cpr": UNKNOWN, "institution": 1, "registered": "2030-01-01T00:00:00Z"}, 14),
        ({"cpr": LUCAS_1991, "institution": 1, "registered": "2030-01-01T00:00:00Z"}, 15),
        ({"cpr": ALFRED, "institution": 1, "registered": "2030-01-01T00:00:00Z"}, 86),
    ],
)
def test_checks_run_in_order_14_15_86_280(rules_simulator, kwargs, code):
    """When several rules fail, the first of 14, 15, 86, 280 is the one answered."""
    assert answer_of(send(rules_simulator.endpoint_url, **kwargs)).code == code


@pytest.mark.parametrize(
    ("registered", "code"),
    [
        ("2025-06-01T12:00:00+02:00", None),  # exactly now: allowed, no tolerance needed
        ("2025-06-01T12:00:00.000001+02:00", 280),  # a microsecond later: refused
        ("2025-06-01T10:00:01Z", 280),  # the same instant in UTC, one second later
        ("2025-06-01T12:00:01", 280),  # no zone: Copenhagen local time
        ("2025-06-01T11:59:59", None),
        ("2025-06-01T24:00:00+02:00", 280),  # 24:00 is the next midnight
        ("12025-01-01T00:00:00Z", 280),  # beyond Python's datetime, still the future
    ],
)
def test_registration_time_in_the_future_is_280(rules_simulator, registered, code):
    """Any registration time later than the simulator's clock gets 280, with 0 s tolerance."""
    assert answer_of(send(rules_simulator.endpoint_url, registered=registered)).code == code


def test_only_the_future_group_needs_to_be_late(rules_simulator):
    """One future registration time among several is enough for 280."""
    response = send(
        rules_simulator.endpoint_url,
        contact_name=None,
        job=None,
        registered="2025-06-02T00:00:00+02:00",
    )
    assert answer_of(response).code == 280


def test_age_follows_the_simulators_clock(fresh_simulator):
    """Age is computed on the clock's date: the day before the 25th birthday is still fine."""
    from datetime import datetime

    from soapkit import CPH_SUMMER

    day_before = fresh_simulator(now=lambda: datetime(2016, 8, 26, 12, tzinfo=CPH_SUMMER))
    birthday = fresh_simulator(now=lambda: datetime(2016, 8, 27, 12, tzinfo=CPH_SUMMER))
    old = {"cpr": LUCAS_1991, "registered": "2016-01-01T00:00:00+01:00"}
    assert answer_of(send(day_before.endpoint_url, **old)).ok is True
    assert answer_of(send(birthday.endpoint_url, **old)).code == 15


def test_received_records_what_arrived_and_what_was_answered(rules_simulator):
    """received() lists each request with its parsed fields and the answer given."""
    send(rules_simulator.endpoint_url, cpr=UNKNOWN)
    send(rules_simulator.endpoint_url)
    first, second = rules_simulator.received()
    assert (first.cpr, first.institution, first.http_status, first.ok, first.code) == (
        UNKNOWN,
        751001,
        200,
        False,
        14,
    )
    assert (second.ok, second.code, second.fault_code) == (True, None, None)
    assert second.fields["KontaktTelefon"] == 20304050
    assert second.fields["JobOnsker"] == "Tømrer"
    assert second.received_at.tzinfo is not None
    assert first.monotonic <= second.monotonic


def test_payload_digest_equals_the_reports_payload_hash(rules_simulator):
    """The digest is Report.payload_hash() of what was sent, so clients can match requests."""
    from datetime import datetime

    from batch.records import Contact, Report, Wish

    registered = datetime.fromisoformat("2025-05-01T09:30:00+02:00")
    report = Report(
        system_id="KOMMUNE-TEST",
        cpr=ALFRED,
        institution=751001,
        contact=Contact("Mette Kontakt", "mette@kommune.example", 20304050, registered),
        job=Wish("Tømrer", registered),
        education=Wish("EUD tømrer", registered),
    )
    send(rules_simulator.endpoint_url)
    send(rules_simulator.endpoint_url, job="Smed")
    same, different = rules_simulator.received()
    assert same.payload_digest == report.payload_hash()
    assert different.payload_digest not in (None, report.payload_hash())


def test_clear_forgets_what_was_received(rules_simulator):
    """clear() empties the record; later requests are recorded from scratch."""
    send(rules_simulator.endpoint_url)
    rules_simulator.clear()
    assert rules_simulator.received() == []
    send(rules_simulator.endpoint_url, cpr=UNKNOWN)
    assert [r.code for r in rules_simulator.received()] == [14]
