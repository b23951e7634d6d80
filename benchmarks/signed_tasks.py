"""Child-process tasks of measurement 4's signed rows: mutual TLS and WS-Security, as production.

`client_settings` turns the parent's throwaway PKI (`benchmarks.pki`) into the client's
settings: the client certificate opens mutual TLS and signs every request, as one OCES3
organisation certificate does. `signed_breakdown` splits a signed request's client CPU into
its phases with `time.process_time()` around each, in this module only: the product code
carries no timing. One sequential thread, so the process's CPU clock is that thread's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xmlsec
import zeep.wsse.signature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from batch.records import Answer
from batch.service.answer import read_reply
from batch.service.client import ClientSettings, UdbClient
from batch.service.request import build_request
from batch.service.signing import SigningSettings
from batch.service.tls import TlsSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from batch.records import Report
    from batch.service.transport import HttpReply

__all__ = ["bare_rsa_ms", "client_settings", "signed_breakdown"]

_SIGNED_INFO_BYTES = 900  # about the size of a canonical SignedInfo with two references


def client_settings(
    wsdl: str, pool_size: int, secure: dict[str, str] | None, *, sign: bool = True
) -> ClientSettings:
    """The client's settings; with `secure` (PEM paths: ca, cert, key) mutual TLS and signing."""
    if secure is None:
        return ClientSettings(wsdl=wsdl, pool_size=pool_size)
    tls = TlsSettings(
        ca_bundle=Path(secure["ca"]),
        client_cert=Path(secure["cert"]),
        client_key=Path(secure["key"]),
    )
    signing = SigningSettings(key=Path(secure["key"]), cert=Path(secure["cert"])) if sign else None
    return ClientSettings(wsdl=wsdl, pool_size=pool_size, tls=tls, signing=signing)


def bare_rsa_ms(key_file: str, count: int = 400) -> float:
    """CPU ms of one RSA PKCS#1 v1.5 SHA-256 signature with `cryptography`: the goal's basis."""
    loaded = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    key: RSAPrivateKey = loaded  # type: ignore[assignment]  # the bench's keys are RSA
    data = bytes(_SIGNED_INFO_BYTES)
    key.sign(data, padding.PKCS1v15(), hashes.SHA256())  # OpenSSL's per-key set-up, once
    began = time.process_time()
    for _ in range(count):
        key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return 1000 * (time.process_time() - began) / count


class _Clock:
    """CPU seconds spent inside `xmlsec.SignatureContext.sign`, summed over every call."""

    def __init__(self) -> None:
        self.seconds = 0.0


class _TimedContext:
    """An `xmlsec.SignatureContext` whose `sign` (C14N, digests, RSA: one C call) is timed."""

    def __init__(self, clock: _Clock) -> None:
        self._ctx = xmlsec.SignatureContext()
        self._clock = clock

    def __setattr__(self, name: str, value: object) -> None:
        if name == "key" and isinstance(value, xmlsec.Key):  # zeep sets it: the real one gets it
            self._ctx.key = value
        else:
            object.__setattr__(self, name, value)

    def register_id(self, node: etree._Element, name: str, ns: str) -> None:
        self._ctx.register_id(node, name, ns)

    def sign(self, node: etree._Element) -> None:
        began = time.process_time()
        self._ctx.sign(node)
        self._clock.seconds += time.process_time() - began


class _TimedXmlsec:
    """`xmlsec` as zeep's signing module sees it, but its signature contexts are timed."""

    def __init__(self, clock: _Clock) -> None:
        self._clock = clock

    def SignatureContext(self) -> _TimedContext:  # noqa: N802 - xmlsec's own name
        return _TimedContext(self._clock)

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401 - whatever xmlsec holds
        return getattr(xmlsec, name)


def _time_xmlsec_sign(clock: _Clock) -> None:
    """Give zeep's signing module an `xmlsec` whose contexts time their `sign` (this process)."""
    zeep.wsse.signature.xmlsec = _TimedXmlsec(clock)  # type: ignore[assignment,attr-defined]


