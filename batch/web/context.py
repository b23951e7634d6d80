"""What the pages share (`WebContext`) and the CSRF check of state-changing requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog
from starlette.exceptions import HTTPException

from batch.i18n import _
from batch.privacy import mask_cpr
from batch.web.checking import Checks
from batch.web.sessions import csrf_ok

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request
    from starlette.responses import Response

    from batch.config import Settings
    from batch.web.accounts import Accounts
    from batch.web.mappings import SavedMappings
    from batch.web.sending import Runner
    from batch.web.sessions import LoginThrottle
    from batch.web.templating import Pages
    from batch.web.uploads import Upload, UploadStore

__all__ = ["WebContext", "file_message", "guarded", "load_upload", "web_context"]

log = structlog.get_logger(__name__)


@dataclass
class WebContext:
    """What the pages share: settings and the stores of the state directory."""

    settings: Settings
    accounts: Accounts
    uploads: UploadStore
    mappings: SavedMappings
    runner: Runner
    pages: Pages
    throttle: LoginThrottle
    checks: Checks = field(default_factory=Checks)  # rows being checked in the background

    @property
    def upload_max_bytes(self) -> int:
        """The upload limit in bytes."""
        return self.settings.upload_max_mb * 1024 * 1024


def web_context(request: Request) -> WebContext:
    """The app's shared context."""
    context: WebContext = request.app.state.web
    return context


def guarded(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Refuse a state-changing request without the session's CSRF token (header or form)."""

    async def check(request: Request) -> Response:
        token = request.headers.get("x-csrf-token")
        if token is None and request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            token = str((await request.form()).get("csrf", ""))
        if not csrf_ok(request.scope["session"], token):
            log.warning("csrf refused", path=request.url.path)
            return _refused(request)
        return await handler(request)

    check.__doc__ = handler.__doc__
    return check


def _refused(request: Request) -> Response:
    text = _("The form had expired or did not come from this site. Reload the page and try again.")
    return web_context(request).pages.render(request, "error.html", 403, message=text)


def load_upload(request: Request) -> Upload:
    """The upload named in the path, if it is the signed-in user's; 404 otherwise."""
    context = web_context(request)
    try:
        upload = context.uploads.load(request.path_params["upload_id"])
    except (KeyError, ValueError):
        raise HTTPException(404) from None
    if upload.owner != request.scope["session"]["user"]:
        raise HTTPException(404)
    return upload


def file_message(request: Request, upload: Upload, error: Exception) -> str:
    """An intake error about the stored file, naming the file as the user knows it (masked)."""
    stored = str(upload.path(web_context(request).uploads.root))
    return mask_cpr(str(error).replace(stored, upload.name))
