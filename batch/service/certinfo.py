"""How long the configured certificates are still valid: for monitoring, before they expire.

An OCES3 certificate runs out on a fixed day; a night after that day every request fails (exit
4). Each run's JSON summary and `run finished` line carry every certificate's last day and the
days left, so monitoring can warn weeks ahead. Reading a certificate never fails the run here:
a file that cannot be read is the client's to report, with its own message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from batch.i18n import _

if TYPE_CHECKING:
    from pathlib import Path

    from batch.service.client import ClientSettings
    from batch.service.keys import Secret

__all__ = ["EXPIRY_WARNING_DAYS", "CertificateInfo", "certificate_infos", "certificate_summary"]

EXPIRY_WARNING_DAYS = 30

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """One certificate in use: its role (`tls` or `signing`), file and last valid moment."""

    role: str
    file: str
    not_after: datetime

    def days_left(self, now: datetime) -> int:
        """Whole days until it expires (negative once expired)."""
        return (self.not_after - now).days

    def as_json(self, now: datetime) -> dict[str, object]:
        """The summary's form: role, file, not_after (ISO, UTC), days_left."""
        return {
            "role": self.role,
            "file": self.file,
            "not_after": self.not_after.isoformat(),
            "days_left": self.days_left(now),
        }


def _leaf(path: Path, password: Secret | None, *, bundle: bool) -> x509.Certificate | None:
    try:
        data = path.read_bytes()
        if not bundle:
            return x509.load_pem_x509_certificate(data)
        secret = None if password is None else password.reveal().encode("utf-8")
        return pkcs12.load_key_and_certificates(data, secret)[1]
    except (OSError, ValueError, TypeError):
        return None  # the client says what is wrong with it, with the file's name


def certificate_infos(client: ClientSettings) -> list[CertificateInfo]:
    """The client and signing certificates the settings name, with their expiry."""
    tls, signing = client.tls, client.signing
    found: list[tuple[str, Path | None, Secret | None, bool]] = [
        ("tls", tls.pkcs12, tls.pkcs12_password, True),
        ("tls", None if tls.pkcs12 else tls.client_cert, None, False),
    ]
    if signing is not None:
        found += [
            ("signing", signing.pkcs12, signing.pkcs12_password, True),
            ("signing", None if signing.pkcs12 else signing.cert, None, False),
        ]
    infos = []
    for role, path, password, bundle in found:
        cert = None if path is None else _leaf(path, password, bundle=bundle)
        if path is not None and cert is not None:
            infos.append(CertificateInfo(role, str(path), cert.not_valid_after_utc))
    return infos


def certificate_summary(
    client: ClientSettings, now: datetime | None = None
) -> tuple[list[dict[str, object]], list[str]]:
    """The certificates as the JSON summary has them, and warnings (logged too) for expiry.

    A certificate with fewer than `EXPIRY_WARNING_DAYS` days left gets a warning.
    """
    now = now or datetime.now(UTC)
    infos = certificate_infos(client)
    text = _("the {role} certificate {file} expires in {days} days ({day}): renew it in time")
    warnings = [
        text.format(
            role=info.role, file=info.file, days=info.days_left(now), day=f"{info.not_after:%F}"
        )
        for info in infos
        if info.days_left(now) < EXPIRY_WARNING_DAYS
    ]
    for warning in warnings:
        log.warning("certificate expires soon", message=warning)
    return [info.as_json(now) for info in infos], warnings
