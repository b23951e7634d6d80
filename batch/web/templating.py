"""Jinja2 for the pages: autoescaped, the catalog's texts through `jinja2.ext.i18n`.

Every value is escaped on output (a cell holding `<script>` is shown as text); the catalog's
functions read the language of the request's context, set per request by the app.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.templating import Jinja2Templates

from batch.i18n import _, current_language, ngettext
from batch.journal import format_local
from batch.web.language import LANGUAGE_NAMES

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["Pages"]

TEMPLATES = Path(__file__).with_name("templates")


class Pages:
    """Renders a page template with what every page needs (user, CSRF token, language)."""

    def __init__(self) -> None:
        env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_callables(_, ngettext, newstyle=True)  # type: ignore[attr-defined]
        env.filters["local"] = local_time
        self.templates = Jinja2Templates(env=env)

    def render(
        self,
        request: Request,
        template: str,
        status_code: int = 200,
        /,
        **context: Any,  # noqa: ANN401 - whatever the template shows
    ) -> Response:
        """The page `template` filled with `context`."""
        session = request.scope.get("session", {})
        language = current_language()
        context.update(
            user=session.get("user"),
            csrf=session.get("csrf", ""),
            language=language,
            other_languages={
                code: name for code, name in LANGUAGE_NAMES.items() if code != language
            },
        )
        return self.templates.TemplateResponse(
            request,
            template,
            context,
            status_code=status_code,
            headers={"Cache-Control": "no-store"},
        )


def local_time(moment: datetime | str | None) -> str:
    """A moment as every page, workbook and console line shows it: dd-mm-yyyy hh:mm, Danish time.

    Takes the journal's ISO text (the audit log's UTC) as well as a datetime; None shows a dash.
    """
    if moment is None:
        return "\u2013"  # an en dash: no time yet
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return format_local(moment)
