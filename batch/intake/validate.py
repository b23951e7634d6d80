"""The spec's rules and UDB's cheap pre-checks over normalized columns -> issues per row.

Rules are evaluated column-wise (boolean masks over a whole chunk); each rule's `Issue` is
built once per chunk and shared by every row it applies to. Every issue blocks sending: rows
with issues go to the fix sheet (or, for the local age check, code 15, to the drop sheet).

Decisions where the spec is silent:
  - A group (contact, job wish, education wish) is present when any of its cells is filled,
    the contact's phone included; then all its required cells must be filled.
  - The phone, after normalization, must be 8 digits (a Danish number; the schema allows 10).
  - The CPR number needs ten digits and a real birth date by the 7th digit's century rule;
    the modulus-11 check is deliberately not applied (the CPR office issues numbers failing it).
  - Local stand-ins for UDB's own checks, with UDB's codes: a registration time more than the
    tolerance after `now` is 280 (fix); aged 25 or more today in Copenhagen is 15 (drop).
  - The institution number must be a whole number from 1 to 2,147,483,647 (xs:int).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from batch.i18n import _
from batch.intake.cpr import age_on
from batch.intake.messages import EMPTY, NO_COLUMN, WHAT, date_only, nonexistent, unreadable
from batch.intake.text import mail_syntax_ok, valid_mails
from batch.intake.times import COPENHAGEN, Times
from batch.outcomes import result_text
from batch.records import Issue

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import date, datetime, timedelta

__all__ = [
    "AGE_LIMIT",
    "FIELD_SLUGS",
    "LIMITS",
    "Fields",
    "validate",
]

AGE_LIMIT = 25
LIMITS = {  # String(n) of the spec
    "KontaktNavn": 100,
    "KontaktMail": 100,
    "JobOnsker": 200,
    "UddannelsesOnsker": 200,
    "ModtagerSystemID": 100,
}
FIELD_SLUGS = {
    "CPRNr": "cpr",
    "KommuneInstitutionNummer": "institution",
    "KontaktNavn": "contact-name",
    "KontaktMail": "contact-mail",
    "KontaktTelefon": "contact-phone",
    "KontaktRegistreringstid": "contact-time",
    "JobOnsker": "job-wish",
    "JobRegistreringstid": "job-time",
    "UddannelsesOnsker": "education-wish",
    "UddannelsesRegistreringstid": "education-time",
    "ModtagerSystemID": "system-id",
}
_INT_MAX = 2_147_483_647
_GROUPS = {  # group -> (fields that make it present, required fields, its time field)
    "contact": (
        ("KontaktNavn", "KontaktMail", "KontaktTelefon", "KontaktRegistreringstid"),
        ("KontaktNavn", "KontaktMail", "KontaktRegistreringstid"),
    ),
    "job": (("JobOnsker", "JobRegistreringstid"), ("JobOnsker", "JobRegistreringstid")),
    "education": (
        ("UddannelsesOnsker", "UddannelsesRegistreringstid"),
        ("UddannelsesOnsker", "UddannelsesRegistreringstid"),
    ),
}
_TIMES = ("KontaktRegistreringstid", "JobRegistreringstid", "UddannelsesRegistreringstid")


@dataclass(frozen=True, slots=True)
class Fields:
    """One chunk's normalized canonical columns (all-NA where the file has no such column)."""

    text: Mapping[str, pd.Series]  # CPR, institution digits, phone digits, names, mail, wishes
    times: Mapping[str, Times]  # the three registration times
    headers: Mapping[str, str | None]  # field -> the column header as the file names it
    overlong: np.ndarray  # CSV records with data beyond the header's columns
    # Fields fed by a column that feeds several (a mapping's one "Registreringsdato" for all
    # three times): such a cell alone does not make its group present, or every row would
    # have all three groups.
    shared: frozenset[str] = frozenset()

    def filled(self, field: str) -> np.ndarray:
        """Rows where `field` has a value (a time counts even when it could not be read)."""
        if field in self.times:
            return np.asarray(~self.times[field].missing, dtype=bool)
        return self.text[field].notna().to_numpy(dtype=bool)


Rule = tuple[np.ndarray, Issue]


