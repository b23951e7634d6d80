"""Can the service be reached? Step by step, so a failure names the step: for `batch check`.

DNS (of the proxy when there is one: the proxy resolves the service's name), TCP, the
proxy's CONNECT, the TLS handshake with our client certificate, and one HTTP answer to a GET
of the address with `?wsdl` (never a POST: no row is sent). The answer's `Date` header gives
the clock's offset from the service's: WS-Security timestamps are valid for five minutes.
"""

from __future__ import annotations

import email.utils
import http.client
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from batch import __version__
from batch.service.diagnose import setup_cause
from batch.service.proxy import choose_proxy

if TYPE_CHECKING:
    from collections.abc import Mapping

    from batch.records import StopCause
    from batch.service.proxy import Proxy

__all__ = ["Reach", "Step", "probe"]

_OK = 200


@dataclass(frozen=True, slots=True)
class Step:
    """One step towards the service: `name` is dns, tcp, proxy, tls or http."""

    name: str
    ok: bool
    detail: str  # what happened, in English, for the operator and the log
    cause: StopCause | None = None  # a set-up problem, named (TLS, proxy)


@dataclass
class Reach:
    """What the probe found: its steps in order, the HTTP status and the service's clock."""

    url: str
    proxy: Proxy | None
    steps: list[Step] = field(default_factory=list)
    status: int | None = None
    offset: timedelta | None = None  # the service's Date minus our clock (None: no Date)

    @property
    def ok(self) -> bool:
        """Every step succeeded (an HTTP answer of any status counts: the service is there)."""
        return bool(self.steps) and all(step.ok for step in self.steps)


def _fail(reach: Reach, name: str, error: BaseException) -> Reach:
    cause = setup_cause(error, reach.proxy)
    detail = f"{type(error).__name__}: {error}"
    reach.steps.append(Step(name, ok=False, detail=detail, cause=cause))
    return reach


def _connect_tunnel(sock: socket.socket, host: str, port: int, proxy: Proxy) -> int:
    """CONNECT host:port through the proxy; its status (200 opens the tunnel)."""
    lines = [f"CONNECT {host}:{port} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in proxy.headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    response = http.client.HTTPResponse(sock, method="CONNECT")
    response.begin()
    return response.status


def probe(
    url: str,
    *,
    ssl_context: ssl.SSLContext | None,
    proxy_setting: str | None,
    connect_timeout: float,
    read_timeout: float,
    env: Mapping[str, str] | None = None,
) -> Reach:
    """Walk the steps to `url`, stopping at the first that fails; never raises for the network.

    Raises:
        ConfigError: the proxy URL is not usable.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    proxy = choose_proxy(url, proxy_setting, env)
    reach = Reach(url, proxy)
    if proxy is not None and proxy.url.startswith("https:"):
        # TLS inside TLS needs urllib3's machinery; the WSDL check went through it already.
        detail = f"{proxy.shown}: an https proxy; the step-by-step probe stops here"
        reach.steps.append(Step("proxy", ok=True, detail=detail))
        return reach
    hop = (proxy.host, proxy.port) if proxy is not None else (host, port)
    try:
        socket.getaddrinfo(hop[0], hop[1], type=socket.SOCK_STREAM)
    except OSError as error:
        return _fail(reach, "dns", error)
    reach.steps.append(Step("dns", ok=True, detail=f"{hop[0]} resolves"))
    try:
        sock = socket.create_connection(hop, timeout=connect_timeout)
    except OSError as error:
        return _fail(reach, "tcp", error)
    reach.steps.append(Step("tcp", ok=True, detail=f"connected to {hop[0]}:{hop[1]}"))
    with sock:
        return _through(reach, sock, (host, port), ssl_context, read_timeout)


def _through(
    reach: Reach,
    sock: socket.socket,
    origin: tuple[str, int],
    ssl_context: ssl.SSLContext | None,
    read_timeout: float,
) -> Reach:
    """The proxy, TLS and HTTP steps on an open connection."""
    https = urlsplit(reach.url).scheme == "https"
    proxy = reach.proxy
    sock.settimeout(read_timeout)
    if proxy is not None and https:
        try:
            status = _connect_tunnel(sock, origin[0], origin[1], proxy)
        except (OSError, http.client.HTTPException) as error:
            return _fail(reach, "proxy", error)
        if status != _OK:
            return _fail(reach, "proxy", OSError(f"Tunnel connection failed: {status}"))
        reach.steps.append(Step("proxy", ok=True, detail=f"{proxy.shown} opened a tunnel"))
    elif proxy is not None:
        reach.steps.append(Step("proxy", ok=True, detail=f"{proxy.shown} forwards http"))
    if https:
        assert ssl_context is not None
        try:
            sock = ssl_context.wrap_socket(sock, server_hostname=origin[0])
        except (OSError, ssl.SSLError) as error:
            return _fail(reach, "tls", error)
        version = sock.version() if isinstance(sock, ssl.SSLSocket) else "TLS"
        reach.steps.append(Step("tls", ok=True, detail=f"{version} handshake done"))
    return _answer(reach, sock)


def _answer(reach: Reach, sock: socket.socket) -> Reach:
    """GET the address with ?wsdl; any HTTP status counts; the Date header gives the clock."""
    parts = urlsplit(reach.url)
    forwarding = reach.proxy is not None and parts.scheme == "http"
    path = (parts.path or "/") + f"?{parts.query or 'wsdl'}"
    target = f"{parts.scheme}://{parts.netloc}{path}" if forwarding else path
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", f"User-Agent: batch/{__version__}"]
    lines += ["Accept-Encoding: identity", "Connection: close"]
    if forwarding and reach.proxy is not None:
        lines += [f"{name}: {value}" for name, value in reach.proxy.headers.items()]
    try:
        sent = time.time()
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        response = http.client.HTTPResponse(sock, method="GET")
        response.begin()
        received = time.time()
    except (OSError, http.client.HTTPException) as error:
        return _fail(reach, "http", error)
    reach.status = response.status
    reach.steps.append(Step("http", ok=True, detail=f"HTTP {response.status} {response.reason}"))
    reach.offset = _offset(response.getheader("Date"), (sent + received) / 2)
    response.close()
    return reach


def _offset(date: str | None, local: float) -> timedelta | None:
    if not date:
        return None
    try:
        theirs = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return None
    if theirs.tzinfo is None:
        theirs = theirs.replace(tzinfo=UTC)
    return theirs - datetime.fromtimestamp(local, UTC)
