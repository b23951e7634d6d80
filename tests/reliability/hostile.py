"""A hostile UDB stand-in: the real WSDL and XSD on GET, one poisoned SOAP reply to every POST.

Loopback only, in a thread. It counts the POSTs it answered, so a test can tell that the
client did talk to it (and was not refused earlier for another reason).
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from batch.simulator import ENDPOINT_PATH
from batch.simulator.contract import load_contract

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CONTRACT = load_contract()
NAMESPACE = CONTRACT.namespace


def envelope(answer: str, *, doctype: str = "") -> bytes:
    """A SOAP 1.2 envelope whose Body holds `answer`, after an optional DOCTYPE."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        f'<e:Envelope xmlns:e="{SOAP12}"><e:Body>{answer}</e:Body></e:Envelope>'
    ).encode()


def svar(inner: str, *, namespace: str = NAMESPACE) -> str:
    """An IndberetningSvar element with `inner` as its content."""
    return f'<u:IndberetningSvar xmlns:u="{namespace}">{inner}</u:IndberetningSvar>'


def billion_laughs() -> str:
    """The classic entity bomb: ten levels, each ten times the one below (10^9 `lol`s)."""
    levels = ['<!ENTITY lol0 "lol">']
    levels += [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    return f"<!DOCTYPE e:Envelope [{''.join(levels)}]>"


class HostileService:
    """Serves the contract, answers each POST with `reply`; a context manager.

    With `trickle` (seconds), the reply's body goes out one byte at a time, that long apart:
    every byte arrives well within any read timeout, the whole answer does not.
    """

    def __init__(
        self,
        reply: bytes,
        *,
        trickle: float | None = None,
        status: int = 200,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.reply = reply
        self.trickle = trickle
        self.status = status
        self.headers = headers
        self.posts = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.endpoint_url = f"http://127.0.0.1:{port}{ENDPOINT_PATH}"
        self.wsdl_url = f"{self.endpoint_url}?wsdl"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Quiet."""

            def do_GET(self) -> None:
                """The WSDL naming this server, or the XSD it imports."""
                if self.path.endswith("?wsdl"):
                    self._send(CONTRACT.wsdl_for(service.endpoint_url))
                else:
                    self._send(CONTRACT.xsd_bytes)

            def do_POST(self) -> None:
                """Read the request, answer with the poison."""
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with service._lock:
                    service.posts += 1
                self._send(
                    service.reply,
                    "application/soap+xml; charset=utf-8",
                    service.trickle,
                    status=service.status,
                    headers=service.headers,
                )

            def _send(
                self,
                body: bytes,
                content_type: str = "text/xml; charset=utf-8",
                trickle: float | None = None,
                *,
                status: int = 200,
                headers: tuple[tuple[str, str], ...] = (),
            ) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if trickle is None:
                    self.wfile.write(body)
                    return
                self.wfile.flush()
                for byte in body:
                    time.sleep(trickle)
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()

        return Handler

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
