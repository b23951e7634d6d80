"""Sign in, upload, and the Columns page (sheet, header row, which header feeds which field)."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

import structlog
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from batch.errors import BatchError
from batch.i18n import _
from batch.intake.describe import describe_columns
from batch.privacy import mask_cpr
from batch.records import CANONICAL_FIELDS
from batch.web import grid
from batch.web.audit import audit
from batch.web.checked import CheckedRows
from batch.web.context import file_message, guarded, load_upload, web_context
from batch.web.options import upload_options
from batch.web.sessions import csrf_ok
from batch.web.uploads import BodyTooLargeError, declared_too_large, limited

if TYPE_CHECKING:
    from starlette.datastructures import FormData, UploadFile
    from starlette.requests import Request

    from batch.web.uploads import Upload

__all__ = ["ROUTES"]

log = structlog.get_logger(__name__)
IGNORED = "ignore"


async def login_page(request: Request) -> Response:
    """The sign-in form."""
    return web_context(request).pages.render(request, "login.html")


@guarded
async def login(request: Request) -> Response:
    """Check name and password, throttled per name and per address."""
    context = web_context(request)
    form = await request.form()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    keys = (f"name:{name.casefold()}", f"addr:{request.client.host if request.client else ''}")
    if context.throttle.blocked(*keys):
        text = _("Too many failed attempts. Wait a few minutes and try again.")
        return context.pages.render(request, "login.html", 429, error=text, name=name)
    if not context.accounts.verify(name, password):
        context.throttle.failed(*keys)
        log.info("web sign-in refused")
        await audit(request, "sign-in-refused", detail=mask_cpr(name)[:64])
        text = _("The name or the password is wrong.")
        return context.pages.render(request, "login.html", 401, error=text, name=name)
    context.throttle.succeeded(*keys)
    session = request.scope["session"]
    chosen = session.get("language")
    session.clear()  # a fresh session at sign-in; only the language chosen before it is kept
    stamp = context.accounts.stamp(name)
    session.update(user=name, stamp=stamp, **({"language": chosen} if chosen else {}))
    log.info("web sign-in", user=name)
    await audit(request, "sign-in")
    return RedirectResponse("/", status_code=303)


@guarded
async def logout(request: Request) -> Response:
    """End the session (the language chosen stays for the sign-in page)."""
    session = request.scope["session"]
    chosen = session.get("language")
    session.clear()
    session.update(**({"language": chosen} if chosen else {}))
    return RedirectResponse("/login", status_code=303)


async def home(request: Request) -> Response:
    """The upload form and the user's recent uploads."""
    context = web_context(request)
    user = request.scope["session"]["user"]
    recent = context.uploads.recent(user)
    return context.pages.render(
        request, "upload.html", recent=recent, max_mb=context.settings.upload_max_mb
    )


async def receive_upload(request: Request) -> Response:
    """Take one file, at most `upload_max_mb`, counted while it streams in."""
    context = web_context(request)
    limit = context.upload_max_bytes
    too_large = _("The file is larger than {limit} MB. Split it, or ask for a higher limit.")
    if declared_too_large(request, limit):
        return _upload_error(request, too_large.format(limit=context.settings.upload_max_mb), 413)
    try:
        async with limited(request, limit).form(max_files=1, max_fields=4) as form:
            return await _take(request, form, limit)
    except BodyTooLargeError:
        return _upload_error(request, too_large.format(limit=context.settings.upload_max_mb), 413)


async def _take(request: Request, form: FormData, limit: int) -> Response:
    """The parsed upload form: its token checked, its file stored."""
    token = request.headers.get("x-csrf-token") or str(form.get("csrf", ""))
    if not csrf_ok(request.scope["session"], token):
        return _upload_error(
            request, _("The form had expired. Reload the page and try again."), 403
        )
    file = form.get("file")
    if file is None or isinstance(file, str) or not file.filename:
        return _upload_error(request, _("Choose a file to upload."), 400)
    return await _store(request, file, limit)


async def _store(request: Request, file: UploadFile, limit: int) -> Response:
    context = web_context(request)
    if (file.size or 0) > limit:
        text = _("The file is larger than {limit} MB. Split it, or ask for a higher limit.")
        return _upload_error(request, text.format(limit=context.settings.upload_max_mb), 413)
    user = request.scope["session"]["user"]
    try:
        upload = context.uploads.receive(user, file.filename or "", file.file)
    except BatchError as error:
        return _upload_error(request, mask_cpr(str(error)), 400)
    saved = context.mappings.all()
    best = context.mappings.best_for(_headers_of(request, upload)) if saved else None
    if best is not None:
        upload.mapping = dict(saved[best])
        context.uploads.save(upload)
    log.info("web upload", upload=upload.id, kind=upload.kind, size=upload.size)
    await audit(request, "upload", upload.id, detail=upload.name)
    return RedirectResponse(f"/uploads/{upload.id}/columns", status_code=303)


def _headers_of(request: Request, upload: Upload) -> list[str]:
    context = web_context(request)
    path = upload.path(context.uploads.root)
    with contextlib.suppress(BatchError):
        report = describe_columns(path, upload_options(context.settings, upload))
        return [use.header for use in report.headers]
    return []


def _mapping_in_use(request: Request, upload: Upload) -> dict[str, str]:
    """The mapping the Columns page shows for an upload whose columns were never changed."""
    context = web_context(request)
    try:
        report = describe_columns(
            upload.path(context.uploads.root), upload_options(context.settings, upload)
        )
    except BatchError:
        return {}
    return {
        header: fields if isinstance(fields, str) else fields[0]
        for header, fields in report.mapping.items()
        if fields
    }


