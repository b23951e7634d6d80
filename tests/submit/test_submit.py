from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from batch.errors import ConfigError
from batch.records import Answer, Failure, FailureKind, Outcome
from batch.submit import SubmitSettings, final_outcome
from tests.rows_kit import ScriptedSender, report, row, submit_rows

RETRY_503 = Failure(FailureKind.SERVER_ERROR, "HTTP 503", retryable=True, http_status=503)
TIMEOUT = Failure(FailureKind.TIMEOUT, "read timed out", retryable=True)
DROPPED = Failure(FailureKind.CONNECTION, "connection reset", retryable=True)
BAD = Failure(FailureKind.BAD_RESPONSE, "no Ok element", retryable=True)
SLOW_DOWN = Failure(
    FailureKind.RATE_LIMITED, "HTTP 429", retryable=True, http_status=429, retry_after=0.05
)
SCHEMA = Failure(
    FailureKind.SENDER_FAULT,
    "KontaktNavn: value too long",
    retryable=False,
    http_status=400,
    fault_code="IPL000002",
)
NOT_FOUND = Failure(FailureKind.CLIENT_ERROR, "HTTP 404", retryable=False, http_status=404)


def cpr(n: int) -> str:
    """A fictitious CPR number per index."""
    return f"{(n % 28) + 1:02d}0{(n // 28) % 10}08{4000 + n:04d}"


def run(journal, rows, sender, **kwargs):
    """Ingest and submit `rows` in a new run (see `submit_rows`)."""
    return submit_rows(journal, rows, sender, **kwargs)


def outcomes(journal, run_id) -> dict[int, tuple[Outcome, str | None, int]]:
    """Map source row -> (outcome, code, attempts) for every row of a run."""
    return {
        s["source_row"]: (Outcome(s["outcome"]), s["code"], s["attempts"])
        for s in journal.row_states(run_id)
    }


def test_rows_of_one_cpr_go_one_at_a_time_in_registration_order(journal):
    """Out-of-order rows of each CPR reach the sender oldest first, never two at once."""
    busy: Counter[str] = Counter()
    overlaps: list[str] = []
    lock = threading.Lock()

    def hook(rep):
        with lock:
            busy[rep.cpr] += 1
            if busy[rep.cpr] > 1:
                overlaps.append(rep.cpr)
        threading.Event().wait(0.001)
        with lock:
            busy[rep.cpr] -= 1

    rng = random.Random(7)
    rows = []
    for n in range(12):
        days = list(range(6))
        rng.shuffle(days)
        rows += [report(cpr(n), contact=d, name=f"Contact {d}") for d in days]
    rng.shuffle(rows)
    sender = ScriptedSender(hook=hook)
    _, stats = run(journal, [row(i + 2, r) for i, r in enumerate(rows)], sender, concurrency=8)
    assert overlaps == []
    assert stats.accepted == len(rows)
    for n in range(12):
        seen = [call.report.contact.registered for call in sender.calls_for(cpr(n))]
        assert seen == sorted(seen)
        assert len(seen) == 6


def test_ties_in_registration_time_keep_file_order(journal):
    """Two rows of one CPR with the same latest time are sent in file order."""
    rows = [row(2, report(contact=1, name="First")), row(3, report(contact=1, name="Second"))]
    sender = ScriptedSender()
    run(journal, rows, sender, concurrency=4)
    assert [call.report.contact.name for call in sender.calls] == ["First", "Second"]


