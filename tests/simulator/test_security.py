"""Security options: HTTPS, mutual TLS, and WS-Security signature verification."""

from datetime import timedelta

import pytest
import requests
import xmlsec
import zeep
from lxml import etree
from pki_kit import issue
from soapkit import NS, SOAP12, UNKNOWN, answer_of, envelope, fault_of, payload, post, utc_now
from zeep.wsse.signature import BinarySignature
from zeep.wsse.utils import get_security_header

WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A throwaway CA with a server certificate, a client certificate and a stranger's."""
    directory = tmp_path_factory.mktemp("pki")
    ca = issue(directory, "ca", ca=True)
    return {
        "ca": ca,
        "server": issue(directory, "server", issuer=ca, server=True),
        "client": issue(directory, "client", issuer=ca),
        "stranger": issue(directory, "stranger"),
        "expired": issue(directory, "expired", not_after=utc_now() - timedelta(minutes=1)),
    }


def test_https_serves_with_the_given_certificate(fresh_simulator, pki):
    """With tls_cert and tls_key the simulator speaks HTTPS, and its URLs say so."""
    simulator = fresh_simulator(tls_cert=pki["server"].cert, tls_key=pki["server"].key)
    assert simulator.endpoint_url.startswith("https://127.0.0.1:")
    response = post(
        simulator.endpoint_url, envelope(payload(cpr=UNKNOWN)), verify=str(pki["ca"].cert)
    )
    assert answer_of(response).code == 14


def test_mutual_tls_accepts_a_client_certificate_from_the_ca(fresh_simulator, pki):
    """With client_ca, a client certificate signed by that CA is let through."""
    simulator = fresh_simulator(
        tls_cert=pki["server"].cert, tls_key=pki["server"].key, client_ca=pki["ca"].cert
    )
    client = (str(pki["client"].cert), str(pki["client"].key))
    response = post(
        simulator.endpoint_url,
        envelope(payload(cpr=UNKNOWN)),
        verify=str(pki["ca"].cert),
        cert=client,
    )
    assert answer_of(response).code == 14
    wsdl = requests.get(simulator.wsdl_url, verify=str(pki["ca"].cert), cert=client, timeout=10)
    assert wsdl.status_code == 200


@pytest.mark.parametrize("client", [None, "stranger"])
def test_mutual_tls_refuses_missing_or_foreign_client_certificates(fresh_simulator, pki, client):
    """Without a client certificate, or with one from another CA, the handshake fails."""
    simulator = fresh_simulator(
        tls_cert=pki["server"].cert, tls_key=pki["server"].key, client_ca=pki["ca"].cert
    )
    cert = None if client is None else (str(pki[client].cert), str(pki[client].key))
    with pytest.raises(requests.exceptions.ConnectionError):
        post(simulator.endpoint_url, envelope(payload()), verify=str(pki["ca"].cert), cert=cert)
    assert simulator.received() == []


def _timestamped(root, *, expires_in=timedelta(minutes=5)):
    """Add a wsu:Timestamp to the envelope's Security header, as the client does."""
    security = get_security_header(root)
    timestamp = etree.SubElement(security, f"{{{WSU}}}Timestamp")
    now = utc_now()
    etree.SubElement(timestamp, f"{{{WSU}}}Created").text = now.isoformat()
    etree.SubElement(timestamp, f"{{{WSU}}}Expires").text = (now + expires_in).isoformat()
    return root


def _signed(issued, root=None, *, sha1=False, **kwargs):
    """An envelope signed with zeep's BinarySignature (Body and Timestamp, exclusive C14N)."""
    root = root if root is not None else _timestamped(envelope(payload(cpr=UNKNOWN)), **kwargs)
    constants = xmlsec.constants
    BinarySignature(
        str(issued.key),
        str(issued.cert),
        signature_method=constants.TransformRsaSha1 if sha1 else constants.TransformRsaSha256,
        digest_method=constants.TransformSha1 if sha1 else constants.TransformSha256,
    ).apply(root, {})
    return root


@pytest.fixture
def signing_simulator(fresh_simulator):
    """A simulator that demands a valid signature from anyone."""
    return fresh_simulator(require_signature=True)


@pytest.mark.parametrize("sha1", [False, True])
def test_signed_request_is_accepted(signing_simulator, pki, sha1):
    """A message signed with zeep's BinarySignature (SHA-256 or legacy SHA-1) reaches UDB."""
    response = post(signing_simulator.endpoint_url, _signed(pki["client"], sha1=sha1))
    assert answer_of(response).code == 14


