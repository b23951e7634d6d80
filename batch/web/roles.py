"""Roles: what a viewer, a sender and an admin may open and change, decided for every request.

One place decides, before any page runs, so a page cannot forget: a viewer may read the Runs
pages and their workbooks and nothing else (every other request is refused 403, whether or not
a button for it is shown); a sender may also upload, check and send; only an admin opens
`/admin` (accounts, tokens, the audit log). The role is read from the accounts file on every
request, so a changed role counts at once and a removed account is signed out.
`/api` is left to its bearer tokens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from batch.i18n import _

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from batch.web.context import WebContext

__all__ = ["RoleGuard", "allowed"]

_OPEN = ("/login", "/static/", "/api/", "/api")
_VIEWER_READS = ("/runs", "/help")
_EVERYBODY_POSTS = ("/logout", "/language")  # signing out, and the language switch


def allowed(role: str, method: str, path: str) -> bool:
    """Whether `role` may make this request."""
    if role == "admin":
        return True
    if path == "/admin" or path.startswith("/admin/"):
        return False
    if role == "sender":
        return True
    if path in _EVERYBODY_POSTS:
        return method == "POST"
    reading = method in {"GET", "HEAD"}
    return reading and any(path == p or path.startswith(p + "/") for p in _VIEWER_READS)


class RoleGuard:
    """Puts the signed-in account's role in `scope["role"]` and refuses what it may not do."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the request through, send a viewer from the upload page to Runs, or refuse it."""
        if scope["type"] != "http" or scope["path"].startswith(_OPEN):
            await self.app(scope, receive, send)
            return
        session = scope["session"]
        user = session.get("user")
        if not user:  # the sign-in guard outside has let an open path through
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        context: WebContext = request.app.state.web
        role = context.accounts.role(user)
        stamp = context.accounts.stamp(user)
        if role is None or stamp != session.get("stamp"):  # removed, or a new password: ends
            session.clear()
            await RedirectResponse("/login", status_code=303)(scope, receive, send)
            return
        scope["role"] = role
        method, path = scope["method"], scope["path"]
        if role == "viewer" and method == "GET" and path == "/":
            await RedirectResponse("/runs", status_code=303)(scope, receive, send)
            return
        if not allowed(role, method, path):
            await _refused(request, context)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _refused(request: Request, context: WebContext) -> Response:
    text = _("Your account may not do this. Ask an administrator if you need to.")
    if request.headers.get("hx-request") or request.url.path.endswith((".json", "/rows")):
        return JSONResponse({"error": text}, status_code=403)
    if "/rows/" in request.url.path or request.url.path.endswith("/events"):
        return JSONResponse({"error": text}, status_code=403)
    return context.pages.render(request, "error.html", 403, message=text)