def test_different_cprs_are_sent_in_parallel(journal):
    """Two CPRs are on the wire at the same moment (a barrier only two requests can pass)."""
    barrier = threading.Barrier(2, timeout=30)
    sender = ScriptedSender(hook=lambda _rep: barrier.wait())
    _, stats = run(journal, [row(2, report(cpr(1))), row(3, report(cpr(2)))], sender, concurrency=2)
    assert stats.accepted == 2


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ([Answer(ok=True)], (Outcome.ACCEPTED, None, 1)),
        ([RETRY_503, Answer(ok=True)], (Outcome.ACCEPTED, None, 2)),
        ([DROPPED, SLOW_DOWN, BAD, TIMEOUT, Answer(ok=True)], (Outcome.ACCEPTED, None, 5)),
        ([Answer(ok=False, code=101, text="exeption - UDB")] * 5, (Outcome.RETRY, "101", 5)),
        ([Answer(ok=False, code=101), Answer(ok=True)], (Outcome.ACCEPTED, None, 2)),
        ([Answer(ok=False, code=14)], (Outcome.DROP, "14", 1)),
        ([Answer(ok=False, code=15)], (Outcome.DROP, "15", 1)),
        ([Answer(ok=False, code=86)], (Outcome.DROP, "86", 1)),
        ([Answer(ok=False, code=280)], (Outcome.FIX, "280", 1)),
        ([Answer(ok=False, code=999, text="Ukendt")], (Outcome.FIX, "999", 1)),
        ([SCHEMA], (Outcome.FIX, "IPL000002", 1)),
        ([TIMEOUT] * 5, (Outcome.RETRY, "timeout", 5)),
        ([RETRY_503] * 5, (Outcome.RETRY, "HTTP 503", 5)),
        ([NOT_FOUND], (Outcome.RETRY, "HTTP 404", 1)),
    ],
    ids=[
        "ok",
        "503-then-ok",
        "every-transient-kind",
        "101-exhausted",
        "101-then-ok",
        "14",
        "15",
        "86",
        "280",
        "unknown-code",
        "schema",
        "timeouts-exhausted",
        "503-exhausted",
        "404-not-retried",
    ],
)
def test_each_answer_reaches_its_outcome(journal, script, expected):
    """Transient failures and 101 are retried up to max attempts; final answers are not."""
    sender = ScriptedSender(script={cpr(1): script})
    run_id, _ = run(journal, [row(2, report(cpr(1)))], sender, max_attempts=5)
    assert outcomes(journal, run_id)[2] == expected
    assert len(sender.calls) == expected[2]
    attempts = journal.attempts(1)
    assert [a["n"] for a in attempts] == list(range(1, expected[2] + 1))
    kinds = [a["failure_kind"] for a in attempts]
    assert kinds == [x.kind.value if isinstance(x, Failure) else None for x in script][: len(kinds)]


def test_result_texts_explain(journal):
    """Texts say what to do (UDB's own text is kept apart), or the failure and the attempts."""
    script = {cpr(1): [Answer(ok=False, code=280, text="Registreringstid ... fremdateres")]}
    script[cpr(2)] = [TIMEOUT] * 3
    script[cpr(3)] = [SCHEMA]
    sender = ScriptedSender(script=script)
    rows = [row(2, report(cpr(1))), row(3, report(cpr(2))), row(4, report(cpr(3)))]
    run_id, _ = run(journal, rows, sender, max_attempts=3)
    texts = {s["source_row"]: s["text"] for s in journal.row_states(run_id)}
    assert texts[2].startswith("The registration time is later than now: set it to the moment")
    fix = next(iter(journal.results(run_id, Outcome.FIX)))
    assert fix.answer_text == "Registreringstid ... fremdateres"  # as UDB sent it
    assert texts[3] == (
        "No answer within the time limit (read timed out); 3 attempts. "
        "The next run sends the row again."
    )
    assert "KontaktNavn: value too long" in texts[4]


def test_retry_after_is_honoured(journal):
    """After a 429 with Retry-After, the row's next request comes no sooner than asked."""
    slow_down = Failure(
        FailureKind.RATE_LIMITED, "HTTP 429", retryable=True, http_status=429, retry_after=0.3
    )
    sender = ScriptedSender(script={cpr(1): [slow_down, Answer(ok=True)]})
    run_id, _ = run(journal, [row(2, report(cpr(1)))], sender)
    first, second = sender.calls
    assert second.at - first.at >= 0.3
    assert outcomes(journal, run_id)[2] == (Outcome.ACCEPTED, None, 2)


