"""The start of every run: certificates read and dated, warnings for what is allowed but risky.

An expired TLS or signing certificate refuses the start (exit 2, naming the file and the date):
the server would refuse every request, or the platform every signature. One that expires
within `cert_warn_days` is a warning, as are `tls_verify = false`, an `http://` address off
this machine, and no signing towards anything but the simulator.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from batch.errors import ConfigError
from batch.i18n import N_, _
from batch.service.certs import CertificateInfo, configured_certificates

if TYPE_CHECKING:
    from batch.config import Settings
    from batch.service.client import ClientSettings

__all__ = [
    "Startup",
    "address_warning",
    "expiry_date",
    "is_loopback_url",
    "risk_warnings",
    "startup_checks",
]

_DANISH = ZoneInfo("Europe/Copenhagen")
_EXPIRES = {
    "tls": N_(
        "the TLS client certificate {file} expires in {days} days ({date}): renew it in time"
    ),
    "signing": N_(
        "the signing certificate {file} expires in {days} days ({date}): renew it in time"
    ),
}
_EXPIRED = {
    "tls": N_("the TLS client certificate {file} expired on {date}: renew it; nothing was sent"),
    "signing": N_("the signing certificate {file} expired on {date}: renew it; nothing was sent"),
}
NO_VERIFY = N_(
    "tls_verify is false: the service's certificate is not checked, so anyone on the way "
    "could read and change what is sent"
)
PLAIN_HTTP = N_(
    "the address {url} is http:// and not on this machine: what is sent, CPR numbers "
    "included, travels unencrypted"
)
NO_SIGNING = N_(
    "no signing is configured (sign_pkcs12, or sign_key and sign_cert) while the address is "
    "not the simulator's: the real platform refuses unsigned requests"
)


@dataclass(frozen=True, slots=True)
class Startup:
    """What the start of a run found: warnings to show, and the certificates with their dates."""

    warnings: tuple[str, ...]
    certificates: tuple[CertificateInfo, ...]


def is_loopback_url(url: str) -> bool:
    """True when `url`'s host is this machine (localhost or a loopback address)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def expiry_date(info: CertificateInfo) -> str:
    """The certificate's last day as a person reads a date here: dd-mm-yyyy, Danish local."""
    return info.not_after.astimezone(_DANISH).strftime("%d-%m-%Y")


def certificate_warnings(
    certificates: list[CertificateInfo], warn_days: int, now: datetime
) -> list[str]:
    """A warning per certificate expiring within `warn_days`; ConfigError for an expired one."""
    warnings = []
    for info in certificates:
        params = {
            "file": str(info.file),
            "date": expiry_date(info),
            "days": str(info.days_left(now)),
        }
        if info.expired(now):
            raise ConfigError(_(_EXPIRED[info.role]).format(**params))
        if info.days_left(now) < warn_days:
            warnings.append(_(_EXPIRES[info.role]).format(**params))
    return warnings


def address_warning(url: str | None) -> str | None:
    """The warning for a plain-http address off this machine, else None.

    Checked on the settings before the run, and again on the address the WSDL names once it is
    read: with no `endpoint` set, that address is where the CPR numbers really go.
    """
    if url and url.lower().startswith("http://") and not is_loopback_url(url):
        return _(PLAIN_HTTP).format(url=url)
    return None


def risk_warnings(settings: Settings, client: ClientSettings) -> list[str]:
    """Allowed but risky: no verification, plain http off this machine, no signing."""
    warnings = []
    if not settings.tls_verify:
        warnings.append(_(NO_VERIFY))
    plain = [address_warning(url) for url in (settings.endpoint, settings.wsdl)]
    warnings += [text for text in plain if text is not None][:1]
    if client.signing is None and not settings.uses_simulator:
        warnings.append(_(NO_SIGNING))
    return warnings


def startup_checks(
    settings: Settings, client: ClientSettings, now: datetime | None = None
) -> Startup:
    """Read the configured certificates and word the warnings; refuse an expired certificate.

    Raises:
        ConfigError: a certificate is expired, unreadable, or does not match its key.
    """
    now = now or datetime.now(UTC)
    certificates = configured_certificates(client.tls, client.signing)
    warnings = certificate_warnings(certificates, settings.cert_warn_days, now)
    warnings += risk_warnings(settings, client)
    return Startup(tuple(warnings), tuple(certificates))
