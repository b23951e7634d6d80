"""The wire for the client: urllib3's pool, TLS and proxies, with our limits; the SOAP reader.

urllib3 brings kept-alive pooling, TLS, the CONNECT tunnel through a proxy and the proxy's
Basic authentication for ~0.06 ms a request more than raw `http.client` (measured; see
BENCHMARKS.md). What it does not do, we add: an answer is read to at most 1 MiB
(`MAX_RESPONSE_BYTES`), the read timeout bounds the whole answer from status line to last
byte (a server trickling a byte at a time cannot hold a worker), redirects are never followed
and nothing is retried here (`batch.submit` decides). We send `Accept-Encoding: identity` and
still decode a gzip or deflate answer from a server that ignores it, the cap applying to the
decoded bytes. Replies are parsed here too, by a parser that never expands an entity.
"""

from __future__ import annotations

import http.client
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import urllib3
import zeep
from lxml import etree
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from zeep import ns

from batch import __version__
from batch.errors import ServiceError
from batch.i18n import _
from batch.service.proxy import Proxy, choose_proxy
from batch.service.xmlsafe import HostileXmlError, parse_untrusted_xml

if TYPE_CHECKING:
    import socket
    import ssl
    from collections.abc import Mapping

    from urllib3._base_connection import BaseHTTPConnection

__all__ = [
    "MAX_RESPONSE_BYTES",
    "HostileXmlError",
    "HttpPool",
    "HttpReply",
    "ResponseTooLargeError",
    "SoapFault",
    "WsdlTransport",
    "fault_code_name",
    "fault_detail",
    "parse_untrusted_xml",
    "read_soap",
]

# An IndberetningSvar is a few hundred bytes, a fault a few kilobytes; more is not an answer.
MAX_RESPONSE_BYTES = 1 << 20
_USER_AGENT = f"batch/{__version__}"


class ResponseTooLargeError(ValueError):
    """The response body exceeded `MAX_RESPONSE_BYTES`; we stopped reading it."""


@dataclass(frozen=True, slots=True)
class HttpReply:
    """One HTTP response, read completely: what the SOAP layer needs and nothing more."""

    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


