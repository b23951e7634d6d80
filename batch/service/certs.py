"""The certificates a run uses (TLS client, signing): read once at start, with their expiry.

An expired client certificate would be refused by the server at every attempt, and an expired
signing certificate would sign requests the platform rejects: both are caught here, before a
row is read, with the file and the date named. Reading goes through `batch.service.keys`, so
a wrong password or a key that does not match its certificate fails here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from batch.service.keys import load_key_pair

if TYPE_CHECKING:
    from pathlib import Path

    from batch.service.signing import SigningSettings
    from batch.service.tls import TlsSettings

__all__ = ["CertificateInfo", "configured_certificates"]


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """One configured certificate: its role (`tls` or `signing`), file, subject and expiry."""

    role: str
    file: Path
    subject: str
    not_after: datetime  # timezone-aware (UTC)

    def days_left(self, now: datetime | None = None) -> int:
        """Whole days until it expires; negative once it has."""
        return (self.not_after - (now or datetime.now(UTC))).days

    def expired(self, now: datetime | None = None) -> bool:
        """True once its `not_after` has passed."""
        return self.not_after <= (now or datetime.now(UTC))

    def as_json(self, now: datetime | None = None) -> dict[str, object]:
        """For the JSON summary and `batch check --json`: file, not_after (ISO), days_left."""
        return {
            "role": self.role,
            "file": str(self.file),
            "subject": self.subject,
            "not_after": self.not_after.isoformat(),
            "days_left": self.days_left(now),
        }


def _info(role: str, file: Path, **where: object) -> CertificateInfo:
    pair = load_key_pair(**where)  # type: ignore[arg-type]
    return CertificateInfo(
        role, file, pair.cert.subject.rfc4514_string(), pair.cert.not_valid_after_utc
    )


def configured_certificates(
    tls: TlsSettings, signing: SigningSettings | None
) -> list[CertificateInfo]:
    """The TLS client and signing certificates that are configured, read and checked.

    A PEM certificate file that also holds its key is read as both (`client_key` unset).

    Raises:
        ConfigError: a file cannot be read, a password is wrong, or a key does not match.
    """
    found: list[CertificateInfo] = []
    if tls.pkcs12 is not None:
        found.append(
            _info("tls", tls.pkcs12, pkcs12_file=tls.pkcs12, pkcs12_password=tls.pkcs12_password)
        )
    elif tls.client_cert is not None:
        key = tls.client_key or tls.client_cert
        found.append(_info("tls", tls.client_cert, key=key, cert=tls.client_cert))
    if signing is not None and signing.pkcs12 is not None:
        found.append(
            _info(
                "signing",
                signing.pkcs12,
                pkcs12_file=signing.pkcs12,
                pkcs12_password=signing.pkcs12_password,
            )
        )
    elif signing is not None and signing.cert is not None:
        key = signing.key or signing.cert
        found.append(
            _info(
                "signing", signing.cert, key=key, cert=signing.cert, password=signing.key_password
            )
        )
    return found
