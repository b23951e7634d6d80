"""The simulator's HTTP(S) server: a thread per connection, keep-alive, quiet, on loopback.

Everything about *what* to answer lives in `Service`; this module reads bytes, keeps the arrival
order, sleeps where a fault or latency says so, and writes the reply in one send.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, TextIO

from batch.closing import Closing
from batch.errors import ConfigError
from batch.i18n import _
from batch.simulator.config import SimulatorConfig
from batch.simulator.faults import Fault, FaultPlan
from batch.simulator.recorder import ReceivedRequest, Recorder, RequestLog
from batch.simulator.service import Inspection, Reply, Service

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ENDPOINT_PATH", "RunningSimulator", "serve_forever", "start_simulator"]

ENDPOINT_PATH = "/services/udb/IndberetningKontaktJobOgUddOensker/v1"
MAX_BODY_BYTES = 1 << 20  # a request is about 1 KB; anything near this is not a request
HANDSHAKE_TIMEOUT = 10.0
LINGER_SECONDS = 2.0  # after a refused handshake, how long to read what the client still sends
IDLE_TIMEOUT = 120.0  # a kept-alive connection that says nothing for this long is closed
_Request = socket.socket | tuple[bytes, socket.socket]
_HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


class _State:
    """What the handler threads share: the service, the fault plan, the record and the stop."""

    def __init__(self, config: SimulatorConfig, base_url: str) -> None:
        self.service = Service(config)
        self.plan = FaultPlan(config.faults)
        self.recorder = Recorder(config.max_received)
        self.request_log = None if config.log_requests is None else _request_log(config)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.base_url = base_url
        self.scheme = base_url.split(":", 1)[0]

    def admit(self, monotonic: float) -> tuple[int, Fault]:
        """Fix the arrival order and the fault together, so a seed replays exactly."""
        with self.lock:
            return self.recorder.reserve(), self.plan.decide(monotonic)


class _Server(ThreadingHTTPServer):
    """Threads are daemons; TLS handshakes run in the connection's thread, not the accept loop."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], tls: ssl.SSLContext | None) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.tls = tls
        self.state: _State | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: _Request, client_address: object) -> None:
        if not isinstance(request, socket.socket):
            return  # a datagram server's request; never for this TCP server
        connection = request
        if self.tls is not None:
            try:
                connection.settimeout(HANDSHAKE_TIMEOUT)
                connection = self.tls.wrap_socket(
                    connection, server_side=True, do_handshake_on_connect=False
                )
            except (OSError, ssl.SSLError):
                return
            try:
                connection.do_handshake()
            except (OSError, ssl.SSLError):
                _linger(connection)  # a refused handshake (no client certificate, wrong CA)
                connection.close()
                return
        with self._connections_lock:
            self._connections.add(connection)
        try:
            _Handler(connection, client_address, self)
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            if connection is not request:
                connection.close()

    def handle_error(self, request: _Request, client_address: object) -> None:
        """Stay quiet about clients that went away; a real bug still prints its traceback."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """End kept-alive connections, so nothing is served after `stop()`."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _linger(sock: socket.socket) -> None:
    """Read what the client still sends until it closes, as nginx's lingering close does.

    With TLS 1.3 the client finishes its handshake before we refuse its certificate, and sends
    its request at once. Closing with that request unread would make the kernel answer with a
    reset, which can discard our alert before the client reads it: the client would see a bare
    EOF instead of "certificate required". Reading first lets the alert arrive.
    """
    with contextlib.suppress(OSError):
        sock.settimeout(LINGER_SECONDS)
        deadline = time.monotonic() + LINGER_SECONDS
        # The plain socket's recv: the TLS session failed, what comes now is only to be read.
        while time.monotonic() < deadline and socket.socket.recv(sock, 65536):
            pass


