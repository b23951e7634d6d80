"""The page language: the user's choice from the switch, else the browser's, else the setting's.

The choice is kept in the session (signed cookie), so it holds from page to page and through
sign-in; the texts come from the same catalog as the CLI (`batch.i18n`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import RedirectResponse, Response
from starlette.routing import Match, Route

from batch.i18n import LANGUAGES
from batch.web.context import guarded

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import Scope

__all__ = ["LANGUAGE_NAMES", "ROUTES", "browser_language", "chosen_language"]

LANGUAGE_NAMES = {"da": "Dansk", "en": "English"}  # each in its own language, never translated


def chosen_language(scope: Scope, default: str) -> str:
    """The session's choice; else the first of our languages Accept-Language asks for."""
    chosen = scope.get("session", {}).get("language")
    return chosen if chosen in LANGUAGES else browser_language(scope, default)


def browser_language(scope: Scope, default: str) -> str:
    """The first of our languages the browser's Accept-Language asks for, by its weights."""
    header = dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1")
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        code = tag.split("-")[0].lower()
        if code in LANGUAGES and weight > 0:
            wanted.append((-weight, index, code))
    return min(wanted)[2] if wanted else default


@guarded
async def switch_language(request: Request) -> Response:
    """Keep the chosen language and go back to the page the switch was pressed on."""
    form = await request.form()
    language = str(form.get("language", ""))
    if language in LANGUAGES:
        request.scope["session"]["language"] = language
    return RedirectResponse(_back_to(request, str(form.get("next", ""))), status_code=303)


def _back_to(request: Request, wanted: str) -> str:
    """`wanted` when it is a page of this app that answers GET; else the start page.

    A path only (never another site: `//host` is refused), and never the address of a form's
    POST (the upload's error page is shown at /uploads, which has no GET).
    """
    if not wanted.startswith("/") or wanted.startswith("//") or "\\" in wanted:
        return "/"
    scope = {"type": "http", "method": "GET", "path": wanted, "root_path": ""}
    for route in request.app.router.routes:
        if route.matches(scope)[0] is Match.FULL:
            return wanted
    return "/"


ROUTES = [Route("/language", switch_language, methods=["POST"])]