def test_breaker_stops_a_dead_service_without_hammering(journal):
    """Every request failing: the run stops early, rows go to Retry, few requests were made."""
    sender = ScriptedSender(default=RETRY_503)
    rows = [row(n + 2, report(cpr(n))) for n in range(60)]
    run_id, stats = run(journal, rows, sender, concurrency=4)
    assert stats.stopped_by == "breaker"
    assert stats.message is not None
    assert "kept failing" in stats.message
    assert "12 requests in a row failed" in stats.message
    assert stats.requests == len(sender.calls) <= 12 + 4
    assert stats.retry == 60
    assert {o for o, _, _ in outcomes(journal, run_id).values()} == {Outcome.RETRY}


def test_breaker_counts_rows_that_exhaust_retries(journal):
    """N consecutive rows exhausting their retries open the breaker."""
    sender = ScriptedSender(default=TIMEOUT)
    rows = [row(n + 2, report(cpr(n))) for n in range(10)]
    settings = {"max_attempts": 2, "breaker_consecutive_failures": 3}
    _, stats = run(journal, rows, sender, concurrency=1, breaker_failed_requests=1000, **settings)
    assert stats.stopped_by == "breaker"
    assert len(sender.calls) == 6
    assert stats.message is not None
    assert "3 rows in a row exhausted their retries" in stats.message


def test_some_failures_do_not_open_the_breaker(journal):
    """Scattered failures among answers keep the run going to the end."""
    script = {cpr(n): [RETRY_503, Answer(ok=True)] for n in range(0, 40, 3)}
    sender = ScriptedSender(script=script)
    _, stats = run(journal, [row(n + 2, report(cpr(n))) for n in range(40)], sender)
    assert stats.stopped_by is None
    assert stats.accepted == 40


def test_stop_lets_in_flight_finish_and_keeps_the_rest(journal):
    """On stop, requests on the wire are recorded; no new row starts; the rest is Retry."""
    stop = threading.Event()
    calls = Counter[str]()

    def hook(_rep):
        calls["n"] += 1
        if calls["n"] == 5:
            stop.set()
            threading.Event().wait(0.2)  # still on the wire when the supervisor notices

    sender = ScriptedSender(hook=hook)
    rows = [row(n + 2, report(cpr(n))) for n in range(50)]
    run_id, stats = run(journal, rows, sender, stop=stop, concurrency=2)
    assert stats.stopped_by == "signal"
    states = journal.row_states(run_id)
    assert {s["status"] for s in states} == {"final"}
    sent = {call.report.cpr for call in sender.calls}
    for state, rep in zip(states, rows, strict=True):
        if rep.report.cpr in sent:
            assert state["outcome"] == "accepted"
        else:
            assert state["outcome"] == "retry"
            assert state["text"] == "Not sent: the run was interrupted; sent next run."
    assert stats.accepted == len(sent) <= 5 + 2
    assert stats.retry == 50 - len(sent)


def test_stop_wakes_a_row_waiting_to_retry(journal):
    """A row backing off when the stop comes ends in Retry at once, its failure recorded."""
    stop = threading.Event()
    sender = ScriptedSender(default=RETRY_503, hook=lambda _rep: stop.set())
    run_id, stats = run(
        journal, [row(2, report())], sender, stop=stop, backoff_initial=600, backoff_max=600
    )
    assert stats.stopped_by == "signal"
    (state,) = journal.row_states(run_id)
    assert (state["outcome"], state["attempts"]) == ("retry", 1)
    assert "then the run was interrupted" in state["text"]


def test_second_run_sends_only_changes(journal):
    """A rerun of the same rows sends nothing; one changed field sends exactly that row."""
    rows = [row(n + 2, report(cpr(n), contact=n)) for n in range(20)]
    sender = ScriptedSender()
    run(journal, rows, sender)
    assert len(sender.calls) == 20
    rerun_id, stats = run(journal, rows, sender)
    assert len(sender.calls) == 20
    assert stats.unchanged == 20
    texts = {s["text"] for s in journal.row_states(rerun_id)}
    assert all(text.startswith("already accepted by UDB on ") for text in texts)
    changed = list(rows)
    changed[7] = row(9, report(cpr(7), contact=7, name="Another Name"))
    _, stats = run(journal, changed, sender)
    assert [call.report.contact.name for call in sender.calls[20:]] == ["Another Name"]
    assert (stats.accepted, stats.unchanged) == (1, 19)


