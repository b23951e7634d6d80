"""WS-Security signing: zeep's timestamp, signature and header order, and the template of them.

IPL authenticates a calling system by an X.509 signature in the WS-Security header over the
SOAP Body and a Timestamp, alongside mutual TLS (`batch.service.tls`). zeep's pipeline here
(`build_zeep_wsse`) writes that header; `build_wsse` renders it once as a template that signs
each envelope for a fraction of zeep's cost (`batch.service.wsse_template`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import xmlsec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from zeep import ns
from zeep.wsse.compose import Compose
from zeep.wsse.signature import (
    BinarySignature,
    MemorySignature,
    _sign_envelope_with_key_binary,  # zeep's own routine; zeep is pinned
)
from zeep.wsse.utils import WSU, get_security_header, get_timestamp

from batch.errors import ConfigError
from batch.i18n import _
from batch.service.keys import KeyPair, Secret, load_key_pair
from batch.service.wsse_template import SecurityTemplate

if TYPE_CHECKING:
    from pathlib import Path

    from batch.service.wsse_template import Wsse

__all__ = ["SigningSettings", "build_wsse", "build_zeep_wsse"]


@dataclass(frozen=True)
class SigningSettings:
    """The key and certificate that sign each request (WS-Security X.509, as IPL uses).

    A PEM pair (`key`, `cert`; the key may sit in the certificate file, `key` unset) or a
    PKCS#12 file.
    """

    key: Path | None = None
    cert: Path | None = None
    key_password: Secret | None = None
    pkcs12: Path | None = None
    pkcs12_password: Secret | None = None
    timestamp_ttl_seconds: int = 300

    def __post_init__(self) -> None:
        if self.pkcs12 is None and self.cert is None:
            raise ConfigError(_("signing: give key and cert (PEM) or pkcs12"))
        if self.pkcs12 is not None and (self.key is not None or self.cert is not None):
            raise ConfigError(_("signing: give either key/cert or pkcs12, not both"))
        if self.timestamp_ttl_seconds <= 0:
            raise ConfigError(_("signing: timestamp_ttl_seconds must be positive"))


class _Timestamp:
    """Adds wsu:Timestamp (Created, Expires) to the Security header, before it is signed."""

    def __init__(self, ttl_seconds: int) -> None:
        self._ttl = dt.timedelta(seconds=ttl_seconds)

    def apply(
        self, envelope: etree._Element, headers: dict[str, str]
    ) -> tuple[etree._Element, dict[str, str]]:
        now = dt.datetime.now(dt.UTC)
        timestamp = WSU.Timestamp(
            WSU.Created(get_timestamp(now, zulu_timestamp=True)),  # type: ignore[no-untyped-call]
            WSU.Expires(get_timestamp(now + self._ttl, zulu_timestamp=True)),  # type: ignore[no-untyped-call]
        )
        get_security_header(envelope).append(timestamp)  # type: ignore[no-untyped-call]
        return envelope, headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        return envelope


class _SecurityHeaderOrder:
    """Puts the header in the usual WS-Security order: Timestamp, BinarySecurityToken, Signature.

    zeep inserts Signature first and the token after it; receivers with a strict layout
    (WSS4J, WCF) want the token before the signature that refers to it. Moving whole elements
    inside the header changes no signed byte: the references cover Body and Timestamp, and
    exclusive C14N of SignedInfo does not depend on its position.
    """

    def apply(
        self, envelope: etree._Element, headers: dict[str, str]
    ) -> tuple[etree._Element, dict[str, str]]:
        security = get_security_header(envelope)  # type: ignore[no-untyped-call]
        order = (
            etree.QName(ns.WSU, "Timestamp"),
            etree.QName(ns.WSSE, "BinarySecurityToken"),
            etree.QName(ns.DS, "Signature"),
        )
        for position, name in enumerate(order):
            element = security.find(name.text)
            if element is not None:
                security.insert(position, element)
        return envelope, headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        return envelope


class _InMemoryBinarySignature(BinarySignature):
    """zeep's BinarySignature fed from memory (a PKCS#12 key never needs a file), one key reused.

    zeep loads the key afresh for every message, and a fresh key also loses OpenSSL's per-key
    precomputation: measured here, ~5 ms of CPU per signed envelope that way, ~3.5 ms with the
    key kept (the RSA-2048 signature itself is ~1 ms). The key is read-only once loaded; each
    signing context takes its own copy of it, so threads share it safely. `apply` calls zeep's
    own binary-signature routine.
    """

    def __init__(self, pair: KeyPair) -> None:
        leaf = pair.cert.public_bytes(serialization.Encoding.PEM)  # the token carries the leaf
        MemorySignature.__init__(  # type: ignore[no-untyped-call]
            self,
            pair.key_pem,
            leaf,
            None,
            xmlsec.constants.TransformRsaSha256,
            xmlsec.constants.TransformSha256,
        )
        self._key = xmlsec.Key.from_memory(pair.key_pem, xmlsec.constants.KeyDataFormatPem)
        self._key.load_cert_from_memory(leaf, xmlsec.constants.KeyDataFormatCertPem)

    def apply(
        self, envelope: etree._Element, headers: dict[str, str]
    ) -> tuple[etree._Element, dict[str, str]]:
        _sign_envelope_with_key_binary(  # type: ignore[no-untyped-call]
            envelope, self._key, self.signature_method, self.digest_method
        )
        return envelope, headers

    def __repr__(self) -> str:
        return "_InMemoryBinarySignature(key=***)"


def build_wsse(signing: SigningSettings) -> Wsse:
    """What signs each envelope: zeep's header as a template (`batch.service.wsse_template`).

    Signing is RSA-SHA256 with SHA-256 digests and exclusive C14N over Body and Timestamp; the
    certificate travels as a BinarySecurityToken. zeep's own pipeline (`build_zeep_wsse`) renders
    the template, and signs instead whenever the template declines.

    Raises:
        ConfigError: the key or certificate cannot be read, do not match, or the key is not RSA.
    """
    pair = _key_pair(signing)
    reference = _zeep_pipeline(pair, signing.timestamp_ttl_seconds)
    assert isinstance(pair.key, rsa.RSAPrivateKey)  # _key_pair refuses any other
    template = SecurityTemplate.render(
        reference, pair.key, pair.cert, signing.timestamp_ttl_seconds
    )
    return reference if template is None else template


def build_zeep_wsse(signing: SigningSettings) -> Compose:
    """The WS-Security pipeline of zeep, run whole for every envelope: timestamp, sign, order.

    The reference the template is rendered from and tested against.

    Raises:
        ConfigError: as `build_wsse`.
    """
    return _zeep_pipeline(_key_pair(signing), signing.timestamp_ttl_seconds)


def _key_pair(signing: SigningSettings) -> KeyPair:
    pair = load_key_pair(
        key=signing.key or signing.cert,  # a PEM file may hold both
        cert=signing.cert,
        password=signing.key_password,
        pkcs12_file=signing.pkcs12,
        pkcs12_password=signing.pkcs12_password,
    )
    if not isinstance(pair.key, rsa.RSAPrivateKey):
        raise ConfigError(_("signing: only RSA keys can sign with RSA-SHA256, as IPL expects"))
    return pair


def _zeep_pipeline(pair: KeyPair, ttl_seconds: int) -> Compose:
    return Compose(  # type: ignore[no-untyped-call]
        [_Timestamp(ttl_seconds), _InMemoryBinarySignature(pair), _SecurityHeaderOrder()]
    )