class _Handler(BaseHTTPRequestHandler):
    """GET for the WSDL and XSD, POST for the service; HTTP/1.1 keep-alive without Nagle."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else Nagle plus delayed ACK stall each call by 40 ms
    timeout = IDLE_TIMEOUT
    server: _Server
    server_version = "udb-simulator"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        """Say nothing per request: thousands of them a second would drown the console."""

    def do_GET(self) -> None:
        """Serve the WSDL (with our address) at `?wsdl` and the XSD at `?xsd=1`."""
        path, _, query = self.path.partition("?")
        state = self.server.state
        if path != ENDPOINT_PATH or state is None:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
        elif query.lower() == "wsdl":
            wsdl = state.service.contract.wsdl_for(self._endpoint_url(state))
            self._send(HTTPStatus.OK, wsdl, "text/xml; charset=utf-8")
        elif query == "xsd=1":
            xsd = state.service.contract.xsd_bytes
            self._send(HTTPStatus.OK, xsd, "text/xml; charset=utf-8")
        else:
            self._send(HTTPStatus.NOT_FOUND, b"try ?wsdl\n", "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        """Read the request, decide, record, wait as the faults say, answer (or hang up)."""
        state = self.server.state
        body = self._read_body()
        if body is None or state is None:
            return
        monotonic, received_at = time.monotonic(), datetime.now(UTC)
        sequence, fault = state.admit(monotonic)
        inspection = state.service.inspect(body, self.headers.get("Content-Type", ""))
        reply = state.service.reply(inspection, fault)
        record = _record(received_at, monotonic, inspection, reply)
        state.recorder.fill(sequence, record)
        if state.request_log is not None:
            state.request_log.write(record)
        if reply.delay > 0 and state.stopping.wait(reply.delay):
            self.close_connection = True
            return
        if reply.status == 0:
            self.close_connection = True  # dropped: the socket closes without a byte
            return
        extra = {} if reply.retry_after is None else {"Retry-After": str(reply.retry_after)}
        self._send(reply.status, reply.body, reply.content_type, extra)

    def _read_body(self) -> bytes | None:
        """The request body by Content-Length; None (after answering) when there is none."""
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.strip().isdigit():
            self._send(HTTPStatus.LENGTH_REQUIRED, b"Content-Length required\n", "text/plain")
            self.close_connection = True
            return None
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"too large\n", "text/plain")
            self.close_connection = True
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return None
        return body

    def _endpoint_url(self, state: _State) -> str:
        """Our endpoint as the client addressed us (its Host header), else as configured."""
        host = self.headers.get("Host", "")
        if _HOST_HEADER.fullmatch(host):
            return f"{state.scheme}://{host}{ENDPOINT_PATH}"
        return state.base_url + ENDPOINT_PATH

    def _send(
        self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> None:
        """Status line, headers and body in one write: one packet for a small answer."""
        lines = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
            f"Date: {self.date_time_string()}",  # `batch check` compares clocks with it
        ]
        lines.extend(f"{name}: {value}" for name, value in (extra or {}).items())
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)


def _record(
    received_at: datetime, monotonic: float, inspection: Inspection, reply: Reply
) -> ReceivedRequest:
    fields = inspection.fields
    cpr, institution = fields.get("CPRNr"), fields.get("KommuneInstitutionNummer")
    answer = reply.answer
    return ReceivedRequest(
        received_at=received_at,
        monotonic=monotonic,
        cpr=cpr if isinstance(cpr, str) else None,
        institution=institution if isinstance(institution, int) else None,
        fields=fields,
        http_status=reply.status,
        ok=None if answer is None else answer.ok,
        code=None if answer is None else answer.code,
        fault_code=reply.fault_code,
        payload_digest=inspection.digest,
    )


class RunningSimulator(Closing):
    """A simulator serving in a background thread; a context manager, `stop()` idempotent."""

    def __init__(self, server: _Server, state: _State) -> None:
        self._server = server
        self._state = state
        self._stopped = False
        self._stop_lock = threading.Lock()
        self.base_url = state.base_url
        self.endpoint_url = self.base_url + ENDPOINT_PATH
        self.wsdl_url = self.endpoint_url + "?wsdl"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.name = f"udb-simulator-{server.server_address[1]}"
        self._thread.start()

    def received(self) -> list[ReceivedRequest]:
        """The POSTs answered so far, in arrival order (a snapshot, safe from any thread)."""
        return self._state.recorder.snapshot()

    def clear(self) -> None:
        """Forget what was received so far."""
        self._state.recorder.clear()

    def stop(self) -> None:
        """Stop serving, end open connections and wake any request sleeping on a fault."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join()
        if self._state.request_log is not None:
            self._state.request_log.close()

    close = stop  # `with start_simulator(...) as sim:` stops it at the end


def _tls_context(config: SimulatorConfig) -> ssl.SSLContext | None:
    if config.tls_cert is None or config.tls_key is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
        if config.client_ca is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=config.client_ca)
    except (OSError, ssl.SSLError) as error:
        message = _("the simulator's TLS files cannot be used: {error}")
        raise ConfigError(message.format(error=error)) from error
    return context


def _request_log(config: SimulatorConfig) -> RequestLog:
    assert config.log_requests is not None
    try:
        return RequestLog(config.log_requests)
    except OSError as error:
        message = _("the request log {path} cannot be written: {error}")
        raise ConfigError(message.format(path=config.log_requests, error=error)) from error


def _url_host(host: str) -> str:
    """The host as a client should write it in a URL (a wildcard address means this machine)."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - a wildcard is named, never bound, here
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def start_simulator(config: SimulatorConfig | None = None) -> RunningSimulator:
    """Start a simulator in a background thread and return once it accepts connections.

    Raises:
        ConfigError: the registry, the TLS files or the trusted signers cannot be used, or
            the address cannot be bound.
    """
    config = config or SimulatorConfig()
    tls = _tls_context(config)
    try:
        server = _Server((config.host, config.port), tls)
    except OSError as error:
        message = _("the simulator cannot listen on {host}:{port}: {error}")
        raise ConfigError(
            message.format(host=config.host, port=config.port, error=error)
        ) from error
    try:
        scheme = "https" if tls is not None else "http"
        base_url = f"{scheme}://{_url_host(config.host)}:{server.server_address[1]}"
        server.state = _State(config, base_url)
    except BaseException:
        server.server_close()
        raise
    return RunningSimulator(server, server.state)


def serve_forever(
    config: SimulatorConfig,
    out: TextIO | None = None,
    ready: Callable[[RunningSimulator], None] | None = None,
) -> None:
    """Serve until Ctrl-C, saying where the WSDL is (for `batch simulator`).

    Nothing is kept for `received()` unless `config.max_received` asks for it: a rehearsal
    may run for days. `ready` is called once serving (tests use it to stop the server).
    """
    if config.max_received is None:
        config = replace(config, max_received=0)
    stream = out or sys.stdout
    with start_simulator(config) as simulator:
        stream.write(f"UDB simulator: WSDL at {simulator.wsdl_url}\n")
        stream.write(f"  endpoint {simulator.endpoint_url}\n")
        people = len(simulator._state.service.registry)  # noqa: SLF001 - our own module
        stream.write(f"  {people} young people in the registry; Ctrl-C stops.\n")
        stream.flush()
        if ready is not None:
            ready(simulator)
        stopping = simulator._state.stopping  # noqa: SLF001 - set only by stop()
        try:
            # In slices: Python acts on a signal in the main thread, and a signal the kernel
            # hands to another thread does not wake a main thread waiting without a timeout.
            while not stopping.wait(0.5):
                continue
        except KeyboardInterrupt:
            stream.write("UDB simulator stopped.\n")