def _xmlsec_rsa_ms(key_file: str, count: int = 400) -> float:
    """CPU ms of one RSA-SHA256 signature by xmlsec itself (its OpenSSL, a context each)."""
    key = xmlsec.Key.from_file(key_file, xmlsec.constants.KeyDataFormatPem)
    data = bytes(_SIGNED_INFO_BYTES)
    began = time.process_time()
    for _ in range(count):
        ctx = xmlsec.SignatureContext()
        ctx.key = key
        ctx.sign_binary(data, xmlsec.constants.TransformRsaSha256)
    return 1000 * (time.process_time() - began) / count


def _timed(items: list[Any], step: Callable[[Any], Any]) -> tuple[list[Any], float]:
    """`step` over `items`; the results and the CPU ms a item."""
    began = time.process_time()
    results = [step(item) for item in items]
    return results, 1000 * (time.process_time() - began) / len(items)


def _phases(client: UdbClient, items: list[Report], clock: _Clock) -> Iterator[tuple[str, float]]:
    """Each phase of a signed request over all `items`, one phase after the other."""
    template = client._template  # noqa: SLF001 - the benchmark times the client's own steps
    wsse = client._zeep.wsse  # noqa: SLF001
    assert template is not None
    assert wsse is not None
    trees, ms = _timed(items, lambda report: template.fill(build_request(report)))
    yield "envelope", ms
    signed, ms = _timed(trees, lambda pair: wsse.apply(*pair))
    yield "wsse", ms
    bodies, ms = _timed(
        signed,
        lambda pair: (etree.tostring(pair[0], encoding="utf-8", xml_declaration=True), pair[1]),
    )
    yield "serialize", ms
    pool = client._pool  # noqa: SLF001
    replies, ms = _timed(bodies, lambda pair: pool.request("POST", *pair))
    yield "http", ms
    _, ms = _timed(replies, lambda reply: _accepted(reply, client))
    yield "answer", ms
    yield "sign_call", 1000 * clock.seconds / len(items)


def _accepted(reply: HttpReply, client: UdbClient) -> Answer:
    answer = read_reply(reply, client.answer_shape)
    if not (isinstance(answer, Answer) and answer.ok):
        raise RuntimeError(f"not accepted: {answer}")
    return answer


def signed_breakdown(wsdl: str, rows: int, secure: dict[str, str]) -> dict[str, Any]:
    """CPU ms a signed request spends in each phase, sequential, warm, no latency.

    `xmlsec` signs in one C call (C14N of Body and Timestamp, their SHA-256 digests, C14N of
    SignedInfo, the RSA signature); its time is taken apart with a separate measurement of
    xmlsec's RSA signature alone with the same key.
    """
    from benchmarks.submit_tasks import reports  # noqa: PLC0415 - a sibling task module

    items = reports(rows)
    clock = _Clock()
    with UdbClient(client_settings(wsdl, 1, secure)) as client:
        for report in items[:20]:  # the connection, OpenSSL's key set-up and caches warm
            _accepted_send(client, report)
        _time_xmlsec_sign(clock)
        phases = dict(_phases(client, items, clock))
    rsa = _xmlsec_rsa_ms(secure["key"])
    return {
        "rows": rows,
        "envelope_ms": phases["envelope"],
        "wsse_python_ms": phases["wsse"] - phases["sign_call"],
        "c14n_digest_ms": phases["sign_call"] - rsa,
        "rsa_xmlsec_ms": rsa,
        "serialize_ms": phases["serialize"],
        "tls_http_ms": phases["http"],
        "answer_ms": phases["answer"],
        "rsa_cryptography_ms": bare_rsa_ms(secure["key"]),
    }


def _accepted_send(client: UdbClient, report: Report) -> None:
    answer = client.send(report)
    if not (isinstance(answer, Answer) and answer.ok):
        raise RuntimeError(f"not accepted: {answer}")
