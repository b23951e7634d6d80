"""What a request said, read from its payload: typed leaf values, the Report, and its digest.

The digest is `Report.payload_hash()` of the report the payload describes, so a test can match
what the simulator received against what the client meant to send, whatever the namespace.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from batch.records import Contact, Report, Wish

if TYPE_CHECKING:
    from lxml import etree

__all__ = ["leaf_fields", "parse_xs_datetime", "payload_digest", "registration_times", "to_report"]

_INTEGER_FIELDS = frozenset({"KommuneInstitutionNummer", "KontaktTelefon"})
_TIME_SUFFIX = "Registreringstid"
_XS_DATETIME = re.compile(
    r"(-?)([0-9]{4,})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
# Four-digit year, hour below 24, at most six fraction digits: fromisoformat reads these exactly.
_PLAIN_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
_FAR_PAST = datetime.min.replace(tzinfo=UTC)


def leaf_fields(payload: etree._Element) -> dict[str, object]:
    """Leaf elements by local name: int or datetime where the schema says so, else the text.

    A value that does not convert stays text (the payload may have failed validation).
    """
    fields: dict[str, object] = {}
    for element in payload.iter():
        tag = element.tag
        if not isinstance(tag, str) or len(element):
            continue
        name = tag.rpartition("}")[2]
        fields[name] = _typed(name, element.text or "")
    return fields


def _typed(name: str, text: str) -> object:
    if name in _INTEGER_FIELDS:
        try:
            return int(text.strip())
        except ValueError:
            return text
    if name.endswith(_TIME_SUFFIX):
        return parse_xs_datetime(text) or text
    return text


def parse_xs_datetime(text: str) -> datetime | None:
    """An xs:dateTime as a datetime: aware when it has a zone, naive when it has none.

    Beyond Python's range (year 0, negative or above 9999) it is clamped to the far past or
    far future, which keeps the "not in the future" rule right for any valid value.
    """
    text = text.strip()
    if _PLAIN_DATETIME.fullmatch(text):  # the usual shape: let the C parser do it
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None  # 30 February, an offset of 25 hours
    return _parse_unusual(text)


def _parse_unusual(text: str) -> datetime | None:
    """The rare shapes: long fractions, 24:00:00, years outside 1..9999."""
    match = _XS_DATETIME.fullmatch(text)
    if match is None:
        return None
    sign, year, month, day, hour, minute, second, fraction, zone = match.groups()
    if sign or int(year) == 0:
        return _FAR_PAST
    if int(year) > 9999:  # noqa: PLR2004 - datetime's last year
        return _FAR_FUTURE
    if int(hour) > 24:  # noqa: PLR2004 - 24:00:00 is allowed, nothing later
        return None
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = None if zone is None else UTC if zone == "Z" else _offset(zone)
    try:
        base = datetime(int(year), int(month), int(day), 0, int(minute), int(second), micro, tz)
    except ValueError:
        return None
    return base + timedelta(hours=int(hour))  # xs:dateTime allows 24:00:00, the next midnight


def _offset(zone: str) -> timezone:
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if zone[0] == "-" else delta)


def registration_times(fields: dict[str, object]) -> list[datetime]:
    """Every registration time in the request that could be read."""
    return [v for k, v in fields.items() if k.endswith(_TIME_SUFFIX) and isinstance(v, datetime)]


def to_report(fields: dict[str, object]) -> Report | None:
    """The Report a schema-valid payload describes; None when the fields do not make one."""
    try:
        return Report(
            system_id=str(fields["ModtagerSystemID"]),
            cpr=str(fields["CPRNr"]),
            institution=_as_int(fields["KommuneInstitutionNummer"]),
            contact=_contact(fields),
            job=_wish(fields, "JobOnsker", "JobRegistreringstid"),
            education=_wish(fields, "UddannelsesOnsker", "UddannelsesRegistreringstid"),
        )
    except (KeyError, TypeError):
        return None


def payload_digest(fields: dict[str, object]) -> str | None:
    """SHA-256 of the report's canonical JSON (`Report.payload_hash`), or None."""
    report = to_report(fields)
    return None if report is None else report.payload_hash()


def _as_int(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(value)
    return value


def _as_time(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(value)
    return value


def _contact(fields: dict[str, object]) -> Contact | None:
    if "KontaktNavn" not in fields:
        return None
    phone = fields.get("KontaktTelefon")
    return Contact(
        name=str(fields["KontaktNavn"]),
        mail=str(fields["KontaktMail"]),
        phone=None if phone is None else _as_int(phone),
        registered=_as_time(fields["KontaktRegistreringstid"]),
    )


def _wish(fields: dict[str, object], text: str, time: str) -> Wish | None:
    if text not in fields:
        return None
    return Wish(text=str(fields[text]), registered=_as_time(fields[time]))
