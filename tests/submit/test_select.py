"""What a run sends and for how long: registration window, newest-only, --max-rows, --until."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import structlog

from batch.journal import CprHistory, PendingRow, Pseudonyms, Send, Skip
from batch.records import Answer, Outcome
from batch.submit import Selection, local_midnight, until_deadline
from batch.submit._select import Dropped, Narrowed, Rules, decide, select_rows
from tests.rows_kit import CPH, ScriptedSender, report, row, submit_rows, when

KEYS = Pseudonyms(bytes(range(32)))


def pending(n: int, rep) -> PendingRow:
    """A pending row numbered as a spreadsheet shows it, its digest keyed as the journal's."""
    return PendingRow(n, "history.csv", n, rep, KEYS.payload(rep.to_json()))


def cpr(n: int) -> str:
    """A fictitious CPR number per index."""
    return f"{(n % 28) + 1:02d}0{(n // 28) % 10}08{4000 + n:04d}"


def test_until_clock_time_is_the_next_one():
    """`HH:MM` later today is today; earlier today (or now) is tomorrow, in Danish local time."""
    now = datetime(2026, 3, 10, 21, 30, tzinfo=CPH)
    assert until_deadline("23:00", now) == datetime(2026, 3, 10, 23, 0, tzinfo=CPH)
    assert until_deadline("06:00", now) == datetime(2026, 3, 11, 6, 0, tzinfo=CPH)
    assert until_deadline("21:30", now) == datetime(2026, 3, 11, 21, 30, tzinfo=CPH)


def test_until_date_and_time_is_that_moment_even_when_past():
    """`YYYY-MM-DD HH:MM` is local time, returned in UTC, also when it has passed."""
    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    deadline = until_deadline("2026-07-01 13:59", now)
    assert deadline == datetime(2026, 7, 1, 11, 59, tzinfo=UTC)  # CEST is UTC+2
    assert deadline < now


def test_window_leaves_out_rows_registered_outside_it():
    """Rows before --registered-since or from --registered-before on are skipped with why."""
    rows = [
        pending(2, report(contact=-1)),
        pending(3, report(contact=0.5)),
        pending(4, report(contact=3)),
    ]
    selection = Selection(
        since=local_midnight(date(2024, 3, 1)), before=local_midnight(date(2024, 3, 3))
    )
    decided = select_rows(rows, selection)
    assert set(decided) == {2, 4}
    assert isinstance(decided[2], Skip)
    assert "--registered-since 2024-03-01" in decided[2].text
    assert isinstance(decided[4], Skip)
    assert "--registered-before 2024-03-03" in decided[4].text


def test_newest_only_keeps_the_newest_registration_per_group():
    """Per group only the newest row keeps it; a row left with nothing is superseded."""
    oldest = pending(2, report(contact=0, job=0))
    newer_contact = pending(3, report(contact=5, name="Ny Kontakt"))
    newest_job = pending(4, report(contact=None, job=7, job_text="Smed"))
    decided = select_rows([oldest, newer_contact, newest_job], Selection(newest_only=True))
    assert set(decided) == {2}
    assert isinstance(decided[2], Skip)
    assert decided[2].text == "superseded by row 3 of history.csv; row 4 of history.csv"
    partial = select_rows([oldest, newer_contact], Selection(newest_only=True))[2]
    assert isinstance(partial, Narrowed)
    assert partial.report.contact is None
    assert partial.report.job == oldest.report.job
    assert "contact" in partial.note


def test_newest_only_tie_goes_to_the_later_row():
    """Two rows with the same registration time: the one later in the input is sent."""
    first, second = pending(2, report(contact=1)), pending(3, report(contact=1, name="Rettet"))
    decided = select_rows([first, second], Selection(newest_only=True))
    assert set(decided) == {2}


def test_newest_only_sends_one_request_per_person_and_group(journal):
    """A shuffled history of three people sends one request each; the rest is Unchanged."""
    rows = [
        row(n + 2, report(cpr(n % 3), contact=(n * 7) % 11, name=f"Kontakt {n}")) for n in range(12)
    ]
    sender = ScriptedSender()
    run_id, stats = submit_rows(journal, rows, sender, selection=Selection(newest_only=True))
    assert sorted(call.report.cpr for call in sender.calls) == sorted(cpr(n) for n in range(3))
    for call in sender.calls:
        newest = max(
            (r.report.contact.registered for r in rows if r.report.cpr == call.report.cpr),
        )
        assert call.report.contact.registered == newest
    assert stats.accepted == 3
    assert stats.unchanged == 9
    texts = [s["text"] for s in journal.row_states(run_id) if s["outcome"] == "unchanged"]
    assert all(text.startswith("superseded by row ") for text in texts)


