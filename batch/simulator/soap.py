"""SOAP 1.1 and 1.2 on the wire: read an envelope safely, write answers and IPL-style faults.

Answers and faults are written from string templates: they are small and fixed in shape, and a
template costs a fraction of building a tree per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from batch.service.xmlsafe import HostileXmlError, parse_untrusted_xml

if TYPE_CHECKING:
    from batch.records import Answer

__all__ = [
    "Envelope",
    "FaultInfo",
    "SoapError",
    "SoapVersion",
    "parse_envelope",
    "render_answer",
    "render_fault",
    "version_from_content_type",
]


class SoapVersion(Enum):
    """The two SOAP versions: envelope namespace, media type and the names of the fault codes."""

    SOAP11 = ("http://schemas.xmlsoap.org/soap/envelope/", "text/xml", "Client", "Server")
    SOAP12 = (
        "http://www.w3.org/2003/05/soap-envelope",
        "application/soap+xml",
        "Sender",
        "Receiver",
    )

    def __init__(self, envelope_ns: str, media_type: str, sender: str, receiver: str) -> None:
        self.envelope_ns = envelope_ns
        self.media_type = media_type
        self.sender = sender
        self.receiver = receiver

    @property
    def content_type(self) -> str:
        """The Content-Type of what we send in this version."""
        return f"{self.media_type}; charset=utf-8"


_BY_NAMESPACE = {version.envelope_ns: version for version in SoapVersion}


class SoapError(Exception):
    """The request is not a usable SOAP envelope: the client's fault (Sender, IPL000002)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed request: its SOAP version, the whole tree (for signatures) and the payload."""

    version: SoapVersion
    root: etree._Element
    payload: etree._Element
    namespace: str  # the payload's namespace as the client sent it ("" for none)


@dataclass(frozen=True, slots=True)
class FaultInfo:
    """What an IPL fault says: who is to blame, why, and the IPL error code."""

    sender: bool
    reason: str
    error_code: str
    message: str
    details: str | None = None


def version_from_content_type(content_type: str) -> SoapVersion:
    """SOAP 1.1 for `text/xml`, else 1.2 (IPL's version): used when the envelope is unreadable."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return SoapVersion.SOAP11 if media_type == "text/xml" else SoapVersion.SOAP12


def parse_envelope(body: bytes) -> Envelope:
    """Parse and check the envelope; the version comes from its namespace, not the header.

    Raises:
        SoapError: not well-formed, a DTD, not an Envelope, or not one element in the Body.
    """
    try:
        root = parse_untrusted_xml(body)
    except etree.XMLSyntaxError as error:
        raise SoapError(f"the request is not well-formed XML: {error}") from error
    except HostileXmlError as error:
        raise SoapError("a DTD is not allowed in a SOAP message") from error
    name = etree.QName(root)
    version = _BY_NAMESPACE.get(name.namespace or "")
    if version is None or name.localname != "Envelope":
        raise SoapError("the root element is not a SOAP 1.1 or 1.2 Envelope")
    body_element = root.find(f"{{{version.envelope_ns}}}Body")
    children = [] if body_element is None else [c for c in body_element if isinstance(c.tag, str)]
    if len(children) != 1:
        raise SoapError("the SOAP Body must hold exactly one element")
    payload = children[0]
    return Envelope(version, root, payload, etree.QName(payload).namespace or "")


def render_answer(version: SoapVersion, namespace: str, answer: Answer) -> bytes:
    """IndberetningSvar in the request's namespace (unqualified when the request was)."""
    prefix, declaration = ("u:", f" xmlns:u={quoteattr(namespace)}") if namespace else ("", "")
    parts = [f"<{prefix}IndberetningSvar{declaration}>"]
    parts.append(f"<{prefix}Ok>{'true' if answer.ok else 'false'}</{prefix}Ok>")
    if not answer.ok:
        parts.append(
            f"<{prefix}Fejl><{prefix}Fejlkode>{answer.code}</{prefix}Fejlkode>"
            f"<{prefix}Fejltekst>{escape(answer.text or '')}</{prefix}Fejltekst></{prefix}Fejl>"
        )
    parts.append(f"</{prefix}IndberetningSvar>")
    return _envelope(version, "".join(parts))


def render_fault(
    version: SoapVersion, fault: FaultInfo, correlation_id: str, timestamp: str
) -> bytes:
    """A SOAP fault in the request's version, its Detail carrying IPL's fields (unqualified).

    Detail children: CorrelationID, Timestamp, ErrorCode, ErrorMessage and, for a schema
    rejection, ErrorDetails with the validator's messages.
    """
    detail = (
        f"<CorrelationID>{correlation_id}</CorrelationID><Timestamp>{timestamp}</Timestamp>"
        f"<ErrorCode>{escape(fault.error_code)}</ErrorCode>"
        f"<ErrorMessage>{escape(fault.message)}</ErrorMessage>"
    )
    if fault.details is not None:
        detail += f"<ErrorDetails>{escape(fault.details)}</ErrorDetails>"
    code = version.sender if fault.sender else version.receiver
    reason = escape(fault.reason)
    if version is SoapVersion.SOAP12:
        body = (
            f"<e:Fault><e:Code><e:Value>e:{code}</e:Value></e:Code>"
            f'<e:Reason><e:Text xml:lang="en">{reason}</e:Text></e:Reason>'
            f"<e:Detail>{detail}</e:Detail></e:Fault>"
        )
    else:
        body = (
            f"<e:Fault><faultcode>e:{code}</faultcode><faultstring>{reason}</faultstring>"
            f"<detail>{detail}</detail></e:Fault>"
        )
    return _envelope(version, body)


def _envelope(version: SoapVersion, body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>'
        f'<e:Envelope xmlns:e="{version.envelope_ns}"><e:Body>{body}</e:Body></e:Envelope>'
    ).encode()
