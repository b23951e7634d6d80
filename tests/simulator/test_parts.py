"""The simulator's pure parts: fault plan, rate window, xs:dateTime, registry, record, config."""

import io
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from lxml import etree
from soapkit import (
    ALFRED,
    CONTENT_TYPE,
    SOAP12,
    UNKNOWN,
    WILLIAM,
    answer_of,
    envelope,
    payload,
    send,
)

from batch.errors import ConfigError
from batch.simulator import FaultConfig, SimulatorConfig, serve_forever, start_simulator
from batch.simulator.contract import move_to_namespace
from batch.simulator.faults import Fault, FaultPlan
from batch.simulator.payload import parse_xs_datetime
from batch.simulator.recorder import ReceivedRequest, Recorder
from batch.simulator.registry import load_registry
from batch.simulator.rules import judge


def test_fault_plan_replays_for_a_seed():
    """The same seed gives the same sequence of faults; another seed another sequence."""
    config = FaultConfig(error_503_rate=0.3, drop_rate=0.2, slow_rate=0.1, seed=42)
    plan_a, plan_b = FaultPlan(config), FaultPlan(config)
    sequence_a = [plan_a.decide(float(i)) for i in range(200)]
    sequence_b = [plan_b.decide(float(i)) for i in range(200)]
    other = FaultPlan(FaultConfig(error_503_rate=0.3, drop_rate=0.2, slow_rate=0.1, seed=43))
    assert sequence_a == sequence_b
    assert sequence_a != [other.decide(float(i)) for i in range(200)]
    assert set(sequence_a) == {Fault.NONE, Fault.ERROR_503, Fault.DROP, Fault.SLOW}


def test_fault_plan_draws_even_during_an_outage():
    """Every request draws once, so the n-th request's fault does not depend on outages."""
    rates = {"error_500_rate": 0.5, "seed": 1}
    plain = FaultPlan(FaultConfig(**rates))
    limited = FaultPlan(FaultConfig(**rates, rate_limit=1))
    at_once = [limited.decide(0.0) for _ in range(3)]
    assert at_once[1:] == [Fault.RATE_LIMITED, Fault.RATE_LIMITED]
    expected = [plain.decide(0.0) for _ in range(4)][3]
    assert limited.decide(5.0) == expected


def test_rate_window_slides_and_does_not_count_refusals():
    """At most `rate_limit` admitted per sliding second; refused requests are not counted."""
    plan = FaultPlan(FaultConfig(rate_limit=2))
    decisions = [plan.decide(t) for t in (0.0, 0.1, 0.2, 0.9, 1.0, 1.05, 1.1, 2.2)]
    assert decisions == [
        Fault.NONE,
        Fault.NONE,
        Fault.RATE_LIMITED,
        Fault.RATE_LIMITED,
        Fault.NONE,  # the request at 0.0 has left the window
        Fault.RATE_LIMITED,
        Fault.NONE,  # 0.1 has left
        Fault.NONE,
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2025-06-01T12:00:00+02:00",
            datetime(2025, 6, 1, 12, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2025-06-01T10:00:00Z", datetime(2025, 6, 1, 10, tzinfo=UTC)),
        ("2025-06-01T10:00:00.1234567", datetime(2025, 6, 1, 10, 0, 0, 123456)),
        ("2025-06-01T24:00:00", datetime(2025, 6, 2)),
        ("-0001-01-01T00:00:00Z", datetime.min.replace(tzinfo=UTC)),
        ("10000-01-01T00:00:00Z", datetime.max.replace(tzinfo=UTC)),
        ("2025-02-30T00:00:00", None),
        ("2025-06-01", None),
    ],
)
def test_parse_xs_datetime(text, expected):
    """xs:dateTime texts become datetimes; out-of-range years clamp; impossible dates are None."""
    assert parse_xs_datetime(text) == expected


def test_bundled_registry_has_its_people():
    """The bundled registry holds 55 fictitious people with KUI 751001 or 101001."""
    people = load_registry()
    assert len(people) == 55
    assert {p.home_kui for p in people.values()} == {751001, 101001}
    assert people[ALFRED].home_kui == 751001
    assert people[WILLIAM].home_kui == 101001


def test_registry_fails_with_makes_udb_fail_for_that_person():
    """A `fails_with` code in the registry is UDB's answer for that person, every time."""
    people = load_registry()
    failing = [p for p in people.values() if p.fails_with is not None]
    assert [(p.cpr, p.fails_with) for p in failing] == [("1104094321", 101)]
    fields = {"CPRNr": "1104094321", "KommuneInstitutionNummer": 751001}
    answer = judge(fields, people, datetime.now(UTC))
    assert (answer.ok, answer.code, answer.text) == (False, 101, "exeption - UDB")


