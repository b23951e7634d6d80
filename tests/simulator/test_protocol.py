"""The wire protocol: WSDL and XSD served, SOAP 1.1 and 1.2, any namespace, hostile XML refused."""

import http.client
import uuid
from importlib import resources

import requests
import zeep
from lxml import etree
from soapkit import (
    ALFRED,
    NS,
    OTHER_NS,
    SOAP11,
    SOAP12,
    UNKNOWN,
    answer_of,
    envelope,
    fault_of,
    payload,
    post,
    send,
)

from batch.simulator import ENDPOINT_PATH

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"


def test_endpoint_follows_ipl_pattern(simulator):
    """The endpoint path is IPL's /services/<area>/<service>/v1 and the WSDL sits at ?wsdl."""
    assert simulator.endpoint_url.endswith("/services/udb/IndberetningKontaktJobOgUddOensker/v1")
    assert simulator.endpoint_url == simulator.base_url + ENDPOINT_PATH
    assert simulator.wsdl_url == simulator.endpoint_url + "?wsdl"


def test_wsdl_names_the_simulators_own_address(simulator):
    """The served WSDL's soap12:address and schema import point back at this simulator."""
    response = requests.get(simulator.wsdl_url, timeout=10)
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    (address,) = root.iterfind(f"{{{WSDL_NS}}}service/{{{WSDL_NS}}}port/*")
    assert address.get("location") == simulator.endpoint_url
    (imported,) = root.iter("{http://www.w3.org/2001/XMLSchema}import")
    assert imported.get("schemaLocation") == simulator.endpoint_url + "?xsd=1"
    xsd = requests.get(imported.get("schemaLocation"), timeout=10)
    bundled = resources.files("batch.contract").joinpath("IndberetningKontaktJobOgUddOensker.xsd")
    assert xsd.content == bundled.read_bytes()


def test_zeep_loads_the_wsdl_from_its_url_and_calls_the_service(simulator):
    """A zeep client needs nothing but the WSDL URL to reach the simulator and read its answer."""
    client = zeep.Client(simulator.wsdl_url)
    result = client.service.IndberetningKontaktJobOgUddOensker(
        ModtagerSystemID="KOMMUNE-TEST", CPRNr=UNKNOWN, KommuneInstitutionNummer=751001
    )
    assert (result.Ok, result.Fejl.Fejlkode) == (False, 14)


def test_unknown_paths_are_404(simulator):
    """Only the endpoint exists; other paths and queries are not found."""
    assert requests.get(simulator.base_url + "/", timeout=10).status_code == 404
    assert requests.get(simulator.endpoint_url + "?foo", timeout=10).status_code == 404


def _soap11_wsdl(tmp_path, endpoint_url):
    """A second WSDL: SOAP 1.1 binding, another namespace, service and port names."""
    contract = resources.files("batch.contract")
    xsd = contract.joinpath("IndberetningKontaktJobOgUddOensker.xsd").read_text("utf-8")
    wsdl = contract.joinpath("IndberetningKontaktJobOgUddOensker.wsdl").read_text("utf-8")
    (tmp_path / "other.xsd").write_text(xsd.replace(NS, OTHER_NS), "utf-8")
    wsdl = wsdl.replace(NS, OTHER_NS).replace("IndberetningKontaktJobOgUddOensker.xsd", "other.xsd")
    wsdl = wsdl.replace("/wsdl/soap12/", "/wsdl/soap/").replace("soap12:", "soap11:")
    wsdl = wsdl.replace("xmlns:soap12=", "xmlns:soap11=")
    wsdl = wsdl.replace('service name="IndberetningKontaktJobOgUddOensker"', 'service name="Other"')
    wsdl = wsdl.replace(
        'port name="IndberetningKontaktJobOgUddOenskerPort"', 'port name="OtherPort"'
    )
    wsdl = wsdl.replace("https://integrationsplatformen.dk" + ENDPOINT_PATH, endpoint_url)
    path = tmp_path / "other.wsdl"
    path.write_text(wsdl, "utf-8")
    return path


def test_soap11_client_with_another_namespace_is_answered_in_kind(simulator, tmp_path):
    """A SOAP 1.1 client of another namespace gets a SOAP 1.1 answer in its own namespace."""
    client = zeep.Client(str(_soap11_wsdl(tmp_path, simulator.endpoint_url)))
    result = client.service.IndberetningKontaktJobOgUddOensker(
        ModtagerSystemID="KOMMUNE-TEST", CPRNr=UNKNOWN, KommuneInstitutionNummer=751001
    )
    assert (result.Ok, result.Fejl.Fejlkode) == (False, 14)
    response = send(simulator.endpoint_url, SOAP11, namespace=OTHER_NS, cpr=UNKNOWN)
    assert response.headers["Content-Type"].startswith("text/xml")
    answer = answer_of(response, SOAP11)
    assert (answer.code, answer.namespace) == (14, OTHER_NS)


def test_unqualified_payload_is_answered_unqualified(simulator):
    """A payload in no namespace is validated by its names and answered in no namespace."""
    answer = answer_of(send(simulator.endpoint_url, namespace="", cpr=UNKNOWN))
    assert (answer.code, answer.namespace) == (14, "")


