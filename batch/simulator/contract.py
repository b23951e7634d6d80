"""The bundled contract as the simulator uses it: the XSD compiled once, the WSDL with our address.

Namespace decision: the simulator validates the payload with the bundled XSD's structure as if
its target namespace were the request's (a copy compiled per namespace, or, for an unqualified
payload, after moving the elements into the bundled namespace). A client built from any
WSDL that keeps the spec's element names (another namespace, SOAP 1.1, other service and port
names) is therefore checked for structure alone, and is answered in its own namespace. Elements
in a third namespace, or unqualified children of a qualified payload, stay where they are and
fail validation, as they would on a platform that expects `elementFormDefault="qualified"`.
"""

from __future__ import annotations

import threading
from importlib import resources
from typing import TYPE_CHECKING, cast
from xml.sax.saxutils import escape

from lxml import etree

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Contract", "load_contract"]

_XSD_NS = "http://www.w3.org/2001/XMLSchema"
_WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
_CONTRACT_FILE = "IndberetningKontaktJobOgUddOensker"
_ADDRESS = "urn:batch-simulator:endpoint"
_SCHEMA_LOCATION = "urn:batch-simulator:xsd"
_MAX_SCHEMAS = 16  # namespaces compiled for; a client uses one, tests a few


class Contract:
    """The bundled XSD (text, compiled, its namespace) and the WSDL as a template.

    Payloads in another namespace are validated against a copy of the XSD compiled for that
    namespace (a few are cached), which is cheaper per request than renaming every element;
    an unqualified payload, or one namespace too many, is renamed into the bundled one instead.
    """

    def __init__(self, xsd_bytes: bytes, wsdl_template: str) -> None:
        self.xsd_bytes = xsd_bytes
        self.wsdl_template = wsdl_template
        root = etree.fromstring(xsd_bytes, _parser())
        self.namespace: str = root.get("targetNamespace", "")
        self.schema = etree.XMLSchema(root)
        self._schemas: dict[str, etree.XMLSchema] = {self.namespace: self.schema}
        # One lock for compiling and validating: lxml keeps each schema's error log on the
        # schema object, so a validation and the reading of its log must not interleave.
        self._lock = threading.Lock()

    def wsdl_for(self, endpoint_url: str) -> bytes:
        """The WSDL naming `endpoint_url` as the address and `<endpoint>?xsd=1` as the schema."""
        text = self.wsdl_template.replace(_ADDRESS, endpoint_url)
        return text.replace(_SCHEMA_LOCATION, endpoint_url + "?xsd=1").encode("utf-8")

    def validate(self, payload: etree._Element) -> str | None:
        """Validate `payload` by its element names whatever its namespace: None or the error.

        May rename the payload's elements in place (see the class docstring).
        """
        namespace = etree.QName(payload).namespace or ""
        with self._lock:
            schema = self._schema_for(namespace)
            if schema is None:
                move_to_namespace(payload, namespace, self.namespace)
                schema = self.schema
            if schema.validate(payload):
                return None
            # lxml-stubs name the log entry type privately and do not know the log iterates.
            log = cast("Iterable[etree._LogEntry]", schema.error_log)  # noqa: SLF001
            errors = [f"line {entry.line}: {entry.message}" for entry in log]
        return "; ".join(errors) or "the payload does not match the schema"

    def _schema_for(self, namespace: str) -> etree.XMLSchema | None:
        """The schema for `namespace`, compiled on first use; None to rename instead."""
        schema = self._schemas.get(namespace)
        if schema is None and namespace and len(self._schemas) <= _MAX_SCHEMAS:
            quoted = escape(namespace, {'"': "&quot;"})
            text = self.xsd_bytes.replace(self.namespace.encode(), quoted.encode("utf-8"))
            try:
                schema = etree.XMLSchema(etree.fromstring(text, _parser()))
            except (etree.XMLSyntaxError, etree.XMLSchemaParseError):
                return None
            self._schemas[namespace] = schema
        return schema


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


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _read(name: str) -> bytes:
    return resources.files("batch.contract").joinpath(name).read_bytes()


def _wsdl_template(wsdl: bytes) -> str:
    """The WSDL with placeholders where the address and the schema location go."""
    root = etree.fromstring(wsdl, _parser())
    for address in root.iterfind(f"{{{_WSDL_NS}}}service/{{{_WSDL_NS}}}port/*"):
        if etree.QName(address).localname == "address":
            address.set("location", _ADDRESS)
    for imported in root.iter(f"{{{_XSD_NS}}}import"):
        imported.set("schemaLocation", _SCHEMA_LOCATION)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def load_contract() -> Contract:
    """Read and compile the contract from the package data (once per simulator)."""
    wsdl = _wsdl_template(_read(f"{_CONTRACT_FILE}.wsdl"))
    return Contract(_read(f"{_CONTRACT_FILE}.xsd"), wsdl)
