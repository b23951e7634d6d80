import http.client
import socket
import ssl
from datetime import UTC, datetime

import pytest
import requests
import urllib3.exceptions
import zeep.exceptions
from lxml import etree

from batch.records import Answer, FailureKind
from batch.service.answer import (
    classify,
    classify_http_failure,
    parse_retry_after,
    read_reply,
)
from batch.service.contract import AnswerShape
from batch.service.transport import HostileXmlError, HttpReply

NS = "urn:test:udb"
SHAPE = AnswerShape(
    answer=f"{{{NS}}}IndberetningSvar",
    ok=f"{{{NS}}}Ok",
    fejl=f"{{{NS}}}Fejl",
    fejlkode=f"{{{NS}}}Fejlkode",
    fejltekst=f"{{{NS}}}Fejltekst",
)
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def envelope(inner: str, soap: str = SOAP12) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><e:Envelope xmlns:e="{soap}">'
        f"<e:Body>{inner}</e:Body></e:Envelope>"
    ).encode()


def svar(inner: str, ns: str = NS) -> str:
    return f'<u:IndberetningSvar xmlns:u="{ns}">{inner}</u:IndberetningSvar>'


def reply(body: bytes, status: int = 200, **headers: str) -> HttpReply:
    return HttpReply(status, {k.replace("_", "-").lower(): v for k, v in headers.items()}, body)


FAULT12 = """<e:Fault xmlns:e="{soap}"><e:Code><e:Value>e:{code}</e:Value></e:Code>
<e:Reason><e:Text xml:lang="en">{reason}</e:Text></e:Reason>
<e:Detail><d:Error xmlns:d="urn:ipl"><d:CorrelationID>c-123</d:CorrelationID>
<d:ErrorCode>{error}</d:ErrorCode><d:ErrorMessage>{message}</d:ErrorMessage></d:Error>
</e:Detail></e:Fault>"""


def fault12(code: str, error: str, message: str = "m", reason: str = "r") -> bytes:
    text = FAULT12.format(soap=SOAP12, code=code, error=error, message=message, reason=reason)
    return envelope(text)


def fault11(code: str, reason: str = "r") -> bytes:
    inner = f"<e:Fault><faultcode>e:{code}</faultcode><faultstring>{reason}</faultstring></e:Fault>"
    return envelope(inner, SOAP11)


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        ("<u:Ok>true</u:Ok>", Answer(ok=True)),
        ("<u:Ok>1</u:Ok>", Answer(ok=True)),
        (
            (
                "<u:Ok>false</u:Ok><u:Fejl><u:Fejlkode>14</u:Fejlkode>"
                "<u:Fejltekst>Den unge findes ikke</u:Fejltekst></u:Fejl>"
            ),
            Answer(ok=False, code=14, text="Den unge findes ikke"),
        ),
        ("<u:Ok> false </u:Ok>", Answer(ok=False)),
    ],
)
def test_a_well_formed_answer_is_read(inner, expected):
    """IndberetningSvar in the WSDL's namespace becomes an Answer with Ok, code and text."""
    assert read_reply(reply(envelope(svar(inner))), SHAPE) == expected


@pytest.mark.parametrize(
    "body",
    [
        envelope(svar("<u:Ok>true</u:Ok>", ns="urn:somebody:else")),  # wrong namespace
        envelope(svar("")),  # no Ok
        envelope(svar("<u:Ok>yes</u:Ok>")),  # not a boolean
        envelope(svar("<u:Ok>false</u:Ok><u:Fejl><u:Fejlkode>x</u:Fejlkode></u:Fejl>")),
        envelope(f'<u:Other xmlns:u="{NS}"><u:Ok>true</u:Ok></u:Other>'),  # another element
        envelope(""),  # empty Body
        b"<html><body>Ok</body></html>",  # not SOAP
        b"Ok=true",  # not XML
        b"",  # nothing
        envelope(svar("<u:Ok>true</u:Ok>"))[:-20],  # cut short
        (
            b'<!DOCTYPE e [<!ENTITY t "true">]>'
            + envelope(svar("<u:Ok>&t;</u:Ok>")).split(b"?>", 1)[1]
        ),
    ],
    ids=[
        "wrong-ns",
        "no-ok",
        "bad-bool",
        "bad-code",
        "other",
        "empty-body",
        "html",
        "text",
        "empty",
        "truncated",
        "dtd",
    ],
)
def test_anything_but_a_valid_answer_is_a_retryable_bad_response(body):
    """A 200 that is not a well-formed IndberetningSvar is BAD_RESPONSE, never an Answer."""
    result = read_reply(reply(body), SHAPE)
    assert not isinstance(result, Answer)
    assert result.kind is FailureKind.BAD_RESPONSE
    assert result.retryable
    assert result.http_status == 200


