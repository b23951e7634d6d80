"""The Check page: a grid of every row as it would be sent, paged by the server, edited in place."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from batch.errors import BatchError
from batch.i18n import N_, _, current_language, ngettext
from batch.web.audit import audit
from batch.web.checked import CheckedRows
from batch.web.checking import CHUNK_ROWS
from batch.web.context import file_message, guarded, load_upload, web_context
from batch.web.options import upload_options

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request

    from batch.web.checked import Summary
    from batch.web.uploads import Upload

__all__ = [
    "ROUTES",
    "STATUS_LABELS",
    "build_rows",
    "check_or_columns",
    "grid_config",
    "ready_text",
    "start_check",
]

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
STATUS_LABELS = {
    "ready": N_("Ready"),
    "fix": N_("Fix"),
    "drop": N_("Drop"),
    "unchanged": N_("Unchanged"),
    "accepted": N_("Accepted"),
    "retry": N_("Retry"),
}


def build_rows(
    request: Request, upload: Upload, stored: Callable[[int], None] | None = None
) -> None:
    """Read the upload's rows through the intake into its `rows.sqlite3` (edits kept)."""
    context = web_context(request)
    folder = context.uploads.folder(upload.id)
    options = upload_options(context.settings, upload)
    if stored is not None:  # shown while it is read: small chunks, so the first comes soon
        options = replace(options, chunk_rows=CHUNK_ROWS)
    with CheckedRows(folder) as rows:
        rows.build(
            upload.path(context.uploads.root),
            options,
            context.settings.state_dir,
            context.settings.printable(),
            stored=stored,
        )


async def start_check(request: Request, upload: Upload) -> BaseException | None:
    """Check the rows in the background; return once the first are stored (or the error)."""
    context = web_context(request)
    check = context.checks.start(upload.id, lambda stored: build_rows(request, upload, stored))
    await run_in_threadpool(check.first.wait)
    return check.error


async def check_or_columns(
    request: Request, upload: Upload, columns: Callable[..., Awaitable[Response]]
) -> Response:
    """Start checking the rows and go to Check; when the file is refused, Columns says why."""
    error = await start_check(request, upload)
    if isinstance(error, BatchError):
        return await columns(request, error=file_message(request, upload, error))
    if error is not None:
        raise error
    return RedirectResponse(f"/uploads/{upload.id}/check", status_code=303)


async def check_page(request: Request) -> Response:
    """The grid page with the counts per status."""
    context = web_context(request)
    upload = load_upload(request)
    with CheckedRows(context.uploads.folder(upload.id)) as rows:
        if not rows.built():
            return RedirectResponse(f"/uploads/{upload.id}/columns", status_code=303)
        summary = rows.summary()
    checking = context.checks.running(upload.id) is not None
    stale = summary.language != current_language() and not upload.run_ids
    if not checking and (stale or not summary.complete):
        # Checked in another language (the switch was used), or stopped half-way by a restart:
        # check again. Once sent, the rows keep UDB's answers as they came.
        error = await start_check(request, upload)
        if isinstance(error, BatchError):  # the Columns page says what is wrong with the file
            return RedirectResponse(f"/uploads/{upload.id}/columns", status_code=303)
        if error is not None:
            raise error
        with CheckedRows(context.uploads.folder(upload.id)) as rows:
            summary = rows.summary()
    labels = {status: _(label) for status, label in STATUS_LABELS.items()}
    return context.pages.render(
        request,
        "check.html",
        upload=upload,
        summary=summary,
        labels=labels,
        grid=grid_config(summary, upload),
        simulator=context.settings.uses_simulator,
        busy=context.runner.busy(),
        checking=_checking(request, upload, summary),
        step="check",
    )


def _checking(request: Request, upload: Upload, summary: Summary) -> dict[str, Any] | None:
    """What the Check page says while the rows are being checked; None once they are."""
    context = web_context(request)
    check = context.checks.running(upload.id)
    if check is not None:
        return {"rows": check.rows, "error": None}
    failure = context.checks.failure(upload.id)
    if not summary.complete and failure is not None:
        text = file_message(request, upload, failure) if isinstance(failure, BatchError) else ""
        return {
            "rows": 0,
            "error": text or _("Something went wrong on the server. Your data is kept; try again."),
        }
    return None


async def checking_fragment(request: Request) -> Response:
    """The Check page's "still checking" line, polled; once done, the counts and Send too."""
    context = web_context(request)
    upload = load_upload(request)
    with CheckedRows(context.uploads.folder(upload.id)) as rows:
        if not rows.built():
            raise HTTPException(404)
        summary = rows.summary()
    checking = _checking(request, upload, summary)
    labels = {status: _(label) for status, label in STATUS_LABELS.items()}
    response = context.pages.render(
        request,
        "checking.html",
        upload=upload,
        summary=summary,
        labels=labels,
        checking=checking,
        busy=context.runner.busy(),
        ended=checking is None,
        polled=True,
    )
    if checking is None:  # the grid loads its page again, after the counts are swapped in
        response.headers["HX-Trigger-After-Settle"] = "rows-checked"
    return response