def _upload_error(request: Request, message: str, status: int) -> Response:
    context = web_context(request)
    user = request.scope["session"]["user"]
    return context.pages.render(
        request,
        "upload.html",
        status,
        error=message,
        recent=context.uploads.recent(user),
        max_mb=context.settings.upload_max_mb,
    )


async def columns_page(request: Request, error: str | None = None) -> Response:
    """What each header feeds, with an example and its normalized form; sheet and header row."""
    context = web_context(request)
    upload = load_upload(request)
    try:
        report = describe_columns(
            upload.path(context.uploads.root), upload_options(context.settings, upload)
        )
    except BatchError as failure:
        report, error = None, file_message(request, upload, failure)
    saved = context.mappings.all()
    return context.pages.render(
        request,
        "columns.html",
        200 if error is None else 400,
        upload=upload,
        report=report,
        fields=CANONICAL_FIELDS,
        saved=sorted(saved),
        offered=context.mappings.best_for([u.header for u in report.headers] if report else []),
        error=error,
        step="columns",
    )


@guarded
async def save_columns(request: Request) -> Response:
    """Keep sheet, header row and mapping; then read the rows (`check`) or show them again."""
    context = web_context(request)
    upload = load_upload(request)
    form = await request.form()
    sheet = str(form.get("sheet") or "") or None
    header_row = str(form.get("header_row") or "").strip()
    moved = _move(upload, sheet, header_row, form)
    before = upload.mapping
    if not moved:
        upload.mapping = _mapping_from(form)
    context.uploads.save(upload)
    if moved or (before or {}) != upload.mapping:
        await _audit_mapping(request, upload, before)
    if form.get("action") != "check" or moved:
        return RedirectResponse(f"/uploads/{upload.id}/columns", status_code=303)
    return await grid.check_or_columns(request, upload, columns_page)


def _move(upload: Upload, sheet: str | None, header_row: str, form: object) -> bool:
    """Take a new sheet or header row from the form; True when either changed."""
    shown_sheet = str(form.get("shown_sheet") or "") or None  # type: ignore[attr-defined]
    shown_row = str(form.get("shown_row") or "")  # type: ignore[attr-defined]
    if sheet != shown_sheet:
        upload.sheet, upload.header_row = sheet, None  # the new sheet's header is found again
        return True
    upload.sheet = sheet
    if header_row != shown_row and header_row.isdigit() and int(header_row) > 0:
        upload.header_row = int(header_row)
        return True
    return False


def _mapping_from(form: object) -> dict[str, str]:
    """Header -> field or "ignore" from the form's `header-N` / `field-N` pairs."""
    mapping: dict[str, str] = {}
    items = dict(form.multi_items())  # type: ignore[attr-defined]
    for key, header in items.items():
        if key.startswith("header-"):
            field = str(items.get("field-" + key.removeprefix("header-"), IGNORED))
            mapping[str(header)] = field if field in CANONICAL_FIELDS else IGNORED
    return mapping


@guarded
async def save_mapping(request: Request) -> Response:
    """Save the upload's mapping under a name, for the next upload."""
    context = web_context(request)
    upload = load_upload(request)
    name = str((await request.form()).get("name", "")).strip()
    mapping = upload.mapping or _mapping_in_use(request, upload)
    saved = context.mappings.save(name, mapping) if name and mapping else None
    if request.headers.get("hx-request"):  # htmx: only the line that says what happened
        return context.pages.render(request, "saved.html", saved=saved)
    return RedirectResponse(f"/uploads/{upload.id}/columns", status_code=303)


@guarded
async def apply_mapping(request: Request) -> Response:
    """Use a saved mapping for this upload."""
    context = web_context(request)
    upload = load_upload(request)
    name = str((await request.form()).get("name", ""))
    saved = context.mappings.all().get(name)
    if saved is not None:
        before, upload.mapping = upload.mapping, dict(saved)
        context.uploads.save(upload)
        await _audit_mapping(request, upload, before, f"saved mapping {name!r}")
    return RedirectResponse(f"/uploads/{upload.id}/columns", status_code=303)


async def _audit_mapping(
    request: Request, upload: Upload, before: dict[str, str] | None, how: str = "columns page"
) -> None:
    """A change of sheet, header row or mapping, with the mapping before and after (headers)."""
    row = upload.header_row or "found"
    where = f"{upload.name}: {how}, sheet {upload.sheet or '-'}, header row {row}"
    old = json.dumps(before, ensure_ascii=False) if before else None
    new = json.dumps(upload.mapping, ensure_ascii=False) if upload.mapping else None
    await audit(request, "mapping", upload.id, detail=where, old=old, new=new)


async def upload_start(request: Request) -> Response:
    """An upload's own address: its Check page once read, else its Columns page."""
    context = web_context(request)
    upload = load_upload(request)
    with CheckedRows(context.uploads.folder(upload.id)) as rows:
        step = "check" if rows.built() else "columns"
    return RedirectResponse(f"/uploads/{upload.id}/{step}", status_code=303)


ROUTES = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/", home, methods=["GET"]),
    Route("/uploads", receive_upload, methods=["POST"]),
    Route("/uploads/{upload_id}", upload_start, methods=["GET"]),
    Route("/uploads/{upload_id}/columns", columns_page, methods=["GET"]),
    Route("/uploads/{upload_id}/columns", save_columns, methods=["POST"]),
    Route("/uploads/{upload_id}/mapping/save", save_mapping, methods=["POST"]),
    Route("/uploads/{upload_id}/mapping/apply", apply_mapping, methods=["POST"]),
    *grid.ROUTES,
]
