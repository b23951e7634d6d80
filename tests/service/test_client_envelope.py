"""The envelope template (batch.service.envelope) against zeep's own rendering, its original."""

import shutil
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import pytest
import xmlschema
from client_kit import PAST, report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from batch.errors import ServiceError
from batch.records import Contact, Report, Wish
from batch.service.client import ClientSettings, UdbClient
from batch.service.contract import OPERATION
from batch.service.envelope import EnvelopeTemplate
from batch.service.request import build_request

CONTRACT = resources.files("batch.contract")
OTHER = Path(__file__).with_name("other_contract.wsdl")
UNUSED = "http://127.0.0.1:9/unused"  # never contacted: these tests only build envelopes
WSA = "http://www.w3.org/2005/08/addressing"

# XML's special characters, Danish letters, astral characters, quotes and whitespace:
# everything the serializer has to escape or keep. Control characters never reach the client
# (normalization drops them), and lxml refuses them on both paths alike.
TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("&<>\"'\t\n"),
    max_size=40,
)
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]
)
MOMENTS = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1)),
    ZONES | st.none(),
)
CONTACTS = st.builds(Contact, TEXT, TEXT, st.none() | st.integers(0, 99_999_999), MOMENTS)
WISHES = st.builds(Wish, TEXT, MOMENTS)
REPORTS = st.builds(
    Report,
    TEXT,
    st.text("0123456789", min_size=10, max_size=10),
    st.integers(-(2**31), 2**31 - 1),
    st.none() | CONTACTS,
    st.none() | WISHES,
    st.none() | WISHES,
)


@pytest.fixture(scope="module")
def bundled():
    """A client on the bundled SOAP 1.2 contract."""
    with UdbClient(ClientSettings(endpoint=UNUSED)) as made:
        yield made


@pytest.fixture(scope="module")
def soap11():
    """A client on the other contract: another namespace, plain xs types, SOAP 1.1."""
    with UdbClient(ClientSettings(wsdl=str(OTHER), endpoint=UNUSED)) as made:
        yield made


def test_both_contracts_use_the_template(bundled, soap11):
    """With no WS-Addressing or plugins, both contracts get the fast path (or the rest is moot)."""
    assert bundled.uses_template
    assert soap11.uses_template


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sent=REPORTS)
def test_the_template_gives_zeeps_bytes_and_headers(bundled, soap11, sent):
    """For any report, the filled template is byte for byte what zeep renders, on both contracts."""
    for client in (bundled, soap11):
        assert client.envelope(sent) == client.zeep_envelope(sent)


def test_a_filled_template_is_schema_valid(bundled):
    """The payload of a filled template validates against the XSD with an independent validator."""
    schema = xmlschema.XMLSchema(str(CONTRACT.joinpath(f"{OPERATION}.xsd")))
    for sent in (report(), report(contact=False, job=False, education=False), report(phone=None)):
        body, _ = bundled.envelope(sent)
        payload = etree.fromstring(body)[-1][0]
        schema.validate(etree.tostring(payload).decode())


def test_each_fill_is_a_fresh_tree(bundled):
    """Filling never changes the template: a report with fewer groups doesn't leak into the next."""
    full, bare = report(), report(contact=False, job=False, education=False)
    first = bundled.envelope(full)
    assert b"KommuneKontakt" not in bundled.envelope(bare)[0]
    assert bundled.envelope(full) == first


def _addressing_wsdl(directory: Path) -> Path:
    """The bundled contract with a WS-Addressing action on the request, beside its XSD."""
    wsdl = CONTRACT.joinpath(f"{OPERATION}.wsdl").read_text(encoding="utf-8")
    shutil.copy(str(CONTRACT.joinpath(f"{OPERATION}.xsd")), directory)
    wsdl = wsdl.replace(
        '<wsdl:input message="tns:IndberetningKontaktJobOgUddOenskerRequest"/>',
        '<wsdl:input message="tns:IndberetningKontaktJobOgUddOenskerRequest"'
        ' xmlns:wsam="http://www.w3.org/2007/05/addressing/metadata"'
        ' wsam:Action="urn:example:indberet"/>',
    )
    assert "wsam:Action" in wsdl
    path = directory / f"{OPERATION}.wsdl"
    path.write_text(wsdl, encoding="utf-8")
    return path


def test_ws_addressing_falls_back_to_zeep_per_message(make_client, tmp_path):
    """A fresh MessageID per message cannot come from a copy: such a contract renders with zeep."""
    client = make_client(wsdl=str(_addressing_wsdl(tmp_path)), endpoint=UNUSED)
    assert not client.uses_template
    first, second = client.envelope(report())[0], client.envelope(report())[0]
    ids = [etree.fromstring(body).findtext(f".//{{{WSA}}}MessageID") for body in (first, second)]
    assert all(ids)
    assert ids[0] != ids[1]


def test_a_template_that_cannot_reproduce_a_probe_is_declined(bundled):
    """The self-check refuses a template when a probe's bytes differ from zeep's own."""
    binding = bundled._binding  # the test reaches in to feed a template a wrong 'full' request
    when = PAST
    partial = Report("s", "0000000000", 0, job=Wish("job", when))  # lacks the other groups
    probe = Report("s", "0000000000", 0, Contact("n", "m@example.invalid", 1, when))
    declined = EnvelopeTemplate.render(
        binding, OPERATION, build_request(partial), [build_request(probe)]
    )
    assert declined is None


def test_a_request_shape_the_template_cannot_follow_is_declined(bundled):
    """A structural surprise while rendering (here an element zeep does not know) is a None."""
    odd = {**build_request(report()), "UkendtElement": "x"}
    assert EnvelopeTemplate.render(bundled._binding, OPERATION, odd, []) is None


def test_a_contract_that_requires_more_than_the_spec_stops_at_start(tmp_path):
    """A required element the spec does not have: a clear ServiceError before any row is sent."""
    wsdl = OTHER.read_text(encoding="utf-8").replace(
        '<xs:element name="KommuneInstitutionNummer" type="xs:int"/>',
        '<xs:element name="KommuneInstitutionNummer" type="xs:int"/>'
        '<xs:element name="EkstraPaakraevet" type="xs:string"/>',
        1,
    )
    assert "EkstraPaakraevet" in wsdl
    path = tmp_path / "strict.wsdl"
    path.write_text(wsdl, encoding="utf-8")
    with pytest.raises(ServiceError, match="cannot build"):
        UdbClient(ClientSettings(wsdl=str(path), endpoint=UNUSED))
