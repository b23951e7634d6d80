"""Hand-built SOAP envelopes and answer parsing for the simulator's tests (no project client)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources

import requests
from lxml import etree

NS = "http://ipl.stil.dk/services/udb/indberetningkontaktjoboguddoensker/1"
OTHER_NS = "urn:example:kommune:udb-indberetning:v1"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CONTENT_TYPE = {SOAP11: "text/xml; charset=utf-8", SOAP12: "application/soap+xml; charset=utf-8"}
CPH_SUMMER = timezone(timedelta(hours=2))
FIXED_NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=CPH_SUMMER)

ALFRED = "0910054836"  # born 2005, home KUI 751001
WILLIAM = "1212074715"  # born 2007, home KUI 101001
LUCAS_1991 = "2708913389"  # born 1991, home KUI 751001: aged 25 or more
UNKNOWN = "0101084123"  # a valid date, not in the registry


@dataclass(frozen=True)
class Answer:
    """What an IndberetningSvar said, and the namespace it said it in."""

    ok: bool
    code: int | None
    text: str | None
    namespace: str


def fixed_clock() -> datetime:
    """The simulator's clock in rule tests: 1 June 2025, noon in Copenhagen."""
    return FIXED_NOW


def payload(
    cpr: str = ALFRED,
    institution: int | str = 751001,
    *,
    namespace: str = NS,
    contact_name: str | None = "Mette Kontakt",
    phone: str | None = "20304050",
    registered: str = "2025-05-01T09:30:00+02:00",
    job: str | None = "Tømrer",
    education: str | None = "EUD tømrer",
) -> etree._Element:
    """A request payload with the spec's element names, in `namespace`."""
    q = (lambda name: f"{{{namespace}}}{name}") if namespace else (lambda name: name)
    root = etree.Element(
        q("IndberetningKontaktJobOgUddOenskerRequest"),
        nsmap={"u": namespace} if namespace else None,
    )
    for name, value in (
        ("ModtagerSystemID", "KOMMUNE-TEST"),
        ("CPRNr", cpr),
        ("KommuneInstitutionNummer", str(institution)),
    ):
        etree.SubElement(root, q(name)).text = value
    if contact_name is not None:
        group = etree.SubElement(root, q("KommuneKontakt"))
        etree.SubElement(group, q("KontaktNavn")).text = contact_name
        etree.SubElement(group, q("KontaktMail")).text = "mette@kommune.example"
        if phone is not None:
            etree.SubElement(group, q("KontaktTelefon")).text = phone
        etree.SubElement(group, q("KontaktRegistreringstid")).text = registered
    for group_name, text, time_name in (
        ("JobOnsker", job, "JobRegistreringstid"),
        ("UddannelsesOnsker", education, "UddannelsesRegistreringstid"),
    ):
        if text is not None:
            group = etree.SubElement(root, q(group_name))
            etree.SubElement(group, q(group_name)).text = text
            etree.SubElement(group, q(time_name)).text = registered
    return root


def envelope(body: etree._Element, soap_ns: str = SOAP12) -> etree._Element:
    """Wrap a payload in a SOAP envelope of the given version."""
    root = etree.Element(f"{{{soap_ns}}}Envelope", nsmap={"soap": soap_ns})
    etree.SubElement(root, f"{{{soap_ns}}}Header")
    etree.SubElement(root, f"{{{soap_ns}}}Body").append(body)
    return root


def post(
    url: str, data: etree._Element | bytes, soap_ns: str = SOAP12, **kwargs
) -> requests.Response:
    """POST an envelope as its SOAP version wants (SOAPAction for 1.1)."""
    headers = {"Content-Type": CONTENT_TYPE[soap_ns]}
    if soap_ns == SOAP11:
        headers["SOAPAction"] = f'"{NS}/IndberetningKontaktJobOgUddOensker"'
    body = (
        data
        if isinstance(data, bytes)
        else etree.tostring(data, xml_declaration=True, encoding="UTF-8")
    )
    return requests.post(
        url, data=body, headers=headers, timeout=kwargs.pop("timeout", 10), **kwargs
    )


def send(url: str, soap_ns: str = SOAP12, **payload_kwargs) -> requests.Response:
    """Build, wrap and post one request."""
    return post(url, envelope(payload(**payload_kwargs), soap_ns), soap_ns)


def _bundled_schema() -> etree.XMLSchema:
    xsd = resources.files("batch.contract").joinpath("IndberetningKontaktJobOgUddOensker.xsd")
    return etree.XMLSchema(etree.fromstring(xsd.read_bytes()))


SCHEMA = _bundled_schema()


def answer_of(response: requests.Response, soap_ns: str = SOAP12) -> Answer:
    """Parse an answer envelope, checking it is the right SOAP version and valid per the XSD."""
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{soap_ns}}}Envelope"
    (svar,) = root.find(f"{{{soap_ns}}}Body")
    namespace = etree.QName(svar).namespace or ""
    assert etree.QName(svar).localname == "IndberetningSvar"
    copy = etree.fromstring(etree.tostring(svar))
    for element in copy.iter():
        element.tag = f"{{{NS}}}{etree.QName(element).localname}"
    SCHEMA.assertValid(copy)
    fejl = svar.find(f"{{{namespace}}}Fejl" if namespace else "Fejl")
    ok = svar.findtext(f"{{{namespace}}}Ok" if namespace else "Ok") == "true"
    if fejl is None:
        return Answer(ok, None, None, namespace)
    code, text = (child.text for child in fejl)
    return Answer(ok, int(code or "0"), text, namespace)


@dataclass(frozen=True)
class Fault:
    """What a SOAP fault said: code, reason and IPL's detail fields."""

    code: str
    reason: str
    detail: dict[str, str]


def fault_of(response: requests.Response, soap_ns: str = SOAP12) -> Fault:
    """Parse a SOAP fault of either version into its code, reason and detail fields."""
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{soap_ns}}}Envelope"
    fault = root.find(f"{{{soap_ns}}}Body/{{{soap_ns}}}Fault")
    assert fault is not None
    if soap_ns == SOAP12:
        code = fault.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value") or ""
        reason = fault.findtext(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text") or ""
        detail = fault.find(f"{{{SOAP12}}}Detail")
    else:
        code, reason, detail = (
            fault.findtext("faultcode") or "",
            fault.findtext("faultstring") or "",
            fault.find("detail"),
        )
    assert detail is not None
    return Fault(code.split(":")[-1], reason, {child.tag: child.text or "" for child in detail})


def utc_now() -> datetime:
    """Real time, for WS-Security timestamps."""
    return datetime.now(UTC)
