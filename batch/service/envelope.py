"""The request envelope, rendered once by zeep and filled per request: zeep's bytes at lxml's cost.

Profiling the 1M-row run put zeep's message building at the top (about 45 % of the process's
time, 0.3 ms a request): for every request it walks the schema, validates and renders an
envelope whose shape never changes. Here zeep renders one envelope from a request with every
element present; per request that tree is copied, each leaf gets its value through zeep's own
type for that element (`xmlvalue`), and the elements the request leaves out are removed. The
result is byte for byte what zeep renders (the tests compare them over generated reports), and
zeep still owns the contract: names, namespaces, order, value formats, SOAP version, headers.

`EnvelopeTemplate.render` declines (returns None) whenever zeep would add something per message
that a copy cannot reproduce: WS-Addressing (a fresh MessageID), egress plugins, or a template
that does not reproduce zeep's own bytes for the probe requests. WS-Security is applied after
filling, by zeep's signature code, so a signed request is timestamped and signed as before.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lxml import etree

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from zeep.wsdl.bindings.soap import SoapBinding

__all__ = ["EnvelopeTemplate", "bare_envelope"]

_ABSENT = object()


@dataclass(frozen=True, slots=True)
class _Slot:
    """One element of the template: where the request holds its value, where the tree has it."""

    key: tuple[str, ...]  # the path of names in the request dict
    order: int  # the element's place in the envelope's document order (`iter()`)
    xmlvalue: Callable[[Any], str] | None  # zeep's formatter for a leaf; None for a group


def bare_envelope(
    binding: SoapBinding, operation: str, request: Mapping[str, object]
) -> tuple[etree._Element, dict[str, str]]:
    """The envelope and HTTP headers zeep renders, before WS-Addressing, plugins and WSSE.

    These are the first two steps of zeep's private `_create` (zeep is pinned); `_create`
    itself cannot run without a client, and with one it would sign.
    """
    operation_obj = binding.get(operation)  # type: ignore[no-untyped-call]
    serialized = operation_obj.create(**request)
    binding._set_http_headers(serialized, operation_obj)  # type: ignore[attr-defined]  # noqa: SLF001
    return serialized.content, dict(serialized.headers)


def _lookup(request: Mapping[str, object], key: tuple[str, ...]) -> object:
    """The value at `key` in the nested request dict; _ABSENT when it, or its group, is left out."""
    value: Any = request
    try:
        for name in key:
            value = value[name]
    except (KeyError, TypeError):  # TypeError: a group given as None
        return _ABSENT
    return _ABSENT if value is None else value


def _walk(
    node: etree._Element,
    types: Mapping[str, Any],
    key: tuple[str, ...],
    order: Mapping[etree._Element, int],
) -> Iterator[_Slot]:
    """The slots under a request element, in document order, each matched to its zeep type."""
    for child in node:
        name = etree.QName(child).localname
        xsd_type = types[name].type
        here = (*key, name)
        children = getattr(xsd_type, "elements", None)
        if children:
            yield _Slot(here, order[child], None)
            yield from _walk(child, dict(children), here, order)
        else:
            yield _Slot(here, order[child], xsd_type.xmlvalue)


def _request_element(envelope: etree._Element) -> etree._Element:
    """The Body's one child: the operation's request element."""
    for child in envelope:
        if etree.QName(child).localname == "Body" and len(child) == 1:
            return child[0]
    raise ValueError("zeep rendered an envelope without a Body holding one request")


@dataclass(frozen=True, slots=True)
class EnvelopeTemplate:
    """A rendered envelope with every element present, and how to fill it from a request dict."""

    _envelope: etree._Element
    _headers: Mapping[str, str]
    _slots: Sequence[_Slot]

    @classmethod
    def render(
        cls,
        binding: SoapBinding,
        operation: str,
        full: Mapping[str, object],
        probes: Sequence[Mapping[str, object]],
    ) -> EnvelopeTemplate | None:
        """Render the template from `full` (every element given); None when a copy won't do.

        `probes` are requests the template must reproduce byte for byte against zeep before it
        is trusted; give at least one with every optional part left out.
        """
        operation_obj = binding.get(operation)  # type: ignore[no-untyped-call]
        if operation_obj is None or operation_obj.abstract.wsa_action:
            return None
        try:
            envelope, headers = bare_envelope(binding, operation, full)
            order = {element: place for place, element in enumerate(envelope.iter())}
            types = dict(operation_obj.input.body.type.elements)
            slots = tuple(_walk(_request_element(envelope), types, (), order))
            template = cls(envelope, headers, slots)
            for probe in (full, *probes):
                expected = etree.tostring(bare_envelope(binding, operation, probe)[0])
                if etree.tostring(template.fill(probe)[0]) != expected:
                    return None
        except (AttributeError, KeyError, TypeError, ValueError):
            return None  # a shape the template cannot follow (xsd:any, a choice...): use zeep
        return template

    def fill(self, request: Mapping[str, object]) -> tuple[etree._Element, dict[str, str]]:
        """A fresh envelope holding `request`, and the HTTP headers zeep would send with it."""
        envelope = copy.deepcopy(self._envelope)
        nodes = list(envelope.iter())
        gone: list[etree._Element] = []
        for slot in self._slots:
            node = nodes[slot.order]
            value = _lookup(request, slot.key)
            if value is _ABSENT:
                gone.append(node)
            elif slot.xmlvalue is not None:
                node.text = slot.xmlvalue(value)
        for node in reversed(gone):
            parent = node.getparent()
            if parent is not None:
                parent.remove(node)
        return envelope, dict(self._headers)
