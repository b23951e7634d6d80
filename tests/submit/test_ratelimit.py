from __future__ import annotations

import threading

import pytest

from batch.submit.ratelimit import TokenBucket


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now


def starts(bucket: TokenBucket, clock: FakeClock, count: int) -> list[float]:
    """The start times `count` callers arriving at `clock.now` are given."""
    return [clock.now + bucket.reserve() for _ in range(count)]


def test_burst_then_steady_rate():
    """The first `burst` callers start at once, the rest one interval apart."""
    clock = FakeClock()
    bucket = TokenBucket(10.0, 3, clock=clock)
    assert starts(bucket, clock, 6) == pytest.approx([100.0, 100.0, 100.0, 100.1, 100.2, 100.3])


def test_never_more_than_burst_plus_rate_times_interval():
    """Over any interval T at most burst + rate*T requests start, for any arrival pattern."""
    clock = FakeClock()
    bucket = TokenBucket(20.0, 4, clock=clock)
    times: list[float] = []
    for step in range(200):
        clock.now += 0.37 if step % 7 == 0 else 0.001
        times.extend(starts(bucket, clock, step % 5))
    times.sort()
    for i, first in enumerate(times):
        for j in range(i, len(times)):
            span = times[j] - first
            assert j - i + 1 <= 4 + 20.0 * span + 1e-6


def test_idle_time_refills_only_up_to_burst():
    """After a long idle spell the bucket holds `burst` tokens, not more."""
    clock = FakeClock()
    bucket = TokenBucket(5.0, 2, clock=clock)
    starts(bucket, clock, 2)
    clock.now += 3600
    assert starts(bucket, clock, 3) == pytest.approx([clock.now, clock.now, clock.now + 0.2])


def test_pause_holds_everyone_and_keeps_the_rate_after():
    """A Retry-After pause delays every caller; afterwards at most a burst, then the rate."""
    clock = FakeClock()
    bucket = TokenBucket(10.0, 2, clock=clock)
    bucket.pause_for(1.0)
    assert starts(bucket, clock, 4) == pytest.approx([101.0, 101.0, 101.1, 101.2])


def test_pause_never_shortens():
    """A shorter pause does not cut a longer one short."""
    clock = FakeClock()
    bucket = TokenBucket(None, clock=clock)
    bucket.pause_for(2.0)
    bucket.pause_for(0.5)
    assert bucket.reserve() == pytest.approx(2.0)


def test_no_limit_never_waits():
    """rate=None lets every caller through at once."""
    clock = FakeClock()
    bucket = TokenBucket(None, clock=clock)
    assert starts(bucket, clock, 50) == [clock.now] * 50


def test_reservations_are_thread_safe():
    """Callers on many threads get distinct slots: exactly the single-thread schedule."""
    clock = FakeClock()
    bucket = TokenBucket(100.0, 1, clock=clock)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(50):
            wait = bucket.reserve()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([n / 100.0 for n in range(400)])


def test_acquire_returns_false_when_cancelled():
    """A stop wakes a waiting caller at once and tells it not to send."""
    bucket = TokenBucket(None)
    bucket.pause_for(3600)
    cancel = threading.Event()
    cancel.set()
    assert bucket.acquire(cancel) is False


def test_acquire_without_wait():
    """A token available now is granted at once."""
    assert TokenBucket(5.0, 5).acquire(threading.Event()) is True


def test_rate_must_be_positive():
    """A zero or negative rate is a configuration error, not an endless wait."""
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0.0)