def grid_config(summary: Summary, upload: Upload) -> str:
    """What the grid script needs (JSON, in an attribute: escaped by the template)."""
    columns = [
        {"key": f"c{index}", "title": header, "field": summary.fields.get(header)}
        for index, header in enumerate(summary.headers)
    ]
    labels = {
        "row": _("Row"),
        "status": _("Status"),
        "message": _("Message"),
        "empty": _("No rows to show."),
        "saving": _("Checking the row…"),
        "checked": _("Row checked:"),
        "unsaved": _("The change was not saved: the server did not answer. Try again."),
        "loading": _("Loading the rows…"),
        "failed": _("The rows could not be loaded. Reload the page."),
        "pages": _("Pages of rows"),
        "page": _("Show page"),
        "first": _("First"),
        "first_title": _("First page"),
        "prev": _("Previous"),
        "prev_title": _("Previous page"),
        "next": _("Next"),
        "next_title": _("Next page"),
        "last": _("Last"),
        "last_title": _("Last page"),
    }
    return json.dumps({"columns": columns, "labels": labels, "upload": upload.id})


def ready_text(counts: dict[str, int]) -> str:
    """The Check page's sentence of how many rows are ready (sent again after each edit)."""
    ready = counts.get("ready", 0)
    return ngettext("%(num)s row is ready to send.", "%(num)s rows are ready to send.", ready) % {
        "num": ready
    }


def _statuses(request: Request) -> list[str]:
    wanted = request.query_params.get("status", "")
    return [wanted] if wanted in STATUS_LABELS else list(STATUS_LABELS)


def _number(text: str | None, default: int, high: int) -> int:
    return max(1, min(int(text), high)) if text and text.isdigit() else default


async def rows_page(request: Request) -> Response:
    """One page of rows as JSON, in the shape the grid asks for (`last_page`, `data`)."""
    context = web_context(request)
    upload = load_upload(request)
    size = _number(request.query_params.get("size"), PAGE_SIZE, MAX_PAGE_SIZE)
    page = _number(request.query_params.get("page"), 1, 1_000_000)
    with CheckedRows(context.uploads.folder(upload.id)) as rows:
        if not rows.built():
            raise HTTPException(404)
        headers = rows.summary().headers
        total, found = rows.page(_statuses(request), (page - 1) * size, size)
    data = [_flat(row, headers) for row in found]
    last_page = max(1, -(-total // size))
    return JSONResponse({"last_page": last_page, "last_row": total, "data": data})


def _flat(row: dict[str, Any], headers: tuple[str, ...]) -> dict[str, Any]:
    """Grid keys `c0`.. for the cells (headers may hold dots the grid would read as paths)."""
    flat: dict[str, Any] = {
        "n": row["n"],
        "status": row["status"],
        "label": _(STATUS_LABELS.get(row["status"], row["status"])),
        "message": row["message"],
    }
    for index, header in enumerate(headers):
        flat[f"c{index}"] = row["cells"].get(header, "")
        problems = row["problems"].get(header)
        if problems:
            flat[f"p{index}"] = " ".join(problems)
    return flat


@guarded
async def edit_cell(request: Request) -> Response:
    """Keep one edited cell and answer with its row validated again."""
    context = web_context(request)
    upload = load_upload(request)
    if context.runner.busy():
        return JSONResponse({"error": _("Rows cannot be edited while they are being sent.")}, 409)
    if context.checks.running(upload.id) is not None:
        text = _("The rows are still being checked. Try again in a moment.")
        return JSONResponse({"error": text}, 409)
    try:
        body = await request.json()
        n, column = int(request.path_params["n"]), str(body["column"])
        value = body.get("value")
        value = None if value is None else str(value)[:10_000]
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": _("The change could not be read. Reload the page.")}, 400)
    options = upload_options(context.settings, upload)
    edited_cell: list[str | None] = []  # the header and its text before the edit

    def edit() -> dict[str, Any]:
        with CheckedRows(context.uploads.folder(upload.id)) as rows:
            headers = rows.summary().headers
            if not column.startswith("c") or not column[1:].isdigit():
                raise KeyError(column)
            header = headers[int(column[1:])]
            settings = context.settings
            edited_cell.extend([header, rows.cell(n, header)])
            row = rows.edit(
                n,
                header,
                value,
                options,
                state_dir=settings.state_dir,
                service=settings.printable(),
            )
            counts = rows.summary().counts
            return {**_flat(row, headers), "counts": counts, "ready_text": ready_text(counts)}

    try:
        answer = await run_in_threadpool(edit)
    except (KeyError, IndexError):
        raise HTTPException(404) from None
    header, old = edited_cell
    where = f"{upload.name}: row {n}, column {header}"
    await audit(request, "edit", upload.id, detail=where, old=old, new=value)
    return JSONResponse(answer)


ROUTES = [
    Route("/uploads/{upload_id}/check", check_page, methods=["GET"]),
    Route("/uploads/{upload_id}/rows", rows_page, methods=["GET"]),
    Route("/uploads/{upload_id}/checking", checking_fragment, methods=["GET"]),
    Route("/uploads/{upload_id}/rows/{n:int}", edit_cell, methods=["POST"]),
]
