"""RFC 9457 problem details, the API's one shape of error."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

from batch.privacy import mask_cpr

__all__ = ["PREFIX", "problem"]

PREFIX = "/api"


def problem(status: int, slug: str, detail: str, **extra: Any) -> JSONResponse:  # noqa: ANN401
    """A problem whose `type` names its explanation on /api/docs; `detail` says what to do.

    `detail` is masked here, for every problem: it may repeat what the caller sent (a mapping's
    name, a sheet, a file name), and a CPR number there would travel back unmasked.
    """
    body = {
        "type": f"{PREFIX}/docs#problem-{slug}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": mask_cpr(detail),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")