def validate(
    fields: Fields,
    now: datetime,
    tolerance: timedelta,
    *,
    mail_ok: Callable[[str], bool] | None = None,
) -> list[tuple[Issue, ...]]:
    """Issues per row, in rule order; an empty tuple means the row may be sent.

    `mail_ok` checks one address (default: `mail_syntax_ok`); pass a cached one to share
    verdicts between chunks, since a file names the same few contact persons again and again.
    """
    rules = [
        *_cpr_rules(fields, now),
        *_institution_rules(fields),
        *_system_id_rules(fields),
        *_group_rules(fields),
        *_contact_rules(fields, mail_ok or mail_syntax_ok),
        *_time_rules(fields, now, tolerance),
        *_length_rules(fields),
    ]
    if fields.overlong.any():
        rules.append((fields.overlong, _extra_fields()))
    found: dict[int, list[Issue]] = {}
    for mask, issue in rules:
        for index in np.flatnonzero(mask).tolist():
            found.setdefault(index, []).append(issue)
    issues: list[tuple[Issue, ...]] = [()] * len(fields.overlong)
    for index, row_issues in found.items():
        issues[index] = tuple(row_issues)
    return issues


def _issue(slug: str, field: str, headers: Mapping[str, str | None], message: str) -> Issue:
    return Issue(slug=slug, message=message, field=field, column=headers.get(field))


def _named(field: str, headers: Mapping[str, str | None]) -> str:
    header = headers.get(field)
    return _('Column "{header}"').format(header=header) if header else field


def _cpr_rules(fields: Fields, now: datetime) -> list[Rule]:
    cpr = fields.text["CPRNr"]
    headers, named = fields.headers, _named("CPRNr", fields.headers)
    missing = cpr.isna().to_numpy(dtype=bool)
    ten = cpr.str.fullmatch("[0-9]{10}").fillna(value=False).to_numpy(dtype=bool)
    ages = _ages(cpr, ten, now)
    no_date = ten & np.isnan(ages)
    return [
        (
            missing,
            _issue(
                "cpr-missing",
                "CPRNr",
                headers,
                _("{named} is empty: fill in the CPR number.").format(named=named),
            ),
        ),
        (
            ~missing & ~ten,
            _issue(
                "cpr-invalid",
                "CPRNr",
                headers,
                _("{named} is not a CPR number of 10 digits (DDMMYY-SSSS): correct it.").format(
                    named=named
                ),
            ),
        ),
        (
            no_date,
            _issue(
                "cpr-birth-date",
                "CPRNr",
                headers,
                _(
                    "{named} holds a CPR number whose first six digits are not a real date of "
                    "birth: correct it."
                ).format(named=named),
            ),
        ),
        (np.nan_to_num(ages, nan=0) >= AGE_LIMIT, _age_issue(headers)),
    ]


def _ages(cpr: pd.Series, ten: np.ndarray, now: datetime) -> np.ndarray:
    """Age today in Copenhagen by the CPR number's birth date; NaN when there is none.

    The birth date depends only on the first seven digits (date and century digit), so each
    distinct prefix is computed once, by `batch.intake.cpr`, and spread over the rows.
    """
    today = now.astimezone(COPENHAGEN).date() if now.tzinfo else now.date()
    codes, prefixes = pd.factorize(cpr.where(ten).str.slice(0, 7), use_na_sentinel=True)
    ages = [_age(prefix, today) for prefix in prefixes]
    by_prefix = np.asarray([np.nan if age is None else age for age in ages] + [np.nan])
    return np.asarray(by_prefix[codes], dtype=np.float64)


@functools.lru_cache(maxsize=1 << 16)
def _age(prefix: str, today: date) -> int | None:
    """The age by a prefix, kept across chunks: a file's chunks share most birth dates."""
    return age_on(f"{prefix}000", today)


def _age_issue(headers: Mapping[str, str | None]) -> Issue:
    return Issue(
        slug="age-limit",
        message=result_text(15, checked_locally=True),
        field="CPRNr",
        column=headers.get("CPRNr"),
        code="15",
        hard=True,
    )


def _institution_rules(fields: Fields) -> list[Rule]:
    digits = fields.text["KommuneInstitutionNummer"]
    headers, named = fields.headers, _named("KommuneInstitutionNummer", fields.headers)
    missing = digits.isna().to_numpy(dtype=bool)
    digits_only = digits.str.fullmatch("[0-9]{1,10}").fillna(value=False)
    zero = digits.str.fullmatch("0+").fillna(value=False)
    in_range = (digits.str.len() < len(str(_INT_MAX))) | (digits <= str(_INT_MAX))  # same width
    good = (digits_only & ~zero & in_range.fillna(value=False)).to_numpy(dtype=bool)
    return [
        (
            missing,
            _issue(
                "institution-missing",
                "KommuneInstitutionNummer",
                headers,
                _("{named} is empty: fill in the KUI's institution number.").format(named=named),
            ),
        ),
        (
            ~missing & ~good,
            _issue(
                "institution-invalid",
                "KommuneInstitutionNummer",
                headers,
                _(
                    "{named} is not a whole number (the KUI's institution number): correct it."
                ).format(named=named),
            ),
        ),
    ]


