"""Building the request: THE one place a `Report` becomes the elements the spec names."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from batch.records import CANONICAL_FIELDS

if TYPE_CHECKING:
    import datetime as dt

    from batch.records import Report, Wish

__all__ = ["LOCAL_TIME", "REQUEST_FIELDS", "build_request", "request_values"]

# Danish municipal systems record local time (spec README); a naive time is taken as that.
LOCAL_TIME = ZoneInfo("Europe/Copenhagen")


# The request's fields in the order of the spec (4.1), one column each where they are shown:
# the input's canonical fields with the receiving system first.
REQUEST_FIELDS: tuple[str, ...] = (
    "ModtagerSystemID",
    *(name for name in CANONICAL_FIELDS if name != "ModtagerSystemID"),
)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_TIME)


def _wish(wish: Wish, text_name: str, time_name: str) -> dict[str, object]:
    return {text_name: wish.text, time_name: _aware(wish.registered)}


def build_request(report: Report) -> dict[str, object]:
    """The request's elements by the spec's names: THE one place a Report becomes a request.

    Optional groups are left out when absent (not sent empty), so is KontaktTelefon. Times keep
    their offset; a naive time (a bug upstream) is read as Europe/Copenhagen, never sent bare.
    """
    request: dict[str, object] = {
        "ModtagerSystemID": report.system_id,
        "CPRNr": report.cpr,
        "KommuneInstitutionNummer": report.institution,
    }
    if report.contact is not None:
        contact: dict[str, object] = {
            "KontaktNavn": report.contact.name,
            "KontaktMail": report.contact.mail,
        }
        if report.contact.phone is not None:
            contact["KontaktTelefon"] = report.contact.phone
        contact["KontaktRegistreringstid"] = _aware(report.contact.registered)
        request["KommuneKontakt"] = contact
    if report.job is not None:
        request["JobOnsker"] = _wish(report.job, "JobOnsker", "JobRegistreringstid")
    if report.education is not None:
        request["UddannelsesOnsker"] = _wish(
            report.education, "UddannelsesOnsker", "UddannelsesRegistreringstid"
        )
    return request


def request_values(report: Report) -> dict[str, str | None]:
    """Every request field as the text that goes into the XML (None: left out of the request).

    Made from `build_request`, so what a dry run shows is what a real run sends: times in ISO
    8601 with their offset (xs:dateTime), numbers as digits.
    """
    flat: dict[str, object] = {}
    for name, value in build_request(report).items():
        flat.update(value if isinstance(value, dict) else {name: value})
    return {name: _xml_text(flat.get(name)) for name in REQUEST_FIELDS}


def _xml_text(value: object) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
