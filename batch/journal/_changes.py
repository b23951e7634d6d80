"""Changed-only and never-older-over-newer: what of a row still needs sending, given the history.

Decided at send time by the one worker that holds the row's CPR, in the CPR's registration-time
order, against a `CprHistory` that the same worker updates after each acceptance. So two rows of
one CPR in one run are both sent (oldest first), and a late older row is left out.

Rules, per row:
- its payload digest was accepted before by the same service (same CPR and institution, any
  run): `unchanged`;
- per group (contact, job, education): left out when its registration time is older than the
  newest UDB accepted for that CPR and group, or equal to it with the same content from the same
  institution (UDB already holds exactly that). Equal time with other content is a correction:
  sent. A row whose groups are all left out is `unchanged`; otherwise the rest is sent;
- a row without any group (only CPR and institution) is sent unless its hash was accepted;
- `resend_all` switches all of this off.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from batch.i18n import N_, _
from batch.journal._base import GROUPS, CprHistory, GroupState, format_local, utc_key
from batch.journal._writer import Accepted

if TYPE_CHECKING:
    from batch.records import Contact, Report, Wish

__all__ = ["Send", "Skip", "plan_row", "record_acceptance"]


@dataclass(frozen=True, slots=True)
class Skip:
    """Nothing to send: the row ends `unchanged` with this text."""

    text: str


@dataclass(frozen=True, slots=True)
class Send:
    """Send `report` (the row, maybe with groups left out); `note` says what was left out."""

    report: Report
    groups: tuple[str, ...]
    note: str | None = None


_GROUP_WORDS = {"contact": N_("contact"), "job": N_("job wish"), "education": N_("education wish")}


def _when(state_at: str, run_id: str) -> str:
    moment = format_local(datetime.fromisoformat(state_at))
    return _("{moment} (run {run_id})").format(moment=moment, run_id=run_id)


def _groups(names: list[str]) -> str:
    """The groups as a person names them, in the run's language."""
    return ", ".join(_(_GROUP_WORDS[name]) for name in names)


def _present(report: Report) -> list[tuple[str, Contact | Wish]]:
    found = [(name, getattr(report, name)) for name in GROUPS]
    return [(name, group) for name, group in found if group is not None]


def plan_row(
    report: Report, payload_hash: bytes, history: CprHistory, *, resend_all: bool = False
) -> Send | Skip:
    """Decide what of `report` to send, given what UDB already accepted for its CPR."""
    present = _present(report)
    if resend_all:
        return Send(report, tuple(name for name, _ in present))
    if payload_hash in history.accepted:
        when = _when(*history.accepted[payload_hash])
        return Skip(_("already accepted by UDB on {when}").format(when=when))
    older, same = _held_already(report, present, history)
    if not older and not same:
        return Send(report, tuple(name for name, _ in present))
    text = _left_out_text(older, same)
    if len(older) + len(same) == len(present):
        return Skip(text)
    omitted = {name for name, _ in older + same}
    reduced = dataclasses.replace(
        report,
        contact=None if "contact" in omitted else report.contact,
        job=None if "job" in omitted else report.job,
        education=None if "education" in omitted else report.education,
    )
    kept = tuple(name for name, _ in present if name not in omitted)
    note = _("Left out: {groups}, {why}.").format(groups=_groups(sorted(omitted)), why=text)
    return Send(reduced, kept, note)


def _held_already(
    report: Report, present: list[tuple[str, Contact | Wish]], history: CprHistory
) -> tuple[list[tuple[str, GroupState]], list[tuple[str, GroupState]]]:
    """The groups UDB holds newer data for, and those it holds exactly as they are."""
    older: list[tuple[str, GroupState]] = []
    same: list[tuple[str, GroupState]] = []
    for name, group in present:
        state = history.latest.get(name)
        if state is None:
            continue
        registered = utc_key(group.registered)
        if registered < state.registered:
            older.append((name, state))
        elif (
            registered == state.registered
            and state.institution == report.institution
            and state.content_hash == history.keys.group(group)
        ):
            same.append((name, state))
    return older, same


def _left_out_text(older: list[tuple[str, GroupState]], same: list[tuple[str, GroupState]]) -> str:
    if older:
        _name, state = max(older, key=lambda item: item[1].accepted_at)
        registered = format_local(datetime.fromisoformat(state.registered))
        return _("newer data already reported on {when}: {groups} registered {at} or later").format(
            when=_when(state.accepted_at, state.run_id),
            groups=_groups([name for name, _state in older]),
            at=registered,
        )
    _name, state = max(same, key=lambda item: item[1].accepted_at)
    return _("already accepted by UDB on {when}").format(
        when=_when(state.accepted_at, state.run_id)
    )


def record_acceptance(
    history: CprHistory,
    sent: Report,
    *,
    at: datetime,
    run_id: str,
    payload_hash: bytes | None = None,
) -> Accepted:
    """Fold what UDB just accepted into `history` and return it for the journal's tables.

    `payload_hash` is `sent`'s keyed digest when the caller knows it already (saves
    serializing and hashing again).
    """
    at_text = at.isoformat(timespec="microseconds")
    digest = payload_hash or history.keys.payload(sent.to_json())
    history.accepted[digest] = (at_text, run_id)
    groups: list[tuple[str, str, bytes]] = []
    for name, group in _present(sent):
        registered, content = utc_key(group.registered), history.keys.group(group)
        groups.append((name, registered, content))
        state = history.latest.get(name)
        if state is None or registered >= state.registered:
            history.latest[name] = GroupState(
                registered, content, sent.institution, at_text, run_id
            )
    person = history.person or history.keys.person(sent.cpr)
    return Accepted(person, sent.institution, digest, tuple(groups), at_text)