def test_sender_fault_is_not_retryable_and_carries_code_and_correlation():
    """A SOAP 1.2 Sender fault (schema rejection) is SENDER_FAULT, final, with its ids."""
    result = read_reply(reply(fault12("Sender", "IPL000002"), 400), SHAPE)
    assert result.kind is FailureKind.SENDER_FAULT
    assert not result.retryable
    assert (result.fault_code, result.correlation_id, result.http_status) == (
        "IPL000002",
        "c-123",
        400,
    )


@pytest.mark.parametrize("status", [500, 503])
def test_receiver_fault_is_retryable(status):
    """A Receiver fault (IPL000001) is RECEIVER_FAULT and worth retrying."""
    result = read_reply(reply(fault12("Receiver", "IPL000001"), status), SHAPE)
    assert result.kind is FailureKind.RECEIVER_FAULT
    assert result.retryable
    assert result.http_status == status


@pytest.mark.parametrize(
    ("code", "kind", "retryable"),
    [
        ("Client", FailureKind.SENDER_FAULT, False),
        ("Server", FailureKind.RECEIVER_FAULT, True),
        ("MustUnderstand", FailureKind.CLIENT_ERROR, False),
    ],
)
def test_soap11_faults_decide_by_code_not_by_the_500(code, kind, retryable):
    """SOAP 1.1 sends every fault with 500; its faultcode decides the retry."""
    result = read_reply(reply(fault11(code), 500), SHAPE)
    assert (result.kind, result.retryable) == (kind, retryable)


def test_429_is_rate_limited_with_retry_after_even_with_a_fault_body():
    """429 is RATE_LIMITED and retryable, Retry-After read from the header."""
    result = read_reply(reply(fault12("Receiver", "IPL000004"), 429, retry_after="7"), SHAPE)
    assert result.kind is FailureKind.RATE_LIMITED
    assert result.retryable
    assert result.retry_after == 7.0
    plain = read_reply(reply(b"slow down", 429, retry_after="2"), SHAPE)
    assert (plain.kind, plain.retry_after) == (FailureKind.RATE_LIMITED, 2.0)


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (500, FailureKind.SERVER_ERROR, True),
        (502, FailureKind.SERVER_ERROR, True),
        (503, FailureKind.SERVER_ERROR, True),
        (504, FailureKind.SERVER_ERROR, True),
        (501, FailureKind.SERVER_ERROR, False),
        (400, FailureKind.CLIENT_ERROR, False),
        (401, FailureKind.CLIENT_ERROR, False),
        (404, FailureKind.CLIENT_ERROR, False),
        (408, FailureKind.TIMEOUT, True),
        (429, FailureKind.RATE_LIMITED, True),
        (302, FailureKind.CLIENT_ERROR, False),
    ],
)
def test_status_without_a_fault(status, kind, retryable):
    """Without a SOAP fault, the HTTP status alone decides kind and retry."""
    result = read_reply(reply(b"<html>gateway</html>", status), SHAPE)
    assert (result.kind, result.retryable, result.http_status) == (kind, retryable, status)
    assert classify_http_failure(status).kind is kind