def _security_fault(response):
    assert response.status_code == 400
    fault = fault_of(response)
    assert (fault.code, fault.reason, fault.detail["ErrorCode"]) == (
        "Sender",
        "Security error",
        "IPL000003",
    )
    return fault.detail["ErrorMessage"]


def test_unsigned_request_is_refused(signing_simulator):
    """Without a Security header the message is a Sender fault IPL000003."""
    response = post(signing_simulator.endpoint_url, envelope(payload()))
    assert "no WS-Security header" in _security_fault(response)
    (record,) = signing_simulator.received()
    assert (record.http_status, record.fault_code) == (400, "IPL000003")


def test_body_altered_after_signing_is_refused(signing_simulator, pki):
    """Changing the CPR number after signing breaks the Body's digest."""
    root = _signed(pki["client"])
    root.find(f".//{{{NS}}}CPRNr").text = "0910054836"
    assert "altered" in _security_fault(post(signing_simulator.endpoint_url, root))


def test_timestamp_altered_after_signing_is_refused(signing_simulator, pki):
    """Stretching Expires after signing breaks the Timestamp's digest."""
    root = _signed(pki["client"])
    root.find(f".//{{{WSU}}}Expires").text = (utc_now() + timedelta(days=1)).isoformat()
    assert "altered" in _security_fault(post(signing_simulator.endpoint_url, root))


def test_expired_timestamp_is_refused(signing_simulator, pki):
    """A Timestamp whose Expires has passed is refused even with a good signature."""
    root = _signed(pki["client"], expires_in=timedelta(seconds=-1))
    assert "expired" in _security_fault(post(signing_simulator.endpoint_url, root))


def test_signature_must_cover_the_timestamp(signing_simulator, pki):
    """A signature over the Body alone (Timestamp added later, unsigned) is refused."""
    root = _signed(pki["client"], envelope(payload()))
    _timestamped(root)
    assert "Body and the Timestamp" in _security_fault(post(signing_simulator.endpoint_url, root))


def test_signature_wrapping_is_refused(signing_simulator, pki):
    """A second element carrying the signed Body's wsu:Id (wrapping attack) is refused."""
    root = _signed(pki["client"])
    body = root.find(f"{{{SOAP12}}}Body")
    decoy = etree.SubElement(root.find(f"{{{SOAP12}}}Header"), "Wrapper")
    decoy.set(f"{{{WSU}}}Id", body.get(f"{{{WSU}}}Id"))
    assert "exactly one element" in _security_fault(post(signing_simulator.endpoint_url, root))


def test_expired_signing_certificate_is_refused(signing_simulator, pki):
    """A signature by a certificate past its validity is refused."""
    message = _security_fault(post(signing_simulator.endpoint_url, _signed(pki["expired"])))
    assert "validity" in message


def test_trusted_signers_limit_who_may_sign(fresh_simulator, pki):
    """With trusted_signers, only those certificates' signatures are accepted."""
    simulator = fresh_simulator(require_signature=True, trusted_signers=(pki["client"].cert,))
    assert answer_of(post(simulator.endpoint_url, _signed(pki["client"]))).code == 14
    message = _security_fault(post(simulator.endpoint_url, _signed(pki["stranger"])))
    assert "not among the trusted" in message


class _SignOnly(BinarySignature):
    """zeep's BinarySignature that adds a Timestamp first and does not verify our answers."""

    def apply(self, envelope, headers):
        return super().apply(_timestamped(envelope), headers)

    def verify(self, envelope):
        return envelope


def test_zeep_client_with_binary_signature_is_accepted(signing_simulator, pki):
    """A zeep client signing with BinarySignature (RSA-SHA256) passes verification end to end."""
    constants = xmlsec.constants
    wsse = _SignOnly(
        str(pki["client"].key),
        str(pki["client"].cert),
        signature_method=constants.TransformRsaSha256,
        digest_method=constants.TransformSha256,
    )
    client = zeep.Client(signing_simulator.wsdl_url, wsse=wsse)
    result = client.service.IndberetningKontaktJobOgUddOensker(
        ModtagerSystemID="KOMMUNE-TEST", CPRNr=UNKNOWN, KommuneInstitutionNummer=751001
    )
    assert result.Fejl.Fejlkode == 14
