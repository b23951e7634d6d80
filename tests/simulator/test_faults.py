"""Fault injection over real HTTP: 101, 503, 500, drop, slow, rate limit, outage, determinism."""

import pytest
import requests
from soapkit import SOAP11, UNKNOWN, answer_of, envelope, fault_of, payload, post, send

from batch.outcomes import UDB_CODES
from batch.simulator import FaultConfig


def test_udb_101_is_an_ordinary_answer(fresh_simulator):
    """udb_101_rate=1 answers HTTP 200, Ok=false, 101 "exeption - UDB" (sic)."""
    simulator = fresh_simulator(faults=FaultConfig(udb_101_rate=1.0))
    answer = answer_of(send(simulator.endpoint_url))
    assert (answer.ok, answer.code, answer.text) == (False, 101, "exeption - UDB")
    assert answer.text == UDB_CODES[101].danish
    assert simulator.received()[0].code == 101


def test_udb_101_does_not_hide_a_schema_error(fresh_simulator):
    """A request the platform rejects never reaches UDB, so it cannot get 101."""
    simulator = fresh_simulator(faults=FaultConfig(udb_101_rate=1.0))
    assert send(simulator.endpoint_url, contact_name="x" * 101).status_code == 400


@pytest.mark.parametrize(
    ("faults", "status"),
    [
        (FaultConfig(error_503_rate=1.0), 503),
        (FaultConfig(error_500_rate=1.0), 500),
        (FaultConfig(outage=True), 503),
    ],
)
def test_platform_errors_are_receiver_faults_ipl000001(fresh_simulator, faults, status):
    """503, 500 and an outage answer with a Receiver fault, IPL000001 and a correlation id."""
    simulator = fresh_simulator(faults=faults)
    response = send(simulator.endpoint_url)
    assert response.status_code == status
    fault = fault_of(response)
    assert (fault.code, fault.detail["ErrorCode"]) == ("Receiver", "IPL000001")
    assert fault.detail["CorrelationID"]
    (record,) = simulator.received()
    assert (record.http_status, record.fault_code, record.ok) == (status, "IPL000001", None)


def test_platform_error_in_soap11_is_a_server_fault(fresh_simulator):
    """A SOAP 1.1 request meets a soap:Server fault in a SOAP 1.1 envelope."""
    simulator = fresh_simulator(faults=FaultConfig(error_503_rate=1.0))
    response = send(simulator.endpoint_url, SOAP11)
    assert fault_of(response, SOAP11).code == "Server"


def test_outage_refuses_every_request(fresh_simulator):
    """outage=True answers 503 to every request, even malformed ones."""
    simulator = fresh_simulator(faults=FaultConfig(outage=True))
    statuses = [send(simulator.endpoint_url).status_code for _ in range(5)]
    statuses.append(post(simulator.endpoint_url, b"<junk").status_code)
    assert statuses == [503] * 6


def test_drop_closes_the_connection_without_an_answer(fresh_simulator):
    """drop_rate=1 reads the request, then hangs up: the client sees a connection error."""
    simulator = fresh_simulator(faults=FaultConfig(drop_rate=1.0))
    with pytest.raises(requests.ConnectionError):
        send(simulator.endpoint_url)
    (record,) = simulator.received()
    assert (record.http_status, record.cpr) == (0, "0910054836")


def test_slow_answer_outlasts_the_clients_read_timeout(fresh_simulator):
    """slow_rate=1 answers only after slow_seconds, so a shorter read timeout expires."""
    simulator = fresh_simulator(faults=FaultConfig(slow_rate=1.0, slow_seconds=30.0))
    data = envelope(payload())
    with pytest.raises(requests.ReadTimeout):
        post(simulator.endpoint_url, data, timeout=(5.0, 0.2))
    assert simulator.received()[0].ok is True  # it would have been accepted, late


