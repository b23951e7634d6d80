"""One request in, one reply out: the platform's checks, the fault plan's verdict, UDB's rules.

No sockets here: the HTTP handler reads the bytes, asks `Service` what to answer, and writes it.
The platform's order is kept: faults of the platform itself, then WS-Security, then schema
validation, then UDB (where an injected 101 replaces the rules' answer).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lxml import etree

from batch.privacy import mask_cpr
from batch.simulator.contract import Contract, load_contract
from batch.simulator.faults import Fault
from batch.simulator.payload import leaf_fields, payload_digest
from batch.simulator.registry import load_registry
from batch.simulator.rules import LOCAL_TIME, judge, refusal
from batch.simulator.soap import (
    Envelope,
    FaultInfo,
    SoapError,
    SoapVersion,
    parse_envelope,
    render_answer,
    render_fault,
    version_from_content_type,
)
from batch.simulator.wssecurity import SecurityError, SignaturePolicy, verify_signature

if TYPE_CHECKING:
    from collections.abc import Callable

    from batch.records import Answer
    from batch.simulator.config import SimulatorConfig
    from batch.simulator.registry import Person

__all__ = ["Inspection", "Reply", "Service"]

REQUEST_ELEMENT = "IndberetningKontaktJobOgUddOenskerRequest"
_INPUT_ERROR = "IPL000002"
_RECEIVER_FAULTS = {
    Fault.OUTAGE: (
        503,
        FaultInfo(
            sender=False,
            reason="Internal error",
            error_code="IPL000001",
            message="Service unavailable",
        ),
    ),
    Fault.ERROR_503: (
        503,
        FaultInfo(
            sender=False,
            reason="Internal error",
            error_code="IPL000001",
            message="Service unavailable",
        ),
    ),
    Fault.ERROR_500: (
        500,
        FaultInfo(
            sender=False, reason="Internal error", error_code="IPL000001", message="Internal error"
        ),
    ),
    Fault.RATE_LIMITED: (
        429,
        FaultInfo(
            sender=False, reason="Too many requests", error_code="IPL000004", message="Rate limit"
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class Inspection:
    """What a request turned out to be, before any fault is applied."""

    version: SoapVersion
    fields: dict[str, object] = field(default_factory=dict)
    digest: str | None = None
    namespace: str = ""
    problem: FaultInfo | None = None  # why the platform refuses it, if it does


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send back (status 0: close the connection instead) and after how long."""

    status: int
    body: bytes
    content_type: str
    delay: float
    retry_after: int | None = None
    answer: Answer | None = None
    fault_code: str | None = None


class Service:
    """The contract, the registry and the clock of one simulator."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.contract: Contract = load_contract()
        self.registry: dict[str, Person] = load_registry(config.registry)
        self._faults = config.faults
        self._keep_digest = config.max_received != 0  # nobody reads it when nothing is kept
        self._clock: Callable[[], datetime] = config.now or (lambda: datetime.now(UTC))
        self._policy: SignaturePolicy | None = (
            SignaturePolicy.from_pem_files(config.trusted_signers)
            if config.require_signature
            else None
        )

    def inspect(self, body: bytes, content_type: str) -> Inspection:
        """Parse, verify and validate the request; never raises for anything the client sent."""
        try:
            envelope = parse_envelope(body)
        except SoapError as error:
            return Inspection(version_from_content_type(content_type), problem=_input(str(error)))
        problem = self._platform_problem(envelope, content_type)
        payload = envelope.payload
        if problem is None:
            details = self.contract.validate(payload)
            if details is not None:
                theirs = f"{{{envelope.namespace}}}" if envelope.namespace else ""
                details = mask_cpr(details.replace(f"{{{self.contract.namespace}}}", theirs))
                problem = _input("the request does not match the schema", details)
        fields = leaf_fields(payload)
        digest = payload_digest(fields) if problem is None and self._keep_digest else None
        return Inspection(envelope.version, fields, digest, envelope.namespace, problem)

    def _platform_problem(self, envelope: Envelope, content_type: str) -> FaultInfo | None:
        """What the platform refuses before schema validation: media type, signature, operation."""
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type != envelope.version.media_type:
            return _input(f"Content-Type {media_type!r} does not match the envelope's SOAP version")
        if self._policy is not None:
            try:
                verify_signature(envelope, self._policy)
            except SecurityError as error:
                return FaultInfo(
                    sender=True, reason="Security error", error_code="IPL000003", message=str(error)
                )
        if etree.QName(envelope.payload).localname != REQUEST_ELEMENT:
            return _input("the Body holds no IndberetningKontaktJobOgUddOenskerRequest")
        return None

    def reply(self, inspection: Inspection, fault: Fault) -> Reply:
        """The answer to an inspected request that met `fault` on arrival."""
        delay = self._faults.latency_ms / 1000.0
        version = inspection.version
        if fault is Fault.DROP:
            return Reply(0, b"", "", delay)
        if fault in _RECEIVER_FAULTS:
            status, info = _RECEIVER_FAULTS[fault]
            retry_after = math.ceil(self._faults.retry_after_seconds)
            limited = fault is Fault.RATE_LIMITED
            return self._fault(version, status, info, delay, retry_after if limited else None)
        if fault is Fault.SLOW:
            delay += self._faults.slow_seconds
        if inspection.problem is not None:
            return self._fault(version, 400, inspection.problem, delay)
        answer = refusal(101) if fault is Fault.UDB_101 else self._judge(inspection.fields)
        body = render_answer(version, inspection.namespace, answer)
        return Reply(200, body, version.content_type, delay, answer=answer)

    def _judge(self, fields: dict[str, object]) -> Answer:
        now = self._clock()
        if now.tzinfo is None:
            now = now.replace(tzinfo=LOCAL_TIME)
        return judge(fields, self.registry, now)

    @staticmethod
    def _fault(
        version: SoapVersion, status: int, info: FaultInfo, delay: float, retry: int | None = None
    ) -> Reply:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        body = render_fault(version, info, str(uuid.uuid4()), stamp)
        return Reply(status, body, version.content_type, delay, retry, fault_code=info.error_code)


def _input(message: str, details: str | None = None) -> FaultInfo:
    return FaultInfo(
        sender=True, reason="Input error", error_code=_INPUT_ERROR, message=message, details=details
    )
