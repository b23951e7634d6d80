"""The types every stage passes along: one row, one request payload, one answer, one outcome.

Data flows one way: load -> columns -> normalize -> validate produce `Row`s; the journal stores
them; submit turns each `Report` into an `Answer` or a `Failure`; the journal records the final
`RowResult`, from which the report writer builds the workbook. Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

from batch.i18n import N_, every_translation

__all__ = [
    "CANONICAL_FIELDS",
    "RESULT_COLUMNS",
    "UDB_TEXT_COLUMN",
    "Answer",
    "CellValue",
    "Contact",
    "Failure",
    "FailureKind",
    "Issue",
    "Outcome",
    "Report",
    "Row",
    "RowResult",
    "Sender",
    "StopCause",
    "Wish",
    "result_column_names",
]

# The spec's own field names (section 4.1), the canonical column names of an input file.
CANONICAL_FIELDS: tuple[str, ...] = (
    "CPRNr",
    "KommuneInstitutionNummer",
    "KontaktNavn",
    "KontaktMail",
    "KontaktTelefon",
    "KontaktRegistreringstid",
    "JobOnsker",
    "JobRegistreringstid",
    "UddannelsesOnsker",
    "UddannelsesRegistreringstid",
    "ModtagerSystemID",
)

# Columns the result workbook appends after the input's own columns, as English msgids (a
# Danish workbook titles them in Danish). On the way back in (the Fix sheet fed to `batch run`)
# they are ignored in any language, whatever the user did to them. `Result text` says in the
# workbook's language what happened and what to do; `UDB text` is UDB's own text as UDB sent it.
UDB_TEXT_COLUMN = N_("UDB text")
RESULT_COLUMNS: tuple[str, ...] = (
    N_("Source file"),
    N_("Source row"),
    N_("Origin"),
    N_("Result code"),
    N_("Result text"),
    UDB_TEXT_COLUMN,
    N_("Attempts"),
    N_("Last attempt"),
)


def result_column_names() -> frozenset[str]:
    """Every result column's title in every language: what a fed-back workbook may hold."""
    return frozenset(name for column in RESULT_COLUMNS for name in every_translation(column))


# What an input cell may hold once read: text, a number, a boolean, an Excel datetime, or nothing.
CellValue = str | int | float | bool | datetime | None


@dataclass(frozen=True, slots=True)
class Contact:
    """KommuneKontakt (4.1.2): the municipal contact person."""

    name: str
    mail: str
    phone: int | None
    registered: datetime  # timezone-aware


@dataclass(frozen=True, slots=True)
class Wish:
    """JobOnsker (4.1.3) or UddannelsesOnsker (4.1.4): free text and when it was registered."""

    text: str
    registered: datetime  # timezone-aware


