"""UDB's answer codes (spec 4.2.2) and what each means for the row and for the person fixing it.

One table serves the submit engine (which outcome an answer leads to), the local pre-checks
(which stand in for UDB with the same codes) and the workbook (what to tell the user).
"""

from __future__ import annotations

from dataclasses import dataclass

from batch.records import Answer, Outcome

__all__ = [
    "CHECKED_BEFORE_SENDING",
    "UDB_CODES",
    "UdbCode",
    "outcome_of_answer",
    "result_text",
]

CHECKED_BEFORE_SENDING = "(checked before sending)"


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
        "UDB has no data on this young person from the CPR register; check the CPR number, "
        "otherwise drop the row.",
    ),
    15: UdbCode(
        15,
        "Aldersgrænse overskredet",
        Outcome.DROP,
        "The young person has turned 25 and UDB expects no data about them; drop the row.",
    ),
    86: UdbCode(
        86,
        "Bruger må ikke indberette oplysninger om dette CPR-nummer",
        Outcome.DROP,
        "Only the KUI of the young person's home municipality may report; check "
        "KommuneInstitutionNummer, otherwise drop the row.",
    ),
    101: UdbCode(
        101,
        "exeption - UDB",
        Outcome.RETRY,
        "UDB had an internal error; the row is sent again on the next run.",
        retry=True,
    ),
    280: UdbCode(
        280,
        "Registreringstid for kontakt, uddannelses- eller jobønsker må ikke fremdateres",
        Outcome.FIX,
        "Set the registration time to the moment it was registered, not later, and send the "
        "row again.",
    ),
}


def result_text(code: int, received_text: str | None, *, checked_locally: bool = False) -> str:
    """UDB's text as received (or as UDB would send it), then one sentence of what to do."""
    known = UDB_CODES.get(code)
    danish = received_text or (known.danish if known else "")
    advice = known.advice if known else "Unknown UDB code; contact STIL's support with the row."
    suffix = f" {CHECKED_BEFORE_SENDING}" if checked_locally else ""
    return f"{danish}{suffix}. {advice}".strip()


def outcome_of_answer(answer: Answer) -> Outcome:
    """Ok=true is accepted; a known code decides; an unknown code is kept to fix by a person."""
    if answer.ok:
        return Outcome.ACCEPTED
    known = UDB_CODES.get(answer.code) if answer.code is not None else None
    return known.outcome if known else Outcome.FIX
