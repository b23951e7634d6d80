"""The static files the pages use, without the ones kept in the package for the tests alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

if TYPE_CHECKING:
    from starlette.responses import Response
    from starlette.types import Scope

__all__ = ["TEST_ONLY", "PublicStatic"]

# axe-core checks the pages for WCAG violations in the browser tests (tests/web/test_web_a11y.py),
# which inject it themselves: the users' browsers have no use for 650 kB of it.
TEST_ONLY = ("vendor/axe-core-",)


class PublicStatic(StaticFiles):
    """`StaticFiles` that answers 404 for the test-only assets."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file at `path`, unless it is test-only."""
        if path.replace("\\", "/").lstrip("/").startswith(TEST_ONLY):
            raise HTTPException(404)
        return await super().get_response(path, scope)