@dataclass(frozen=True, slots=True)
class Report:
    """The content of one request, normalized and valid; the only thing the client sends.

    Keeping the row-to-request mapping in this one type (and `batch.service`'s one function that
    turns it into the request) makes it easy to adapt to the real WSDL when STIL hands it out.
    """

    system_id: str
    cpr: str
    institution: int
    contact: Contact | None = None
    job: Wish | None = None
    education: Wish | None = None

    def latest_registration(self) -> datetime | None:
        """The latest registration time in the report: the row's place in its CPR's order.

        Compared in UTC: times in one zone compare by wall clock and ignore `fold`, so 02:30
        in October's second pass (+01:00) would count as earlier than 02:45 in the first.
        """
        times = [g.registered for g in (self.contact, self.job, self.education) if g is not None]
        return max(times, key=lambda moment: moment.astimezone(UTC)) if times else None

    def to_json(self) -> str:
        """Serialize canonically (sorted keys, ISO times with offset) for journal and hash."""
        return json.dumps(_report_to_dict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Report:
        """Inverse of `to_json`."""
        return _report_from_dict(json.loads(text))

    def payload_hash(self) -> str:
        """SHA-256 of the canonical JSON: equal hashes mean UDB would receive the same data."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()


def _report_to_dict(report: Report) -> dict[str, Any]:
    contact = report.contact
    return {
        "system_id": report.system_id,
        "cpr": report.cpr,
        "institution": report.institution,
        "contact": None
        if contact is None
        else {
            "name": contact.name,
            "mail": contact.mail,
            "phone": contact.phone,
            "registered": contact.registered.isoformat(),
        },
        "job": _wish_to_dict(report.job),
        "education": _wish_to_dict(report.education),
    }


def _wish_to_dict(wish: Wish | None) -> dict[str, str] | None:
    if wish is None:
        return None
    return {"text": wish.text, "registered": wish.registered.isoformat()}


def _wish_from_dict(data: dict[str, str] | None) -> Wish | None:
    if data is None:
        return None
    return Wish(text=data["text"], registered=datetime.fromisoformat(data["registered"]))


def _report_from_dict(data: dict[str, Any]) -> Report:
    contact_data = data["contact"]
    contact = (
        None
        if contact_data is None
        else Contact(
            name=contact_data["name"],
            mail=contact_data["mail"],
            phone=contact_data["phone"],
            registered=datetime.fromisoformat(contact_data["registered"]),
        )
    )
    return Report(
        system_id=data["system_id"],
        cpr=data["cpr"],
        institution=int(data["institution"]),
        contact=contact,
        job=_wish_from_dict(data["job"]),
        education=_wish_from_dict(data["education"]),
    )


class Outcome(StrEnum):
    """Where a row ends: exactly one of these, and so exactly one sheet of the workbook."""

    ACCEPTED = "accepted"  # UDB answered Ok=true
    FIX = "fix"  # soft: 280, failed validation, schema rejection; correct and send again
    DROP = "drop"  # hard: 14, 15, 86; will never be accepted as it is
    RETRY = "retry"  # not sent, or transient failures exhausted; the next run sends it again
    UNCHANGED = "unchanged"  # already accepted earlier, or newer data already reported
    READY = "ready"  # dry run only: valid and would be sent


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a row before sending: data, never an exception.

    `code` is UDB's code when a local pre-check stands in for UDB ("280", "15"); otherwise the
    slug is the code shown in the workbook. `column` is the header as the file names it.
    """

    slug: str
    message: str
    field: str | None = None
    column: str | None = None
    code: str | None = None
    hard: bool = False  # True sends the row to Drop (e.g. the local age check, code 15)

    @property
    def shown_code(self) -> str:
        """The code the workbook shows in `Result code`."""
        return self.code or self.slug


@dataclass(frozen=True, slots=True)
class Row:
    """One input record after validation: where it came from, what it said, what to send.

    `cells` maps the file's own headers (made unique by the loader) to the original values,
    so the workbook can show the user their data as they wrote it. `report` is None exactly
    when `issues` make the row unsendable.
    """

    source_file: str
    source_row: int  # as the user sees it in a spreadsheet program (the header row counts)
    cells: dict[str, CellValue]
    report: Report | None
    issues: tuple[Issue, ...] = ()
    sheet: str | None = None
    # A row of a result workbook's Fix sheet fed back: that sheet's "Source file" and "Source
    # row" (where the row was read before it was fixed) and its "Origin" (if it was a fix before).
    came_from: tuple[str, int, str | None] | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """IndberetningSvar (4.2): what UDB said about a request that passed schema validation."""

    ok: bool
    code: int | None = None
    text: str | None = None


class FailureKind(StrEnum):
    """Why no answer came back. The retry decision is `Failure.retryable`, set by the client."""

    TIMEOUT = "timeout"
    CONNECTION = "connection"
    RATE_LIMITED = "rate_limited"  # HTTP 429
    SERVER_ERROR = "server_error"  # HTTP 500/502/503/504 without a usable fault
    RECEIVER_FAULT = "receiver_fault"  # SOAP fault, code Receiver (IPL000001)
    SENDER_FAULT = "sender_fault"  # SOAP fault, code Sender: schema rejection (IPL000002)
    BAD_RESPONSE = "bad_response"  # unparseable, hostile (DTD/entities), wrong namespace, no Ok
    CLIENT_ERROR = "client_error"  # another 4xx: our configuration, not the row


@dataclass(frozen=True, slots=True)
class StopCause:
    """Why a run stopped before its end, for a machine (`slug`) and a person (`words`).

    `words` is an English catalog text with `{placeholders}` filled from `params`; it is
    translated where it is shown (`batch.i18n`), never here. Slugs are stable: monitoring
    reads them from the JSON summary (`tls_server_certificate_expired`, `proxy_refused`, ...).
    """

    slug: str
    words: str
    params: tuple[tuple[str, str], ...] = ()
    setup: bool = False  # a set-up problem (exit 4): waiting will not heal it

    def text(self, translate: Callable[[str], str] = str) -> str:
        """The words with their placeholders filled, through `translate` (e.g. `i18n._`)."""
        return translate(self.words).format(**dict(self.params))


@dataclass(frozen=True, slots=True)
class Failure:
    """A request that got no UDB answer. Messages must not contain an unmasked CPR number."""

    kind: FailureKind
    message: str
    retryable: bool
    http_status: int | None = None
    retry_after: float | None = None  # seconds, from a Retry-After header
    fault_code: str | None = None  # e.g. "IPL000002"
    correlation_id: str | None = None
    setup: StopCause | None = None  # a set-up problem: the run stops at once (exit 4)


class Sender(Protocol):
    """Anything that turns one report into UDB's answer or a typed failure (the client)."""

    def send(self, report: Report) -> Answer | Failure:
        """Send one request; never raise for a transport problem, return a `Failure`."""
        ...


@dataclass(frozen=True, slots=True)
class RowResult:
    """A row's final place: what the workbook shows on the row's sheet."""

    source_file: str
    source_row: int
    cells: dict[str, CellValue]
    outcome: Outcome
    code: str | None = None
    text: str | None = None
    attempts: int = 0
    last_attempt: datetime | None = None
    sheet: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # UDB's own text with its code, as UDB sent it (None when UDB gave no error text).
    answer_text: str | None = None
    # Fix rows: the input columns (headers as the file names them) that need correcting, each
    # with what is wrong there; the workbook highlights them and comments on each.
    fix_cells: dict[str, str] = field(default_factory=dict)
