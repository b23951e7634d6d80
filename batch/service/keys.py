"""Keys and secrets: reading a private key and its certificate, shared by TLS and signing.

STIL's integration platform (IPL) authenticates a calling system with an OCES3 organisation
certificate (issued as PKCS#12), both for mutual TLS (`batch.service.tls`) and for WS-Security
signing (`batch.service.signing`). Everything that reads a key lives here, so that a password
or a private key is handled in one module and never reaches a log line or a repr.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from batch.errors import ConfigError
from batch.i18n import N_, _

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

__all__ = ["CREDENTIALS_VARIABLE", "KeyPair", "Secret", "fill_passwords", "load_key_pair"]

CREDENTIALS_VARIABLE = "CREDENTIALS_DIRECTORY"  # set by systemd for LoadCredential=


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
    """The file's bytes; `what` (a catalog text) names it in the message."""
    try:
        return path.read_bytes()
    except OSError as exc:
        message = _("cannot read the {what} {path}: {why}")
        raise ConfigError(
            message.format(what=_(what), path=path, why=exc.strerror or exc)
        ) from None


def _from_pkcs12(path: Path, password: Secret | None) -> KeyPair:
    data = _read(path, N_("PKCS#12 file"))
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, _password(password))
    except ValueError:
        raise ConfigError(
            _("cannot open the PKCS#12 file {path}: wrong password or not a PKCS#12 file").format(
                path=path
            )
        ) from None
    if key is None or cert is None:
        raise ConfigError(
            _("the PKCS#12 file {path} must hold a private key and its certificate").format(
                path=path
            )
        )
    pem = serialization.Encoding.PEM
    certs = b"".join(c.public_bytes(pem) for c in [cert, *chain])
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return KeyPair(key_pem=key_pem, cert_pem=certs, key=key, cert=cert)


def _from_pem(key_path: Path, cert_path: Path, password: Secret | None) -> KeyPair:
    cert_pem = _read(cert_path, N_("certificate"))
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(_read(key_path, N_("key")), _password(password))
    except (ValueError, TypeError):
        raise ConfigError(
            _("cannot read the key {key} or certificate {cert}: wrong password, or not PEM").format(
                key=key_path, cert=cert_path
            )
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
        raise ConfigError(_("a key and certificate (PEM) or a PKCS#12 file is needed"))
    if _public_der(pair.key.public_key()) != _public_der(pair.cert.public_key()):
        raise ConfigError(
            _("the private key does not match the certificate {subject}").format(
                subject=pair.cert.subject.rfc4514_string()
            )
        )
    return pair


def _public_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fill_passwords(
    values: dict[str, object],
    sources: dict[str, str],
    env: Mapping[str, str],
    names: Sequence[str],
) -> None:
    """Fill each password setting from its `NAME_file` setting, else from systemd's credentials.

    A password given directly (environment or config file) wins over the credentials
    directory; giving it directly *and* as a file is ambiguous and refused. systemd's
    `LoadCredential=NAME:PATH` puts the file at `$CREDENTIALS_DIRECTORY/NAME`, readable by the
    service only: NAME is the setting's name (`tls_pkcs12_password`).
    """
    credentials = env.get(CREDENTIALS_VARIABLE)
    for name in names:
        file_name = f"{name}_file"
        path = values.get(file_name)
        if path is not None and name in values:
            message = _("{name} and {file_name} are both set: set only one of them")
            raise ConfigError(message.format(name=name, file_name=file_name))
        if path is None and name not in values and credentials:
            candidate = Path(credentials) / name
            if candidate.is_file():
                path, sources[file_name] = candidate, "credential"
        if isinstance(path, Path):
            values[name] = _read_password_file(path, name)
            sources[name] = sources[file_name]


def _read_password_file(path: Path, name: str) -> str:
    """The file's text without its final line break (`echo secret > file` adds one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        why = getattr(error, "strerror", None) or str(error)
        message = _("{name}: the password file {path} cannot be read ({why})")
        raise ConfigError(message.format(name=name, path=path, why=why)) from None
    return text.removesuffix("\n").removesuffix("\r")
