"""Child-process tasks of measurement 4's signed rows: mutual TLS and WS-Security, as production.

`client_settings` turns the parent's throwaway PKI (`benchmarks.pki`) into the client's
settings: the client certificate opens mutual TLS and signs every request, as one OCES3
organisation certificate does. `signed_breakdown` splits a signed request's client CPU into
its phases with `time.process_time()` around each, in this module only: the product code
carries no timing. One sequential thread, so the process's CPU clock is that thread's.
`zeep_signed_engine` is the scheduler's run signed by zeep's own pipeline, as before the
WS-Security template: the baseline beside it in the same run.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xmlsec
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from batch.records import Answer
from batch.service import contract
from batch.service.answer import read_reply
from batch.service.client import ClientSettings, UdbClient
from batch.service.request import build_request
from batch.service.signing import SigningSettings, build_zeep_wsse
from batch.service.tls import TlsSettings
from batch.service.wsse_template import WSU, SecurityTemplate

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from batch.records import Report
    from batch.service.transport import HttpReply
    from batch.service.wsse_template import Wsse

__all__ = ["bare_rsa_ms", "client_settings", "signed_breakdown", "zeep_signed_engine"]

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


def _timed(items: list[Any], step: Callable[[Any], Any]) -> tuple[list[Any], float]:
    """`step` over `items`; the results and the CPU ms a item."""
    began = time.process_time()
    results = [step(item) for item in items]
    return results, 1000 * (time.process_time() - began) / len(items)


def _phases(
    client: UdbClient, items: list[Report], zeep: Wsse, key: xmlsec.Key
) -> Iterator[tuple[str, float]]:
    """Each phase of a signed request over all `items`, one phase after the other.

    Copies of the same envelopes are signed first by zeep's own pipeline (the before) and by
    xmlsec on the filled template (the other way to sign it), in this process.
    """
    template = client._template  # noqa: SLF001 - the benchmark times the client's own steps
    wsse = client._zeep.wsse  # noqa: SLF001
    assert template is not None
    if not isinstance(wsse, SecurityTemplate):
        message = "the client signs with zeep's pipeline: the template declined"
        raise RuntimeError(message)  # noqa: TRY004 - a state of the client, not a wrong argument
    trees, ms = _timed(items, lambda report: template.fill(build_request(report)))
    yield "envelope", ms
    copies = [(copy.deepcopy(tree), dict(headers)) for tree, headers in trees]
    _, ms = _timed(copies, lambda pair: zeep.apply(*pair))
    yield "zeep_wsse", ms
    copies = [(copy.deepcopy(tree), dict(headers)) for tree, headers in trees]
    _, ms = _timed(copies, _xmlsec_signs(wsse, key))
    yield "xmlsec_template", ms
    filled, ms = _timed(trees, lambda pair: wsse.header(pair[0]))
    yield "header", ms
    _, ms = _timed(filled, wsse.digest)
    yield "digest", ms
    _, ms = _timed(filled, wsse.sign)
    yield "sign", ms
    bodies, ms = _timed(
        trees,
        lambda pair: (etree.tostring(pair[0], encoding="utf-8", xml_declaration=True), pair[1]),
    )
    yield "serialize", ms
    pool = client._pool  # noqa: SLF001
    replies, ms = _timed(bodies, lambda pair: pool.request("POST", *pair))
    yield "http", ms
    _, ms = _timed(replies, lambda reply: _accepted(reply, client))
    yield "answer", ms


def _xmlsec_signs(
    wsse: SecurityTemplate, key: xmlsec.Key
) -> Callable[[tuple[etree._Element, dict[str, str]]], None]:
    """The template filled, then signed by xmlsec: C14N, digests and RSA in one C call."""
    places = wsse._places  # noqa: SLF001 - where the template keeps the header's parts

    def sign(pair: tuple[etree._Element, dict[str, str]]) -> None:
        filled = wsse.header(pair[0])
        context = xmlsec.SignatureContext()
        context.key = key  # python-xmlsec copies the key into every context
        context.register_id(filled.body, "Id", WSU)
        context.register_id(filled.nodes[places.timestamp], "Id", WSU)
        signature = filled.nodes[places.signed_info].getparent()
        assert signature is not None
        context.sign(signature)

    return sign


def _accepted(reply: HttpReply, client: UdbClient) -> Answer:
    answer = read_reply(reply, client.answer_shape)
    if not (isinstance(answer, Answer) and answer.ok):
        raise RuntimeError(f"not accepted: {answer}")
    return answer


def signed_breakdown(wsdl: str, rows: int, secure: dict[str, str]) -> dict[str, Any]:
    """CPU ms a signed request spends in each phase, sequential, warm, no latency.

    The client signs with the WS-Security template (`batch.service.wsse_template`) in three
    steps, each timed here: the header copied and filled, the two digests, SignedInfo's C14N
    and its RSA signature. On copies of the same envelopes: zeep's whole pipeline
    (`build_zeep_wsse`, the before) and the template signed by xmlsec instead (the other way).
    """
    from benchmarks.submit_tasks import reports  # noqa: PLC0415 - a sibling task module

    items = reports(rows)
    settings = client_settings(wsdl, 1, secure)
    assert settings.signing is not None
    zeep = build_zeep_wsse(settings.signing)
    with UdbClient(settings) as client:
        for report in items[:20]:  # the connection, OpenSSL's key set-up and caches warm
            _accepted_send(client, report)
        template = client._template  # noqa: SLF001
        assert template is not None
        zeep.apply(*template.fill(build_request(items[0])))  # type: ignore[no-untyped-call]
        key = xmlsec.Key.from_file(secure["key"], xmlsec.constants.KeyDataFormatPem)
        phases = dict(_phases(client, items, zeep, key))
    return {
        "rows": rows,
        "envelope_ms": phases["envelope"],
        "wsse_header_ms": phases["header"],
        "c14n_digest_ms": phases["digest"],
        "rsa_sign_ms": phases["sign"],
        "serialize_ms": phases["serialize"],
        "tls_http_ms": phases["http"],
        "answer_ms": phases["answer"],
        "zeep_wsse_ms": phases["zeep_wsse"],
        "xmlsec_template_ms": phases["xmlsec_template"],
        "rsa_cryptography_ms": bare_rsa_ms(secure["key"]),
    }


def zeep_signed_engine(
    wsdl: str, rows: int, concurrency: int, secure: dict[str, str]
) -> dict[str, Any]:
    """`engine` with zeep's pipeline signing every message, as before the template: the baseline.

    Only this child process's client is built that way (`build_wsse` swapped where the
    contract module calls it); the product is unchanged.
    """
    from benchmarks.submit_tasks import engine  # noqa: PLC0415 - a sibling task module

    contract.build_wsse = build_zeep_wsse  # type: ignore[attr-defined]
    return engine(wsdl, rows, concurrency, secure=secure)


def _accepted_send(client: UdbClient, report: Report) -> None:
    answer = client.send(report)
    if not (isinstance(answer, Answer) and answer.ok):
        raise RuntimeError(f"not accepted: {answer}")