def test_schema_violation_is_400_sender_ipl000002(simulator):
    """A 101-character KontaktNavn is a Sender fault, Input error, IPL000002 with details."""
    simulator.clear()
    response = send(simulator.endpoint_url, contact_name="x" * 101)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/soap+xml")
    fault = fault_of(response)
    assert (fault.code, fault.reason, fault.detail["ErrorCode"]) == (
        "Sender",
        "Input error",
        "IPL000002",
    )
    assert uuid.UUID(fault.detail["CorrelationID"]).version == 4
    assert "KontaktNavn" in fault.detail["ErrorDetails"]
    assert fault.detail["Timestamp"]
    (record,) = simulator.received()
    assert (record.http_status, record.fault_code, record.ok, record.payload_digest) == (
        400,
        "IPL000002",
        None,
        None,
    )
    assert record.cpr == ALFRED  # what arrived is still visible


def test_schema_violation_in_soap11_is_a_client_fault(simulator):
    """The same violation over SOAP 1.1 is a soap:Client fault in a SOAP 1.1 envelope."""
    response = send(simulator.endpoint_url, SOAP11, institution="not-a-number")
    assert response.status_code == 400
    fault = fault_of(response, SOAP11)
    assert (fault.code, fault.detail["ErrorCode"]) == ("Client", "IPL000002")


def test_validator_message_masks_cpr_numbers(simulator):
    """The validator's details never echo a CPR-like number unmasked."""
    response = send(simulator.endpoint_url, cpr="01010841231")
    details = fault_of(response).detail["ErrorDetails"]
    assert "01010841231" not in details
    assert "CPRNr" in details


def test_dtd_in_request_is_refused(simulator):
    """A request carrying a DTD (here an entity bomb seed) is refused, never expanded."""
    body = etree.tostring(envelope(payload(job="&boom;")), encoding="unicode").replace(
        "&amp;boom;", "&boom;"
    )
    hostile = f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY boom "BOOM">]>{body}'.encode()
    response = post(simulator.endpoint_url, hostile)
    assert response.status_code == 400
    fault = fault_of(response)
    assert (fault.code, fault.detail["ErrorCode"]) == ("Sender", "IPL000002")
    assert "DTD" in fault.detail["ErrorMessage"]


def test_external_entity_is_not_fetched(simulator, tmp_path):
    """An external entity pointing at a local file is refused without reading the file."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET", "utf-8")
    body = etree.tostring(envelope(payload(job="JOB")), encoding="unicode").replace("JOB", "&x;")
    hostile = f'<!DOCTYPE e [<!ENTITY x SYSTEM "file://{secret}">]>{body}'.encode()
    response = post(simulator.endpoint_url, hostile)
    assert response.status_code == 400
    assert "TOPSECRET" not in response.text


def test_malformed_xml_is_a_sender_fault_in_the_content_types_version(simulator):
    """Unparseable XML gets a Sender fault; its SOAP version follows the Content-Type."""
    response = post(simulator.endpoint_url, b"<not xml", SOAP11)
    assert response.status_code == 400
    assert fault_of(response, SOAP11).code == "Client"
    assert simulator.received()[-1].fields == {}


def test_content_type_must_match_the_envelope(simulator):
    """A SOAP 1.2 envelope sent as text/xml is refused as input error."""
    data = etree.tostring(envelope(payload(), SOAP12))
    response = requests.post(
        simulator.endpoint_url, data=data, headers={"Content-Type": "text/xml"}, timeout=10
    )
    assert response.status_code == 400
    assert fault_of(response, SOAP12).detail["ErrorCode"] == "IPL000002"


def test_body_must_hold_the_request_element(simulator):
    """Another element in the Body (even one the XSD declares) is refused."""
    svar = etree.Element(f"{{{NS}}}IndberetningSvar")
    etree.SubElement(svar, f"{{{NS}}}Ok").text = "true"
    response = post(simulator.endpoint_url, envelope(svar))
    assert response.status_code == 400
    assert fault_of(response).detail["ErrorCode"] == "IPL000002"


def test_request_without_content_length_is_411(simulator):
    """A chunked body (no Content-Length) is refused with 411, not read forever."""
    response = requests.post(
        simulator.endpoint_url,
        data=iter([etree.tostring(envelope(payload()))]),
        headers={"Content-Type": "application/soap+xml"},
        timeout=10,
    )
    assert response.status_code == 411


def test_keep_alive_connection_serves_many_requests(simulator):
    """One HTTP/1.1 connection carries many requests, each answer with a Content-Length."""
    host, port = simulator.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    data = etree.tostring(envelope(payload(cpr=UNKNOWN)))
    sockets = []
    try:
        for _ in range(20):
            connection.request(
                "POST", ENDPOINT_PATH, body=data, headers={"Content-Type": "application/soap+xml"}
            )
            response = connection.getresponse()
            body = response.read()
            assert (response.status, int(response.getheader("Content-Length"))) == (200, len(body))
            sockets.append(connection.sock)  # held, so a new socket cannot reuse an id
    finally:
        connection.close()
    assert all(sock is sockets[0] for sock in sockets)


def test_validator_details_speak_the_requests_namespace(simulator):
    """Schema details name elements in the client's namespace, never the bundled one."""
    other = fault_of(send(simulator.endpoint_url, namespace=OTHER_NS, contact_name="x" * 101))
    plain = fault_of(send(simulator.endpoint_url, namespace="", contact_name="x" * 101))
    assert f"{{{OTHER_NS}}}KontaktNavn" in other.detail["ErrorDetails"]
    assert "'KontaktNavn'" in plain.detail["ErrorDetails"]
    assert NS not in other.detail["ErrorDetails"] + plain.detail["ErrorDetails"]
