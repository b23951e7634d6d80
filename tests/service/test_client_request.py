import itertools
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources

import pytest
import xmlschema
from client_kit import COPENHAGEN, report
from lxml import etree

from batch.records import Contact, Report, Wish
from batch.service.client import ClientSettings, UdbClient
from batch.service.request import build_request

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XSD = resources.files("batch.contract").joinpath("IndberetningKontaktJobOgUddOensker.xsd")
UNUSED = "http://127.0.0.1:9/unused"  # never contacted: these tests only build envelopes


@pytest.fixture(scope="module")
def schema():
    """The bundled XSD, read by an independent validator (xmlschema, not lxml/zeep)."""
    return xmlschema.XMLSchema(str(XSD))


@pytest.fixture(scope="module")
def client():
    """One client for the module: loading the WSDL is the slow part."""
    with UdbClient(ClientSettings(endpoint=UNUSED)) as made:
        yield made


def payload_of(envelope: bytes) -> etree._Element:
    root = etree.fromstring(envelope)
    body = root.find(f"{{{SOAP12}}}Body")
    assert body is not None
    return body[0]


GROUPS = list(itertools.product([False, True], repeat=3))
ZONES = [
    timezone(timedelta(hours=1)),
    timezone(timedelta(hours=2)),
    UTC,
    timezone(timedelta(hours=-3, minutes=-30)),
]


@pytest.mark.parametrize("groups", GROUPS, ids=str)
@pytest.mark.parametrize("phone", [None, 4512345678])
def test_every_combination_validates_against_the_xsd(client, schema, groups, phone):
    """Every mix of optional groups, with and without KontaktTelefon, is schema-valid."""
    contact, job, education = groups
    sent = report(contact=contact, job=job, education=education, phone=phone)
    body, headers = client.envelope(sent)
    payload = payload_of(body)
    schema.validate(etree.tostring(payload).decode())
    names = {etree.QName(child).localname for child in payload}
    assert ("KommuneKontakt" in names) == contact
    assert ("JobOnsker" in names) == job
    assert ("UddannelsesOnsker" in names) == education
    assert (b"KontaktTelefon" in body) == (contact and phone is not None)
    assert headers["Content-Type"].startswith("application/soap+xml")


@pytest.mark.parametrize("zone", ZONES, ids=str)
def test_times_are_sent_with_their_offset(client, schema, zone):
    """Registration times keep their own offset in the XML, and still validate."""
    moment = datetime(2025, 3, 1, 8, 15, 30, tzinfo=zone)
    body, _ = client.envelope(report(registered=moment))
    schema.validate(etree.tostring(payload_of(body)).decode())
    texts = [e.text for e in payload_of(body).iter() if str(e.tag).endswith("tid")]
    assert len(texts) == 3
    for text in texts:
        assert datetime.fromisoformat(text) == moment
        assert text.endswith(("Z", moment.isoformat()[-6:]))


def test_a_naive_time_is_sent_as_copenhagen_time(client):
    """A time without zone (a bug upstream) goes out as Europe/Copenhagen, never bare."""
    naive = datetime(2025, 7, 1, 10, 0)
    body, _ = client.envelope(report(registered=naive))
    text = payload_of(body).findtext(".//{*}JobRegistreringstid")
    assert text == "2025-07-01T10:00:00+02:00"
    assert datetime.fromisoformat(text) == naive.replace(tzinfo=COPENHAGEN)


def test_build_request_uses_the_spec_names_and_leaves_out_what_is_absent():
    """The mapping names the spec's elements and sends no empty group or phone."""
    when = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
    bare = Report("SYS", "0603114290", 751001)
    assert build_request(bare) == {
        "ModtagerSystemID": "SYS",
        "CPRNr": "0603114290",
        "KommuneInstitutionNummer": 751001,
    }
    full = Report(
        "SYS",
        "0603114290",
        751001,
        contact=Contact("A", "a@b.dk", None, when),
        education=Wish("EUX", when),
    )
    request = build_request(full)
    assert request["KommuneKontakt"] == {
        "KontaktNavn": "A",
        "KontaktMail": "a@b.dk",
        "KontaktRegistreringstid": when,
    }
    assert request["UddannelsesOnsker"] == {
        "UddannelsesOnsker": "EUX",
        "UddannelsesRegistreringstid": when,
    }
    assert "JobOnsker" not in request


def test_element_order_follows_the_contract(client):
    """Children appear in the XSD's sequence order, whatever order the mapping built them."""
    body, _ = client.envelope(report())
    payload = payload_of(body)
    assert [etree.QName(c).localname for c in payload] == [
        "ModtagerSystemID",
        "CPRNr",
        "KommuneInstitutionNummer",
        "KommuneKontakt",
        "JobOnsker",
        "UddannelsesOnsker",
    ]
    contact = payload[3]
    assert [etree.QName(c).localname for c in contact] == [
        "KontaktNavn",
        "KontaktMail",
        "KontaktTelefon",
        "KontaktRegistreringstid",
    ]
