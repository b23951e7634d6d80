"""The WS-Security template (batch.service.wsse_template) against zeep's pipeline, its original."""

import copy
import datetime as dt

import pytest
from client_kit import report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from zeep.wsse.signature import verify_envelope

from batch.service.signing import SigningSettings, build_wsse, build_zeep_wsse
from batch.service.wsse_template import SecurityTemplate, verifies

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
UNUSED = "http://127.0.0.1:9/unused"  # never contacted: these tests only build envelopes
# The values that differ between two signings of one envelope, whoever signs.
PER_REQUEST = {f"{{{WSU}}}Created", f"{{{WSU}}}Expires", f"{{{DS}}}DigestValue"}
# XML's special characters, Danish letters, astral characters: what C14N has to get right.
TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("&<>\"'\t\n"),
    max_size=40,
)


@pytest.fixture(scope="module")
def signing(pki):
    return SigningSettings(key=pki.signer.key, cert=pki.signer.cert)


@pytest.fixture(scope="module")
def signers(signing):
    """The template and zeep's own pipeline, from one key and certificate."""
    return build_wsse(signing), build_zeep_wsse(signing)


@pytest.fixture
def unsigned(make_client):
    """An unsigned client: its envelopes are what the signers get."""
    return make_client(endpoint=UNUSED)


def _envelope(client, name="Kim Kontaktperson"):
    body, _ = client.envelope(report(name=name))
    return etree.fromstring(body)


def _normalized(root):
    """The envelope's bytes with ids numbered by first use and per-request values blanked."""
    root = copy.deepcopy(root)
    ids: dict[str, str] = {}
    for element in root.iter():
        if element.get(f"{{{WSU}}}Id") is not None:
            element.set(
                f"{{{WSU}}}Id", ids.setdefault(element.get(f"{{{WSU}}}Id"), f"id{len(ids)}")
            )
        uri = element.get("URI")
        if uri is not None:
            element.set("URI", "#" + ids.setdefault(uri[1:], f"id{len(ids)}"))
        if element.tag in PER_REQUEST or element.tag == f"{{{DS}}}SignatureValue":
            # SignatureValue keeps its line layout: xmlsec's lines of 64 characters.
            lengths = [len(line) for line in (element.text or "").split("\n")]
            element.text = "" if element.tag in PER_REQUEST else repr(lengths)
    return etree.tostring(root)


def _both(signers, envelope):
    template, zeep = signers
    ours, _ = template.apply(copy.deepcopy(envelope), {})
    theirs, _ = zeep.apply(copy.deepcopy(envelope), {})
    return ours, theirs


def test_build_wsse_signs_with_the_template(signers):
    """A usable key and certificate give the template, not zeep's per-message pipeline."""
    assert isinstance(signers[0], SecurityTemplate)
    assert "PRIVATE" not in repr(signers[0])


def test_the_header_is_zeeps_element_for_element(signers, unsigned, pki):
    """Same elements, order, attributes, namespaces and whitespace as zeep; both verify."""
    ours, theirs = _both(signers, _envelope(unsigned))
    assert _normalized(ours) == _normalized(theirs)
    for signed in (ours, theirs):
        verify_envelope(signed, str(pki.signer.cert))  # raises if the signature does not hold
        assert verifies(signed, pki.signer.certificate)


def test_a_soap11_envelope_without_header_is_signed_as_zeep_does(signers, pki):
    """The template adds the Header zeep would add, first, in the envelope's own namespace."""
    envelope = etree.fromstring(
        f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><x xmlns="urn:x">1</x></s:Body></s:Envelope>'
    )
    ours, theirs = _both(signers, envelope)
    assert etree.QName(ours[0]).text == f"{{{SOAP11}}}Header"
    assert _normalized(ours) == _normalized(theirs)
    assert verifies(ours, pki.signer.certificate)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=TEXT)
def test_any_payload_text_signs_and_verifies(signers, unsigned, pki, name):
    """The C14N of lxml digests what xmlsec digests, whatever characters the payload holds."""
    ours, theirs = _both(signers, _envelope(unsigned, name))
    assert verifies(ours, pki.signer.certificate)
    assert _normalized(ours) == _normalized(theirs)


def test_each_request_gets_fresh_ids_and_a_current_timestamp(signers, unsigned):
    """Ids differ between requests (as zeep's do); Created is now, Expires the TTL later."""
    template = signers[0]
    first, _ = template.apply(_envelope(unsigned), {})
    second, _ = template.apply(_envelope(unsigned), {})
    ids = [{e.get(f"{{{WSU}}}Id") for e in root.iter()} - {None} for root in (first, second)]
    assert len(ids[0]) == 3
    assert not ids[0] & ids[1]
    timestamp = first.find(f".//{{{WSU}}}Timestamp")
    created, expires = (dt.datetime.fromisoformat(e.text) for e in timestamp)
    assert abs(created - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=60)
    assert expires - created == dt.timedelta(seconds=300)


def test_an_altered_envelope_does_not_verify(signers, unsigned, pki):
    """The self-check the template must pass at render time fails for changed bytes."""
    signed, _ = signers[0].apply(_envelope(unsigned), {})
    text = etree.tostring(signed).replace(b"Kim Kontaktperson", b"Kim Kontaktpersom")
    assert not verifies(etree.fromstring(text), pki.signer.certificate)
    assert verifies(signed, pki.signer.certificate)


class _NoTimestamp:
    """A pipeline that signs without a Timestamp: a header IPL would refuse."""

    def __init__(self, zeep):
        self._zeep = zeep

    def apply(self, envelope, headers):
        envelope, headers = self._zeep.apply(envelope, headers)
        security = envelope.find(f".//{{{WSSE}}}Security")
        security.remove(security.find(f"{{{WSU}}}Timestamp"))
        return envelope, headers

    def verify(self, envelope):
        return envelope


def test_the_template_declines_a_header_of_another_shape(signers, pki):
    """The template declines (None) rather than sign differently from zeep."""
    pipeline = _NoTimestamp(signers[1])
    key = pki.signer.private_key
    assert SecurityTemplate.render(pipeline, key, pki.signer.certificate, 300) is None


def test_a_wrong_certificate_makes_the_template_decline(signers, pki):
    """The self-check verifies against the given certificate: another one fails it."""
    key = pki.signer.private_key
    assert SecurityTemplate.render(signers[1], key, pki.client.certificate, 300) is None


def test_an_envelope_with_a_security_header_goes_to_zeep(signers, unsigned):
    """A Security header already present is left to zeep's pipeline, which adds to it."""
    template, zeep = signers
    once, _ = zeep.apply(_envelope(unsigned), {})
    twice, _ = template.apply(copy.deepcopy(once), {})
    assert len(twice.findall(f".//{{{WSSE}}}Security")) == 1
    assert len(twice.findall(f".//{{{DS}}}Signature")) == 2
