"""Certificates and secrets for the platform: TLS context, client certificates, WS-Security signing.

STIL's integration platform (IPL) authenticates a calling system twice: mutual TLS with an
OCES3 organisation certificate (issued as PKCS#12) and an X.509 signature in the WS-Security
header over the SOAP Body and a Timestamp. Everything that reads a key lives here, so that a
password or a private key is handled in one module and never reaches a log line or a repr.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import os
import secrets
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import certifi
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
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

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

__all__ = [
    "KeyPair",
    "LazySslContext",
    "Secret",
    "SigningSettings",
    "TlsSettings",
    "build_ssl_context",
    "build_wsse",
    "load_key_pair",
]


class Secret:
    """A password that never shows itself: repr, str and format print `Secret('***')`.

    Not a `str` subclass on purpose: an f-string or a `%s` of a str subclass would print it.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself, for the one call that needs it (a key loader)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("a Secret is not pickled: it would leave the process in clear text")


@dataclass(frozen=True)
class TlsSettings:
    """How the HTTPS connection is checked and how we prove who we are (mutual TLS).

    The client certificate is a PEM pair (`client_cert`, `client_key`; the key may sit in the
    certificate file) or a PKCS#12 file as OCES3 certificates are issued.
    """

    verify: bool = True
    ca_bundle: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    pkcs12: Path | None = None
    pkcs12_password: Secret | None = None

    def __post_init__(self) -> None:
        if self.client_key is not None and self.client_cert is None:
            raise ConfigError("tls: client_key needs client_cert (the PEM pair goes together)")
        if self.pkcs12 is not None and self.client_cert is not None:
            raise ConfigError("tls: give either client_cert/client_key or pkcs12, not both")


