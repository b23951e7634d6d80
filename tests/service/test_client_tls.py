import stat
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from client_kit import CPR_OK, EXPECTED, report
from pki_kit import issue

from batch.errors import ConfigError
from batch.records import Failure, FailureKind
from batch.service.keys import Secret, load_key_pair
from batch.service.tls import TlsSettings, _private_pem_file, build_ssl_context


@pytest.fixture
def mtls_udb(sim_with, pki):
    """A simulator over HTTPS that demands a client certificate issued by the test CA."""
    return sim_with(tls_cert=pki.server.cert, tls_key=pki.server.key, client_ca=pki.ca.cert)


@pytest.fixture
def tls_udb(sim_with, pki):
    """A simulator over HTTPS without client certificates."""
    return sim_with(tls_cert=pki.server.cert, tls_key=pki.server.key)


def test_mutual_tls_with_a_pem_pair(mtls_udb, make_client, pki):
    """With our CA bundle and a PEM client certificate, WSDL and call both go through."""
    tls = TlsSettings(ca_bundle=pki.ca.cert, client_cert=pki.client.cert, client_key=pki.client.key)
    client = make_client(wsdl=mtls_udb.wsdl_url, tls=tls)
    assert client.endpoint.startswith("https://")
    assert client.send(report()) == EXPECTED[CPR_OK]


def test_mutual_tls_with_pkcs12(mtls_udb, make_client, pki, tmp_path):
    """The client certificate may come as password-protected PKCS#12 (OCES3)."""
    p12 = pki.client.pkcs12(tmp_path / "client.p12", "oces3-kodeord")
    tls = TlsSettings(ca_bundle=pki.ca.cert, pkcs12=p12, pkcs12_password=Secret("oces3-kodeord"))
    client = make_client(wsdl=mtls_udb.wsdl_url, tls=tls)
    assert client.send(report()) == EXPECTED[CPR_OK]


def test_without_a_client_certificate_the_call_is_a_connection_failure(mtls_udb, make_client, pki):
    """The platform refusing us at the TLS handshake is a CONNECTION failure, not retried."""
    client = make_client(endpoint=mtls_udb.endpoint_url, tls=TlsSettings(ca_bundle=pki.ca.cert))
    result = client.send(report())
    assert isinstance(result, Failure)
    assert result.kind is FailureKind.CONNECTION


def test_an_untrusted_server_is_refused_for_good(tls_udb, make_client):
    """Verification is on by default: a server outside the trust store fails, not retryable."""
    client = make_client(endpoint=tls_udb.endpoint_url)
    result = client.send(report())
    assert isinstance(result, Failure)
    assert (result.kind, result.retryable) == (FailureKind.CONNECTION, False)


def test_verification_can_be_switched_off_explicitly(tls_udb, make_client):
    """verify=False (test environments only) reaches a server with an unknown certificate."""
    client = make_client(endpoint=tls_udb.endpoint_url, tls=TlsSettings(verify=False))
    assert client.send(report()) == EXPECTED[CPR_OK]


def test_the_pkcs12_key_touches_disk_only_encrypted_owner_only_and_briefly(pki, tmp_path):
    """The PEM handed to OpenSSL is 0600, its key encrypted, and gone afterwards."""
    pair = load_key_pair(
        pkcs12_file=pki.client.pkcs12(tmp_path / "c.p12", "pw"), pkcs12_password=Secret("pw")
    )
    with _private_pem_file(pair) as (name, one_time):
        mode = stat.S_IMODE(Path(name).stat().st_mode)
        text = Path(name).read_bytes()
        assert mode == 0o600
        assert b"ENCRYPTED PRIVATE KEY" in text
        assert b"BEGIN PRIVATE KEY" not in text
        assert one_time.encode() not in text
    assert not Path(name).exists()


def test_building_a_pkcs12_context_leaves_no_file_behind(pki, tmp_path, monkeypatch):
    """After the TLS context is built from PKCS#12, the temporary directory is empty."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    p12 = pki.client.pkcs12(tmp_path / "client.p12", "pw")
    build_ssl_context(TlsSettings(pkcs12=p12, pkcs12_password=Secret("pw")))
    assert list(scratch.iterdir()) == []


def test_a_wrong_pkcs12_password_stops_before_any_call(pki, tmp_path):
    """A wrong PKCS#12 password is a ConfigError naming the file and hiding the password."""
    p12 = pki.client.pkcs12(tmp_path / "client.p12", "rigtigt")
    with pytest.raises(ConfigError, match=r"client\.p12") as raised:
        build_ssl_context(TlsSettings(pkcs12=p12, pkcs12_password=Secret("forkert-kodeord")))
    assert "forkert" not in str(raised.value)


