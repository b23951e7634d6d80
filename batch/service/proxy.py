"""Which proxy a request goes through: the `proxy` setting, else `HTTPS_PROXY`/`HTTP_PROXY`.

Municipal networks reach the internet through a proxy. The rules, as curl and `requests` read
the environment: `HTTPS_PROXY` for https addresses, `HTTP_PROXY` for http ones (each also in
lower case, the lower case winning as in curl), and `NO_PROXY`/`no_proxy` listing hosts to
reach directly. The `proxy` setting wins over both variables; `proxy = "none"` means direct,
whatever the environment says. `NO_PROXY` applies to the setting too (as in curl), so one
configuration serves the real platform and a simulator on loopback.

A user and password in the proxy URL are sent as Basic `Proxy-Authorization`; they are never
printed (`batch.privacy.mask_cpr` masks the password of any URL).
"""

from __future__ import annotations

import base64
import ipaddress
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from batch.errors import ConfigError
from batch.i18n import _
from batch.privacy import mask_url_password

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DIRECT", "Proxy", "check_proxy_url", "choose_proxy"]

DIRECT = "none"  # the setting's value for "no proxy, whatever the environment says"


@dataclass(frozen=True, slots=True)
class Proxy:
    """A proxy to go through: its URL without user and password, and the header they make."""

    url: str  # scheme://host:port, no credentials
    shown: str  # the URL as it may be printed: user kept, password masked
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    source: str = "setting"  # "setting" or the environment variable it came from

    @property
    def host(self) -> str:
        """The proxy's host name, for messages and the DNS check."""
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        """The proxy's port (the scheme's default when the URL names none)."""
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)


def check_proxy_url(text: str) -> str:
    """Parse a `proxy` setting: an http(s) URL with a host, or `none` (raises ValueError)."""
    value = text.strip()
    if value.lower() == DIRECT:
        return DIRECT
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        message = _("must be an http:// or https:// URL or 'none', not {value}")
        raise ValueError(message.format(value=repr(value)))
    try:
        _port = parts.port
    except ValueError:
        message = _("has an invalid port: {value}")
        raise ValueError(message.format(value=repr(mask_url_password(value)))) from None
    return value


def _parse(url: str, source: str) -> Proxy:
    if "://" not in url:  # HTTPS_PROXY=proxy:3128, as many set it
        url = f"http://{url}"
    try:
        check_proxy_url(url)
    except ValueError as error:
        raise ConfigError(
            _("proxy from {source} {error}").format(source=source, error=error)
        ) from None
    parts = urlsplit(url)
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    headers: dict[str, str] = {}
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        token = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        headers["Proxy-Authorization"] = f"Basic {token}"
    return Proxy(f"{parts.scheme}://{host}:{port}", mask_url_password(url), headers, source)


def _env(env: Mapping[str, str], name: str) -> tuple[str, str] | None:
    for variable in (name.lower(), name.upper()):
        value = env.get(variable, "").strip()
        if value:
            return variable, value
    return None


def _host_matches(host: str, entry: str) -> bool:
    """`entry` of NO_PROXY covers `host`: the same name, a parent domain, or a CIDR range."""
    entry = entry.strip().lower().removeprefix("*")
    if not entry:
        return False
    if entry.startswith("[") and entry.endswith("]"):
        entry = entry[1:-1]
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        pass
    entry = entry.removeprefix(".")
    return host == entry or host.endswith(f".{entry}")


def bypasses(url: str, no_proxy: str) -> bool:
    """True when `NO_PROXY` (comma-separated; `*` for all; host:port allowed) covers `url`."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for raw in no_proxy.split(","):
        entry = raw.strip()
        if entry == "*":
            return True
        name, colon, entry_port = entry.rpartition(":")
        if colon and entry_port.isdigit() and not name.endswith(":"):  # host:port, not IPv6
            if int(entry_port) != port:
                continue
            entry = name
        if _host_matches(host, entry):
            return True
    return False


def choose_proxy(
    url: str, setting: str | None, env: Mapping[str, str] | None = None
) -> Proxy | None:
    """The proxy for `url`, or None to connect directly.

    Raises:
        ConfigError: the proxy URL (setting or environment) is not an http(s) URL.
    """
    env = os.environ if env is None else env
    if setting is not None and setting.strip().lower() == DIRECT:
        return None
    scheme = urlsplit(url).scheme.lower()
    if setting is not None:
        chosen: tuple[str, str] | None = ("setting", setting)
    else:
        chosen = _env(env, f"{scheme}_proxy") if scheme in ("http", "https") else None
    if chosen is None:
        return None
    no_proxy = _env(env, "no_proxy")
    if no_proxy is not None and bypasses(url, no_proxy[1]):
        return None
    source, value = chosen
    return _parse(value, source)
