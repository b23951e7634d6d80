"""The engine against the simulator over real SOAP and HTTP: retries, order, rate, changes."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import datetime

import pytest

from batch.records import Outcome
from batch.service.client import ClientSettings, UdbClient
from batch.simulator import FaultConfig
from tests.rows_kit import (
    BASE,
    CPH,
    fictitious_cprs,
    report,
    row,
    submit_rows,
    write_registry,
)

KNOWN = fictitious_cprs(80)
UNKNOWN = fictitious_cprs(10, offset=80)


@pytest.fixture
def udb(tmp_path, fresh_simulator):
    """A factory: a simulator knowing KNOWN (faults as given) and a client pointed at it."""
    clients: list[UdbClient] = []
    registry = write_registry(tmp_path / "registry.csv", KNOWN)

    def make(faults: FaultConfig | None = None, **client_settings):
        sim = fresh_simulator(registry=registry, faults=faults or FaultConfig())
        client = UdbClient(ClientSettings(wsdl=sim.wsdl_url, **client_settings))
        clients.append(client)
        return sim, client

    yield make
    for client in clients:
        client.close()


def eventually_recorded(sim, count: int) -> list:
    """The simulator's record once `count` requests are in it (slow answers land late)."""
    deadline = time.monotonic() + 30
    while len(received := sim.received()) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return received


def test_every_row_reaches_its_outcome_through_injected_faults(udb, journal):
    """503s, 500s, 101s, dropped connections and timeouts are retried; final answers are not."""
    faults = FaultConfig(
        error_503_rate=0.08,
        error_500_rate=0.04,
        udb_101_rate=0.08,
        drop_rate=0.04,
        slow_rate=0.03,
        slow_seconds=1.0,
        seed=5,
    )
    sim, client = udb(faults, read_timeout=0.4)
    future = (datetime.now(CPH) - BASE).days + 30  # days after BASE: a month from now
    cases = [(report(cpr, contact=n), Outcome.ACCEPTED, None) for n, cpr in enumerate(KNOWN[:50])]
    cases += [(report(cpr), Outcome.DROP, "14") for cpr in UNKNOWN[:4]]
    cases += [(report(cpr, institution=101001), Outcome.DROP, "86") for cpr in KNOWN[50:54]]
    cases += [(report(cpr, contact=future), Outcome.FIX, "280") for cpr in KNOWN[54:58]]
    cases += [(report(KNOWN[60], name="N" * 101), Outcome.FIX, "IPL000002")]

    rows = [row(n + 2, rep) for n, (rep, _, _) in enumerate(cases)]
    run_id, stats = submit_rows(journal, rows, client, concurrency=8, max_attempts=12)

    assert stats.stopped_by is None
    states = journal.row_states(run_id)
    assert [(Outcome(s["outcome"]), s["code"]) for s in states] == [
        (outcome, code) for _, outcome, code in cases
    ]
    attempts = sum(s["attempts"] for s in states)
    assert attempts == stats.requests > len(cases)  # faults happened and were retried
    per_cpr = defaultdict(int)
    for request in eventually_recorded(sim, attempts):
        per_cpr[request.cpr] += 1
    for state, (rep, _, _) in zip(states, cases, strict=True):
        assert per_cpr[rep.cpr] == state["attempts"] == len(journal.attempts(state["id"]))
    # The simulator draws its faults from a seeded sequence, so which kinds occur is fixed.
    tried = [a for s in states for a in journal.attempts(s["id"])]
    assert {
        (a["failure_kind"], a["code"], a["http_status"]) for a in tried if a["failure_kind"]
    } == {
        ("connection", None, None),
        ("timeout", None, None),
        ("receiver_fault", "IPL000001", 500),
        ("receiver_fault", "IPL000001", 503),
        ("sender_fault", "IPL000002", 400),
    }
    assert any(a["code"] == "101" for a in tried)


def test_retry_after_is_honoured(udb, journal):
    """After a 429, the row's next request reaches the service no sooner than Retry-After."""
    sim, client = udb(FaultConfig(rate_limit=4, retry_after_seconds=1))
    rows = [row(n + 2, report(cpr)) for n, cpr in enumerate(KNOWN[:10])]
    run_id, stats = submit_rows(journal, rows, client, concurrency=4, max_attempts=10)
    assert stats.accepted == 10
    received = sim.received()
    limited = [r for r in received if r.http_status == 429]
    assert limited, "the simulator's limit was never hit"
    for refusal in limited:
        later = [r for r in received if r.cpr == refusal.cpr and r.monotonic > refusal.monotonic]
        assert later
        assert later[0].monotonic - refusal.monotonic >= 1.0 - 0.005
    kinds = [
        a["failure_kind"] for s in journal.row_states(run_id) for a in journal.attempts(s["id"])
    ]
    assert kinds.count("rate_limited") == len(limited)


