"""`POST /api/runs`' form: the file within the upload limit, and the caller's choices.

The file goes to the pages' `UploadStore` (typed by its content, owner-only, purged with the
journal's retention), owned by `token:<name>`; the saved mapping is the pages' too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch.errors import BatchError
from batch.i18n import _
from batch.privacy import mask_cpr
from batch.web.api_problem import problem
from batch.web.uploads import BodyTooLargeError, declared_too_large, limited

if TYPE_CHECKING:
    from starlette.datastructures import FormData
    from starlette.requests import Request
    from starlette.responses import Response

    from batch.web.context import WebContext
    from batch.web.uploads import Upload

__all__ = ["Choices", "received_form"]

_YES = {"true", "1", "yes"}
_NO = {"false", "0", "no"}


@dataclass(frozen=True, slots=True)
class Choices:
    """What the caller asked for beside the file."""

    send: bool
    mapping: str | None


async def received_form(request: Request, context: WebContext) -> Response | tuple[Upload, Choices]:
    """The stored upload with the caller's sheet and mapping, or the problem with the form."""
    limit = context.upload_max_bytes
    too_large = problem(
        413,
        "too-large",
        _("The file is larger than {limit} MB. Split it, or ask for a higher limit.").format(
            limit=context.settings.upload_max_mb
        ),
    )
    if declared_too_large(request, limit):
        return too_large
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return problem(415, "not-multipart", _("Send the file as multipart/form-data (`file`)."))
    try:
        async with limited(request, limit).form(max_files=1, max_fields=8) as form:
            return _take(request, context, form)
    except BodyTooLargeError:
        return too_large


def _take(
    request: Request, context: WebContext, form: FormData
) -> Response | tuple[Upload, Choices]:
    send = str(form.get("send") or "true").strip().lower()
    if send not in _YES | _NO:
        return problem(422, "bad-field", _("send must be true or false."), field="send")
    mapping = str(form.get("mapping") or "").strip() or None
    saved = context.mappings.all()
    if mapping is not None and mapping not in saved:
        text = _("There is no saved mapping named {name}; saved mappings: {names}.").format(
            name=mapping, names=", ".join(sorted(saved)) or "-"
        )
        return problem(422, "bad-field", text, field="mapping")
    file = form.get("file")
    if file is None or isinstance(file, str) or not file.filename:
        return problem(422, "bad-field", _("Send the file in the field `file`."), field="file")
    try:
        upload = context.uploads.receive(
            f"token:{request.scope['api_token']}", file.filename, file.file
        )
    except BatchError as error:
        return problem(422, "bad-file", mask_cpr(str(error)))
    upload.sheet = str(form.get("sheet") or "").strip() or None
    upload.mapping = dict(saved[mapping]) if mapping is not None else {}
    context.uploads.save(upload)
    return upload, Choices(send=send in _YES, mapping=mapping)