def test_max_rows_sends_exactly_that_many_and_keeps_the_rest(journal):
    """--max-rows 5 sends five rows (unchanged ones do not count); the rest is in Retry."""
    sender = ScriptedSender()
    rows = [row(n + 2, report(cpr(n))) for n in range(20)]
    submit_rows(journal, rows[:3], sender)
    run_id, stats = submit_rows(journal, rows, sender, max_rows=5, concurrency=3)
    assert stats.stopped_by == "max_rows"
    assert len(sender.calls) == 3 + 5
    counts = journal.counts(run_id)
    assert counts[Outcome.ACCEPTED] == 5
    assert counts[Outcome.ACCEPTED] + counts[Outcome.UNCHANGED] + counts[Outcome.RETRY] == 20
    retry = [s for s in journal.row_states(run_id) if s["outcome"] == "retry"]
    assert retry
    assert all("--max-rows 5" in s["text"] for s in retry)


def test_a_passed_deadline_sends_nothing(journal):
    """A deadline already passed stops before the first request; every row is in Retry."""
    sender = ScriptedSender()
    rows = [row(n + 2, report(cpr(n))) for n in range(10)]
    past = datetime(2020, 1, 1, tzinfo=UTC)
    run_id, stats = submit_rows(journal, rows, sender, deadline=past)
    assert stats.stopped_by == "until"
    assert sender.calls == []
    assert journal.counts(run_id)[Outcome.RETRY] == 10


def test_progress_is_counted_in_requests_and_logged(journal):
    """The progress event counts requests and rows to go; rows found unchanged are not sent."""
    rows = [row(n + 2, report(cpr(n))) for n in range(6)]
    submit_rows(journal, rows[:2], ScriptedSender())
    with structlog.testing.capture_logs() as logs:
        submit_rows(journal, rows, ScriptedSender(), stop=threading.Event())
    events = [entry for entry in logs if entry["event"] == "progress"]
    assert events[0]["to_go"] == 6
    assert events[0]["sent"] == 0
    final = events[-1]
    assert final["final"] is True
    assert (final["sent"], final["requests"], final["unchanged"], final["to_go"]) == (4, 4, 2, 0)
    assert final["eta_seconds"] == 0


def test_row_without_registration_time_is_not_filtered():
    """A row with CPR and institution only has no time to filter on: it is sent."""
    bare = pending(2, report(contact=None))
    selection = Selection(since=local_midnight(date(2030, 1, 1)), newest_only=True)
    assert select_rows([bare], selection) == {}
    assert when(0).tzinfo is not None


def _rejected(rep, days_ago: float) -> CprHistory:
    """A history in which UDB rejected `rep` for good (86) `days_ago` days ago."""
    at = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    digest = KEYS.payload(rep.to_json())
    return CprHistory(KEYS, rejected={digest: (at, "20260101T010101-abcd", "86")})


def test_a_payload_rejected_for_good_is_not_sent_again():
    """The same payload UDB answered 86 to a day ago ends Drop, with when and in which run."""
    rep = report()
    plan = decide(pending(2, rep), _rejected(rep, 1), None, Rules())
    assert isinstance(plan, Dropped)
    assert plan.code == "86"
    assert "run 20260101T010101-abcd" in plan.text


def test_resend_dropped_and_recheck_days_send_it_again():
    """--resend-dropped, or a rejection older than drop_recheck_days, sends it again."""
    rep = report()
    assert isinstance(
        decide(pending(2, rep), _rejected(rep, 1), None, Rules(resend_dropped=True)), Send
    )
    assert isinstance(decide(pending(2, rep), _rejected(rep, 31), None, Rules()), Send)
    assert isinstance(
        decide(pending(2, rep), _rejected(rep, 3), None, Rules(drop_recheck_days=2)), Send
    )


def test_other_data_for_a_rejected_person_is_sent():
    """Only the very payload rejected is held back: corrected data goes out."""
    rep = report()
    corrected = report(institution=751002)
    assert isinstance(decide(pending(2, corrected), _rejected(rep, 1), None, Rules()), Send)


def test_a_rerun_does_not_send_what_udb_rejected_for_good(journal):
    """A row answered 86 is Drop on the rerun without a request; --resend-dropped sends it."""
    rows = [row(2, report(cpr(1))), row(3, report(cpr(2)))]
    sender = ScriptedSender(script={cpr(1): [Answer(ok=False, code=86, text="ikke hjemkommune")]})
    submit_rows(journal, rows, sender)
    run_id, stats = submit_rows(journal, rows, sender)
    assert len(sender.calls) == 2
    assert (stats.drop, stats.unchanged) == (1, 1)
    (dropped,) = [s for s in journal.row_states(run_id) if s["outcome"] == "drop"]
    assert dropped["code"] == "86"
    assert "UDB rejected this same data on" in dropped["text"]
    submit_rows(journal, rows, sender, resend_dropped=True)
    assert len(sender.calls) == 3
