"""The lean HTTP/1.1 reader (batch.service.http11): framing, reuse, limits, broken servers."""

import http.client
import io
import socket
import time

import pytest

from batch.service.http11 import DeadlineReader, ResponseTooLargeError, read_response

LIMIT = 1 << 20
SOAP = b"<soap:Envelope/>"


def read(raw: bytes, *, method: str = "POST", limit: int = LIMIT):
    return read_response(io.BytesIO(raw), method=method, limit=limit)


class _FakeSocket:
    """What http.client.HTTPResponse asks of a socket, over fixed bytes."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    def makefile(self, _mode: str) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self._raw))


def stdlib(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    response = http.client.HTTPResponse(_FakeSocket(raw), method="POST")  # type: ignore[arg-type]
    response.begin()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


WELL_FORMED = [
    b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 16\r\n\r\n" + SOAP,
    (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\n<soap\r\nb\r\n:Envelope/>\r\n0\r\nX-Trailer: 1\r\n\r\n"
    ),
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n" + SOAP,
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n" + SOAP,
    b"HTTP/1.1 500 Internal Server Error\nContent-Length: 16\n\n" + SOAP,  # bare LF lines
    b"HTTP/1.1 204 No Content\r\nX-Request-Id: abc\r\n\r\n",
]


@pytest.mark.parametrize("raw", WELL_FORMED, ids=range(len(WELL_FORMED)))
def test_well_formed_responses_read_as_http_client_reads_them(raw):
    """Status, headers and body agree with the standard library's reader on the same bytes."""
    ours = read(raw)
    assert (ours.status, ours.headers, ours.body) == stdlib(raw)


@pytest.mark.parametrize(
    ("raw", "reusable"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n" + SOAP, True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 16\r\n\r\n" + SOAP, False),
        (b"HTTP/1.1 200 OK\r\n\r\n" + SOAP, False),  # framed by the close
        (b"HTTP/1.0 200 OK\r\nContent-Length: 16\r\n\r\n" + SOAP, False),
        (b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 16\r\n\r\n" + SOAP, True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n" + SOAP, False),
    ],
)
def test_only_a_framed_keep_alive_answer_leaves_the_socket_reusable(raw, reusable):
    """Reuse needs HTTP/1.1 (or 1.0 keep-alive), no Connection: close, and a body with an end."""
    assert read(raw).reusable is reusable


def test_a_body_is_read_no_further_than_its_framing():
    """After a framed answer the stream stands at the next answer (nothing swallowed)."""
    stream = io.BytesIO(
        b"HTTP/1.1 204 No Content\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n" + SOAP + b"HTTP/1.1 200 OK\r\n"
    )
    assert read_response(stream, method="POST", limit=LIMIT).body == b""
    assert read_response(stream, method="POST", limit=LIMIT).body == SOAP
    assert stream.read() == b"HTTP/1.1 200 OK\r\n"


def test_a_head_answer_has_no_body_whatever_its_length_says():
    """HEAD answers announce a length they do not send."""
    assert read(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", method="HEAD").body == b""


def test_folded_headers_are_joined_and_the_last_repeat_wins():
    """Obsolete line folding joins with a space; a repeated header keeps its last value."""
    raw = b"HTTP/1.1 200 OK\r\nX-A: one\r\n  two\r\nX-B: 1\r\nX-B: 2\r\nContent-Length: 0\r\n\r\n"
    assert read(raw).headers == {"x-a": "one two", "x-b": "2", "content-length": "0"}


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n",  # refused before reading
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1e8481\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * (LIMIT + 1),
    ],
    ids=["content-length", "chunked", "until-close"],
)
def test_a_body_over_the_limit_is_refused(raw):
    """However it is framed, a body over the limit stops the reading."""
    with pytest.raises(ResponseTooLargeError):
        read(raw)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", http.client.RemoteDisconnected),
        (b"SSH-2.0-OpenSSH\r\n\r\n", http.client.BadStatusLine),
        (b"HTTP/1.1 abc OK\r\n\r\n", http.client.BadStatusLine),
        (b"HTTP/1.1 42 Odd\r\n\r\n", http.client.BadStatusLine),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n", http.client.LineTooLong),
        (b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", http.client.HTTPException),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", http.client.HTTPException),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
            http.client.HTTPException,
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", http.client.HTTPException),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n<soap", http.client.IncompleteRead),
        (b"HTTP/1.1 200 OK\r\nContent-Len", http.client.IncompleteRead),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            http.client.IncompleteRead,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<soapXX",
            http.client.IncompleteRead,
        ),
    ],
)
def test_a_broken_answer_raises_what_http_client_would(raw, error):
    """Each protocol break raises http.client's own exception, which the client classifies."""
    with pytest.raises(error):
        read(raw)


def test_a_trickled_answer_ends_at_the_deadline():
    """The deadline bounds the whole answer, however often the server sends a byte."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n<so")
        started = time.monotonic()
        stream = io.BufferedReader(DeadlineReader(ours, started + 0.3))
        with pytest.raises(TimeoutError):
            read_response(stream, method="POST", limit=LIMIT)
        assert time.monotonic() - started < 5  # not the socket's default (no) timeout
