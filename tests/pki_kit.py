"""Throwaway X.509 material for the TLS and WS-Security tests (never real keys)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


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


def issue(
    directory: Path,
    stem: str,
    *,
    issuer: Issued | None = None,
    ca: bool = False,
    server: bool = False,
    not_after: datetime | None = None,
    names: tuple[str, ...] = (),
) -> Issued:
    """Issue a certificate signed by `issuer` (self-signed when None), written as PEM files.

    `server` names it for 127.0.0.1 and localhost (and `names`), as a TLS server certificate
    must be. `not_after` in the past makes an expired certificate.
    """
    extra_names = names
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(stem))
        .issuer_name(issuer.certificate.subject if issuer else _name(stem))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now - timedelta(hours=1), (not_after or now) - timedelta(days=1)))
        .not_valid_after(not_after or now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        names += [x509.DNSName(name) for name in extra_names]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if ca:
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        )
        builder = builder.add_extension(usage, critical=True)
    signer = issuer.private_key if issuer else key
    certificate = builder.sign(signer, hashes.SHA256())
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
        server=issue(directory, "server", issuer=ca, server=True),
        client=issue(directory, "client", issuer=ca),
        signer=issue(directory, "signer"),
    )