def _system_id_rules(fields: Fields) -> list[Rule]:
    missing = fields.text["ModtagerSystemID"].isna().to_numpy(dtype=bool)
    message = _(
        "{named} is empty and no system ID is configured: fill it in, or set system_id "
        "(--system-id, BATCH_SYSTEM_ID or system_id in the config file)."
    ).format(named=_named("ModtagerSystemID", fields.headers))
    return [(missing, _issue("system-id-missing", "ModtagerSystemID", fields.headers, message))]


def _group_rules(fields: Fields) -> list[Rule]:
    rules: list[Rule] = []
    any_group = np.zeros(len(fields.overlong), dtype=bool)
    for group, (members, required) in _GROUPS.items():
        own = [f for f in members if f not in fields.shared] or list(members)
        present = np.logical_or.reduce([fields.filled(f) for f in own])
        any_group |= present
        rules.extend(
            (present & ~fields.filled(field), _missing_in_group(group, field, fields))
            for field in required
        )
    nothing = Issue(
        slug="nothing-to-report",
        message=_(
            "The row has no contact person, job wish or education wish: fill one in or delete "
            "the row."
        ),
    )
    rules.append((~any_group, nothing))
    return rules


def _missing_in_group(group: str, field: str, fields: Fields) -> Issue:
    what, header = _(WHAT[field]), fields.headers.get(field)
    if header is None:
        message = _(NO_COLUMN[group]).format(what=what, field=field)
    else:
        message = _(EMPTY[group]).format(header=header, what=what)
    return _issue(f"{FIELD_SLUGS[field]}-missing", field, fields.headers, message)


def _contact_rules(fields: Fields, mail_ok: Callable[[str], bool]) -> list[Rule]:
    phone, mail = fields.text["KontaktTelefon"], fields.text["KontaktMail"]
    bad_phone = phone.notna() & ~phone.str.fullmatch("[0-9]{8}").fillna(value=False)
    named_phone, named_mail = (_named(f, fields.headers) for f in ("KontaktTelefon", "KontaktMail"))
    checked = valid_mails(mail, mail_ok)
    bad_mail = mail.notna() & ~checked & (mail.str.len() <= LIMITS["KontaktMail"])
    return [
        (
            bad_phone.to_numpy(dtype=bool),
            _issue(
                "contact-phone-invalid",
                "KontaktTelefon",
                fields.headers,
                _(
                    "{named} is not a Danish phone number of 8 digits (spaces, dashes and +45 are "
                    "fine): correct it or leave it empty."
                ).format(named=named_phone),
            ),
        ),
        (
            bad_mail.to_numpy(dtype=bool),
            _issue(
                "contact-mail-invalid",
                "KontaktMail",
                fields.headers,
                _("{named} is not a valid e-mail address: correct it.").format(named=named_mail),
            ),
        ),
    ]


def _time_rules(fields: Fields, now: datetime, tolerance: timedelta) -> list[Rule]:
    rules: list[Rule] = []
    latest = pd.Timestamp(now + tolerance)
    future = Issue(
        slug="registration-in-future",
        message=result_text(280, checked_locally=True),
        code="280",
    )
    for field in _TIMES:
        times, named = fields.times[field], _named(field, fields.headers)
        slug = FIELD_SLUGS[field]
        rules += [
            (
                times.unreadable,
                _issue(f"{slug}-invalid", field, fields.headers, unreadable(named)),
            ),
            (
                times.date_only,
                _issue(f"{slug}-date-only", field, fields.headers, date_only(named)),
            ),
            (
                times.nonexistent,
                _issue(f"{slug}-nonexistent", field, fields.headers, nonexistent(named)),
            ),
            (
                (times.moments > latest).fillna(value=False).to_numpy(dtype=bool),
                Issue(future.slug, future.message, field, fields.headers.get(field), "280"),
            ),
        ]
    return rules


def _length_rules(fields: Fields) -> list[Rule]:
    rules: list[Rule] = []
    for field, limit in LIMITS.items():
        lengths = fields.text[field].str.len()
        too_long = (lengths > limit).fillna(value=False).to_numpy(dtype=bool)
        message = _("{named} is longer than {limit} characters: shorten it.").format(
            named=_named(field, fields.headers), limit=limit
        )
        rules.append(
            (too_long, _issue(f"{FIELD_SLUGS[field]}-too-long", field, fields.headers, message))
        )
    return rules


def _extra_fields() -> Issue:
    return Issue(
        slug="extra-fields",
        message=_(
            "The row has more fields than the header has columns (often a delimiter inside a "
            "text without quotes): correct the row."
        ),
    )