def test_older_group_is_never_sent_over_newer(journal):
    """After a contact is accepted, an older contact is not sent; a newer job wish alone is."""
    sender = ScriptedSender()
    run(journal, [row(2, report(contact=5))], sender)
    run_id, stats = run(journal, [row(2, report(contact=2))], sender)
    assert len(sender.calls) == 1
    assert stats.unchanged == 1
    (state,) = journal.row_states(run_id)
    assert state["text"].startswith("newer data already reported on ")
    _, stats = run(journal, [row(2, report(contact=2, job=6))], sender)
    last = sender.calls[-1].report
    assert (last.contact, last.job is not None) == (None, True)
    assert stats.accepted == 1


def test_two_rows_of_one_cpr_in_one_run_are_both_sent(journal):
    """An older and a newer row of one CPR in one file: both sent, oldest first."""
    sender = ScriptedSender()
    rows = [row(2, report(contact=5, name="New")), row(3, report(contact=1, name="Old"))]
    _, stats = run(journal, rows, sender)
    assert [call.report.contact.name for call in sender.calls] == ["Old", "New"]
    assert stats.accepted == 2


def test_duplicate_row_in_one_run_is_sent_once(journal):
    """The same payload twice in one file is sent once; the second is unchanged."""
    sender = ScriptedSender()
    _, stats = run(journal, [row(2, report()), row(3, report())], sender)
    assert len(sender.calls) == 1
    assert (stats.accepted, stats.unchanged) == (1, 1)


def test_resend_all_sends_everything_again(journal):
    """--resend-all ignores what was accepted before."""
    sender = ScriptedSender()
    rows = [row(2, report(contact=5)), row(3, report(cpr(3)))]
    run(journal, rows, sender)
    run(journal, [row(2, report(contact=1)), *rows], sender, resend_all=True)
    assert len(sender.calls) == 5


def test_progress_counts_every_row(journal):
    """The progress callback adds up to the number of rows submitted."""
    done: list[int] = []
    rows = [row(n + 2, report(cpr(n))) for n in range(30)]
    _, stats = run(journal, [*rows, rows[0]], ScriptedSender(), progress=done.append)
    assert sum(done) == 31
    assert stats.accepted + stats.unchanged == 31


def test_rate_limit_spaces_requests(journal):
    """At 10 requests/s with no burst, six requests span at least half a second."""
    sender = ScriptedSender()
    rows = [row(n + 2, report(cpr(n))) for n in range(6)]
    run(journal, rows, sender, rate=10.0, burst=1, concurrency=4)
    times = sorted(call.at for call in sender.calls)
    assert times[-1] - times[0] >= 0.5 - 0.005


def test_a_raising_client_keeps_the_row_for_later(journal):
    """A sender that raises (a bug) does not lose the row or print its CPR."""

    def boom(rep):
        raise RuntimeError(f"bad {rep.cpr}")

    run_id, stats = run(journal, [row(2, report("0101084123"))], ScriptedSender(hook=boom))
    (state,) = journal.row_states(run_id)
    assert state["outcome"] == "retry"
    assert "0101084123" not in state["text"]
    assert "010108-XXXX" in state["text"]
    assert stats.retry == 1


def test_final_outcome_masks_cpr_in_failures():
    """A failure message that carries a CPR is masked in the row's text."""
    failure = Failure(FailureKind.CONNECTION, "reset while sending 0101084123", retryable=True)
    _, _, text = final_outcome(failure, 2)
    assert "0101084123" not in text
    assert "010108-XXXX" in text


@pytest.mark.parametrize(
    "bad", [{"concurrency": 0}, {"rate": 0.0}, {"max_attempts": 0}, {"burst": 0}]
)
def test_settings_are_checked(bad):
    """Impossible settings are a configuration error."""
    with pytest.raises(ConfigError):
        SubmitSettings(**bad)
