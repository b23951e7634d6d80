"""The SOAP client: one `Report` in, UDB's `Answer` or a typed `Failure` out, from many threads.

zeep reads the contract (any WSDL with the spec's element names, SOAP 1.1 or 1.2), renders
the envelope once as a template filled per request (`batch.service.envelope`) and signs each
one; the bytes travel over `batch.service.transport`'s lean HTTP pool and the reply is read by a
hardened parser that looks only at what the answer needs. Nothing here names the service's
namespace or address: both come from the WSDL or the settings.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import socket
import ssl
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.wsdl.bindings.soap import Soap12Binding, SoapBinding

from batch.closing import Closing
from batch.errors import ConfigError, ServiceError
from batch.privacy import mask_cpr
from batch.records import Answer, Contact, Failure, FailureKind, Report, Wish
from batch.service.envelope import EnvelopeTemplate
from batch.service.security import LazySslContext, SigningSettings, TlsSettings, build_wsse
from batch.service.transport import (
    ConnectTimeoutError,
    HostileXmlError,
    HttpPool,
    HttpReply,
    ResponseTooLargeError,
    SoapFault,
    WsdlTransport,
    fault_code_name,
    fault_detail,
    read_soap,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "OPERATION",
    "AnswerShape",
    "ClientSettings",
    "UdbClient",
    "build_request",
    "classify",
    "classify_http_failure",
    "read_reply",
]

OPERATION = "IndberetningKontaktJobOgUddOensker"
# Danish municipal systems record local time (spec README); a naive time is taken as that.
LOCAL_TIME = ZoneInfo("Europe/Copenhagen")
_MAX_MESSAGE = 600
_RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
_CORRELATION_HEADERS = ("x-correlation-id", "correlation-id", "x-request-id")


@dataclass(frozen=True)
class ClientSettings:
    """Where the service is and how to reach it; passed in once, never changed during a run."""

    wsdl: str | None = None  # path or URL; None = the bundled contract
    endpoint: str | None = None  # overrides the WSDL's address
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    pool_size: int = 32  # >= the number of worker threads, or connections are thrown away
    tls: TlsSettings = field(default_factory=TlsSettings)
    signing: SigningSettings | None = None

    def __post_init__(self) -> None:
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ConfigError("client: timeouts must be positive")
        if self.pool_size < 1:
            raise ConfigError("client: pool_size must be at least 1")


@dataclass(frozen=True, slots=True)
class AnswerShape:
    """The qualified names of IndberetningSvar and its children, as the WSDL defines them."""

    answer: str
    ok: str
    fejl: str | None
    fejlkode: str | None
    fejltekst: str | None


# --- the request ----------------------------------------------------------------------------


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_TIME)


def _wish(wish: Wish, text_name: str, time_name: str) -> dict[str, object]:
    return {text_name: wish.text, time_name: _aware(wish.registered)}


def build_request(report: Report) -> dict[str, object]:
    """The request's elements by the spec's names: THE one place a Report becomes a request.

    Optional groups are left out when absent (not sent empty), so is KontaktTelefon. Times keep
    their offset; a naive time (a bug upstream) is read as Europe/Copenhagen, never sent bare.
    """
    request: dict[str, object] = {
        "ModtagerSystemID": report.system_id,
        "CPRNr": report.cpr,
        "KommuneInstitutionNummer": report.institution,
    }
    if report.contact is not None:
        contact: dict[str, object] = {
            "KontaktNavn": report.contact.name,
            "KontaktMail": report.contact.mail,
        }
        if report.contact.phone is not None:
            contact["KontaktTelefon"] = report.contact.phone
        contact["KontaktRegistreringstid"] = _aware(report.contact.registered)
        request["KommuneKontakt"] = contact
    if report.job is not None:
        request["JobOnsker"] = _wish(report.job, "JobOnsker", "JobRegistreringstid")
    if report.education is not None:
        request["UddannelsesOnsker"] = _wish(
            report.education, "UddannelsesOnsker", "UddannelsesRegistreringstid"
        )
    return request


# --- failures -------------------------------------------------------------------------------


def _failure(
    kind: FailureKind,
    message: str,
    *,
    retryable: bool,
    http_status: int | None = None,
    retry_after: float | None = None,
    fault_code: str | None = None,
    correlation_id: str | None = None,
) -> Failure:
    """Every Failure is made here, so every message is masked and bounded."""
    text = mask_cpr(" ".join(message.split()))
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 3] + "..."
    return Failure(
        kind=kind,
        message=text,
        retryable=retryable,
        http_status=http_status,
        retry_after=retry_after,
        fault_code=fault_code,
        correlation_id=mask_cpr(correlation_id) if correlation_id else None,
    )


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date; None if bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
    return max(0.0, seconds) if seconds == seconds else None  # NaN is no answer  # noqa: PLR0124


def _correlation_from(headers: Mapping[str, str]) -> str | None:
    for name in _CORRELATION_HEADERS:
        if headers.get(name):
            return headers[name]
    return None


def classify_http_failure(
    status: int, headers: Mapping[str, str] | None = None, detail: str | None = None
) -> Failure:
    """The failure an HTTP status means when no SOAP fault says more (headers in lower case).

    429 and 500/502/503/504 are worth retrying, and so is 408; every other status is our
    configuration or our request, and sending the same again would fail the same way.
    """
    headers = headers or {}
    if status == http.client.TOO_MANY_REQUESTS:
        kind, retryable = FailureKind.RATE_LIMITED, True
    elif status == http.client.REQUEST_TIMEOUT:
        kind, retryable = FailureKind.TIMEOUT, True
    elif status >= http.client.INTERNAL_SERVER_ERROR:
        kind, retryable = FailureKind.SERVER_ERROR, status in _RETRYABLE_STATUS
    else:
        kind, retryable = FailureKind.CLIENT_ERROR, False
    reason = http.client.responses.get(status, "")
    return _failure(
        kind,
        f"HTTP {status} {reason}{f': {detail}' if detail else ''}",
        retryable=retryable,
        http_status=status,
        retry_after=parse_retry_after(headers.get("retry-after")),
        correlation_id=_correlation_from(headers),
    )


def _fault_kind(code: str, error_code: str | None, status: int | None) -> tuple[FailureKind, bool]:
    """SOAP 1.2 Sender / 1.1 Client: our request; Receiver / Server: theirs, try again."""
    if status == http.client.TOO_MANY_REQUESTS:
        return FailureKind.RATE_LIMITED, True
    if code in ("Sender", "Client") or (not code and error_code == "IPL000002"):
        return FailureKind.SENDER_FAULT, False
    if code in ("Receiver", "Server") or (not code and error_code == "IPL000001"):
        return FailureKind.RECEIVER_FAULT, True
    return FailureKind.CLIENT_ERROR, False  # VersionMismatch, MustUnderstand: configuration


def _fault_failure(fault: SoapFault, status: int | None, headers: Mapping[str, str]) -> Failure:
    error_code = fault.detail.get("errorcode")
    kind, retryable = _fault_kind(fault.code, error_code, status)
    message = fault.detail.get("errormessage") or fault.detail.get("message")
    said = "; ".join(part for part in (fault.reason, message, fault.detail.get("details")) if part)
    return _failure(
        kind,
        f"SOAP fault {fault.code or '?'}{f' {error_code}' if error_code else ''}: {said}",
        retryable=retryable,
        http_status=status,
        retry_after=parse_retry_after(headers.get("retry-after")),
        fault_code=error_code,
        correlation_id=fault.detail.get("correlationid") or _correlation_from(headers),
    )


def _exception_failure(kind: FailureKind, error: BaseException, *, retryable: bool) -> Failure:
    return _failure(kind, f"{type(error).__name__}: {error}", retryable=retryable)


def _classify_zeep(error: zeep.exceptions.Error) -> Failure | None:
    if isinstance(error, zeep.exceptions.Fault):
        detail = fault_detail(error.detail) if error.detail is not None else {}
        fault = SoapFault(fault_code_name(error.code or ""), error.message or "", detail)
        return _fault_failure(fault, None, {})
    if isinstance(error, zeep.exceptions.TransportError):
        return classify_http_failure(error.status_code)
    if isinstance(error, zeep.exceptions.XMLSyntaxError | zeep.exceptions.DTDForbidden):
        return _exception_failure(FailureKind.BAD_RESPONSE, error, retryable=True)
    if isinstance(error, zeep.exceptions.EntitiesForbidden):
        return _exception_failure(FailureKind.BAD_RESPONSE, error, retryable=True)
    return None


def _classify_tls(error: ssl.SSLError) -> Failure:
    """A certificate problem (theirs untrusted, ours refused) will not heal by retrying."""
    if isinstance(error, ssl.SSLCertVerificationError) or "CERTIFICATE" in str(error).upper():
        return _exception_failure(FailureKind.CONNECTION, error, retryable=False)
    return _exception_failure(FailureKind.CONNECTION, error, retryable=True)


_UNREADABLE = (HostileXmlError, ResponseTooLargeError, etree.XMLSyntaxError)


def classify(error: BaseException) -> Failure:
    """THE one mapping from an exception of the HTTP or SOAP stack to a `Failure`.

    Covers our transport (http.client, socket, ssl), and zeep's and requests' exceptions for
    callers that go through them. Timeouts and dropped or refused connections are retryable;
    hostile or unreadable responses are BAD_RESPONSE (retryable, never an answer).
    """
    if isinstance(error, zeep.exceptions.Error) and (found := _classify_zeep(error)):
        return found
    if isinstance(error, ssl.SSLError):
        return _classify_tls(error)
    if isinstance(error, ConnectTimeoutError):
        return _failure(FailureKind.TIMEOUT, str(error), retryable=True)
    # requests' ConnectTimeout is both a Timeout and a ConnectionError: timeouts go first.
    if isinstance(error, TimeoutError | socket.timeout | requests.Timeout):
        return _failure(
            FailureKind.TIMEOUT, f"no answer within the read timeout ({error})", retryable=True
        )
    if isinstance(error, _UNREADABLE):
        return _exception_failure(FailureKind.BAD_RESPONSE, error, retryable=True)
    # Anything else (OSError, http.client.HTTPException, the unforeseen) lost the connection.
    return _exception_failure(FailureKind.CONNECTION, error, retryable=True)


# --- the reply ------------------------------------------------------------------------------


def _bad(message: str, status: int) -> Failure:
    return _failure(FailureKind.BAD_RESPONSE, message, retryable=True, http_status=status)


def _read_answer(payload: etree._Element, shape: AnswerShape, status: int) -> Answer | Failure:
    """IndberetningSvar -> Answer; anything else, or a malformed one, is BAD_RESPONSE."""
    if payload.tag != shape.answer:
        return _bad(f"the reply is {payload.tag}, not {shape.answer}", status)
    ok_text = (payload.findtext(shape.ok) or "").strip()
    if ok_text not in ("true", "1", "false", "0"):
        return _bad(f"the reply has no valid Ok (got {ok_text[:20]!r})", status)
    fejl = payload.find(shape.fejl) if shape.fejl else None
    code: int | None = None
    text: str | None = None
    if fejl is not None and shape.fejlkode and shape.fejltekst:
        code_text = (fejl.findtext(shape.fejlkode) or "").strip()
        try:
            code = int(code_text) if code_text else None
        except ValueError:
            return _bad(f"the reply's Fejlkode is not a number: {code_text[:20]!r}", status)
        text = fejl.findtext(shape.fejltekst)
    return Answer(ok=ok_text in ("true", "1"), code=code, text=text)


def read_reply(reply: HttpReply, shape: AnswerShape) -> Answer | Failure:
    """Turn one HTTP response into UDB's answer or a typed failure; never raises.

    A SOAP fault decides by its code whatever the HTTP status (SOAP 1.1 sends every fault with
    500), except that 429 is always RATE_LIMITED. A 2xx must hold a well-formed IndberetningSvar
    in the WSDL's namespace with an Ok: anything else is BAD_RESPONSE, retryable, and never
    mistaken for an acceptance.
    """
    unreadable = "the reply is not a SOAP envelope with a Body"
    try:
        found = read_soap(reply.body)
    except (HostileXmlError, etree.XMLSyntaxError, ValueError) as error:
        found, unreadable = None, f"unreadable reply: {type(error).__name__}: {error}"
    if isinstance(found, SoapFault):
        return _fault_failure(found, reply.status, reply.headers)
    if not 200 <= reply.status < 300:  # noqa: PLR2004 - the 2xx range
        return classify_http_failure(reply.status, reply.headers)
    if found is None:
        return _bad(unreadable, reply.status)
    return _read_answer(found, shape, reply.status)


# --- the contract ---------------------------------------------------------------------------


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
        raise ServiceError(f"the WSDL {wsdl} has no SOAP operation named {OPERATION}")
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
        raise ServiceError(f"the WSDL {wsdl}: {OPERATION}'s answer has no element Ok")
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
    settings: ClientSettings, wsdl: str, ssl_context: ssl.SSLContext | None
) -> zeep.Client:
    wsse = build_wsse(settings.signing) if settings.signing is not None else None
    transport = WsdlTransport(
        wsdl,
        ssl_context=ssl_context,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    zeep_settings = zeep.Settings(
        strict=True, forbid_dtd=True, forbid_entities=True, xml_huge_tree=False
    )
    try:
        return zeep.Client(  # type: ignore[no-untyped-call]
            wsdl, transport=transport, wsse=wsse, settings=zeep_settings
        )
    except Exception as error:
        raise ServiceError(
            mask_cpr(f"cannot load the WSDL {wsdl}: {type(error).__name__}: {error}")
        ) from error


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
        raise ServiceError(
            mask_cpr(f"the WSDL {wsdl}: cannot build {OPERATION}'s request: {error}")
        ) from error


class UdbClient(Closing):
    """Sends reports to UDB; one instance is shared by all worker threads (`batch.records.Sender`).

    Everything that can fail slowly or for good (WSDL, certificates, keys) happens in the
    constructor, before any thread starts; `send` then only builds, signs, posts and reads.
    """

    def __init__(self, settings: ClientSettings) -> None:
        """Load the contract and certificates once.

        Raises:
            ServiceError: the WSDL cannot be loaded or lacks the operation, or no address.
            ConfigError: a certificate, key or password cannot be used.
        """
        self._settings = settings
        wsdl = settings.wsdl or _bundled_wsdl()
        tls = LazySslContext(settings.tls)
        self._zeep = _load_zeep(settings, wsdl, tls.context_for(wsdl))
        self._binding, address = _find_port(self._zeep, wsdl)
        self._shape = _answer_shape(self._binding, wsdl)
        self._template = _template(self._zeep, self._binding, wsdl)
        endpoint = settings.endpoint or address
        if not endpoint:
            raise ServiceError(f"the WSDL {wsdl} names no address; configure the endpoint")
        self._endpoint = endpoint
        ssl_context = tls.context_for(endpoint)
        self._options = {"address": endpoint}  # for zeep's WS-Addressing, if the WSDL asks
        self._pool = HttpPool(
            endpoint,
            ssl_context=ssl_context,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            size=settings.pool_size,
        )

    @property
    def endpoint(self) -> str:
        """The address requests go to (the override, or the WSDL's)."""
        return self._endpoint

    @property
    def answer_shape(self) -> AnswerShape:
        """What a valid answer looks like, as read from the WSDL."""
        return self._shape

    @property
    def uses_template(self) -> bool:
        """True when envelopes are filled from zeep's template rather than rendered per request."""
        return self._template is not None

    def envelope(self, report: Report) -> tuple[bytes, dict[str, str]]:
        """The exact bytes and HTTP headers `send` posts: built, timestamped and signed."""
        if self._template is None:
            return self.zeep_envelope(report)
        envelope, headers = self._template.fill(build_request(report))
        if self._zeep.wsse is not None:  # the same call zeep's `_create` makes last
            envelope, headers = self._zeep.wsse.apply(envelope, headers)
        return etree.tostring(envelope, encoding="utf-8", xml_declaration=True), headers

    def zeep_envelope(self, report: Report) -> tuple[bytes, dict[str, str]]:
        """What zeep alone would post for `report`: the reference the template is tested against."""
        envelope, headers = self._binding._create(  # type: ignore[no-untyped-call]  # noqa: SLF001
            OPERATION, (), build_request(report), client=self._zeep, options=self._options
        )
        return etree.tostring(envelope, encoding="utf-8", xml_declaration=True), dict(headers)

    def post(self, body: bytes, headers: Mapping[str, str]) -> Answer | Failure:
        """Post ready-made bytes and read the reply; never raises for a transport problem."""
        try:
            reply = self._pool.request("POST", body, headers)
        except Exception as error:  # noqa: BLE001 - every transport problem becomes a Failure
            return classify(error)
        return read_reply(reply, self._shape)

    def send(self, report: Report) -> Answer | Failure:
        """Send one report; thread-safe. Transport and service problems come back as Failure."""
        body, headers = self.envelope(report)
        return self.post(body, headers)

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._pool.close()
        self._zeep.transport.session.close()

    def __repr__(self) -> str:
        return f"UdbClient(endpoint={self._endpoint!r})"
