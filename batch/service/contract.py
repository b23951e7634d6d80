"""Reading the contract: the WSDL's port, the answer's shape, and the envelope template from them.

zeep reads the contract (any WSDL with the spec's element names, SOAP 1.1 or 1.2) and renders
the envelope once as a template filled per request (`batch.service.envelope`). Nothing here
names the service's namespace or address: both come from the WSDL or the settings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import zeep
import zeep.exceptions
from zeep.wsdl.bindings.soap import Soap12Binding, SoapBinding

from batch.errors import ServiceError, SetupError
from batch.i18n import _
from batch.privacy import mask_cpr
from batch.records import Contact, Report, Wish
from batch.service.diagnose import setup_cause
from batch.service.envelope import EnvelopeTemplate
from batch.service.proxy import choose_proxy
from batch.service.request import build_request
from batch.service.signing import build_wsse
from batch.service.transport import WsdlTransport

if TYPE_CHECKING:
    import ssl

    from batch.service.signing import SigningSettings

__all__ = ["OPERATION", "AnswerShape"]

OPERATION = "IndberetningKontaktJobOgUddOensker"


@dataclass(frozen=True, slots=True)
class AnswerShape:
    """The qualified names of IndberetningSvar and its children, as the WSDL defines them."""

    answer: str
    ok: str
    fejl: str | None
    fejlkode: str | None
    fejltekst: str | None


def _bundled_wsdl() -> str:
    return str(resources.files("batch.contract").joinpath(f"{OPERATION}.wsdl"))


def _find_port(client: zeep.Client, wsdl: str) -> tuple[SoapBinding, str | None]:
    """The port whose binding has our operation; SOAP 1.2 preferred, then document order."""
    candidates = [
        port
        for service in client.wsdl.services.values()
        for port in service.ports.values()
        if isinstance(port.binding, SoapBinding) and OPERATION in port.binding.all()  # type: ignore[no-untyped-call]
    ]
    if not candidates:
        message = _("the WSDL {wsdl} has no SOAP operation named {operation}")
        raise ServiceError(message.format(wsdl=wsdl, operation=OPERATION))
    candidates.sort(key=lambda port: not isinstance(port.binding, Soap12Binding))
    port = candidates[0]
    return port.binding, port.binding_options.get("address")


def _child_qnames(element: object) -> dict[str, str]:
    elements = getattr(getattr(element, "type", None), "elements", None) or []
    return {name: child.qname.text for name, child in elements}


def _answer_shape(binding: SoapBinding, wsdl: str) -> AnswerShape:
    body = binding.get(OPERATION).output.body  # type: ignore[no-untyped-call]
    children = _child_qnames(body)
    if body is None or "Ok" not in children:
        message = _("the WSDL {wsdl}: {operation}'s answer has no element Ok")
        raise ServiceError(message.format(wsdl=wsdl, operation=OPERATION))
    fejl = children.get("Fejl")
    fejl_children = _child_qnames(dict(body.type.elements)["Fejl"]) if fejl else {}
    return AnswerShape(
        answer=body.qname.text,
        ok=children["Ok"],
        fejl=fejl,
        fejlkode=fejl_children.get("Fejlkode"),
        fejltekst=fejl_children.get("Fejltekst"),
    )


def _load_zeep(
    wsdl: str,
    ssl_context: ssl.SSLContext | None,
    *,
    signing: SigningSettings | None,
    connect_timeout: float,
    read_timeout: float,
    proxy: str | None = None,
) -> zeep.Client:
    wsse = build_wsse(signing) if signing is not None else None
    transport = WsdlTransport(
        wsdl,
        ssl_context=ssl_context,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        proxy=proxy,
    )
    zeep_settings = zeep.Settings(
        strict=True, forbid_dtd=True, forbid_entities=True, xml_huge_tree=False
    )
    try:
        return zeep.Client(  # type: ignore[no-untyped-call]
            wsdl, transport=transport, wsse=wsse, settings=zeep_settings
        )
    except Exception as error:
        text = _("cannot load the WSDL {wsdl}: {kind}: {error}").format(
            wsdl=wsdl, kind=type(error).__name__, error=error
        )
        remote = wsdl.lower().startswith(("http://", "https://"))
        cause = setup_cause(error, choose_proxy(wsdl, proxy) if remote else None)
        if cause is not None:
            raise SetupError(mask_cpr(f"{cause.text(_)}: {text}"), cause) from error
        raise ServiceError(mask_cpr(text)) from error


def _probe_reports() -> tuple[Report, list[Report]]:
    """A report with every element, and the shapes the template must also get right.

    Only their shape matters: the template's values are replaced per request.
    """
    when = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    contact = Contact("navn", "mail@example.invalid", 10000000, when)
    full = Report("system", "0000000000", 0, contact, Wish("job", when), Wish("udd", when))
    bare = Report("system", "0000000000", 0)
    no_phone = Report("system", "0000000000", 0, Contact("navn", "m@example.invalid", None, when))
    return full, [bare, no_phone]


def _template(client: zeep.Client, binding: SoapBinding, wsdl: str) -> EnvelopeTemplate | None:
    """The fast path, unless zeep is set to add something per message that a copy would miss.

    Raises:
        ServiceError: zeep cannot build our request from this WSDL at all (an element it
            requires that the spec does not have): no row could ever be sent.
    """
    if client.plugins or client.settings.extra_http_headers:
        return None
    full, probes = _probe_reports()
    try:
        return EnvelopeTemplate.render(
            binding, OPERATION, build_request(full), [build_request(probe) for probe in probes]
        )
    except zeep.exceptions.Error as error:
        message = _("the WSDL {wsdl}: cannot build {operation}'s request: {error}")
        raise ServiceError(
            mask_cpr(message.format(wsdl=wsdl, operation=OPERATION, error=error))
        ) from error