def test_slow_answer_arrives_when_the_client_waits(fresh_simulator):
    """A client whose timeout is longer than slow_seconds gets the ordinary answer."""
    simulator = fresh_simulator(faults=FaultConfig(slow_rate=1.0, slow_seconds=0.1))
    assert answer_of(send(simulator.endpoint_url)).ok is True


def test_stop_wakes_requests_sleeping_on_a_fault(fresh_simulator):
    """stop() does not wait out slow_seconds: the sleeping request is ended at once."""
    simulator = fresh_simulator(faults=FaultConfig(slow_rate=1.0, slow_seconds=600.0))
    import threading

    outcome = []

    def call():
        try:
            send(simulator.endpoint_url)
        except requests.RequestException as error:
            outcome.append(error)

    thread = threading.Thread(target=call)
    thread.start()
    while not simulator.received():
        thread.join(0.01)
    simulator.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert isinstance(outcome[0], requests.ConnectionError)


def test_rate_limit_answers_429_with_retry_after(fresh_simulator):
    """Above rate_limit requests/s: 429, a whole-second Retry-After, a Receiver fault body."""
    simulator = fresh_simulator(faults=FaultConfig(rate_limit=2, retry_after_seconds=1.2))
    responses = [send(simulator.endpoint_url, cpr=UNKNOWN) for _ in range(20)]
    limited = [r for r in responses if r.status_code == 429]
    assert limited, "20 back-to-back requests cannot all be a second apart"
    assert {r.headers["Retry-After"] for r in limited} == {"2"}
    fault = fault_of(limited[0])
    assert (fault.code, fault.detail["ErrorCode"]) == ("Receiver", "IPL000004")
    assert {r.status_code for r in responses} == {200, 429}


def test_rate_limit_never_lets_more_than_the_limit_through_in_a_second(fresh_simulator):
    """In any one-second window, at most rate_limit requests get an answer other than 429."""
    simulator = fresh_simulator(faults=FaultConfig(rate_limit=3))
    for _ in range(30):
        send(simulator.endpoint_url, cpr=UNKNOWN)
    admitted = [r.monotonic for r in simulator.received() if r.http_status != 429]
    for index, start in enumerate(admitted):
        assert sum(1 for t in admitted[index:] if t < start + 1.0) <= 3


def test_latency_is_added_to_every_answer(fresh_simulator):
    """latency_ms delays answers and faults alike; the answer itself is unchanged."""
    simulator = fresh_simulator(faults=FaultConfig(latency_ms=1.0, error_503_rate=0.5, seed=3))
    statuses = {send(simulator.endpoint_url).status_code for _ in range(10)}
    assert statuses <= {200, 503}


def _statuses(simulator, count):
    result = []
    for _ in range(count):
        try:
            result.append(send(simulator.endpoint_url, cpr=UNKNOWN).status_code)
        except requests.ConnectionError:
            result.append(0)
    return result


def _mixed(seed):
    return FaultConfig(
        error_503_rate=0.2, error_500_rate=0.1, udb_101_rate=0.1, drop_rate=0.1, seed=seed
    )


def test_same_seed_same_faults(fresh_simulator):
    """Two simulators with one seed fail the same requests in the same way, in arrival order."""
    first = _statuses(fresh_simulator(faults=_mixed(7)), 40)
    second = _statuses(fresh_simulator(faults=_mixed(7)), 40)
    other = _statuses(fresh_simulator(faults=_mixed(8)), 40)
    assert first == second
    assert first != other
    assert set(first) == {0, 200, 500, 503}


def test_fault_rates_are_checked():
    """Rates outside 0..1, or adding up to more than 1, are configuration errors."""
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultConfig(drop_rate=1.5)
    with pytest.raises(ValueError, match="exceed 1"):
        FaultConfig(error_503_rate=0.6, error_500_rate=0.6)
    with pytest.raises(ValueError, match="positive"):
        FaultConfig(rate_limit=0)
