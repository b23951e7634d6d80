"""The SOAP client: one `Report` in, UDB's `Answer` or a typed `Failure` out, from many threads.

The contract is read once (`batch.service.contract`), each request is built
(`batch.service.request`) and signed, the bytes travel over `batch.service.transport`'s
urllib3 pool, and the reply is read by `batch.service.answer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from batch.closing import Closing
from batch.errors import ConfigError, ServiceError
from batch.i18n import _
from batch.service.answer import classify, read_reply
from batch.service.contract import (
    OPERATION,
    AnswerShape,
    _answer_shape,
    _bundled_wsdl,
    _find_port,
    _load_zeep,
    _template,
)
from batch.service.request import build_request
from batch.service.tls import LazySslContext, TlsSettings
from batch.service.transport import HttpPool

if TYPE_CHECKING:
    from collections.abc import Mapping

    from batch.records import Answer, Failure, Report
    from batch.service.proxy import Proxy
    from batch.service.signing import SigningSettings

__all__ = ["ClientSettings", "UdbClient"]


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
    proxy: str | None = None  # the `proxy` setting: None the environment's, "none" direct

    def __post_init__(self) -> None:
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ConfigError(_("client: timeouts must be positive"))
        if self.pool_size < 1:
            raise ConfigError(_("client: pool_size must be at least 1"))


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
        self._zeep = _load_zeep(
            wsdl,
            tls.context_for(wsdl),
            signing=settings.signing,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            proxy=settings.proxy,
        )
        self._binding, address = _find_port(self._zeep, wsdl)
        self._shape = _answer_shape(self._binding, wsdl)
        self._template = _template(self._zeep, self._binding, wsdl)
        endpoint = settings.endpoint or address
        if not endpoint:
            message = _("the WSDL {wsdl} names no address; configure the endpoint")
            raise ServiceError(message.format(wsdl=wsdl))
        self._endpoint = endpoint
        ssl_context = tls.context_for(endpoint)
        self._options = {"address": endpoint}  # for zeep's WS-Addressing, if the WSDL asks
        self._pool = HttpPool(
            endpoint,
            ssl_context=ssl_context,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            size=settings.pool_size,
            proxy=settings.proxy,
        )

    @property
    def endpoint(self) -> str:
        """The address requests go to (the override, or the WSDL's)."""
        return self._endpoint

    @property
    def proxy(self) -> Proxy | None:
        """The proxy requests go through (None: directly)."""
        return self._pool.proxy

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
            return classify(error, self._pool.proxy)
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
