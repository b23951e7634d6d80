"""UDB's answer codes (spec 4.2.2) and what each means for the row and for the person fixing it.

One table serves the submit engine (which outcome an answer leads to), the local pre-checks
(which stand in for UDB with the same codes) and the workbook (what to tell the user). The
sheet each outcome lands on is named here too, in every language, because both the report
writer (which names the sheets) and the intake (which must find a `Fix` sheet fed back, be it
called `Fix` or `Ret`) need the table, and the intake may not import the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch.i18n import N_, _, every_translation
from batch.records import Answer, Outcome

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "SHEET_TITLES",
    "SUMMARY_TITLE",
    "UDB_CODES",
    "UdbCode",
    "outcome_of_answer",
    "outcome_of_sheet",
    "result_text",
    "sheet_names_for",
    "sheet_title",
]

SUMMARY_TITLE = N_("Summary")
# The row sheets' names (English msgids; a Danish workbook has "Godkendt", "Ret", ...).
SHEET_TITLES: Mapping[Outcome, str] = {
    Outcome.ACCEPTED: N_("Accepted"),
    Outcome.READY: N_("Ready"),
    Outcome.FIX: N_("Fix"),
    Outcome.DROP: N_("Drop"),
    Outcome.RETRY: N_("Retry"),
    Outcome.UNCHANGED: N_("Unchanged"),
}


def sheet_title(outcome: Outcome) -> str:
    """The outcome's sheet name in the current language."""
    return _(SHEET_TITLES[outcome])


def sheet_names_for(outcome: Outcome) -> tuple[str, ...]:
    """Every name the outcome's sheet has in any language, English first."""
    return every_translation(SHEET_TITLES[outcome])


def outcome_of_sheet(name: str) -> Outcome | None:
    """Which outcome's sheet `name` is, in any language (case-insensitive), else None."""
    wanted = name.strip().casefold()
    for outcome in SHEET_TITLES:
        if any(wanted == known.casefold() for known in sheet_names_for(outcome)):
            return outcome
    return None


@dataclass(frozen=True, slots=True)
class UdbCode:
    """One of UDB's error codes: its Danish text as sent, the row's fate and what to do."""

    code: int
    danish: str
    outcome: Outcome
    advice: str
    retry: bool = False


UDB_CODES: dict[int, UdbCode] = {
    14: UdbCode(
        14,
        "Den unge findes ikke i Ungedatabasen",
        Outcome.DROP,
        N_(
            "UDB has no data on this young person from the CPR register; check the CPR "
            "number, otherwise drop the row."
        ),
    ),
    15: UdbCode(
        15,
        "Aldersgrænse overskredet",
        Outcome.DROP,
        N_("The young person has turned 25 and UDB expects no data about them; drop the row."),
    ),
    86: UdbCode(
        86,
        "Bruger må ikke indberette oplysninger om dette CPR-nummer",
        Outcome.DROP,
        N_(
            "Only the KUI of the young person's home municipality may report; check "
            "KommuneInstitutionNummer, otherwise drop the row."
        ),
    ),
    101: UdbCode(
        101,
        "exeption - UDB",
        Outcome.RETRY,
        N_("UDB had an internal error; the row is sent again on the next run."),
        retry=True,
    ),
    280: UdbCode(
        280,
        "Registreringstid for kontakt, uddannelses- eller jobønsker må ikke fremdateres",
        Outcome.FIX,
        N_(
            "The registration time is later than now: set it to the moment it was registered, "
            "then send the row again."
        ),
    ),
}


_UNKNOWN_CODE = N_("UDB answered with a code we do not know; contact STIL's support with the row.")
_CHECKED_LOCALLY = N_("{advice} (Checked before sending, as UDB's code {code}: not sent.)")


def result_text(code: int, *, checked_locally: bool = False) -> str:
    """What the code means for the row and what to do, in the current language.

    UDB's own Danish text is not part of it: the workbook keeps that as UDB sent it, in a
    column of its own. A local pre-check says so, since UDB never saw the row.
    """
    known = UDB_CODES.get(code)
    advice = _(known.advice) if known else _(_UNKNOWN_CODE)
    if checked_locally:
        return _(_CHECKED_LOCALLY).format(advice=advice, code=code)
    return advice


def outcome_of_answer(answer: Answer) -> Outcome:
    """Ok=true is accepted; a known code decides; an unknown code is kept to fix by a person."""
    if answer.ok:
        return Outcome.ACCEPTED
    known = UDB_CODES.get(answer.code) if answer.code is not None else None
    return known.outcome if known else Outcome.FIX
