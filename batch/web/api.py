"""The HTTP API under /api, for the municipality's own systems: bearer tokens, problem details.

`ApiDoor` sends every request under /api to this app before the pages' sessions see it: a call
here is authenticated by its bearer token alone (`batch token create`), never by a session
cookie, so it needs no CSRF token and sets no cookie. A request without a valid token gets 401
with `WWW-Authenticate: Bearer`, whatever the path. Errors are RFC 9457 problem details whose
`type` points at their explanation on /api/docs.

The runs themselves are `batch.web.api_jobs`' (POST) and `batch.web.api_views`' (reads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from batch.i18n import _, use_language
from batch.web import api_spec, api_views
from batch.web.api_jobs import ApiJobs
from batch.web.api_problem import PREFIX, problem
from batch.web.language import browser_language
from batch.web.tokens import Tokens

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from batch.web.context import WebContext

__all__ = ["ApiDoor", "create_api"]

log = structlog.get_logger(__name__)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'"),
]


class ApiDoor:
    """Requests under /api go to the API app; the rest on to the pages (sessions, CSRF)."""

    def __init__(self, app: ASGIApp, *, api: ASGIApp) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch by path."""
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == PREFIX or path.startswith(f"{PREFIX}/")):
            await self.api(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _BearerGuard:
    """The caller's token (`scope["api_token"]` = its name) and its role, the language, headers.

    A viewer token reads (GET); only a sender token may send a file.
    """

    def __init__(self, app: ASGIApp, *, tokens: Tokens) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The pages' choice by Accept-Language; machines read English unless they ask.
        use_language(browser_language(scope, "en"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).extend(_HEADERS)
            await send(message)

        scheme, _sep, token = dict(scope["headers"]).get(b"authorization", b"").partition(b" ")
        holder = None
        if scheme.lower() == b"bearer" and token.strip():
            holder = self.tokens.holder(token.strip().decode("latin-1"))
        if holder is None:
            await _unauthorized(bool(token.strip()))(scope, receive, with_headers)
            return
        if holder.role != "sender" and scope["method"] not in {"GET", "HEAD"}:
            text = _("This token may only read: ask an administrator for a sender token.")
            await problem(403, "token-role", text)(scope, receive, with_headers)
            return
        scope["api_token"] = holder.name
        await self.app(scope, receive, with_headers)


def _unauthorized(presented: bool) -> Response:
    if presented:
        log.info("api token refused")
        response = problem(401, "token-invalid", _("The token is not valid, or it was revoked."))
        challenge = 'Bearer realm="batch", error="invalid_token"'
    else:
        text = _("Send a token: Authorization: Bearer <token> (made by `batch token create`).")
        response = problem(401, "token-missing", text)
        challenge = 'Bearer realm="batch"'
    response.headers["WWW-Authenticate"] = challenge
    return response


async def _error(request: Request, exc: Exception) -> Response:
    """Any error as a problem, never a stack trace."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:  # noqa: PLR2004 - HTTP's own numbers
        return problem(404, "not-found", _("There is no such run or address."))
    if status == 405:  # noqa: PLR2004
        return problem(405, "method-not-allowed", _("That method cannot be used here."))
    if isinstance(exc, HTTPException) and status < 500:  # noqa: PLR2004
        return problem(status, "bad-request", str(exc.detail))
    log.error("api error", path=request.url.path, error=type(exc).__name__)
    return problem(500, "internal", _("Something went wrong on the server. Try again."))


def create_api(context: WebContext) -> Starlette:
    """The API app over the web app's context (settings, uploads, saved mappings)."""
    routes = [
        Route(f"{PREFIX}/runs", api_views.submit, methods=["POST"]),
        Route(f"{PREFIX}/runs", api_views.list_runs, methods=["GET"]),
        Route(f"{PREFIX}/runs/{{run}}", api_views.one_run, methods=["GET"]),
        Route(f"{PREFIX}/runs/{{run}}/workbook", api_views.workbook, methods=["GET"]),
        Route(f"{PREFIX}/runs/{{run}}/rows", api_views.rows, methods=["GET"]),
        Route(f"{PREFIX}/runs/{{run}}/stop", api_views.stop, methods=["POST"]),
        Route(f"{PREFIX}/openapi.json", api_spec.openapi, methods=["GET"]),
        Route(f"{PREFIX}/docs", api_spec.docs, methods=["GET"]),
    ]
    tokens = Tokens(context.settings.state_dir)
    handlers: dict[Any, Any] = {HTTPException: _error, Exception: _error}
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_BearerGuard, tokens=tokens)],
        exception_handlers=handlers,
    )
    app.state.web = context
    app.state.jobs = ApiJobs(context.settings, context.uploads)
    return app
