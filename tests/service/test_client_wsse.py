import pickle
import threading
from importlib import resources

import pytest
import xmlschema
from client_kit import CPR_OK, CPR_UNKNOWN, EXPECTED, report
from cryptography.hazmat.primitives import serialization
from lxml import etree
from zeep.wsse.signature import verify_envelope

from batch.errors import ConfigError
from batch.records import Failure, FailureKind
from batch.service.client import ClientSettings
from batch.service.keys import Secret
from batch.service.signing import SigningSettings, build_wsse

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


@pytest.fixture
def signing(pki):
    return SigningSettings(key=pki.signer.key, cert=pki.signer.cert)


@pytest.fixture
def strict_udb(sim_with, pki):
    """A simulator that demands a valid signature by our test signer."""
    return sim_with(require_signature=True, trusted_signers=(pki.signer.cert,))


def test_a_signed_request_is_accepted(strict_udb, make_client, signing):
    """With signing configured, the simulator that requires signatures answers normally."""
    client = make_client(wsdl=strict_udb.wsdl_url, signing=signing)
    for cpr in (CPR_OK, CPR_UNKNOWN):
        assert client.send(report(cpr)) == EXPECTED[cpr]


def test_a_pkcs12_signer_is_accepted(strict_udb, make_client, pki, tmp_path):
    """The signing key may come as PKCS#12 (as OCES3 certificates are issued)."""
    p12 = pki.signer.pkcs12(tmp_path / "signer.p12", "hemmeligt")
    signing = SigningSettings(pkcs12=p12, pkcs12_password=Secret("hemmeligt"))
    client = make_client(wsdl=strict_udb.wsdl_url, signing=signing)
    assert client.send(report()) == EXPECTED[CPR_OK]


def test_an_encrypted_pem_key_is_accepted(strict_udb, make_client, pki, tmp_path):
    """A password-protected PEM key signs once its Secret is given."""
    key = tmp_path / "signer-encrypted.key"
    key.write_bytes(
        pki.signer.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"kodeord"),
        )
    )
    signing = SigningSettings(key=key, cert=pki.signer.cert, key_password=Secret("kodeord"))
    client = make_client(wsdl=strict_udb.wsdl_url, signing=signing)
    assert client.send(report()) == EXPECTED[CPR_OK]


def test_one_signing_client_serves_many_threads(strict_udb, make_client, signing):
    """The shared signing key signs correctly from 4 threads at once, every answer matching."""
    client = make_client(wsdl=strict_udb.wsdl_url, signing=signing)
    wrong: list[object] = []

    def worker(offset: int) -> None:
        for call in range(10):
            cpr = (CPR_OK, CPR_UNKNOWN)[(offset + call) % 2]
            result = client.send(report(cpr))
            if result != EXPECTED[cpr]:
                wrong.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_a_tampered_request_is_rejected(strict_udb, make_client, signing):
    """Bytes changed after signing break the signature: a final SENDER_FAULT (IPL000003)."""
    client = make_client(wsdl=strict_udb.wsdl_url, signing=signing)
    body, headers = client.envelope(report(name="Kim Kontaktperson"))
    tampered = body.replace(b"Kim Kontaktperson", b"Kim Kontaktpersom")
    assert tampered != body
    result = client.post(tampered, headers)
    assert isinstance(result, Failure)
    assert (result.kind, result.retryable) == (FailureKind.SENDER_FAULT, False)
    assert result.fault_code == "IPL000003"
    assert client.post(body, headers) == EXPECTED[CPR_OK]  # the untouched bytes still pass


def test_an_unsigned_request_is_rejected(strict_udb, make_client):
    """Without signing, the platform that requires it refuses the call, for good."""
    result = make_client(wsdl=strict_udb.wsdl_url).send(report())
    assert isinstance(result, Failure)
    assert (result.kind, result.retryable) == (FailureKind.SENDER_FAULT, False)
    assert result.fault_code == "IPL000003"


def test_the_security_header_is_as_ipl_expects(make_client, signing, pki):
    """Timestamp, token, signature in order; RSA-SHA256, SHA-256, exclusive C14N, Body+Timestamp."""
    client = make_client(signing=signing, endpoint="http://127.0.0.1:9/unused")
    body, _ = client.envelope(report())
    root = etree.fromstring(body)
    security = root.find(f"{{{SOAP12}}}Header/{{{WSSE}}}Security")
    assert [etree.QName(c).localname for c in security] == [
        "Timestamp",
        "BinarySecurityToken",
        "Signature",
    ]
    info = security.find(f"{{{DS}}}Signature/{{{DS}}}SignedInfo")
    algorithms = {e.get("Algorithm") for e in info.iter() if e.get("Algorithm")}
    assert algorithms == {
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmlenc#sha256",
    }
    uris = {r.get("URI")[1:] for r in info.iter(f"{{{DS}}}Reference")}
    body_id = root.find(f"{{{SOAP12}}}Body").get(f"{{{WSU}}}Id")
    timestamp_id = security.find(f"{{{WSU}}}Timestamp").get(f"{{{WSU}}}Id")
    assert uris == {body_id, timestamp_id}
    verify_envelope(root, str(pki.signer.cert))  # raises if the signature does not hold


def test_the_signed_payload_still_matches_the_xsd(make_client, signing):
    """Signing adds headers and ids, never anything the payload's schema would refuse."""
    client = make_client(signing=signing, endpoint="http://127.0.0.1:9/unused")
    body, _ = client.envelope(report())
    payload = etree.fromstring(body).find(f"{{{SOAP12}}}Body")[0]
    xsd = resources.files("batch.contract").joinpath("IndberetningKontaktJobOgUddOensker.xsd")
    xmlschema.XMLSchema(str(xsd)).validate(etree.tostring(payload).decode())


def test_secrets_never_show_themselves(pki, tmp_path):
    """Secret prints as Secret('***') in repr, str, f-strings and settings, and won't pickle."""
    secret = Secret("hemmeligt-kodeord")
    settings = ClientSettings(
        signing=SigningSettings(
            pkcs12=pki.signer.pkcs12(tmp_path / "s.p12", "x"), pkcs12_password=secret
        )
    )
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r:>30}", repr(settings)):
        assert "hemmeligt" not in text
    assert "Secret('***')" in repr(settings)
    assert secret.reveal() == "hemmeligt-kodeord"
    assert secret == Secret("hemmeligt-kodeord")
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_a_wrong_pkcs12_password_is_a_clear_config_error(pki, tmp_path):
    """A wrong password names the file, not the password."""
    p12 = pki.signer.pkcs12(tmp_path / "signer.p12", "rigtigt")
    with pytest.raises(ConfigError, match="wrong password") as raised:
        build_wsse(SigningSettings(pkcs12=p12, pkcs12_password=Secret("forkert-kodeord")))
    assert "forkert" not in str(raised.value)
    assert "signer.p12" in str(raised.value)


def test_a_key_that_does_not_match_its_certificate_is_refused(pki):
    """Key and certificate from different pairs are refused before any request."""
    with pytest.raises(ConfigError, match="does not match"):
        build_wsse(SigningSettings(key=pki.client.key, cert=pki.signer.cert))


def test_signing_settings_must_name_a_key():
    """SigningSettings without key/cert or PKCS#12 is a ConfigError at once."""
    with pytest.raises(ConfigError):
        SigningSettings()