def test_missing_certificate_files_are_config_errors(tmp_path):
    """A client certificate or CA bundle that does not exist is a ConfigError."""
    with pytest.raises(ConfigError):
        build_ssl_context(TlsSettings(client_cert=tmp_path / "none.crt"))
    with pytest.raises(ConfigError):
        build_ssl_context(TlsSettings(ca_bundle=tmp_path / "none.pem"))


def test_pem_and_pkcs12_together_are_refused(tmp_path):
    """Either a PEM pair or PKCS#12: both at once is ambiguous."""
    with pytest.raises(ConfigError):
        TlsSettings(client_cert=tmp_path / "a.crt", pkcs12=tmp_path / "a.p12")


# --- set-up problems: failures that waiting will not heal, each named -------------------------


def _setup_slug(result):
    assert isinstance(result, Failure), result
    assert not result.retryable
    assert result.setup is not None, result.message
    return result.setup.slug


def test_an_expired_server_certificate_is_named(sim_with, make_client, pki, tmp_path):
    """The service's certificate has expired: a set-up cause, not a retry."""
    expired = issue(
        tmp_path,
        "old-server",
        issuer=pki.ca,
        server=True,
        not_after=datetime.now(UTC) - timedelta(days=3),
    )
    udb = sim_with(tls_cert=expired.cert, tls_key=expired.key)
    client = make_client(endpoint=udb.endpoint_url, tls=TlsSettings(ca_bundle=pki.ca.cert))
    result = client.send(report())
    assert _setup_slug(result) == "tls_server_certificate_expired"
    assert result.message.startswith("the service's certificate has expired")


def test_a_server_from_another_ca_is_named_untrusted(tls_udb, make_client, tmp_path):
    """A server certificate from a CA outside our bundle: untrusted, a set-up cause."""
    other = issue(tmp_path, "other-ca", ca=True)
    client = make_client(endpoint=tls_udb.endpoint_url, tls=TlsSettings(ca_bundle=other.cert))
    assert _setup_slug(client.send(report())) == "tls_server_certificate_untrusted"


def test_a_host_name_mismatch_is_named(sim_with, make_client, pki, tmp_path):
    """A certificate for another name than the address's: a set-up cause."""
    elsewhere = issue(tmp_path, "elsewhere", issuer=pki.ca)  # no names for 127.0.0.1
    udb = sim_with(tls_cert=elsewhere.cert, tls_key=elsewhere.key)
    client = make_client(endpoint=udb.endpoint_url, tls=TlsSettings(ca_bundle=pki.ca.cert))
    assert _setup_slug(client.send(report())) == "tls_host_name_mismatch"


def test_a_client_certificate_from_a_wrong_ca_is_refused_by_name(
    mtls_udb, make_client, pki, tmp_path
):
    """The server refuses our client certificate (issued by another CA): a set-up cause."""
    stranger_ca = issue(tmp_path, "stranger-ca", ca=True)
    stranger = issue(tmp_path, "stranger", issuer=stranger_ca)
    tls = TlsSettings(ca_bundle=pki.ca.cert, client_cert=stranger.cert, client_key=stranger.key)
    client = make_client(endpoint=mtls_udb.endpoint_url, tls=tls)
    assert _setup_slug(client.send(report())) in {
        "tls_client_certificate_refused",
        "tls_handshake_refused",
    }


def test_no_client_certificate_where_one_is_required_is_named(mtls_udb, make_client, pki):
    """The server asks for a client certificate and none is configured: a set-up cause."""
    client = make_client(endpoint=mtls_udb.endpoint_url, tls=TlsSettings(ca_bundle=pki.ca.cert))
    assert _setup_slug(client.send(report())) in {
        "tls_client_certificate_required",
        "tls_handshake_refused",
    }


def test_a_pem_file_holding_certificate_and_key_is_accepted(mtls_udb, make_client, pki, tmp_path):
    """client_cert alone, holding both the certificate and its key, is enough (as documented)."""
    both = tmp_path / "client-both.pem"
    both.write_bytes(pki.client.cert.read_bytes() + pki.client.key.read_bytes())
    client = make_client(
        wsdl=mtls_udb.wsdl_url, tls=TlsSettings(ca_bundle=pki.ca.cert, client_cert=both)
    )
    assert client.send(report()) == EXPECTED[CPR_OK]