class _DeadlineIO(io.RawIOBase):
    """A socket's bytes, each receive given only the time left until the answer's deadline.

    The socket's own timeout bounds one receive; a server trickling a byte at a time would
    stretch an answer without end, holding a worker (and a graceful stop) hostage.
    """

    def __init__(self, raw: io.RawIOBase, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._raw = raw  # the socket's own SocketIO: it keeps the socket open while read
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        """Always: BufferedReader asks before its first read."""
        return True

    # typeshed types the buffer as a protocol this Python cannot spell; a memoryview is what
    # BufferedReader hands over.
    def readinto(self, buffer: memoryview) -> int | None:  # type: ignore[override]
        """One receive, waiting at most until the deadline."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the answer took longer than the read timeout")
        self._sock.settimeout(left)
        return self._raw.readinto(buffer)

    def close(self) -> None:
        """Close the socket's reader (the socket itself belongs to the connection)."""
        self._raw.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    """http.client's response, reading through `_DeadlineIO` from status line to last byte.

    Made right after the request went out, when urllib3 has just set the socket's timeout to
    the read timeout: that timeout, from now, is the deadline of the whole answer.
    """

    def __init__(
        self,
        sock: socket.socket,
        debuglevel: int = 0,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(sock, debuglevel, method, url)
        timeout = sock.gettimeout()
        deadline = time.monotonic() + (timeout if timeout is not None else 30.0)
        raw = self.fp.detach()
        self.fp = io.BufferedReader(_DeadlineIO(raw, sock, deadline))


class _HTTPConnection(HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection

    def _validate_conn(self, conn: BaseHTTPConnection) -> None:
        """Connect early as urllib3 does, without its warning per unverified request.

        `tls_verify = false` is warned about once, at the start of the run, in our own words;
        urllib3 would add a warning per request, thousands a night.
        """
        HTTPConnectionPool._validate_conn(self, conn)  # noqa: SLF001 - the base's own step
        if conn.is_closed:
            conn.connect()


def _manager(
    proxy: Proxy | None, ssl_context: ssl.SSLContext | None, size: int
) -> urllib3.PoolManager:
    pool_kw: dict[str, Any] = {"maxsize": max(size, 1), "block": False}
    if ssl_context is not None:
        pool_kw["ssl_context"] = ssl_context
    manager: urllib3.PoolManager
    if proxy is None:
        manager = urllib3.PoolManager(num_pools=2, **pool_kw)
    else:
        manager = urllib3.ProxyManager(
            proxy.url, num_pools=2, proxy_headers=dict(proxy.headers), **pool_kw
        )
    manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return manager


def _check_headers(headers: Mapping[str, str]) -> None:
    for name, value in headers.items():
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise ValueError(f"the HTTP header {name.strip()!r} contains a line break")


class HttpPool:
    """Kept-alive connections to one origin (through its proxy, if any), shared by all threads.

    At most `size` connections are kept; a thread that finds none idle opens one. A connection
    whose exchange failed is closed, never reused: its state is unknown.
    """

    def __init__(
        self,
        url: str,
        *,
        ssl_context: ssl.SSLContext | None,
        connect_timeout: float,
        read_timeout: float,
        size: int,
        proxy: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`proxy` is the `proxy` setting (None: the environment's; `none`: direct).

        Raises:
            ServiceError: `url` is not an http(s) URL, or https without a TLS context.
            ConfigError: the proxy URL is not usable.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            message = _("the service address must be an http(s) URL, not {url}")
            raise ServiceError(message.format(url=repr(url)))
        if parts.scheme == "https" and ssl_context is None:
            raise ServiceError(_("an https address needs a TLS context"))
        self.proxy = choose_proxy(url, proxy, env)
        self._manager = _manager(self.proxy, ssl_context if parts.scheme == "https" else None, size)
        self._pool = self._manager.connection_from_url(url)
        # A forwarding proxy (http through a proxy) wants the whole URL; a tunnel, the path.
        forwarding = self.proxy is not None and parts.scheme == "http"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._target = url if forwarding else path
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)

    def request(self, method: str, body: bytes | None, headers: Mapping[str, str]) -> HttpReply:
        """One exchange on a kept-alive connection; exceptions as urllib3 raises them.

        Raises:
            ValueError: a header value holds a line break.
            urllib3.exceptions.HTTPError: connecting, TLS, the proxy, or reading failed
                (`ConnectTimeoutError`, `ReadTimeoutError`, `SSLError`, `ProxyError`, ...).
            ResponseTooLargeError: the body exceeded `MAX_RESPONSE_BYTES`.
            TimeoutError: the answer did not complete within the read timeout.
        """
        _check_headers(headers)
        sent = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity", **headers}
        response = self._pool.urlopen(
            method,
            self._target,
            body=body,
            headers=sent,
            retries=False,
            redirect=False,
            assert_same_host=False,
            timeout=self._timeout,
            preload_content=False,
            decode_content=True,
        )
        try:
            reply = _read(response)
        except BaseException:
            response.close()  # the connection's state is unknown: never reuse it
            raise
        finally:
            response.release_conn()
        return reply

    def close(self) -> None:
        """Close every idle connection; one still in use is closed when its exchange ends."""
        self._manager.clear()


def _read(response: urllib3.BaseHTTPResponse) -> HttpReply:
    headers = {name.lower(): value for name, value in response.headers.items()}
    announced = headers.get("content-length", "")
    if announced.isdigit() and int(announced) > MAX_RESPONSE_BYTES:
        raise ResponseTooLargeError(f"response of {announced} bytes")
    body = response.read(MAX_RESPONSE_BYTES + 1)
    if len(body) > MAX_RESPONSE_BYTES:
        raise ResponseTooLargeError(f"response of more than {MAX_RESPONSE_BYTES} bytes")
    return HttpReply(response.status, headers, body)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


class WsdlTransport(zeep.Transport):
    """zeep's loader for the WSDL and its schemas, over our TLS context, same origin only.

    zeep's `forbid_external` would refuse every http(s) import, including a schema that a
    platform serves beside its WSDL (`...?xsd=1`), which is how IPL-style services and our
    simulator publish theirs. Instead, this transport fetches documents only from the origin
    the WSDL itself came from (scheme, host, port): a hostile WSDL cannot make us reach any
    other host. A WSDL read from a file may import only files. The proxy is the client's.
    """

    def __init__(
        self,
        wsdl: str,
        *,
        ssl_context: ssl.SSLContext | None,
        connect_timeout: float,
        read_timeout: float,
        proxy: str | None = None,
    ) -> None:
        super().__init__(timeout=read_timeout)  # type: ignore[no-untyped-call]
        self.session.trust_env = False  # zeep's session is unused, but must not read the env
        remote = urlsplit(wsdl).scheme in ("http", "https")
        self._origin = _origin(wsdl) if remote else None
        self._ssl_context = ssl_context
        self._timeouts = (connect_timeout, read_timeout)
        self._proxy = proxy

    def _load_remote_data(self, url: str) -> bytes:
        scheme = urlsplit(url).scheme
        if scheme == "file":
            return Path(urlsplit(url).path).read_bytes()
        if self._origin is None or _origin(url) != self._origin:
            message = _("the WSDL refers to {url}, outside its own origin; refused")
            raise ServiceError(message.format(url=url))
        pool = HttpPool(
            url,
            ssl_context=self._ssl_context,
            connect_timeout=self._timeouts[0],
            read_timeout=self._timeouts[1],
            size=1,
            proxy=self._proxy,
        )
        try:
            reply = pool.request("GET", None, {})
        finally:
            pool.close()
        if reply.status != http.client.OK:
            message = _("fetching {url} gave HTTP {status}")
            raise ServiceError(message.format(url=url, status=reply.status))
        return reply.body


_ENVELOPES = (ns.SOAP_ENV_12, ns.SOAP_ENV_11)


@dataclass(frozen=True, slots=True)
class SoapFault:
    """A SOAP 1.1 or 1.2 fault, reduced to what the retry decision and the user need."""

    code: str  # the local part: Sender, Receiver, Client, Server, MustUnderstand...
    reason: str
    detail: dict[str, str]  # leaf texts by lower-case local name: errorcode, correlationid...


def _localname(element: etree._Element) -> str:
    return etree.QName(element).localname


def fault_detail(detail: etree._Element) -> dict[str, str]:
    """Leaf texts of a fault's detail by lower-case local name, whatever their namespace."""
    fields: dict[str, str] = {}
    for element in detail.iter():
        if isinstance(element.tag, str) and len(element) == 0 and element.text:
            fields.setdefault(_localname(element).lower(), element.text.strip())
    return fields


def fault_code_name(text: str) -> str:
    """`env:Sender` or `{ns}Sender` -> `Sender`: the local part is all a decision needs."""
    return text.strip().rpartition(":")[2].rpartition("}")[2]


def _read_fault(fault: etree._Element, envelope_ns: str) -> SoapFault:
    if envelope_ns == ns.SOAP_ENV_12:
        code = fault.findtext(f"{{{envelope_ns}}}Code/{{{envelope_ns}}}Value") or ""
        reason = fault.findtext(f"{{{envelope_ns}}}Reason/{{{envelope_ns}}}Text") or ""
        detail = fault.find(f"{{{envelope_ns}}}Detail")
    else:
        code = fault.findtext("faultcode") or ""
        reason = fault.findtext("faultstring") or ""
        detail = fault.find("detail")
    fields = fault_detail(detail) if detail is not None else {}
    return SoapFault(fault_code_name(code), reason.strip(), fields)


def read_soap(data: bytes) -> SoapFault | etree._Element | None:
    """The fault, or the first element of the Body, of a SOAP 1.1/1.2 message; None if neither.

    Raises:
        HostileXmlError: the message carries a DTD.
        etree.XMLSyntaxError: the message is not well-formed XML.
    """
    root = parse_untrusted_xml(data)
    envelope_ns = etree.QName(root).namespace
    if envelope_ns not in _ENVELOPES or _localname(root) != "Envelope":
        return None
    body = root.find(f"{{{envelope_ns}}}Body")
    payload = None if body is None else next((c for c in body if isinstance(c.tag, str)), None)
    if payload is not None and payload.tag == f"{{{envelope_ns}}}Fault":
        return _read_fault(payload, envelope_ns)
    return payload
