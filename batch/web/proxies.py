"""Behind a reverse proxy: `X-Forwarded-*` and sign-in by a header, only from trusted addresses.

`trusted_proxies` (addresses or networks) names the proxies in front of `batch serve`. From
them, and only from them, `X-Forwarded-For` and `X-Forwarded-Proto` are believed (uvicorn's
own `ProxyHeadersMiddleware` does the reading: the client's address for the login throttle, the
scheme for the cookie's Secure flag), and so is `sso_header`: the proxy's single sign-on puts
the signed-in person's account name there. From anybody else these headers are removed before
the app sees them, so a client cannot forge them; `batch serve` tells uvicorn to trust nobody
itself. The header names a person; what they may do is still their account's role, so an SSO
user must have an account (`batch user add NAME --role ROLE`).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from batch.i18n import _
from batch.privacy import mask_cpr
from batch.web.audit import record

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.types import ASGIApp, Receive, Scope, Send

    from batch.web.context import WebContext

__all__ = ["HeaderSignIn", "TrustedProxy"]

log = structlog.get_logger(__name__)
TRUSTED = "batch.trusted_proxy"  # scope key: the request came straight from a trusted proxy


class TrustedProxy:
    """Outermost: believe forwarded headers from `trusted` peers only, strip them from others."""

    def __init__(self, app: ASGIApp, *, trusted: Sequence[str], sso_header: str | None) -> None:
        self.app = app
        self.networks = [ipaddress.ip_network(item, strict=False) for item in trusted]
        # The networks as read, not as written: uvicorn reads `10.1.2.3/8` strictly, takes it for
        # a name and trusts nobody, while the SSO header above would be believed from it.
        normalised = [str(network) for network in self.networks]
        self.forwarded = ProxyHeadersMiddleware(app, trusted_hosts=normalised)  # type: ignore[arg-type]
        self.sso = sso_header.lower().encode("latin-1") if sso_header else None

    def _trusted(self, scope: Scope) -> bool:
        client = scope.get("client")
        try:
            address = ipaddress.ip_address(client[0]) if client else None
        except ValueError:  # a Unix socket's peer has no address
            return False
        return address is not None and any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Mark the request trusted or not; a request not from a proxy loses those headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trusted = self._trusted(scope)
        scope[TRUSTED] = trusted
        if not trusted:
            scope["headers"] = [
                (name, value)
                for name, value in scope["headers"]
                if not name.startswith(b"x-forwarded-") and name != self.sso
            ]
            await self.app(scope, receive, send)
            return
        await self.forwarded(scope, receive, send)  # type: ignore[arg-type]


class HeaderSignIn:
    """Inside the session: a trusted proxy's `sso_header` signs its account in (or refuses)."""

    def __init__(self, app: ASGIApp, *, header: str | None) -> None:
        self.app = app
        self.header = header.lower().encode("latin-1") if header else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Sign the header's account in when the session is not already theirs."""
        if scope["type"] != "http" or self.header is None or not scope.get(TRUSTED):
            await self.app(scope, receive, send)
            return
        name = dict(scope["headers"]).get(self.header, b"").decode("utf-8", "replace").strip()
        session = scope["session"]
        if not name or session.get("user") == name:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        context: WebContext = request.app.state.web
        if context.accounts.role(name) is None:
            log.warning("web sso: no such account")
            text = _(
                "Your sign-in ({name}) has no account here. Ask an administrator to add it."
            ).format(name=mask_cpr(name)[:64])
            page = context.pages.render(request, "error.html", 403, message=text)
            await page(scope, receive, send)
            return
        session.clear()
        session.update(user=name, stamp=context.accounts.stamp(name))
        log.info("web sign-in", user=name, by="sso header")
        state_dir = context.settings.state_dir
        await run_in_threadpool(record, state_dir, name, "sign-in", None, detail="by the proxy")
        await self.app(scope, receive, send)
