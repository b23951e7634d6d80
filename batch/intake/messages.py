"""The words of validation that several rules share, in the catalog (translated when used).

A message names the column as the file names it, so the person who made the file finds it;
what the column should hold is said in the run's language.
"""

from __future__ import annotations

from batch.i18n import N_, _

__all__ = ["SUBJECT", "WHAT", "date_only", "nonexistent", "unreadable"]

WHAT = {
    "CPRNr": N_("the young person's CPR number"),
    "KommuneInstitutionNummer": N_("the KUI's institution number"),
    "KontaktNavn": N_("the contact person's name"),
    "KontaktMail": N_("the contact person's e-mail"),
    "KontaktRegistreringstid": N_("when the contact was registered"),
    "JobOnsker": N_("the job wish"),
    "JobRegistreringstid": N_("when the job wish was registered"),
    "UddannelsesOnsker": N_("the education wish"),
    "UddannelsesRegistreringstid": N_("when the education wish was registered"),
}
SUBJECT = {  # (the group, with its article; the rest of its cells)
    "contact": (N_("a contact person"), N_("the contact person's other cells")),
    "job": (N_("a job wish"), N_("the job wish's other cells")),
    "education": (N_("an education wish"), N_("the education wish's other cells")),
}


def unreadable(named: str) -> str:
    """A registration time no format reads: show one that works."""
    return _(
        "{named} is not a date and time that can be read (write e.g. 15.06.2025 14:30): correct it."
    ).format(named=named)


def date_only(named: str) -> str:
    """A date without the time of day: UDB wants the moment of registration."""
    return _(
        "{named} has a date but no time of day: add the time it was registered "
        "(e.g. 15.06.2025 14:30)."
    ).format(named=named)


def nonexistent(named: str) -> str:
    """A wall-clock time skipped by summer time: it names no moment at all."""
    return _(
        "{named} is a time that does not exist in Denmark (the hour skipped when summer time "
        "begins, 02:00-03:00 on the last Sunday of March): correct it."
    ).format(named=named)