def test_503_retry_after_is_kept():
    """A Retry-After on a 503 travels with the failure for the scheduler."""
    result = read_reply(reply(b"", 503, retry_after="30"), SHAPE)
    assert (result.kind, result.retry_after) == (FailureKind.SERVER_ERROR, 30.0)


def test_retry_after_as_http_date_and_nonsense():
    """Retry-After is seconds or an HTTP date; nonsense gives None, the past gives 0."""
    now = datetime(2025, 6, 2, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 02 Jun 2025 10:00:30 GMT", now) == 30.0
    assert parse_retry_after("Mon, 02 Jun 2025 09:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after(" 5 ") == 5.0


def test_cpr_numbers_in_fault_texts_are_masked():
    """A platform that echoes the CPR number (with or without hyphen) never leaks it."""
    message = "CPRNr 0603114290 and 060311-4290 invalid"
    result = read_reply(reply(fault12("Sender", "IPL000002", message, message), 400), SHAPE)
    assert "4290" not in result.message
    assert "060311-XXXX" in result.message


@pytest.mark.parametrize(
    ("error", "kind", "retryable"),
    [
        (urllib3.exceptions.ConnectTimeoutError("no connection"), FailureKind.TIMEOUT, True),
        (urllib3.exceptions.ReadTimeoutError(None, "/", "slow"), FailureKind.TIMEOUT, True),
        (urllib3.exceptions.NewConnectionError(None, "refused"), FailureKind.CONNECTION, True),
        (
            urllib3.exceptions.ProtocolError("aborted", ConnectionResetError(104, "reset")),
            FailureKind.CONNECTION,
            True,
        ),
        (
            urllib3.exceptions.SSLError(ssl.SSLCertVerificationError(1, "verify failed")),
            FailureKind.CONNECTION,
            False,
        ),
        (urllib3.exceptions.DecodeError("bad gzip"), FailureKind.BAD_RESPONSE, True),
        (TimeoutError("timed out"), FailureKind.TIMEOUT, True),
        (socket.timeout("timed out"), FailureKind.TIMEOUT, True),  # noqa: UP041 - the alias
        (requests.ConnectTimeout("x"), FailureKind.TIMEOUT, True),
        (requests.ConnectionError("x"), FailureKind.CONNECTION, True),
        (ConnectionRefusedError(111, "refused"), FailureKind.CONNECTION, True),
        (http.client.RemoteDisconnected("closed"), FailureKind.CONNECTION, True),
        (http.client.IncompleteRead(b"x", 10), FailureKind.CONNECTION, True),
        (ssl.SSLEOFError(8, "EOF occurred"), FailureKind.CONNECTION, True),
        (ssl.SSLCertVerificationError(1, "verify failed"), FailureKind.CONNECTION, False),
        (HostileXmlError("dtd"), FailureKind.BAD_RESPONSE, True),
        (etree.XMLSyntaxError("bad", 1, 1, 1), FailureKind.BAD_RESPONSE, True),
        (zeep.exceptions.TransportError(status_code=503), FailureKind.SERVER_ERROR, True),
        (zeep.exceptions.TransportError(status_code=404), FailureKind.CLIENT_ERROR, False),
        (zeep.exceptions.Fault("Input error", code="soap:Sender"), FailureKind.SENDER_FAULT, False),
        (zeep.exceptions.Fault("x", code="soap:Receiver"), FailureKind.RECEIVER_FAULT, True),
        (zeep.exceptions.DTDForbidden("n", "s", "p"), FailureKind.BAD_RESPONSE, True),
        (zeep.exceptions.XMLSyntaxError("x"), FailureKind.BAD_RESPONSE, True),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_classify_maps_every_exception(error, kind, retryable):
    """THE mapping: each exception of the HTTP/SOAP stack gets its kind and retry decision."""
    result = classify(error)
    assert (result.kind, result.retryable) == (kind, retryable)


def test_classified_messages_are_masked():
    """An exception text with a CPR number is masked in the Failure."""
    result = classify(ConnectionResetError(104, "reset while sending 0603114290"))
    assert "0603114290" not in result.message
    assert "060311-XXXX" in result.message