def test_registry_file_is_read_with_bom(tmp_path):
    """A registry saved by a spreadsheet program (UTF-8 with BOM) reads fine."""
    path = tmp_path / "people.csv"
    path.write_text("cpr;home_kui;name\n0101084123;123456;Test Person\n\n", "utf-8-sig")
    assert load_registry(path)["0101084123"].home_kui == 123456


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cpr,home_kui,name\n", "first line"),
        ("cpr;home_kui;name\n0101084123;abc;X\n", "not a number"),
        ("cpr;home_kui;name\n01010841239;1;X\n", "not a 10-digit"),
        ("cpr;home_kui;name\n0101084123;1\n", "expected 3 fields"),
    ],
)
def test_bad_registry_is_a_config_error_without_cpr(tmp_path, text, message):
    """A bad registry line is a ConfigError naming the line, with the CPR number masked."""
    path = tmp_path / "bad.csv"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_registry(path)
    assert "0101084123" not in str(caught.value)


def test_missing_registry_is_a_config_error(tmp_path):
    """Starting with a registry that does not exist fails with a ConfigError."""
    with pytest.raises(ConfigError, match="cannot read"):
        start_simulator(SimulatorConfig(registry=tmp_path / "absent.csv"))


def _record(number):
    return ReceivedRequest(
        received_at=datetime.now(UTC),
        monotonic=float(number),
        cpr=None,
        institution=None,
        fields={},
        http_status=200,
        ok=True,
        code=None,
        fault_code=None,
        payload_digest=None,
    )


def test_recorder_keeps_arrival_order_and_its_limit():
    """Slots are filled out of order but listed by arrival; the oldest go beyond the limit."""
    recorder = Recorder(limit=3)
    sequences = [recorder.reserve() for _ in range(4)]
    for number in reversed(sequences):
        recorder.fill(number, _record(number))
    assert [r.monotonic for r in recorder.snapshot()] == [1.0, 2.0, 3.0]
    none_kept = Recorder(limit=0)
    none_kept.fill(none_kept.reserve(), _record(0))
    assert none_kept.snapshot() == []


def test_move_to_namespace_leaves_foreign_elements():
    """Only the payload's own namespace moves; elements of a third namespace stay put."""
    root = etree.fromstring('<a xmlns="urn:x"><b/><c xmlns="urn:other"/></a>')
    move_to_namespace(root, "urn:x", "urn:y")
    assert [e.tag for e in root.iter()] == ["{urn:y}a", "{urn:y}b", "{urn:other}c"]


def test_config_checks_tls_pairs():
    """A certificate without its key, or client_ca without TLS, is refused at once."""
    with pytest.raises(ValueError, match="go together"):
        SimulatorConfig(tls_cert=Path("a.pem"))
    with pytest.raises(ValueError, match="needs tls_cert"):
        SimulatorConfig(client_ca=Path("ca.pem"))


def test_stop_is_idempotent_and_ends_kept_alive_connections():
    """After stop() (twice is fine) a kept-alive connection gets no more answers."""
    simulator = start_simulator()
    with requests.Session() as session:
        assert answer_of(send(simulator.endpoint_url, cpr=UNKNOWN)).code == 14
        session.get(simulator.wsdl_url, timeout=10)
        simulator.stop()
        simulator.stop()
        with pytest.raises(requests.ConnectionError):
            session.get(simulator.wsdl_url, timeout=10)


def test_serve_forever_prints_the_wsdl_address_and_keeps_nothing():
    """serve_forever says where the WSDL is, serves it, and keeps no received() record."""
    out = io.StringIO()
    started = []
    thread = threading.Thread(
        target=serve_forever,
        args=(SimulatorConfig(),),
        kwargs={"out": out, "ready": started.append},
    )
    thread.start()
    try:
        while not started:
            thread.join(0.01)
        simulator = started[0]
        assert simulator.wsdl_url in out.getvalue()
        assert requests.get(simulator.wsdl_url, timeout=10).status_code == 200
        send(simulator.endpoint_url)
        assert simulator.received() == []
    finally:
        if started:
            started[0].stop()
        thread.join(30)
    assert not thread.is_alive()


def test_concurrent_clients_each_get_their_own_answer(simulator):
    """Under 8 concurrent keep-alive clients every answer matches its own request."""
    cases = {ALFRED: None, UNKNOWN: 14, WILLIAM: 86}
    errors = []

    def client(cpr):
        with requests.Session() as session:
            for _ in range(40):
                data = etree.tostring(envelope(payload(cpr=cpr)))
                response = session.post(
                    simulator.endpoint_url,
                    data=data,
                    headers={"Content-Type": CONTENT_TYPE[SOAP12]},
                    timeout=10,
                )
                if answer_of(response).code != cases[cpr]:
                    errors.append(cpr)

    threads = [threading.Thread(target=client, args=(cpr,)) for cpr in list(cases) * 3][:8]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
