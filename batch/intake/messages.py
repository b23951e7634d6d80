"""The texts of the row issues that need more than one line to say: per field and per group.

Kept apart from `batch.intake.validate` (the rules) so that the rules read as rules. Every text
goes through the catalog; Danish inflects the nouns of the groups, so each group has sentences
of its own rather than a noun put into one sentence.
"""

from __future__ import annotations

from batch.i18n import N_, _

__all__ = ["EMPTY", "NO_COLUMN", "WHAT", "date_only", "nonexistent", "unreadable"]

WHAT = {  # translated where used
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
# A group's part of a message: Danish inflects the noun, so each group has its own sentences.
NO_COLUMN = {
    "contact": N_(
        "The row has a contact person but the file has no column for {what} ({field}): add the "
        "column, or clear the contact person's other cells."
    ),
    "job": N_(
        "The row has a job wish but the file has no column for {what} ({field}): add the "
        "column, or clear the job wish's other cells."
    ),
    "education": N_(
        "The row has an education wish but the file has no column for {what} ({field}): add "
        "the column, or clear the education wish's other cells."
    ),
}
EMPTY = {
    "contact": N_(
        'Column "{header}" is empty but the row has a contact person: fill in {what}, or clear '
        "the contact person's other cells."
    ),
    "job": N_(
        'Column "{header}" is empty but the row has a job wish: fill in {what}, or clear the job '
        "wish's other cells."
    ),
    "education": N_(
        'Column "{header}" is empty but the row has an education wish: fill in {what}, or clear '
        "the education wish's other cells."
    ),
}


def unreadable(named: str) -> str:
    """A time cell that is no date and time in any accepted form."""
    return _(
        "{named} is not a date and time that can be read (write e.g. 15.06.2025 14:30): correct it."
    ).format(named=named)


def date_only(named: str) -> str:
    """A time cell with a date only, and no time configured for such dates."""
    return _(
        "{named} has a date but no time of day: add the time it was registered "
        "(e.g. 15.06.2025 14:30), or set a time for such dates (--date-only-time 12:00)."
    ).format(named=named)


def nonexistent(named: str) -> str:
    """A local time in the hour skipped when summer time begins."""
    return _(
        "{named} is a time that does not exist in Denmark (the hour skipped when summer time "
        "begins, 02:00-03:00 on the last Sunday of March): correct it."
    ).format(named=named)
