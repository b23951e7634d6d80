"""Helpers for the client's tests: reports with known answers, a throwaway PKI, a canned server."""

from __future__ import annotations

import contextlib
import ipaddress
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

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


# --- a throwaway PKI ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A certificate and its key as PEM files, and the objects."""

    cert: Path
    key: Path
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey

    def pkcs12(self, path: Path, password: str) -> Path:
        """The same key and certificate as a password-protected PKCS#12 file (as OCES3)."""
        data = pkcs12.serialize_key_and_certificates(
            b"test",
            self.private_key,
            self.certificate,
            None,
            serialization.BestAvailableEncryption(password.encode()),
        )
        path.write_bytes(data)
        return path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue(directory: Path, stem: str, *, issuer: Issued | None = None, ca: bool = False) -> Issued:
    """A certificate for `stem` (for 127.0.0.1 and localhost), signed by `issuer` or itself."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(stem))
        .issuer_name(issuer.certificate.subject if issuer else _name(stem))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(issuer.private_key if issuer else key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Issued(cert_path, key_path, certificate, key)


@dataclass(frozen=True)
class Pki:
    """A CA, a server certificate and a client certificate issued by it, and a signer."""

    directory: Path
    ca: Issued
    server: Issued
    client: Issued
    signer: Issued


def make_pki(directory: Path) -> Pki:
    """Issue the whole throwaway PKI into `directory`."""
    ca = issue(directory, "test-ca", ca=True)
    return Pki(
        directory=directory,
        ca=ca,
        server=issue(directory, "server", issuer=ca),
        client=issue(directory, "client", issuer=ca),
        signer=issue(directory, "signer"),
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
