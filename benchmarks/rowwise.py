"""The baseline for measurement 2: the loader's rules written row by row in plain Python.

What a careful engineer writes first: `csv.reader`, one row at a time, `str` methods and
compiled regular expressions, `datetime` with `zoneinfo`. Same header mapping, same cleaning
(text, CPR, phone, institution, the three time formats the benchmark file uses, plus ISO with
an offset), same rules (CPR and birth date, age, institution, groups, mail, phone, times,
future, lengths), same `Row`/`Report` out. Memo caches where the vectorized code has them
too (birth dates by prefix, mail verdicts), so the comparison is of the style, not the care.
"""

from __future__ import annotations

import csv
import functools
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from batch.intake.columns import map_columns, unique_headers
from batch.intake.cpr import age_on
from batch.intake.text import PLACEHOLDERS, mail_syntax_ok
from batch.intake.times import COPENHAGEN
from batch.intake.validate import AGE_LIMIT, LIMITS
from batch.records import CANONICAL_FIELDS, CellValue, Contact, Issue, Report, Row, Wish

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import date
    from pathlib import Path

__all__ = ["read_rows"]

_SPACES = re.compile(r"\s+")
_CPR_NOISE = re.compile(r"[ \-\u2010-\u2015]")
_DECIMAL_ZEROS = re.compile(r"(?<=[0-9])[.,]0+$")
_GROUPING = re.compile(r"(?<=[0-9])[. ](?=[0-9]{3}(?:[. ]|$))")
_PHONE_NOISE = re.compile(r"[ \-.()/\u2010-\u2015]")
_DANISH = re.compile(
    r"(\d{1,2})[-./](\d{1,2})[-./](\d{4})(?:[ T]+(?:kl\.? *)?(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?"
)
_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r" *(Z|[+-]\d{2}(?::?\d{2})?)?"
)
Fields = dict[str, Any]  # canonical field -> cleaned text, an aware datetime, or None
_INT_MAX = 2_147_483_647
_TOLERANCE = timedelta(minutes=5)
_GROUPS = {
    "contact": (("KontaktNavn", "KontaktMail", "KontaktTelefon", "KontaktRegistreringstid"),
                ("KontaktNavn", "KontaktMail", "KontaktRegistreringstid")),
    "job": (("JobOnsker", "JobRegistreringstid"),) * 2,
    "education": (("UddannelsesOnsker", "UddannelsesRegistreringstid"),) * 2,
}  # fmt: skip


def _text(value: str | None) -> str | None:
    if not value:
        return None
    cleaned = _SPACES.sub(" ", value).strip()
    if not cleaned or cleaned.lower() in PLACEHOLDERS:
        return None
    return cleaned


def _cpr(value: str | None) -> str | None:
    text = _text(value)
    if text is None:
        return None
    text = _CPR_NOISE.sub("", text)
    return "0" + text if len(text) == 9 and text.isdigit() else text


def _integer(value: str | None) -> str | None:
    text = _text(value)
    if text is None or text.isdigit():
        return text
    return _GROUPING.sub("", _DECIMAL_ZEROS.sub("", text))


def _phone(value: str | None) -> str | None:
    text = _text(value)
    if text is None:
        return None
    text = _PHONE_NOISE.sub("", text)
    if text.startswith(("+45", "0045")) and len(text) in (11, 12):
        text = text[-8:]
    return text


def _moment(value: str | None) -> datetime | str | None:
    """A parsed aware time, None when empty, or the issue slug's tail when unusable."""
    text = _text(value)
    if text is None:
        return None
    if match := _DANISH.fullmatch(text):
        day, month, year, hour, minute, second = match.groups()
        zone = None
    elif match := _ISO.fullmatch(text):
        year, month, day, hour, minute, second, zone = match.groups()
    else:
        return "invalid"
    if hour is None:
        return "date-only"
    try:
        wall = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return "invalid"
    if zone is None:
        return _local(wall)
    return wall.replace(tzinfo=UTC) - _offset(zone)