def test_rows_of_one_cpr_reach_the_service_in_registration_order(udb, journal):
    """Out-of-order rows of one CPR arrive oldest first, even with 8 workers."""
    sim, client = udb(FaultConfig(latency_ms=3))
    rng = random.Random(3)
    reps = [report(cpr, contact=day, name=f"Day {day}") for cpr in KNOWN[:6] for day in range(5)]
    rng.shuffle(reps)
    _, stats = submit_rows(
        journal, [row(n + 2, r) for n, r in enumerate(reps)], client, concurrency=8
    )
    assert stats.accepted == 30
    arrivals = defaultdict(list)
    for request in sim.received():
        arrivals[request.cpr].append(request.fields["KontaktRegistreringstid"])
    assert len(arrivals) == 6
    for times in arrivals.values():
        assert times == sorted(times)
        assert len(times) == 5


def test_the_service_never_sees_more_than_the_rate(udb, journal):
    """Over any stretch of time the service sees at most burst + rate x time requests.

    One request of allowance covers delivery jitter between the client and the server's
    clock (a request granted a slot may arrive a little later than the next one's slot).
    """
    sim, client = udb()
    rows = [row(n + 2, report(cpr)) for n, cpr in enumerate(KNOWN[:40])]
    rate, burst = 20.0, 3
    submit_rows(journal, rows, client, concurrency=8, rate=rate, burst=burst)
    times = sorted(r.monotonic for r in sim.received())
    assert len(times) == 40
    for i, first in enumerate(times):
        for j in range(i + 1, len(times)):
            assert j - i + 1 <= burst + rate * (times[j] - first) + 1


def test_second_run_sends_only_what_changed(udb, journal):
    """A rerun sends nothing accepted before; one changed field sends exactly that row."""
    sim, client = udb()
    rows = [row(n + 2, report(cpr, contact=1)) for n, cpr in enumerate(KNOWN[:10])]
    submit_rows(journal, rows, client)
    assert len(sim.received()) == 10
    _, stats = submit_rows(journal, rows, client)
    assert len(sim.received()) == 10
    assert stats.unchanged == 10
    rows[4] = row(6, report(KNOWN[4], contact=1, name="Changed Name"))
    _, stats = submit_rows(journal, rows, client)
    received = sim.received()
    assert len(received) == 11
    assert received[-1].fields["KontaktNavn"] == "Changed Name"
    assert (stats.accepted, stats.unchanged) == (1, 9)


def test_older_data_never_overwrites_newer(udb, journal):
    """After a contact is accepted, an older one is not sent; with a newer job wish, only that."""
    sim, client = udb()
    cpr = KNOWN[0]
    submit_rows(journal, [row(2, report(cpr, contact=10))], client)
    run_id, stats = submit_rows(journal, [row(2, report(cpr, contact=3))], client)
    assert len(sim.received()) == 1
    assert stats.unchanged == 1
    (state,) = journal.row_states(run_id)
    assert state["text"].startswith("newer data already reported on ")
    _, stats = submit_rows(journal, [row(2, report(cpr, contact=3, job=12))], client)
    last = sim.received()[-1]
    assert "JobOnsker" in last.fields
    assert not any(name.startswith("Kontakt") for name in last.fields)
    assert stats.accepted == 1


def test_breaker_ends_an_outage_without_hammering(udb, journal):
    """With every request failing, the run stops after a few requests; all rows wait in Retry."""
    sim, client = udb(FaultConfig(outage=True))
    rows = [row(n + 2, report(cpr)) for n, cpr in enumerate(KNOWN)]
    run_id, stats = submit_rows(journal, rows, client, concurrency=4)
    assert stats.stopped_by == "breaker"
    assert stats.message is not None
    assert "service kept failing" in stats.message
    assert len(sim.received()) == stats.requests <= 12 + 4
    assert journal.counts(run_id)[Outcome.RETRY] == len(KNOWN)
