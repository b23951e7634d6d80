"""Which pending rows of one CPR a run sends: the registration-time window and `--newest-only`.

Decided per CPR group by the worker that holds it, before the journal's changed-only check, so
a row left out here never costs a request and always ends `unchanged` with the reason: a filter
never loses a row. Both are pure functions of the group's rows and the settings.

- The window (`--registered-since DATE`, `--registered-before DATE`, midnight Danish local time)
  looks at a row's newest registration time, the time that orders its CPR's rows. A row with no
  registration time at all (CPR and institution only) is not filtered.
- `--newest-only`: per person and group (contact, job wish, education wish), only the newest
  registration among the rows being sent goes to UDB; a tie goes to the row later in the input.
  A row left with no group is `unchanged` ("superseded by row <n> of <file>"); a row left with
  some groups is sent without the others. Rows outside the window take no part.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from batch.i18n import _
from batch.journal import GROUPS, Skip, format_local, plan_row

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from batch.journal import CprHistory, PendingRow, Send
    from batch.records import Contact, Report, Wish

__all__ = [
    "Dropped",
    "Narrowed",
    "Rules",
    "Selection",
    "decide",
    "local_midnight",
    "payload_digest",
    "select_rows",
    "until_deadline",
]

LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")


@dataclass(frozen=True, slots=True)
class Selection:
    """What of the input a run sends; the default sends everything."""

    since: datetime | None = None  # aware; rows registered before it are left out
    before: datetime | None = None  # aware; rows registered at or after it are left out
    newest_only: bool = False

    @property
    def active(self) -> bool:
        """Anything to decide at all (the common nightly run skips the work)."""
        return self.newest_only or self.since is not None or self.before is not None


@dataclass(frozen=True, slots=True)
class Narrowed:
    """Send `report` (the row without its superseded groups); `note` says what was left out."""

    report: Report
    note: str


def local_midnight(day: date) -> datetime:
    """The start of `day` in Danish local time, as an aware moment."""
    return datetime.combine(day, time(0, 0), tzinfo=LOCAL_ZONE)


def until_deadline(text: str, now: datetime) -> datetime:
    """The moment `--until` names, in UTC; `now` is a parameter so tests need no clock.

    `HH:MM` is the next such Danish local time after `now` (a run started at 22:00 with
    `--until 06:00` stops at 06:00 the next morning); `YYYY-MM-DD HH:MM` is that moment, also
    when it has passed (the run then sends nothing).
    """
    if len(text) <= len("HH:MM"):
        local_now = now.astimezone(LOCAL_ZONE)
        clock = time.fromisoformat(text)
        moment = datetime.combine(local_now.date(), clock, tzinfo=LOCAL_ZONE)
        if moment <= local_now:
            moment = datetime.combine(local_now.date() + timedelta(days=1), clock, LOCAL_ZONE)
        return moment.astimezone(UTC)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_ZONE)
    return moment.astimezone(UTC)


def select_rows(rows: Sequence[PendingRow], selection: Selection) -> dict[int, Skip | Narrowed]:
    """Decisions by row id for the rows not sent as they are; rows not named are sent."""
    decisions: dict[int, Skip | Narrowed] = {}
    inside: list[PendingRow] = []
    for row in rows:
        why = _outside(row.report, selection)
        if why is None:
            inside.append(row)
        else:
            decisions[row.row_id] = Skip(why)
    if selection.newest_only:
        decisions.update(_newest_only(inside))
    return decisions


def _outside(report: Report, selection: Selection) -> str | None:
    latest = report.latest_registration()
    if latest is None:
        return None
    shown = format_local(latest)
    if selection.since is not None and latest < selection.since:
        since = selection.since.date().isoformat()
        return _("registered {time}, before --registered-since {date}: not sent").format(
            time=shown, date=since
        )
    if selection.before is not None and latest >= selection.before:
        before = selection.before.date().isoformat()
        return _("registered {time}, not before --registered-before {date}: not sent").format(
            time=shown, date=before
        )
    return None


def _group(report: Report, name: str) -> Contact | Wish | None:
    group: Contact | Wish | None = getattr(report, name)
    return group


def _newest_only(rows: Sequence[PendingRow]) -> dict[int, Skip | Narrowed]:
    """Per group the row holding its newest registration; every other row loses that group."""
    newest = _newest_per_group(rows)
    decisions: dict[int, Skip | Narrowed] = {}
    for row in rows:
        superseded = {
            name: newest[name]
            for name in GROUPS
            if _group(row.report, name) is not None and newest[name] is not row
        }
        if superseded:
            decisions[row.row_id] = _supersede(row, superseded)
    return decisions


def _newest_per_group(rows: Sequence[PendingRow]) -> dict[str, PendingRow]:
    newest: dict[str, tuple[datetime, PendingRow]] = {}
    for row in rows:  # in registration order, file order breaking ties: the last one wins a tie
        for name in GROUPS:
            group = _group(row.report, name)
            if group is None:
                continue
            moment = group.registered.astimezone(UTC)
            if name not in newest or moment >= newest[name][0]:
                newest[name] = (moment, row)
    return {name: row for name, (_moment, row) in newest.items()}


def _supersede(row: PendingRow, superseded: dict[str, PendingRow]) -> Skip | Narrowed:
    by = _superseders(superseded.values())
    if len(superseded) == sum(_group(row.report, n) is not None for n in GROUPS):
        return Skip(_("superseded by {rows}").format(rows=by))
    reduced = dataclasses.replace(
        row.report,
        contact=None if "contact" in superseded else row.report.contact,
        job=None if "job" in superseded else row.report.job,
        education=None if "education" in superseded else row.report.education,
    )
    note = _("Left out as superseded by {rows}: {groups}.").format(
        rows=by, groups=", ".join(sorted(superseded))
    )
    return Narrowed(reduced, note)


def _superseders(rows: Iterable[PendingRow]) -> str:
    seen: dict[tuple[str, int], None] = {}
    for row in rows:
        seen[(row.source_file, row.source_row)] = None
    return "; ".join(
        _("row {row} of {file}").format(row=number, file=file) for file, number in seen
    )


@dataclass(frozen=True, slots=True)
class Dropped:
    """UDB rejected this very payload for good before: the row ends `drop`, not sent again."""

    code: str
    text: str


@dataclass(frozen=True, slots=True)
class Rules:
    """The memory's rules for one run (see `SubmitSettings`)."""

    resend_all: bool = False
    resend_dropped: bool = False
    drop_recheck_days: int = 30
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def decide(
    row: PendingRow, history: CprHistory, chosen: Skip | Narrowed | None, rules: Rules
) -> Send | Skip | Dropped:
    """A row's plan: the selection's decision first (window, newest only), then the memory's.

    Shared by the run (just before sending) and the dry run (counting what a run would send),
    so that `batch validate` counts exactly what the next `batch run` sends. What was accepted
    wins over what was rejected (the person may have moved in since).
    """
    if isinstance(chosen, Skip):
        return chosen
    report = row.report if chosen is None else chosen.report
    digest = row.payload_hash if chosen is None else payload_digest(history, report)
    plan = plan_row(report, digest, history, resend_all=rules.resend_all)
    if isinstance(plan, Skip):
        return plan
    if plan.report is not report:
        digest = payload_digest(history, plan.report)
    dropped = _remembered_drop(history, digest, rules)
    if dropped is not None:
        return dropped
    if chosen is None:
        return plan
    note = f"{chosen.note} {plan.note}" if plan.note else chosen.note
    return dataclasses.replace(plan, note=note)


def payload_digest(history: CprHistory, report: Report) -> bytes:
    """The digest the memory keeps for `report`: keyed with the state directory's key."""
    return history.keys.payload(report.to_json())


def _remembered_drop(history: CprHistory, digest: bytes, rules: Rules) -> Dropped | None:
    if rules.resend_all or rules.resend_dropped or digest not in history.rejected:
        return None
    at, run_id, code = history.rejected[digest]
    rejected = datetime.fromisoformat(at)
    if rules.now - rejected >= timedelta(days=rules.drop_recheck_days):
        return None  # old enough to ask UDB again: a person may move or appear in UDB
    text = _(
        "UDB rejected this same data on {date} (run {run}): not sent again. "
        "--resend-dropped sends it; after {days} days it is sent again by itself."
    ).format(date=format_local(rejected), run=run_id, days=rules.drop_recheck_days)
    return Dropped(code, text)