def _local(wall: datetime) -> datetime | str:
    aware = wall.replace(tzinfo=COPENHAGEN, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(COPENHAGEN).replace(tzinfo=None)
    return aware if round_trip == wall else "nonexistent"


def _offset(zone: str) -> timedelta:
    if zone == "Z":
        return timedelta(0)
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    return timedelta(minutes=minutes if zone[0] == "+" else -minutes)


@functools.cache
def _age(prefix: str, today: date) -> int | None:
    return age_on(prefix + "000", today)


@functools.cache
def _mail_ok(address: str) -> bool:
    return mail_syntax_ok(address)


def _cpr_issues(cpr: str | None, today: date) -> list[str]:
    if cpr is None:
        return ["cpr-missing"]
    if len(cpr) != 10 or not cpr.isdigit():
        return ["cpr-invalid"]
    age = _age(cpr[:7], today)
    if age is None:
        return ["cpr-birth-date"]
    return ["age-limit"] if age >= AGE_LIMIT else []


def _field_issues(fields: Fields, now: datetime) -> list[str]:
    issues = _cpr_issues(fields["CPRNr"], now.astimezone(COPENHAGEN).date())
    institution = fields["KommuneInstitutionNummer"]
    if institution is None:
        issues.append("institution-missing")
    elif not (isinstance(institution, str) and institution.isdigit()) or not (
        1 <= int(institution) <= _INT_MAX
    ):
        issues.append("institution-invalid")
    if fields["ModtagerSystemID"] is None:
        issues.append("system-id-missing")
    issues += _group_issues(fields)
    phone, mail = fields["KontaktTelefon"], fields["KontaktMail"]
    if phone is not None and not (len(phone) == 8 and phone.isdigit()):
        issues.append("contact-phone-invalid")
    if isinstance(mail, str) and len(mail) <= LIMITS["KontaktMail"] and not _mail_ok(mail):
        issues.append("contact-mail-invalid")
    latest = now + _TOLERANCE
    for name in ("KontaktRegistreringstid", "JobRegistreringstid", "UddannelsesRegistreringstid"):
        moment = fields[name]
        if isinstance(moment, str):
            issues.append(f"{name}-{moment}")
        elif isinstance(moment, datetime) and moment > latest:
            issues.append("registration-in-future")
    issues += [f"{n}-too-long" for n, limit in LIMITS.items() if len(fields[n] or "") > limit]
    return issues


def _group_issues(fields: Fields) -> list[str]:
    issues, any_group = [], False
    for group, (members, required) in _GROUPS.items():
        if any(fields[name] is not None for name in members):
            any_group = True
            issues += [f"{group}-{name}-missing" for name in required if fields[name] is None]
    return issues if any_group else ["nothing-to-report"]


def _report(fields: Fields) -> Report:
    def wish(text: str, moment: str) -> Wish | None:
        registered = fields[moment]
        return Wish(fields[text], registered) if isinstance(registered, datetime) else None

    contact_time, phone = fields["KontaktRegistreringstid"], fields["KontaktTelefon"]
    contact = None
    if isinstance(contact_time, datetime):
        number = int(phone) if isinstance(phone, str) else None
        contact = Contact(fields["KontaktNavn"], fields["KontaktMail"], number, contact_time)
    return Report(
        system_id=fields["ModtagerSystemID"],
        cpr=fields["CPRNr"],
        institution=int(fields["KommuneInstitutionNummer"]),
        contact=contact,
        job=wish("JobOnsker", "JobRegistreringstid"),
        education=wish("UddannelsesOnsker", "UddannelsesRegistreringstid"),
    )


_CLEANERS = {
    "CPRNr": _cpr,
    "KommuneInstitutionNummer": _integer,
    "KontaktTelefon": _phone,
    "KontaktRegistreringstid": _moment,
    "JobRegistreringstid": _moment,
    "UddannelsesRegistreringstid": _moment,
}


def read_rows(path: Path, system_id: str, now: datetime) -> Iterator[Row]:
    """Every row of a cp1252 semicolon CSV, normalized and validated, one at a time."""
    with path.open(encoding="cp1252", newline="") as file:
        reader = csv.reader(file, delimiter=";")
        headers = unique_headers(next(reader))
        columns = map_columns(headers, {}, institution_configured=False, source=str(path))
        where = {name: columns.positions[index] for name, index in columns.fields.items()}
        cleaners = [(name, where.get(name), _CLEANERS.get(name, _text)) for name in _ALL_FIELDS]
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            fields: Fields = {
                name: clean(record[at]) if at is not None and at < len(record) else None
                for name, at, clean in cleaners
            }
            fields["ModtagerSystemID"] = fields["ModtagerSystemID"] or system_id
            issues = _field_issues(fields, now)
            cells: dict[str, CellValue] = {
                header: record[at] or None if at < len(record) else None
                for header, at in zip(columns.headers, columns.positions, strict=True)
            }
            report = None if issues else _report(fields)
            found = tuple(Issue(slug, slug) for slug in issues)
            yield Row(str(path), number, cells, report, found)


_ALL_FIELDS = CANONICAL_FIELDS  # the spec's field names, the same order
