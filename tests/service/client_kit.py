"""Helpers for the client's tests: reports with known answers and a canned server."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

from batch.records import Answer, Contact, Report, Wish

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# The simulator's clock for UDB's rules stands still here, so ages and code 280 never drift.
FIXED_NOW = datetime(2025, 6, 2, 12, 0, tzinfo=COPENHAGEN)
PAST = datetime(2025, 5, 20, 9, 30, tzinfo=COPENHAGEN)

# From batch/simulator/registry.csv (fictitious people).
KUI = 751001
CPR_OK = "0603114290"  # lives in KUI 751001, born 2011
CPR_OTHER_KUI = "1212074715"  # lives in KUI 101001 -> 86 when 751001 reports
CPR_TOO_OLD = "2708913389"  # born 1991 -> 15
CPR_UNKNOWN = "0101084123"  # not in the registry -> 14

EXPECTED: dict[str, Answer] = {
    CPR_OK: Answer(ok=True),
    CPR_UNKNOWN: Answer(ok=False, code=14, text="Den unge findes ikke i Ungedatabasen"),
    CPR_TOO_OLD: Answer(ok=False, code=15, text="Aldersgrænse overskredet"),
    CPR_OTHER_KUI: Answer(
        ok=False, code=86, text="Bruger må ikke indberette oplysninger om dette CPR-nummer"
    ),
}


def fixed_now() -> datetime:
    """The simulator's clock in these tests."""
    return FIXED_NOW


def report(
    cpr: str = CPR_OK,
    *,
    institution: int = KUI,
    contact: bool = True,
    phone: int | None = 20304050,
    job: bool = True,
    education: bool = True,
    registered: datetime = PAST,
    name: str = "Kim Kontaktperson",
) -> Report:
    """A valid report; each optional group can be left out."""
    return Report(
        system_id="BATCH-TEST",
        cpr=cpr,
        institution=institution,
        contact=Contact(name, "kim@kommune.example", phone, registered) if contact else None,
        job=Wish("Tømrer", registered) if job else None,
        education=Wish("Erhvervsuddannelse", registered) if education else None,
    )


# --- a canned HTTP server ----------------------------------------------------------------------


@dataclass
class Canned:
    """What the canned server answers to every POST, and what it saw."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/soap+xml"),)
    pages: dict[str, bytes] = field(default_factory=dict)  # GET path -> body
    hits: int = 0
    gets: int = 0
    connections: int = 0


def _handler(canned: Canned) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            canned.connections += 1

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            canned.hits += 1
            self.send_response(canned.status)
            for name, value in canned.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(canned.body)))
            self.end_headers()
            self.wfile.write(canned.body)

        def do_GET(self) -> None:
            canned.gets += 1
            page = canned.pages.get(self.path)
            self.send_response(404 if page is None else 200)
            self.send_header("Content-Length", str(len(page or b"")))
            self.end_headers()
            self.wfile.write(page or b"")

        def log_message(self, *_: object) -> None:
            """Keep test output quiet."""

    return Handler


@contextlib.contextmanager
def canned_server(canned: Canned) -> Iterator[str]:
    """A tiny loopback HTTP server in a thread answering every POST with `canned`; its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(canned))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/service"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
