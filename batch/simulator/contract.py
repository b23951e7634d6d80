"""The bundled contract as the simulator uses it: the XSD compiled once, the WSDL with our address.

Namespace decision: the simulator validates the payload against the bundled XSD *after* moving
the payload's elements from the request's namespace to the bundled one. A client built from any
WSDL that keeps the spec's element names (another namespace, SOAP 1.1, other service and port
names) is therefore checked for structure alone, and is answered in its own namespace. Elements
in a third namespace, or unqualified children of a qualified payload, stay where they are and
fail validation, as they would on a platform that expects `elementFormDefault="qualified"`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, cast

from lxml import etree

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Contract", "load_contract"]

_XSD_NS = "http://www.w3.org/2001/XMLSchema"
_WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
_CONTRACT_FILE = "IndberetningKontaktJobOgUddOensker"
_ADDRESS = "urn:batch-simulator:endpoint"
_SCHEMA_LOCATION = "urn:batch-simulator:xsd"


@dataclass(frozen=True)
class Contract:
    """The bundled XSD (text, compiled, its namespace) and the WSDL as a template."""

    namespace: str
    xsd_bytes: bytes
    wsdl_template: str
    schema: etree.XMLSchema
    lock: threading.Lock

    def wsdl_for(self, endpoint_url: str) -> bytes:
        """The WSDL naming `endpoint_url` as the address and `<endpoint>?xsd=1` as the schema."""
        text = self.wsdl_template.replace(_ADDRESS, endpoint_url)
        return text.replace(_SCHEMA_LOCATION, endpoint_url + "?xsd=1").encode("utf-8")

    def validate(self, payload: etree._Element) -> str | None:
        """Move `payload` into the bundled namespace in place and validate it: None or the error.

        One compiled schema is shared; lxml keeps its error log on the schema object, so the
        validation and the reading of that log happen under one lock.
        """
        move_to_namespace(payload, etree.QName(payload).namespace or "", self.namespace)
        with self.lock:
            if self.schema.validate(payload):
                return None
            # lxml-stubs name the log entry type privately and do not know the log is iterable.
            log = cast("Iterable[etree._LogEntry]", self.schema.error_log)  # noqa: SLF001
            errors = [f"line {entry.line}: {entry.message}" for entry in log]
        return "; ".join(errors) or "the payload does not match the schema"


def move_to_namespace(root: etree._Element, old: str, new: str) -> None:
    """Rename every element of `root` that is in namespace `old` into namespace `new`."""
    prefix = f"{{{old}}}" if old else ""
    cut = len(prefix)
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue  # comments and processing instructions
        if (old and tag.startswith(prefix)) or (not old and not tag.startswith("{")):
            element.tag = f"{{{new}}}{tag[cut:]}" if new else tag[cut:]


def _read(name: str) -> bytes:
    return resources.files("batch.contract").joinpath(name).read_bytes()


def _wsdl_template(wsdl: bytes) -> str:
    """The WSDL with placeholders where the address and the schema location go."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(wsdl, parser)
    for address in root.iterfind(f"{{{_WSDL_NS}}}service/{{{_WSDL_NS}}}port/*"):
        if etree.QName(address).localname == "address":
            address.set("location", _ADDRESS)
    for imported in root.iter(f"{{{_XSD_NS}}}import"):
        imported.set("schemaLocation", _SCHEMA_LOCATION)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def load_contract() -> Contract:
    """Read and compile the contract from the package data (once per simulator)."""
    xsd_bytes = _read(f"{_CONTRACT_FILE}.xsd")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    xsd_root = etree.fromstring(xsd_bytes, parser)
    return Contract(
        namespace=xsd_root.get("targetNamespace", ""),
        xsd_bytes=xsd_bytes,
        wsdl_template=_wsdl_template(_read(f"{_CONTRACT_FILE}.wsdl")),
        schema=etree.XMLSchema(xsd_root),
        lock=threading.Lock(),
    )
