"""Parsing XML that someone else wrote: never an entity expanded, a DTD read or a URL fetched.

Both ends of the wire read untrusted SOAP: the client reads the service's replies, the
simulator reads the client's requests. One parser configuration serves both, so a hardening
made for one is made for the other.
"""

from __future__ import annotations

import threading

from lxml import etree

__all__ = ["HostileXmlError", "parse_untrusted_xml"]


class HostileXmlError(ValueError):
    """The document carried a DTD or entity declarations: never expanded, never trusted."""


_PARSERS = threading.local()


def _parser() -> etree.XMLParser:
    """One parser per thread: lxml parsers keep state and are not to be shared across threads."""
    parser: etree.XMLParser | None = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        _PARSERS.parser = parser
    return parser


def parse_untrusted_xml(data: bytes) -> etree._Element:
    """Parse a SOAP message without ever expanding an entity or fetching anything.

    Raises:
        HostileXmlError: the document has a DOCTYPE (and so possibly entities): rejected
            whole, since a SOAP message must not carry one (SOAP 1.1 section 3, 1.2 part 1).
        etree.XMLSyntaxError: the document is not well-formed XML.
    """
    root = etree.fromstring(data, _parser())
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:  # any DOCTYPE
        raise HostileXmlError("the message carries a DTD; SOAP forbids it")
    return root
