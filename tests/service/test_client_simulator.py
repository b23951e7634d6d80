from datetime import timedelta

import pytest
from client_kit import (
    CPR_OK,
    CPR_OTHER_KUI,
    CPR_TOO_OLD,
    CPR_UNKNOWN,
    EXPECTED,
    FIXED_NOW,
    report,
)

from batch.records import Answer, Failure, FailureKind
from batch.simulator import FaultConfig


@pytest.fixture(scope="module")
def client(udb):
    """One client on the simulator's WSDL URL, as production loads STIL's."""
    from batch.service.client import ClientSettings, UdbClient

    with UdbClient(ClientSettings(wsdl=udb.wsdl_url)) as made:
        yield made


@pytest.mark.parametrize("cpr", [CPR_OK, CPR_UNKNOWN, CPR_TOO_OLD, CPR_OTHER_KUI])
def test_udb_answers_come_back_as_answers(client, cpr):
    """Ok, 14, 15 and 86 from UDB arrive as Answers with UDB's code and Danish text."""
    assert client.send(report(cpr)) == EXPECTED[cpr]


def test_a_future_registration_time_is_280(client):
    """A registration time after UDB's now is answered 280, as an Answer."""
    result = client.send(report(registered=FIXED_NOW + timedelta(hours=1)))
    assert isinstance(result, Answer)
    assert (result.ok, result.code) == (False, 280)


def test_the_endpoint_comes_from_the_wsdl(client, udb):
    """Without an override, requests go to the address the WSDL names."""
    assert client.endpoint == udb.endpoint_url


def test_a_schema_violation_is_a_final_sender_fault(client, udb):
    """A 101-character KontaktNavn (built unchecked) is rejected by the platform: not retryable."""
    result = client.send(report(name="x" * 101))
    assert isinstance(result, Failure)
    assert result.kind is FailureKind.SENDER_FAULT
    assert not result.retryable
    assert result.fault_code == "IPL000002"
    assert result.correlation_id
    assert result.http_status == 400


def test_udb_101_is_an_answer(sim_with, make_client):
    """UDB's own internal error 101 is an Answer (the submit engine decides to retry it)."""
    sim = sim_with(faults=FaultConfig(udb_101_rate=1.0, seed=1))
    result = make_client(wsdl=sim.wsdl_url).send(report())
    assert result == Answer(ok=False, code=101, text="exeption - UDB")


@pytest.mark.parametrize(
    ("faults", "status"),
    [
        (FaultConfig(error_503_rate=1.0, seed=1), 503),
        (FaultConfig(error_500_rate=1.0, seed=1), 500),
    ],
    ids=["503", "500"],
)
def test_server_errors_are_retryable(sim_with, make_client, faults, status):
    """503 and 500 (Receiver faults) are retryable failures with their status."""
    sim = sim_with(faults=faults)
    result = make_client(wsdl=sim.wsdl_url).send(report())
    assert isinstance(result, Failure)
    assert result.kind in {FailureKind.RECEIVER_FAULT, FailureKind.SERVER_ERROR}
    assert result.retryable
    assert result.http_status == status
    assert result.correlation_id


def test_429_carries_retry_after_from_the_header(sim_with, make_client):
    """Past the rate limit: RATE_LIMITED, retryable, with the server's Retry-After."""
    sim = sim_with(faults=FaultConfig(rate_limit=1, retry_after_seconds=7))
    client = make_client(wsdl=sim.wsdl_url)
    results = [client.send(report()) for _ in range(3)]
    limited = [r for r in results if isinstance(r, Failure)]
    assert limited, "the second call within one second must be limited"
    for failure in limited:
        assert failure.kind is FailureKind.RATE_LIMITED
        assert failure.retryable
        assert failure.http_status == 429
        assert failure.retry_after == 7.0


def test_an_outage_is_retryable(sim_with, make_client):
    """A platform outage (every call 503) is a retryable failure, call after call."""
    sim = sim_with(faults=FaultConfig(outage=True))
    client = make_client(wsdl=sim.wsdl_url)
    results = [client.send(report()) for _ in range(3)]
    assert all(isinstance(r, Failure) and r.retryable for r in results)


def test_a_dropped_connection_is_a_connection_failure(sim_with, make_client):
    """The platform closing the connection without an answer is CONNECTION, retryable."""
    sim = sim_with(faults=FaultConfig(drop_rate=1.0, seed=1))
    client = make_client(wsdl=sim.wsdl_url)
    for _ in range(2):  # the second call must not trip over the dead pooled socket
        result = client.send(report())
        assert isinstance(result, Failure)
        assert result.kind is FailureKind.CONNECTION
        assert result.retryable


def test_a_slow_answer_past_the_read_timeout_is_a_timeout(sim_with, make_client):
    """An answer slower than read_timeout is TIMEOUT, retryable."""
    sim = sim_with(faults=FaultConfig(slow_rate=1.0, slow_seconds=30, seed=1))
    result = make_client(wsdl=sim.wsdl_url, read_timeout=0.3).send(report())
    assert isinstance(result, Failure)
    assert result.kind is FailureKind.TIMEOUT
    assert result.retryable


def test_nothing_listening_is_a_connection_failure(make_client, udb):
    """A refused connection (no server on the port) is CONNECTION, retryable."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(wsdl=udb.wsdl_url, endpoint=f"http://127.0.0.1:{port}/x")
    result = client.send(report())
    assert isinstance(result, Failure)
    assert (result.kind, result.retryable) == (FailureKind.CONNECTION, True)


@pytest.mark.parametrize(
    "faults",
    [
        FaultConfig(error_503_rate=1.0, seed=1),
        FaultConfig(drop_rate=1.0, seed=1),
        FaultConfig(rate_limit=1),
    ],
    ids=["503", "drop", "429"],
)
def test_no_failure_message_shows_a_cpr_number(sim_with, make_client, faults):
    """Whatever fails, no Failure.message holds a CPR number, with or without hyphen."""
    sim = sim_with(faults=faults)
    client = make_client(wsdl=sim.wsdl_url)
    results = [client.send(report(cpr)) for cpr in (CPR_OK, CPR_UNKNOWN)] + [
        client.send(report(name=f"Kontakt {CPR_OK} {CPR_OK[:6]}-{CPR_OK[6:]}" + "x" * 90))
    ]
    for result in results:
        if isinstance(result, Failure):
            for cpr in (CPR_OK, CPR_UNKNOWN):
                assert cpr not in result.message
                assert f"{cpr[:6]}-{cpr[6:]}" not in result.message
