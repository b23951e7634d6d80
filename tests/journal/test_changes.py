from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from batch.journal import CprHistory, Pseudonyms, Send, Skip, plan_row, record_acceptance
from tests.rows_kit import report

AT = datetime(2024, 3, 2, 1, 14, tzinfo=UTC)
KEYS = Pseudonyms(bytes(range(32)))


def digest(rep) -> bytes:
    """The keyed digest the journal keeps for a report's payload."""
    return KEYS.payload(rep.to_json())


def accepted(*reports, run_id="run-1") -> CprHistory:
    """A history in which UDB accepted `reports`, in order."""
    history = CprHistory(KEYS)
    for rep in reports:
        record_acceptance(history, rep, at=AT, run_id=run_id)
    return history


def test_new_cpr_sends_everything():
    """A CPR with no history is sent whole."""
    rep = report(contact=0, job=1)
    plan = plan_row(rep, digest(rep), CprHistory(KEYS))
    assert plan == Send(rep, ("contact", "job"))


def test_accepted_payload_is_unchanged_with_when():
    """A payload accepted before is not sent; the text says when and in which run."""
    rep = report(contact=0, job=1)
    plan = plan_row(rep, digest(rep), accepted(rep))
    assert isinstance(plan, Skip)
    assert plan.text == "already accepted by UDB on 02-03-2024 02:14 (run run-1)"


def test_older_group_is_left_out_and_newer_sent():
    """An older contact is left out; a newer job wish in the same row is still sent."""
    history = accepted(report(contact=5))
    rep = report(contact=2, job=6)
    plan = plan_row(rep, digest(rep), history)
    assert isinstance(plan, Send)
    assert plan.groups == ("job",)
    assert plan.report.contact is None
    assert plan.report.job == rep.job
    assert plan.note is not None
    assert "newer data already reported on 02-03-2024 02:14" in plan.note


def test_only_older_groups_is_unchanged():
    """A row whose every group is older than what UDB has is unchanged, not sent."""
    history = accepted(report(contact=5, job=5))
    rep = report(contact=4, job=1)
    plan = plan_row(rep, digest(rep), history)
    assert isinstance(plan, Skip)
    assert plan.text.startswith("newer data already reported on 02-03-2024 02:14 (run run-1)")


def test_equal_time_with_other_content_is_a_correction():
    """Same registration time, different content: a correction, sent."""
    history = accepted(report(contact=3, name="Karen Hansen"))
    rep = report(contact=3, name="Karen Hansen-Berg")
    plan = plan_row(rep, digest(rep), history)
    assert isinstance(plan, Send)
    assert plan.groups == ("contact",)


def test_equal_time_same_content_from_other_institution_is_sent():
    """The same group from another KUI is not what UDB holds: it is sent."""
    history = accepted(report(contact=3, institution=751001))
    rep = report(contact=3, institution=101001)
    plan = plan_row(rep, digest(rep), history)
    assert isinstance(plan, Send)


def test_equal_group_already_held_is_left_out():
    """A group identical to what UDB holds is left out; the changed group is sent."""
    history = accepted(report(contact=3, job=3))
    rep = report(contact=3, job=4)
    plan = plan_row(rep, digest(rep), history)
    assert isinstance(plan, Send)
    assert plan.groups == ("job",)
    assert plan.note is not None
    assert "already accepted by UDB" in plan.note


def test_same_instant_in_another_offset_is_equal():
    """Registration times compare as instants, whatever offset the file wrote them in."""
    history = accepted(report(contact=3))
    rep = report(contact=3)
    assert rep.contact is not None
    utc_contact = dataclasses.replace(
        rep.contact, registered=rep.contact.registered.astimezone(UTC)
    )
    plan = plan_row(dataclasses.replace(rep, contact=utc_contact), "other", history)
    assert isinstance(plan, Skip)


def test_resend_all_ignores_history():
    """--resend-all sends every valid row whole."""
    rep = report(contact=0)
    plan = plan_row(rep, digest(rep), accepted(report(contact=9), rep), resend_all=True)
    assert plan == Send(rep, ("contact",))


def test_row_without_groups_is_sent_unless_accepted():
    """A row with only CPR and institution has nothing to compare but its hash."""
    rep = report(contact=None)
    assert isinstance(plan_row(rep, digest(rep), accepted(report(contact=1))), Send)
    assert isinstance(plan_row(rep, digest(rep), accepted(rep)), Skip)


def test_history_never_moves_backwards():
    """Recording an older acceptance keeps the newer registration as the latest."""
    history = accepted(report(contact=5), report(contact=1))
    newer = report(contact=5)
    assert newer.contact is not None
    assert history.latest["contact"].registered.startswith("2024-03-06T08:00")
    assert len(history.accepted) == 2


def test_record_acceptance_returns_rows_for_the_journal():
    """What is recorded names the sent hash and each group's time and content hash."""
    rep = report(contact=0, education=2)
    recorded = record_acceptance(CprHistory(KEYS), rep, at=AT, run_id="r")
    assert recorded.payload_hash == digest(rep)
    assert [group for group, _, _ in recorded.groups] == ["contact", "education"]
    assert recorded.person == KEYS.person(rep.cpr)
    assert recorded.institution == rep.institution
