"""The ASGI app of `batch serve`: a thin layer of pages over the pipeline (see `create_app`).

Pages: sign in -> upload -> columns (sheet, header row, mapping) -> check (grid, edits) ->
send (live progress) -> result. Every page, fragment and download needs a signed-in session
(`_Guard`); every state-changing request needs the session's CSRF token (`guarded`).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from batch.i18n import _, use_language
from batch.web import admin, language, pages, runs, sendpages
from batch.web.accounts import Accounts
from batch.web.api import ApiDoor, create_api
from batch.web.api_spec import help_page as api_help
from batch.web.assets import PublicStatic
from batch.web.context import WebContext, web_context
from batch.web.mappings import SavedMappings
from batch.web.proxies import HeaderSignIn, TrustedProxy
from batch.web.roles import RoleGuard
from batch.web.sending import Runner
from batch.web.sessions import LoginThrottle, SessionMiddleware, secret_key
from batch.web.templating import Pages
from batch.web.uploads import UploadStore

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from batch.config import Settings

__all__ = ["create_app"]

log = structlog.get_logger(__name__)
IDLE_SECONDS_PER_MINUTE = 60
_OPEN_PATHS = ("/login", "/static/", "/language")
_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        (
            b"default-src 'self'; img-src 'self' data:; "
            b"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"
        ),
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class _Guard:
    """Per request: the language, the session's CSRF token, sign-in required, safe headers.

    The language is the one chosen with the switch, else the browser's (`chosen_language`).
    """

    def __init__(self, app: ASGIApp, *, default_language: str) -> None:
        self.app = app
        self.default_language = default_language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        use_language(language.chosen_language(scope, self.default_language))
        session = scope["session"]
        session.setdefault("csrf", secrets.token_urlsafe(24))
        path = scope["path"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).extend(_SECURITY_HEADERS)
            await send(message)

        if not session.get("user") and not path.startswith(_OPEN_PATHS):
            await self._to_login(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)

    async def _to_login(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        response: Response
        if scope["method"] == "GET" and b"hx-request" not in headers:
            response = RedirectResponse("/login", status_code=303)
        else:
            response = JSONResponse({"error": _("Sign in first.")}, status_code=401)
        await response(scope, receive, send)


async def _error_page(request: Request, exc: Exception) -> Response:
    """Any error becomes a calm page (or JSON for the grid), never a stack trace."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:  # noqa: PLR2004 - HTTP's own numbers
        text = _("There is no such page or file, or it belongs to someone else.")
    elif status == 405:  # noqa: PLR2004
        text = _("That cannot be done on this page.")
    else:
        log.error("web error", path=request.url.path, error=type(exc).__name__)
        text = _("Something went wrong on the server. Your data is kept; try again.")
    if request.url.path.endswith((".json", "/rows")) or "/rows/" in request.url.path:
        return JSONResponse({"error": text}, status_code=status)
    return web_context(request).pages.render(request, "error.html", status, message=text)


def create_app(settings: Settings) -> Starlette:
    """The web app over `settings` (state directory, service, limits).

    Pages answer in the language chosen with the switch on every page; before a choice, in the
    browser's (Accept-Language) when it is one of the catalog's, otherwise in the `language`
    setting's, else Danish: the app's users are Danish caseworkers.
    """
    default_language = settings.language or "da"
    state_dir = settings.state_dir
    context = WebContext(
        settings=settings,
        accounts=Accounts(state_dir),
        uploads=UploadStore(state_dir),
        mappings=SavedMappings(state_dir),
        runner=Runner(settings),
        pages=Pages(),
        throttle=LoginThrottle(),
    )
    static = PublicStatic(packages=[("batch.web", "static")])
    routes = [
        *pages.ROUTES,
        *sendpages.ROUTES,
        *runs.ROUTES,
        Route("/help/api", api_help, methods=["GET"]),  # /api/docs for a signed-in browser
        *admin.ROUTES,
        *language.ROUTES,
        Mount("/static", app=static, name="static"),
    ]
    middleware = [
        Middleware(TrustedProxy, trusted=settings.trusted_proxies, sso_header=settings.sso_header),
        Middleware(ApiDoor, api=create_api(context)),  # /api: bearer tokens, no session
        Middleware(
            SessionMiddleware,
            key=secret_key(state_dir),
            idle_seconds=settings.session_idle_minutes * IDLE_SECONDS_PER_MINUTE,
        ),
        Middleware(HeaderSignIn, header=settings.sso_header),
        Middleware(_Guard, default_language=default_language),
        Middleware(RoleGuard),
    ]
    handlers: dict[Any, Any] = {HTTPException: _error_page, Exception: _error_page}
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
    app.state.web = context
    return app
