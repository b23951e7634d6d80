"""The WS-Security header rendered once by zeep, filled per request: zeep's header, less its cost.

zeep builds the header anew for every message, in Python: a Timestamp, xmlsec's signature
template, the certificate's X509 data moved into a BinarySecurityToken, the header reordered;
then xmlsec signs with a fresh copy of the key. Measured (BENCHMARKS.md, 4, "Signed over mutual
TLS") that came to 0.3-0.9 ms of CPU a request beside the RSA signature itself. Here zeep's own
pipeline signs one probe envelope and its Security header becomes the template. Per request a
copy gets fresh ids (as zeep gives) and times, the Body its wsu:Id, and then the three values a
signature needs: the SHA-256 digests of the exclusive-C14N Body and Timestamp (lxml's C14N and
hashlib), and the RSA-SHA256 signature of the canonical SignedInfo (`cryptography`, which lets
go of the GIL while it signs, as xmlsec does, so worker threads sign on both cores).

`SecurityTemplate.render` declines (returns None) unless zeep's header has the shape IPL expects
(Timestamp, BinarySecurityToken, Signature over Body and Timestamp) and the template's own
signature of a probe envelope verifies with xmlsec against the certificate.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import xmlsec
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = ["SecurityTemplate", "SignedHeader", "Wsse"]

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
_ID = f"{{{WSU}}}Id"
_SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
_PROBE = (
    f'<soap:Envelope xmlns:soap="{_SOAP12}"><soap:Header/>'
    '<soap:Body><probe xmlns="urn:batch:probe">probe</probe></soap:Body></soap:Envelope>'
)
_TIME = "%Y-%m-%dT%H:%M:%SZ"  # zeep's get_timestamp(zulu_timestamp=True): whole seconds, UTC
_LINE = 64  # xmlsec writes base64 in lines of 64 characters
_PADDING = padding.PKCS1v15()
_HASH = hashes.SHA256()


class Wsse(Protocol):
    """What zeep calls a `wsse`: `apply` to an outgoing envelope, `verify` on a reply."""

    def apply(
        self, envelope: etree._Element, headers: dict[str, str]
    ) -> tuple[etree._Element, dict[str, str]]:
        """Timestamp and sign an outgoing envelope."""

    def verify(self, envelope: etree._Element) -> etree._Element:
        """Check a reply's signature."""


@dataclass(frozen=True, slots=True)
class _Places:
    """Where the per-request values sit in the header: positions in its document order.

    Positions among the elements of `tags` only: a list of the header's every element would
    cost as much again as copying the header (lxml makes a Python object for each).
    """

    tags: tuple[str, ...]
    timestamp: int
    created: int
    expires: int
    token: int
    body_reference: int
    body_digest: int
    timestamp_reference: int
    timestamp_digest: int
    signed_info: int
    signature_value: int
    token_reference: int


@dataclass(frozen=True, slots=True)
class SignedHeader:
    """One request's header between the steps of `SecurityTemplate.apply`."""

    nodes: list[etree._Element]  # the header copy's elements of interest, in document order
    body: etree._Element


def _parts(security: etree._Element, body_id: str) -> dict[str, etree._Element]:
    """The header zeep wrote, by role; KeyError, TypeError or ValueError unless IPL's shape."""
    timestamp, token, signature = security  # ValueError unless exactly these three
    names = [etree.QName(e).text for e in (timestamp, token, signature)]
    if names != [f"{{{WSU}}}Timestamp", f"{{{WSSE}}}BinarySecurityToken", f"{{{DS}}}Signature"]:
        raise ValueError(f"unexpected Security header: {names}")
    info, value, key_info = signature
    references = {r.get("URI"): r for r in info.iterfind(f"{{{DS}}}Reference")}
    body_reference = references.pop(f"#{body_id}")
    timestamp_reference = references.pop(f"#{timestamp.get(_ID)}")
    token_reference = key_info.find(f"{{{WSSE}}}SecurityTokenReference/{{{WSSE}}}Reference")
    if references or token_reference is None or token_reference.get("URI") != f"#{token.get(_ID)}":
        raise ValueError("the signature must cover Body and Timestamp and name the token")
    created, expires = timestamp
    parts = {
        "timestamp": timestamp,
        "created": created,
        "expires": expires,
        "token": token,
        "body_reference": body_reference,
        "body_digest": body_reference.find(f"{{{DS}}}DigestValue"),
        "timestamp_reference": timestamp_reference,
        "timestamp_digest": timestamp_reference.find(f"{{{DS}}}DigestValue"),
        "signed_info": info,
        "signature_value": value,
        "token_reference": token_reference,
    }
    return {role: part for role, part in parts.items() if part is not None}


def _places(security: etree._Element, body_id: str) -> _Places:
    """Where each part of zeep's header sits among the elements of the parts' tags."""
    parts = _parts(security, body_id)
    tags = tuple(sorted({str(part.tag) for part in parts.values()}))
    order = {element: place for place, element in enumerate(security.iter(*tags))}
    return _Places(tags, **{role: order[part] for role, part in parts.items()})


def _security_header(envelope: etree._Element) -> etree._Element | None:
    return envelope.find(f"{{{etree.QName(envelope).namespace}}}Header/{{{WSSE}}}Security")