@dataclass(frozen=True)
class SigningSettings:
    """The key and certificate that sign each request (WS-Security X.509, as IPL uses)."""

    key: Path | None = None
    cert: Path | None = None
    key_password: Secret | None = None
    pkcs12: Path | None = None
    pkcs12_password: Secret | None = None
    timestamp_ttl_seconds: int = 300

    def __post_init__(self) -> None:
        if self.pkcs12 is None and (self.key is None or self.cert is None):
            raise ConfigError("signing: give key and cert (PEM) or pkcs12")
        if self.pkcs12 is not None and (self.key is not None or self.cert is not None):
            raise ConfigError("signing: give either key/cert or pkcs12, not both")
        if self.timestamp_ttl_seconds <= 0:
            raise ConfigError("signing: timestamp_ttl_seconds must be positive")


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A private key and its certificate chain as PEM bytes, held in memory only."""

    key_pem: bytes
    cert_pem: bytes  # the leaf first, then any chain certificates
    key: PrivateKeyTypes
    cert: x509.Certificate

    def __repr__(self) -> str:
        return f"KeyPair(subject={self.cert.subject.rfc4514_string()!r}, key=***)"


def _password(secret: Secret | None) -> bytes | None:
    return None if secret is None else secret.reveal().encode("utf-8")


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def _from_pkcs12(path: Path, password: Secret | None) -> KeyPair:
    data = _read(path, "PKCS#12 file")
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, _password(password))
    except ValueError:
        raise ConfigError(
            f"cannot open the PKCS#12 file {path}: wrong password or not a PKCS#12 file"
        ) from None
    if key is None or cert is None:
        raise ConfigError(f"the PKCS#12 file {path} must hold a private key and its certificate")
    pem = serialization.Encoding.PEM
    certs = b"".join(c.public_bytes(pem) for c in [cert, *chain])
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return KeyPair(key_pem=key_pem, cert_pem=certs, key=key, cert=cert)


def _from_pem(key_path: Path, cert_path: Path, password: Secret | None) -> KeyPair:
    cert_pem = _read(cert_path, "certificate")
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(_read(key_path, "key"), _password(password))
    except (ValueError, TypeError):
        raise ConfigError(
            f"cannot read the key {key_path} or certificate {cert_path}: wrong password, or not PEM"
        ) from None
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return KeyPair(key_pem=key_pem, cert_pem=cert_pem, key=key, cert=cert)


def load_key_pair(
    *,
    key: Path | None = None,
    cert: Path | None = None,
    password: Secret | None = None,
    pkcs12_file: Path | None = None,
    pkcs12_password: Secret | None = None,
) -> KeyPair:
    """Read a key and certificate (PEM pair or PKCS#12) and check that they belong together.

    Raises:
        ConfigError: a file is missing or unreadable, the password is wrong, or the key does
            not match the certificate. The message names the file, never the password.
    """
    if pkcs12_file is not None:
        pair = _from_pkcs12(pkcs12_file, pkcs12_password)
    elif key is not None and cert is not None:
        pair = _from_pem(key, cert, password)
    else:
        raise ConfigError("a key and certificate (PEM) or a PKCS#12 file is needed")
    if _public_der(pair.key.public_key()) != _public_der(pair.cert.public_key()):
        raise ConfigError(
            f"the private key does not match the certificate {pair.cert.subject.rfc4514_string()}"
        )
    return pair


def _public_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@contextlib.contextmanager
def _private_pem_file(pair: KeyPair) -> Iterator[tuple[str, str]]:
    """A 0600 temporary PEM with the key encrypted under a one-time password, then deleted.

    `ssl.SSLContext.load_cert_chain` reads files only; encrypting the key on the way means no
    clear-text key ever touches the disk, even for the instant the file exists.
    """
    one_time = secrets.token_urlsafe(32)
    encrypted = pair.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(one_time.encode()),
    )
    handle, name = tempfile.mkstemp(prefix="batch-tls-", suffix=".pem")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(pair.cert_pem + encrypted)
        yield name, one_time
    finally:
        Path(name).unlink(missing_ok=True)


def _load_client_certificate(context: ssl.SSLContext, tls: TlsSettings) -> None:
    if tls.pkcs12 is not None:
        pair = load_key_pair(pkcs12_file=tls.pkcs12, pkcs12_password=tls.pkcs12_password)
        with _private_pem_file(pair) as (name, one_time):
            context.load_cert_chain(name, password=one_time)
    elif tls.client_cert is not None:
        try:
            context.load_cert_chain(tls.client_cert, tls.client_key)
        except OSError as exc:  # FileNotFoundError and friends; SSLError is handled above us
            if isinstance(exc, ssl.SSLError):
                raise
            raise ConfigError(
                f"cannot read the client certificate {tls.client_cert}: {exc.strerror or exc}"
            ) from None


def build_ssl_context(tls: TlsSettings) -> ssl.SSLContext:
    """One TLS context for every connection: verification, CA bundle, client certificate.

    Without `ca_bundle` the trust store is certifi's, as `requests` would use, so behaviour
    does not depend on the machine's own store. TLS 1.2 is the floor.

    Raises:
        ConfigError: a certificate, key or CA bundle cannot be used.
    """
    cafile = str(tls.ca_bundle) if tls.ca_bundle is not None else certifi.where()
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use the CA bundle {cafile}: {exc}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        _load_client_certificate(context, tls)
    except ssl.SSLError as exc:
        raise ConfigError(f"cannot use the client certificate: {exc.reason or exc}") from None
    return context


class LazySslContext:
    """The TLS context, built once and only when something is https or certificates are set.

    Loading a CA bundle costs ~50 ms; a plain-http client (the embedded simulator) needs none.
    Configured certificates are read at once all the same, so a bad one fails at start.
    """

    def __init__(self, tls: TlsSettings) -> None:
        self._tls = tls
        self._context = build_ssl_context(tls) if tls != TlsSettings() else None

    def context_for(self, url: str) -> ssl.SSLContext | None:
        """The context for `url`: built on the first https URL; None while all is plain http."""
        if self._context is None and url.lower().startswith("https:"):
            self._context = build_ssl_context(self._tls)
        return self._context


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


def build_wsse(signing: SigningSettings) -> Compose:
    """The WS-Security pipeline zeep applies to each envelope: timestamp, sign, order.

    Signing is RSA-SHA256 with SHA-256 digests and exclusive C14N over Body and Timestamp; the
    certificate travels as a BinarySecurityToken.

    Raises:
        ConfigError: the key or certificate cannot be read, do not match, or the key is not RSA.
    """
    pair = load_key_pair(
        key=signing.key,
        cert=signing.cert,
        password=signing.key_password,
        pkcs12_file=signing.pkcs12,
        pkcs12_password=signing.pkcs12_password,
    )
    if not isinstance(pair.key, rsa.RSAPrivateKey):
        raise ConfigError("signing: only RSA keys can sign with RSA-SHA256, as IPL expects")
    return Compose(  # type: ignore[no-untyped-call]
        [
            _Timestamp(signing.timestamp_ttl_seconds),
            _InMemoryBinarySignature(pair),
            _SecurityHeaderOrder(),
        ]
    )
