"""Reading answers and failures: a reply or an exception becomes an `Answer` or a typed `Failure`.

The reply is read by a hardened parser that looks only at what the answer needs; every
`Failure` is made here, masked and bounded.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import socket
import ssl
from typing import TYPE_CHECKING

import requests
import urllib3.exceptions
import zeep.exceptions
from lxml import etree

from batch.privacy import mask_cpr
from batch.records import Answer, Failure, FailureKind, StopCause
from batch.service.diagnose import setup_cause
from batch.service.transport import (
    HostileXmlError,
    HttpReply,
    ResponseTooLargeError,
    SoapFault,
    fault_code_name,
    fault_detail,
    read_soap,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from batch.service.contract import AnswerShape
    from batch.service.proxy import Proxy

__all__ = ["classify", "classify_http_failure", "parse_retry_after", "read_reply"]

_MAX_MESSAGE = 600
_RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
_CORRELATION_HEADERS = ("x-correlation-id", "correlation-id", "x-request-id")


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
    setup: StopCause | None = None,
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
        setup=setup,
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
    location = headers.get("location")
    if 300 <= status < 400 and location and not detail:  # noqa: PLR2004 - the 3xx range
        detail = f"redirected to {location} (redirects are not followed; check the address)"
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


def _classify_tls(error: ssl.SSLError, message: str) -> Failure:
    """A certificate problem (theirs untrusted, ours refused) will not heal by retrying."""
    if isinstance(error, ssl.SSLCertVerificationError) or "CERTIFICATE" in str(error).upper():
        return _failure(FailureKind.CONNECTION, message, retryable=False)
    return _failure(FailureKind.CONNECTION, message, retryable=True)


_UNREADABLE = (
    HostileXmlError,
    ResponseTooLargeError,
    etree.XMLSyntaxError,
    urllib3.exceptions.DecodeError,
)
_WRAPPERS = (
    urllib3.exceptions.SSLError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.ProxyError,
)


def _unwrap(error: BaseException) -> BaseException:
    """The exception urllib3 wrapped (SSLError, ProtocolError, ProxyError carry it in args)."""
    while isinstance(error, _WRAPPERS):
        inner = [arg for arg in error.args if isinstance(arg, BaseException)]
        if not inner:
            break
        error = inner[-1]
    return error


def _describe(error: BaseException, proxy: Proxy | None) -> str:
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, urllib3.exceptions.ProxyError) and proxy is not None:
        return f"the proxy {proxy.shown} could not be reached: {text}"
    return text


def classify(error: BaseException, proxy: Proxy | None = None) -> Failure:
    """THE one mapping from an exception of the HTTP or SOAP stack to a `Failure`.

    Covers urllib3 (and the http.client, socket and ssl errors it wraps), and zeep's and
    requests' exceptions for callers that go through them. A set-up problem (see
    `batch.service.diagnose`) is final and carries its cause; timeouts and dropped or refused
    connections are retryable; hostile or unreadable responses are BAD_RESPONSE (retryable,
    never an answer). `proxy` names the proxy in messages about it.
    """
    if isinstance(error, zeep.exceptions.Error) and (found := _classify_zeep(error)):
        return found
    message = _describe(error, proxy)
    setup = setup_cause(error, proxy)
    if setup is not None:
        return _failure(
            FailureKind.CONNECTION, f"{setup.text()}: {message}", retryable=False, setup=setup
        )
    inner = _unwrap(error)
    if isinstance(inner, ssl.SSLError):
        return _classify_tls(inner, message)
    # Anything else (OSError, http.client.HTTPException, the unforeseen) lost the connection.
    kind = FailureKind.CONNECTION
    # requests' ConnectTimeout is both a Timeout and a ConnectionError: timeouts go first;
    # urllib3's NewConnectionError (refused, no such host) is a ConnectTimeoutError: not one.
    timeouts = (TimeoutError, socket.timeout, requests.Timeout, urllib3.exceptions.TimeoutError)
    if isinstance(inner, timeouts) and not isinstance(inner, urllib3.exceptions.NewConnectionError):
        kind, message = FailureKind.TIMEOUT, f"no answer within the time limit ({message})"
    elif isinstance(inner, _UNREADABLE):
        kind = FailureKind.BAD_RESPONSE
    return _failure(kind, message, retryable=True)


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