def _header(envelope: etree._Element) -> etree._Element:
    """The envelope's soap Header, made first child if missing (as zeep's get_or_create_header)."""
    name = f"{{{etree.QName(envelope).namespace}}}Header"
    header = envelope.find(name)
    if header is None:
        header = etree.Element(name)
        envelope.insert(0, header)
    return header


def _digest(element: etree._Element) -> str:
    canonical = etree.tostring(element, method="c14n", exclusive=True)
    return base64.b64encode(hashlib.sha256(canonical).digest()).decode("ascii")


def _lines(data: bytes) -> str:
    text = base64.b64encode(data).decode("ascii")
    return "\n".join(text[start : start + _LINE] for start in range(0, len(text), _LINE))


def _new_id() -> str:
    return f"id-{uuid.uuid4()}"  # zeep's get_unique_id


def verifies(envelope: etree._Element, cert: x509.Certificate) -> bool:
    """True when the envelope's signature holds for `cert`, checked by xmlsec as a receiver would.

    The envelope is serialized and parsed again first: the receiver sees bytes, not our tree.
    """
    root = etree.fromstring(etree.tostring(envelope))
    security = _security_header(root)
    signature = None if security is None else security.find(f"{{{DS}}}Signature")
    if signature is None:
        return False
    context = xmlsec.SignatureContext()
    for element in root.iter():
        if element.get(_ID) is not None:
            context.register_id(element, "Id", WSU)
    der = cert.public_bytes(serialization.Encoding.DER)
    context.key = xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatCertDer, None)
    try:
        context.verify(signature)
    except xmlsec.Error:
        return False
    return True


@dataclass(frozen=True, slots=True)
class SecurityTemplate:
    """zeep's Security header with its places; signs an envelope as zeep would, in fewer steps.

    Shared by every worker thread: the template is only read (copied), the key only signs.
    """

    _security: etree._Element
    _places: _Places
    _key: RSAPrivateKey
    _ttl: dt.timedelta
    _zeep: Wsse  # the pipeline it was rendered from: replies, and envelopes it does not fit

    @classmethod
    def render(
        cls, zeep_wsse: Wsse, key: RSAPrivateKey, cert: x509.Certificate, ttl_seconds: int
    ) -> SecurityTemplate | None:
        """The template of the header `zeep_wsse` writes; None when it cannot stand in for it."""
        probe, _ = zeep_wsse.apply(etree.fromstring(_PROBE), {})
        security = _security_header(probe)
        body = probe.find(f"{{{_SOAP12}}}Body")
        if security is None or body is None or body.get(_ID) is None:
            return None
        try:
            places = _places(security, str(body.get(_ID)))
        except (KeyError, TypeError, ValueError):
            return None  # a header zeep built otherwise: keep zeep's pipeline
        ttl = dt.timedelta(seconds=ttl_seconds)
        template = cls(copy.deepcopy(security), places, key, ttl, zeep_wsse)
        signed, _ = template.apply(etree.fromstring(_PROBE), {})
        return template if verifies(signed, cert) else None

    def apply(
        self, envelope: etree._Element, headers: dict[str, str]
    ) -> tuple[etree._Element, dict[str, str]]:
        """Timestamp and sign `envelope` in place (zeep's `wsse.apply`); headers unchanged."""
        if _security_header(envelope) is not None:  # a header already there: zeep merges
            return self._zeep.apply(envelope, headers)
        filled = self.header(envelope)
        self.digest(filled)
        self.sign(filled)
        return envelope, headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        """A reply's signature, checked as zeep's pipeline checks it (the client does not ask)."""
        return self._zeep.verify(envelope)

    def header(self, envelope: etree._Element) -> SignedHeader:
        """Step 1: a copy of the header in the envelope, with fresh ids and times; not signed."""
        security = copy.deepcopy(self._security)
        nodes = list(security.iter(*self._places.tags))
        places = self._places
        now = dt.datetime.now(dt.UTC)
        nodes[places.created].text = now.strftime(_TIME)
        nodes[places.expires].text = (now + self._ttl).strftime(_TIME)
        body = envelope.find(f"{{{etree.QName(envelope).namespace}}}Body")
        if body is None:
            raise ValueError("the envelope has no Body to sign")
        body_id = body.get(_ID) or _new_id()
        body.set(_ID, body_id)
        for place, reference, new in (
            (places.timestamp, places.timestamp_reference, _new_id()),
            (places.token, places.token_reference, _new_id()),
        ):
            nodes[place].set(_ID, new)
            nodes[reference].set("URI", f"#{new}")
        nodes[places.body_reference].set("URI", f"#{body_id}")
        _header(envelope).append(security)
        return SignedHeader(nodes, body)

    def digest(self, filled: SignedHeader) -> None:
        """Step 2: the SHA-256 digests of the exclusive-C14N Body and Timestamp."""
        nodes, places = filled.nodes, self._places
        nodes[places.body_digest].text = _digest(filled.body)
        nodes[places.timestamp_digest].text = _digest(nodes[places.timestamp])

    def sign(self, filled: SignedHeader) -> None:
        """Step 3: the RSA-SHA256 signature (PKCS#1 v1.5) of the exclusive-C14N SignedInfo."""
        nodes, places = filled.nodes, self._places
        info = etree.tostring(nodes[places.signed_info], method="c14n", exclusive=True)
        value = self._key.sign(info, _PADDING, _HASH)
        nodes[places.signature_value].text = _lines(value)

    def __repr__(self) -> str:
        return "SecurityTemplate(key=***)"
