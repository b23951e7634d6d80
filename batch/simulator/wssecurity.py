"""WS-Security as IPL demands it: a signed Body and Timestamp, by an X.509 BinarySecurityToken.

Accepted: exclusive C14N; RSA-SHA256 or RSA-SHA1 signatures; SHA-256 or SHA-1 digests; one
reference each to the SOAP Body and to the wsu:Timestamp of the Security header; a Timestamp
that has not expired (real time, not the simulator's clock for UDB's rules); a token
certificate within its validity period and, when trusted signers are configured, one of them.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from batch.simulator.payload import parse_xs_datetime

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from lxml import etree

    from batch.simulator.soap import Envelope

__all__ = ["SecurityError", "SignaturePolicy", "verify_signature"]

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
_X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
_EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_SIGNATURE_METHODS = frozenset(
    {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", f"{DS}rsa-sha1"}
)
_DIGEST_METHODS = frozenset({"http://www.w3.org/2001/04/xmlenc#sha256", f"{DS}sha1"})
_WSU_ID = f"{{{WSU}}}Id"
_NS = {"ds": DS, "wsse": WSSE, "wsu": WSU}


class SecurityError(Exception):
    """The message is unsigned, expired, tampered with, or signed by someone not trusted."""


@dataclass(frozen=True)
class SignaturePolicy:
    """Whose signatures count (empty: any whose token verifies) and how much clock skew."""

    trusted: frozenset[bytes] = frozenset()  # DER of the accepted certificates
    clock_skew: timedelta = timedelta(minutes=5)

    @classmethod
    def from_pem_files(cls, paths: Iterable[Path]) -> SignaturePolicy:
        """Read the trusted signers' PEM certificates."""
        certificates = (x509.load_pem_x509_certificate(path.read_bytes()) for path in paths)
        return cls(trusted=frozenset(c.public_bytes(Encoding.DER) for c in certificates))


def verify_signature(envelope: Envelope, policy: SignaturePolicy) -> None:
    """Check the Security header of `envelope` (before anything rewrites the tree).

    Raises:
        SecurityError: with a message safe to send back (it names no personal data).
    """
    version_ns = envelope.version.envelope_ns
    security = envelope.root.find(f"{{{version_ns}}}Header/{{{WSSE}}}Security")
    if security is None:
        raise SecurityError("the message has no WS-Security header")
    now = datetime.now(UTC)
    timestamp = _checked_timestamp(security, now, policy.clock_skew)
    signature = security.find(f"{{{DS}}}Signature")
    if signature is None:
        raise SecurityError("the Security header holds no ds:Signature")
    token = _token_certificate(security, signature, now, policy)
    body = envelope.payload.getparent()
    assert body is not None  # parse_envelope took the payload from the Body
    signed = _signed_elements(envelope.root, signature)
    if not any(e is body for e in signed) or not any(e is timestamp for e in signed):
        raise SecurityError("the signature must cover both the Body and the Timestamp")
    _verify(signature, signed, token)


def _checked_timestamp(security: etree._Element, now: datetime, skew: timedelta) -> etree._Element:
    timestamp = security.find(f"{{{WSU}}}Timestamp")
    if timestamp is None:
        raise SecurityError("the Security header holds no wsu:Timestamp")
    created = _zoned_time(timestamp.findtext(f"{{{WSU}}}Created"))
    expires = _zoned_time(timestamp.findtext(f"{{{WSU}}}Expires"))
    if created is None or expires is None:
        raise SecurityError("the Timestamp needs Created and Expires with a time zone")
    if expires <= now:
        raise SecurityError("the Timestamp has expired")
    if created > now + skew:
        raise SecurityError("the Timestamp was created in the future")
    return timestamp


def _zoned_time(text: str | None) -> datetime | None:
    time = None if text is None else parse_xs_datetime(text)
    return time if time is not None and time.tzinfo is not None else None


def _token_certificate(
    security: etree._Element, signature: etree._Element, now: datetime, policy: SignaturePolicy
) -> bytes:
    """DER of the X.509v3 BinarySecurityToken the signature's KeyInfo points at."""
    tokens = security.findall(f"{{{WSSE}}}BinarySecurityToken")
    uri = signature.xpath(
        "string(ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference/@URI)", namespaces=_NS
    )
    if uri:
        tokens = [t for t in tokens if f"#{t.get(_WSU_ID)}" == uri]
    if len(tokens) != 1 or tokens[0].get("ValueType") != _X509V3:
        raise SecurityError("the signature names no single X.509v3 BinarySecurityToken")
    try:
        der = base64.b64decode("".join((tokens[0].text or "").split()), validate=True)
        certificate = x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError) as error:
        raise SecurityError("the BinarySecurityToken is not an X.509 certificate") from error
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise SecurityError("the signing certificate is outside its validity period")
    if policy.trusted and der not in policy.trusted:
        raise SecurityError("the signing certificate is not among the trusted signers")
    return der


def _signed_elements(root: etree._Element, signature: etree._Element) -> list[etree._Element]:
    """The elements the References point at, after checking every algorithm on the way."""
    info = signature.find(f"{{{DS}}}SignedInfo")
    if info is None:
        raise SecurityError("the signature has no SignedInfo")
    if info.xpath("string(ds:CanonicalizationMethod/@Algorithm)", namespaces=_NS) != _EXC_C14N:
        raise SecurityError("the signature must use exclusive C14N")
    method = info.xpath("string(ds:SignatureMethod/@Algorithm)", namespaces=_NS)
    if method not in _SIGNATURE_METHODS:
        raise SecurityError("the signature method must be RSA-SHA256 or RSA-SHA1")
    return [_referenced(root, reference) for reference in info.iterfind(f"{{{DS}}}Reference")]


def _referenced(root: etree._Element, reference: etree._Element) -> etree._Element:
    digest = reference.xpath("string(ds:DigestMethod/@Algorithm)", namespaces=_NS)
    transforms = [
        t.get("Algorithm") for t in reference.iterfind(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    ]
    if digest not in _DIGEST_METHODS or any(t != _EXC_C14N for t in transforms):
        raise SecurityError("a reference must use exclusive C14N and SHA-256 or SHA-1")
    uri = reference.get("URI", "")
    # Exactly one element may carry the id: a second one is the signature-wrapping attack.
    targets = [e for e in root.iter() if uri[:1] == "#" and e.get(_WSU_ID) == uri[1:]]
    if len(targets) != 1:
        raise SecurityError("a reference must point at exactly one element by wsu:Id")
    return targets[0]


def _verify(signature: etree._Element, signed: list[etree._Element], der: bytes) -> None:
    context = xmlsec.SignatureContext()
    for element in signed:
        context.register_id(element, "Id", WSU)
    context.key = xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatCertDer, None)
    try:
        context.verify(signature)
    except xmlsec.Error as error:
        raise SecurityError("the signature does not verify: the message was altered") from error
