from __future__ import annotations

import threading

from batch.submit.breaker import CircuitBreaker


def test_trips_on_consecutive_failed_requests():
    """N failed requests in a row open it; the call that trips it gets the reason."""
    breaker = CircuitBreaker(row_threshold=100, request_threshold=3)
    assert breaker.record_request(healthy=False, what="HTTP 503") is None
    assert breaker.record_request(healthy=False, what="HTTP 503") is None
    reason = breaker.record_request(healthy=False, what="HTTP 503")
    assert reason == "3 requests in a row failed (last: HTTP 503)"
    assert breaker.is_open
    assert breaker.record_request(healthy=False) is None  # reported once only


def test_an_answer_resets_the_count():
    """Any answer from the service proves it works: the count starts again."""
    breaker = CircuitBreaker(row_threshold=100, request_threshold=3)
    for _ in range(10):
        breaker.record_request(healthy=False)
        breaker.record_request(healthy=False)
        breaker.record_request(healthy=True)
    assert not breaker.is_open


def test_rate_limited_is_neutral():
    """A 429 neither counts as a failure nor resets the count."""
    breaker = CircuitBreaker(row_threshold=100, request_threshold=2)
    breaker.record_request(healthy=False)
    for _ in range(10):
        breaker.record_request(healthy=None)
    assert not breaker.is_open
    assert breaker.record_request(healthy=False) is not None


def test_trips_on_consecutive_exhausted_rows():
    """N rows in a row that exhausted their retries open it."""
    breaker = CircuitBreaker(row_threshold=2, request_threshold=1000)
    assert breaker.record_row(exhausted=True) is None
    assert breaker.record_row(exhausted=False) is None
    assert breaker.record_row(exhausted=True) is None
    reason = breaker.record_row(exhausted=True, what="timeout")
    assert reason == "2 rows in a row exhausted their retries (last: timeout)"


def test_concurrent_failures_open_it_once():
    """Many threads failing at once: exactly one of them is told it tripped the breaker."""
    breaker = CircuitBreaker(row_threshold=1000, request_threshold=50)
    reasons: list[str] = []
    lock = threading.Lock()

    def fail() -> None:
        for _ in range(100):
            reason = breaker.record_request(healthy=False)
            if reason:
                with lock:
                    reasons.append(reason)

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reasons) == 1
