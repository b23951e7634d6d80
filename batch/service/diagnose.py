"""Which failures are set-up problems, and their causes in words.

A TLS failure that waiting will not heal (the service's certificate expired, untrusted or for
another host; our client certificate refused or missing; no common TLS version) and a proxy
that refuses the tunnel are set-up problems: the run stops at the first one (exit 4), rather
than retrying every row against a wall. Everything else stays a transient failure for the
scheduler to retry. The words are catalog texts (`batch.i18n`), translated where shown.
"""

from __future__ import annotations

import re
import ssl
from typing import TYPE_CHECKING

from batch.i18n import N_
from batch.records import StopCause

if TYPE_CHECKING:
    from collections.abc import Iterator

    from batch.service.proxy import Proxy

__all__ = ["CAUSES", "cause", "setup_cause"]

CAUSES: dict[str, str] = {
    "tls_server_certificate_expired": N_("the service's certificate has expired"),
    "tls_server_certificate_not_yet_valid": N_(
        "the service's certificate is not valid yet (is this machine's clock right?)"
    ),
    "tls_server_certificate_untrusted": N_(
        "the service's certificate is not issued by a CA we trust (see tls_ca_bundle)"
    ),
    "tls_host_name_mismatch": N_("the service's certificate is for another host name"),
    "tls_server_certificate_rejected": N_("the service's certificate was rejected"),
    "tls_client_certificate_refused": N_("the server refused our client certificate"),
    "tls_client_certificate_required": N_(
        "the server asks for a client certificate and none is configured"
    ),
    "tls_client_certificate_expired": N_("the server says our client certificate has expired"),
    "tls_handshake_refused": N_("the server refused the TLS handshake"),
    "tls_protocol_mismatch": N_(
        "no TLS 1.2 or later at this address (is it an http:// service, or too old a server?)"
    ),
    "proxy_auth_required": N_(
        "the proxy {proxy} asks for a user name and password, or refused ours (HTTP 407)"
    ),
    "proxy_refused": N_("the proxy {proxy} refused the connection to the service (HTTP {status})"),
}

_VERIFY_CODES = {
    9: "tls_server_certificate_not_yet_valid",
    10: "tls_server_certificate_expired",
    62: "tls_host_name_mismatch",  # X509_V_ERR_HOSTNAME_MISMATCH
    64: "tls_host_name_mismatch",  # X509_V_ERR_IP_ADDRESS_MISMATCH
    2: "tls_server_certificate_untrusted",
    18: "tls_server_certificate_untrusted",
    19: "tls_server_certificate_untrusted",
    20: "tls_server_certificate_untrusted",
    21: "tls_server_certificate_untrusted",
}
# OpenSSL's reason for an alert the server sent, or a handshake that found nothing in common.
_REASONS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "tls_client_certificate_required",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "tls_client_certificate_expired",
    "SSLV3_ALERT_BAD_CERTIFICATE": "tls_client_certificate_refused",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "tls_client_certificate_refused",
    "SSLV3_ALERT_CERTIFICATE_REVOKED": "tls_client_certificate_refused",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": "tls_client_certificate_refused",
    "TLSV1_ALERT_UNKNOWN_CA": "tls_client_certificate_refused",
    "TLSV1_ALERT_ACCESS_DENIED": "tls_client_certificate_refused",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "tls_handshake_refused",
    "WRONG_VERSION_NUMBER": "tls_protocol_mismatch",
    "UNSUPPORTED_PROTOCOL": "tls_protocol_mismatch",
    "TLSV1_ALERT_PROTOCOL_VERSION": "tls_protocol_mismatch",
    "NO_PROTOCOLS_AVAILABLE": "tls_protocol_mismatch",
}
_TUNNEL = re.compile(r"Tunnel connection failed: (\d{3})")
_PROXY_AUTH_REQUIRED = 407


def cause(slug: str, **params: str) -> StopCause:
    """The set-up cause `slug` with its words and placeholders."""
    return StopCause(slug, CAUSES[slug], tuple(params.items()), setup=True)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error` and every exception it wraps (cause, context, urllib3's args), each once."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [current.__cause__, current.__context__, getattr(current, "original_error", None)]
        inner += [arg for arg in current.args if isinstance(arg, BaseException)]
        todo.extend(item for item in inner if isinstance(item, BaseException))


def _tls_cause(error: ssl.SSLError) -> StopCause | None:
    if isinstance(error, ssl.SSLCertVerificationError):
        message = str(getattr(error, "verify_message", None) or error)
        slug = _VERIFY_CODES.get(getattr(error, "verify_code", None) or 0)
        if slug is None and "hostname mismatch" in message.lower():
            slug = "tls_host_name_mismatch"
        return cause(slug or "tls_server_certificate_rejected")
    slug = _REASONS.get(str(getattr(error, "reason", "") or ""))
    return cause(slug) if slug else None


def setup_cause(error: BaseException, proxy: Proxy | None = None) -> StopCause | None:
    """The set-up problem behind `error`, or None when it may heal by waiting."""
    for item in _chain(error):
        if isinstance(item, ssl.SSLError):
            found = _tls_cause(item)
            if found is not None:
                return found
        match = _TUNNEL.search(str(item)) if isinstance(item, OSError) else None
        if match is not None:
            shown = proxy.shown if proxy is not None else "?"
            status = int(match.group(1))
            if status == _PROXY_AUTH_REQUIRED:
                return cause("proxy_auth_required", proxy=shown)
            return cause("proxy_refused", proxy=shown, status=str(status))
    return None
