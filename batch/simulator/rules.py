"""UDB's own checks of a request that passed the platform: 14, 15, 86 and 280, in that order."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from batch.intake.cpr import age_on
from batch.outcomes import UDB_CODES
from batch.records import Answer
from batch.simulator.payload import registration_times

if TYPE_CHECKING:
    from datetime import datetime

    from batch.simulator.registry import Person

__all__ = ["AGE_LIMIT", "LOCAL_TIME", "judge", "refusal"]

AGE_LIMIT = 25  # UDB expects data on young people aged 15 to 24
# Danish municipal systems record local time; a time without a zone is read as such.
LOCAL_TIME = ZoneInfo("Europe/Copenhagen")


def refusal(code: int) -> Answer:
    """Ok=false with UDB's code and its Danish text exactly as UDB sends it."""
    known = UDB_CODES.get(code)
    return Answer(ok=False, code=code, text=known.danish if known else f"fejl {code}")


def judge(fields: dict[str, object], registry: dict[str, Person], now: datetime) -> Answer:
    """UDB's answer to a schema-valid request at the moment `now` (aware).

    280 allows no tolerance at all: a registration time one microsecond after `now` is
    refused. The client's own pre-check is the place for a margin.
    """
    cpr = str(fields.get("CPRNr", ""))
    person = registry.get(cpr)
    if person is None:
        return refusal(14)
    if person.fails_with is not None:
        return refusal(person.fails_with)
    age = age_on(cpr, now.astimezone(LOCAL_TIME).date())
    if age is not None and age >= AGE_LIMIT:
        return refusal(15)
    if fields.get("KommuneInstitutionNummer") != person.home_kui:
        return refusal(86)
    if any(_aware(time) > now for time in registration_times(fields)):
        return refusal(280)
    return Answer(ok=True)


def _aware(time: datetime) -> datetime:
    return time if time.tzinfo is not None else time.replace(tzinfo=LOCAL_TIME)
