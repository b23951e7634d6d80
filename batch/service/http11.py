"""One HTTP/1.1 response read off a kept-alive socket: status, headers, body, and whether to reuse.

Why not `http.client.HTTPResponse`: it parses every header block through the `email` package
(feedparser, policies, MIME content types), which the client's profile put at a quarter of its
CPU per request, to read the three headers a SOAP answer needs. This reader keeps
`http.client`'s limits (65,536 bytes a line, 100 headers) and raises its exceptions, so a
broken or hostile server fails exactly as it did: `batch.service.answer.classify` maps them.

What it reads: a status line (interim 1xx answers skipped), header lines (obsolete folding
joined), and a body framed by chunked transfer coding, by Content-Length, or by the server
closing the connection. Only the first two leave the socket reusable.
"""

from __future__ import annotations

import http.client
import io
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    import socket

__all__ = ["DeadlineReader", "ResponseTooLargeError", "WireResponse", "read_response"]

MAX_LINE = 65536  # as http.client
MAX_HEADERS = 100  # as http.client
_NO_BODY = frozenset({204, 304})


class ResponseTooLargeError(ValueError):
    """The response body exceeded the caller's limit; we stopped reading it."""


@dataclass(frozen=True, slots=True)
class WireResponse:
    """A response read completely; `reusable` says whether the socket may carry the next one."""

    status: int
    headers: dict[str, str]  # names in lower case; a repeated header keeps its last value
    body: bytes
    reusable: bool


class DeadlineReader(io.RawIOBase):
    """A socket's bytes, each receive given only the time left until the answer's deadline.

    The socket's own timeout bounds one receive; a server trickling a byte at a time would
    stretch an answer without end, holding a worker (and a graceful stop) hostage.
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        """Always: BufferedReader asks before its first read."""
        return True

    # typeshed types the buffer as a protocol this Python cannot spell; a memoryview is what
    # BufferedReader hands over.
    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """One receive, waiting at most until the deadline."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the answer took longer than the read timeout")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


def _line(stream: BinaryIO, what: str) -> bytes:
    line = stream.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise http.client.LineTooLong(what)
    return line


def _status_line(stream: BinaryIO) -> tuple[str, int]:
    line = _line(stream, "status line")
    if not line:
        raise http.client.RemoteDisconnected("Remote end closed connection without response")
    text = line.decode("latin-1").rstrip("\r\n")
    parts = text.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():  # noqa: PLR2004
        raise http.client.BadStatusLine(text[:80])
    status = int(parts[1])
    if not 100 <= status <= 999:  # noqa: PLR2004 - a three-digit status
        raise http.client.BadStatusLine(text[:80])
    return parts[0], status


def _headers(stream: BinaryIO) -> dict[str, str]:
    headers: dict[str, str] = {}
    last: str | None = None
    for _ in range(MAX_HEADERS + 1):
        line = _line(stream, "header line")
        if line in (b"\r\n", b"\n"):
            return headers
        if not line.endswith(b"\n"):  # the server closed mid-header
            raise http.client.IncompleteRead(line, None)
        text = line.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and last is not None:  # obsolete line folding
            headers[last] = f"{headers[last]} {text.strip()}"
            continue
        name, colon, value = text.partition(":")
        if not colon or not name or name != name.strip():
            raise http.client.HTTPException(f"malformed header line {text[:80]!r}")
        last = name.lower()
        if last == "content-length" and last in headers and headers[last] != value.strip():
            raise http.client.HTTPException("conflicting Content-Length headers")
        headers[last] = value.strip()
    raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")


def _exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) < size:
        raise http.client.IncompleteRead(data, size - len(data))
    return data


def _chunked(stream: BinaryIO, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_text = _line(stream, "chunk size").split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise http.client.IncompleteRead(b"".join(parts)) from None
        if size == 0:
            break
        total += size
        if total > limit:
            raise ResponseTooLargeError(f"response of more than {limit} bytes")
        parts.append(_exactly(stream, size))
        if _line(stream, "chunk end") not in (b"\r\n", b"\n"):
            raise http.client.IncompleteRead(b"".join(parts))
    while _line(stream, "trailer") not in (b"\r\n", b"\n", b""):
        pass  # trailers carry nothing a SOAP answer needs
    return b"".join(parts)


def _until_closed(stream: BinaryIO, limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ResponseTooLargeError(f"response of more than {limit} bytes")
    return data


def _content_length(value: str, limit: int) -> int:
    if not value.isdigit():
        raise http.client.HTTPException(f"invalid Content-Length {value[:20]!r}")
    length = int(value)
    if length > limit:
        raise ResponseTooLargeError(f"response of {length} bytes")
    return length


def _keeps_alive(version: str, headers: dict[str, str]) -> bool:
    tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
    if version == "HTTP/1.1":
        return "close" not in tokens
    return "keep-alive" in tokens


def read_response(stream: BinaryIO, *, method: str, limit: int) -> WireResponse:
    """Read one whole response; a body over `limit` bytes stops the reading.

    Raises:
        http.client.HTTPException: the server broke the protocol, or closed mid-answer
            (`RemoteDisconnected` when it closed before saying anything).
        ResponseTooLargeError: the body is, or announced itself as, larger than `limit`.
        TimeoutError, OSError: from the socket underneath.
    """
    version, status = _status_line(stream)
    headers = _headers(stream)
    while 100 <= status < 200 and status != 101:  # noqa: PLR2004 - interim answers
        version, status = _status_line(stream)
        headers = _headers(stream)
    reusable = _keeps_alive(version, headers) and status != 101  # noqa: PLR2004 - switched away
    coding = headers.get("transfer-encoding", "").lower()
    if method == "HEAD" or status in _NO_BODY or status < 200:  # noqa: PLR2004
        body = b""
    elif coding:
        if coding.rsplit(",", 1)[-1].strip() != "chunked":
            body, reusable = _until_closed(stream, limit), False
        else:
            body = _chunked(stream, limit)
    elif "content-length" in headers:
        body = _exactly(stream, _content_length(headers["content-length"], limit))
    else:
        body, reusable = _until_closed(stream, limit), False
    return WireResponse(status, headers, body, reusable)
