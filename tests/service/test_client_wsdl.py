from pathlib import Path

import pytest
from client_kit import CPR_OK, CPR_UNKNOWN, EXPECTED, Canned, canned_server, report

from batch.errors import ConfigError, ServiceError
from batch.records import Failure, FailureKind
from batch.service.client import ClientSettings, UdbClient

OTHER = Path(__file__).with_name("other_contract.wsdl")
OTHER_NS = "urn:example:kommune:ungeindsats:v9"

SOAP12_PORT = """
  <wsdl:binding name="KommuneSoap12Binding" type="k:KommunePortType"
      xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/">
    <soap12:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="IndberetningKontaktJobOgUddOensker">
      <soap12:operation soapAction="urn:example:kommune:indberet" style="document"/>
      <wsdl:input><soap12:body use="literal"/></wsdl:input>
      <wsdl:output><soap12:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
"""
SOAP12_SERVICE_PORT = """
    <wsdl:port name="UngeindsatsSoap12" binding="k:KommuneSoap12Binding"
        xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/">
      <soap12:address location="http://127.0.0.1:9/soap12"/>
    </wsdl:port>
"""


def test_another_namespace_service_port_and_soap11_work_unchanged(make_client, udb):
    """A WSDL with another namespace, names and a SOAP 1.1 binding needs no code change."""
    client = make_client(wsdl=str(OTHER), endpoint=udb.endpoint_url)
    body, headers = client.envelope(report())
    assert OTHER_NS.encode() in body
    assert b"http://schemas.xmlsoap.org/soap/envelope/" in body
    assert headers["Content-Type"].startswith("text/xml")
    assert headers["SOAPAction"] == '"urn:example:kommune:indberet"'
    assert client.answer_shape.answer == f"{{{OTHER_NS}}}IndberetningSvar"
    for cpr in (CPR_OK, CPR_UNKNOWN):
        assert client.send(report(cpr)) == EXPECTED[cpr]


def test_soap11_schema_violation_is_still_a_sender_fault(make_client, udb):
    """Over SOAP 1.1 the platform's Client fault is SENDER_FAULT, final."""
    client = make_client(wsdl=str(OTHER), endpoint=udb.endpoint_url)
    result = client.send(report(name="x" * 101))
    assert isinstance(result, Failure)
    assert (result.kind, result.retryable) == (FailureKind.SENDER_FAULT, False)
    assert result.fault_code == "IPL000002"


def test_soap12_is_preferred_when_the_wsdl_offers_both(make_client, tmp_path):
    """Given a SOAP 1.1 and a SOAP 1.2 port, the client takes SOAP 1.2 and its address."""
    text = OTHER.read_text()
    text = text.replace("  <wsdl:service", SOAP12_PORT + "  <wsdl:service")
    text = text.replace("    </wsdl:port>\n", "    </wsdl:port>\n" + SOAP12_SERVICE_PORT, 1)
    both = tmp_path / "both.wsdl"
    both.write_text(text)
    client = make_client(wsdl=str(both))
    _, headers = client.envelope(report())
    assert headers["Content-Type"].startswith("application/soap+xml")
    assert client.endpoint == "http://127.0.0.1:9/soap12"


def test_the_endpoint_override_wins(make_client):
    """`endpoint=` replaces the WSDL's address."""
    client = make_client(endpoint="http://127.0.0.1:9/elsewhere")
    assert client.endpoint == "http://127.0.0.1:9/elsewhere"


def test_the_bundled_contract_is_the_default(make_client):
    """Without a WSDL setting, the bundled contract is used, its address a placeholder."""
    client = make_client()
    assert client.endpoint.startswith("https://")
    assert "indberetningkontaktjoboguddoensker" in client.answer_shape.answer


def test_a_missing_wsdl_is_a_service_error(tmp_path):
    """A WSDL that does not exist stops the run with a clear ServiceError."""
    with pytest.raises(ServiceError, match="cannot load the WSDL"):
        UdbClient(ClientSettings(wsdl=str(tmp_path / "nope.wsdl")))


def test_a_wsdl_without_the_operation_is_a_service_error(tmp_path):
    """A WSDL that lacks IndberetningKontaktJobOgUddOensker is refused by name."""
    other = tmp_path / "other.wsdl"
    other.write_text(OTHER.read_text().replace('operation name="Indberetning', 'operation name="X'))
    with pytest.raises(ServiceError, match="no SOAP operation named"):
        UdbClient(ClientSettings(wsdl=str(other)))


def test_a_wsdl_with_a_dtd_is_refused(tmp_path):
    """A WSDL carrying a DOCTYPE (possible entity tricks) is not loaded."""
    text = OTHER.read_text().replace(
        "<wsdl:definitions", '<!DOCTYPE x [<!ENTITY a "b">]>\n<wsdl:definitions', 1
    )
    hostile = tmp_path / "dtd.wsdl"
    hostile.write_text(text)
    with pytest.raises(ServiceError, match="cannot load the WSDL"):
        UdbClient(ClientSettings(wsdl=str(hostile)))


def test_imports_from_another_origin_are_refused():
    """A WSDL served over HTTP may import only from its own origin: no SSRF through imports."""
    elsewhere = Canned(
        pages={"/evil.xsd": b"<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'/>"}
    )
    with canned_server(elsewhere) as other_url:
        base = other_url.rsplit("/", 1)[0]
        wsdl = OTHER.read_text().replace(
            "<xs:schema targetNamespace",
            f'<xs:schema><xs:import namespace="urn:x" schemaLocation="{base}/evil.xsd"/>'
            "</xs:schema><xs:schema targetNamespace",
        )
        home = Canned(pages={"/service?wsdl": wsdl.encode()})
        with (
            canned_server(home) as url,
            pytest.raises(ServiceError, match="outside its own origin"),
        ):
            UdbClient(ClientSettings(wsdl=url + "?wsdl"))
    assert elsewhere.gets == 0


def test_a_wsdl_url_that_fails_is_a_service_error():
    """A WSDL URL answering 404 is a ServiceError naming the URL."""
    with canned_server(Canned()) as url, pytest.raises(ServiceError, match="HTTP 404"):
        UdbClient(ClientSettings(wsdl=url + "?wsdl"))


def test_a_non_http_endpoint_is_refused():
    """Only http(s) addresses are accepted for the service."""
    with pytest.raises(ServiceError, match="http"):
        UdbClient(ClientSettings(endpoint="ftp://127.0.0.1/x"))


def test_nonsense_timeouts_and_pool_sizes_are_config_errors():
    """Zero or negative timeouts and an empty pool are refused as configuration errors."""
    for bad in ({"connect_timeout": 0}, {"read_timeout": -1}, {"pool_size": 0}):
        with pytest.raises(ConfigError):
            ClientSettings(**bad)
