"""Which service a run spoke to: the key under which the memory of what UDB accepted is kept.

A service is the address requests actually went to (the `endpoint` setting, else the WSDL's
address) and the system id sent as `ModtagerSystemID`. A rehearsal on the simulator therefore
never changes what the real service is believed to hold, and the reverse.

The built-in simulator listens on a new ephemeral port every run, so it is one service by name,
`simulator (built-in)`. A simulator started on its own (`batch simulator --port 8080`) is a
service by its address, like any other.

Addresses are compared normalised: scheme and host in lower case, the default port (80 for
http, 443 for https) left out, user and password (never stored) and fragment dropped, a
trailing `/` of the path dropped; path and query are kept as given (servers may tell case
apart there). `https://UDB.example.dk:443/svc/` and `https://udb.example.dk/svc` are one
service; `http://` and `https://` to the same host are two.

The institution is not part of the key: UDB keeps one record per young person, so a newer
registration reported by one institution must not be overwritten by an older one from another.
It stays part of each remembered entry (it is in the payload's digest and in each group's
record), so changed-only and never-older-over-newer behave exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["SIMULATOR", "UNRECORDED", "Service", "normalise_address", "service_of_settings"]

SIMULATOR = "simulator (built-in)"
UNRECORDED = "(not recorded)"  # runs submitted without a named service (tests, tools)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Service:
    """One service the memory is kept for."""

    endpoint: str  # normalised address, or SIMULATOR
    system_id: str

    @classmethod
    def at(cls, address: str, system_id: str) -> Service:
        """The service at `address` (normalised) for `system_id`."""
        return cls(normalise_address(address), system_id)

    def __str__(self) -> str:
        if self.endpoint == SIMULATOR:
            return self.endpoint
        return f"{self.endpoint} ({self.system_id})"


def normalise_address(address: str) -> str:
    """The address as the memory compares it (see the module's docstring)."""
    parts = urlsplit(address.strip())
    if not parts.scheme or not parts.hostname:
        return address.strip()  # not a URL (a WSDL path in an old journal): as given
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def service_of_settings(settings: Mapping[str, object]) -> Service:
    """The service of a run from its recorded settings (journals written before schema 2).

    Those runs recorded settings, not the address used: the endpoint when one was set, else
    the WSDL's location stands for it. A run with neither used the built-in simulator.
    """
    endpoint, wsdl = settings.get("endpoint"), settings.get("wsdl")
    system_id = str(settings.get("system_id") or "")
    if endpoint not in (None, "None"):
        return Service.at(str(endpoint), system_id)
    if wsdl not in (None, "None"):
        return Service.at(str(wsdl), system_id)
    return Service(SIMULATOR, system_id)
