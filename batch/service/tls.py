"""Mutual TLS: the one TLS context, with the trust store and our client certificate.

IPL authenticates a calling system with mutual TLS, using an OCES3 organisation certificate
(issued as PKCS#12) or a PEM pair.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import certifi
from cryptography.hazmat.primitives import serialization

from batch.errors import ConfigError
from batch.i18n import _
from batch.service.keys import KeyPair, Secret, load_key_pair

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["LazySslContext", "TlsSettings", "build_ssl_context"]


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
            raise ConfigError(_("tls: client_key needs client_cert (the PEM pair goes together)"))
        if self.pkcs12 is not None and self.client_cert is not None:
            raise ConfigError(_("tls: give either client_cert/client_key or pkcs12, not both"))


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
            message = _("cannot read the client certificate {path}: {why}")
            raise ConfigError(
                message.format(path=tls.client_cert, why=exc.strerror or exc)
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
        message = _("cannot use the CA bundle {path}: {why}")
        raise ConfigError(message.format(path=cafile, why=exc)) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        _load_client_certificate(context, tls)
    except ssl.SSLError as exc:
        message = _("cannot use the client certificate: {why}")
        raise ConfigError(message.format(why=exc.reason or exc)) from None
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
