"""A small HTTP proxy for the tests, run as a process of its own: CONNECT tunnels and forwarding.

    python tests/proxy_server.py [--auth USER:PASSWORD] [--refuse STATUS] [--host NAME=IP ...]

It prints `PORT <n>` once listening, then one line per request it receives (`CONNECT
host:port`, `GET http://...`), so a test can see what went through it. Only loopback targets
are reached (anything else gets 403): tests never leave the machine. `--host` maps a name to a
loopback address, as a proxy's own DNS would resolve a name the client cannot.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ipaddress
import select
import socket
import socketserver
import sys
import threading

_PRINT = threading.Lock()


def _say(line: str) -> None:
    with _PRINT:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets = [a, b]
    while True:
        readable, _, _ = select.select(sockets, [], [], 60)
        if not readable:
            return
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            (b if sock is a else a).sendall(data)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _head(self) -> tuple[str, dict[str, str]] | None:
        line = self.rfile.readline(65537).decode("latin-1").strip()
        if not line:
            return None
        headers: dict[str, str] = {}
        while (header := self.rfile.readline(65537).decode("latin-1").strip()) != "":
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        return line, headers

    def _answer(self, status: int, reason: str, extra: str = "") -> None:
        body = f"{status} {reason}\n".encode()
        self.wfile.write(
            f"HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode("latin-1")
            + body
        )

    def _target(self, host: str, port: int) -> tuple[str, int] | None:
        address = self.server.hosts.get(host, host)
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(address).is_loopback:
                return address, port
        return None

    def handle(self) -> None:
        head = self._head()
        if head is None:
            return
        line, headers = head
        _say(line)
        if self.server.auth is not None:
            expected = "Basic " + base64.b64encode(self.server.auth.encode()).decode()
            if headers.get("proxy-authorization") != expected:
                self._answer(
                    407, "Proxy Authentication Required", 'Proxy-Authenticate: Basic realm="t"\r\n'
                )
                return
        if self.server.refuse is not None:
            self._answer(self.server.refuse, "Refused by the test proxy")
            return
        method, target, _version = line.split(" ", 2)
        if method == "CONNECT":
            self._tunnel(target)
        else:
            self._forward(method, target, headers)

    def _tunnel(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        where = self._target(host.strip("[]"), int(port))
        if where is None:
            self._answer(403, "Forbidden")
            return
        try:
            upstream = socket.create_connection(where, timeout=10)
        except OSError:
            self._answer(502, "Bad Gateway")
            return
        with upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            _pipe(self.connection, upstream)

    def _forward(self, method: str, url: str, headers: dict[str, str]) -> None:
        """One forwarded request (absolute URI), answered with Connection: close."""
        rest = url.split("://", 1)[1]
        hostport, _, path = rest.partition("/")
        host, _, port = hostport.rpartition(":")
        where = self._target(host, int(port or 80))
        if where is None:
            self._answer(403, "Forbidden")
            return
        body = self.rfile.read(int(headers.get("content-length", "0")))
        headers.pop("proxy-authorization", None)
        headers["connection"] = "close"
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        with socket.create_connection(where, timeout=10) as upstream:
            upstream.sendall(f"{method} /{path} HTTP/1.1\r\n{lines}\r\n".encode("latin-1") + body)
            while data := upstream.recv(65536):
                self.wfile.write(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, auth: str | None, refuse: int | None, hosts: dict[str, str]) -> None:
        self.auth, self.refuse, self.hosts = auth, refuse, hosts
        super().__init__(("127.0.0.1", 0), _Handler)


def main() -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--auth")
    parser.add_argument("--refuse", type=int)
    parser.add_argument("--host", action="append", default=[])
    args = parser.parse_args()
    hosts = dict(item.split("=", 1) for item in args.host)
    server = _Server(args.auth, args.refuse, hosts)
    _say(f"PORT {server.server_address[1]}")
    server.serve_forever()


if __name__ == "__main__":
    main()
