"""Send (live progress over server-sent events, Stop), Result and the workbook download."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from batch.errors import BatchError
from batch.i18n import _
from batch.intake import open_input
from batch.pipeline import SIMULATOR_NOTICE
from batch.privacy import mask_cpr
from batch.web.audit import audit, record
from batch.web.checked import CheckedRows, edited
from batch.web.context import file_message, guarded, load_upload, web_context
from batch.web.grid import STATUS_LABELS, build_rows, grid_config
from batch.web.options import upload_options
from batch.web.sending import journal_answers, snapshot

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from datetime import datetime

    from starlette.requests import Request

    from batch.intake import InputFile, InputOptions
    from batch.records import Row
    from batch.web.checked import Edits
    from batch.web.context import WebContext
    from batch.web.sending import Progress
    from batch.web.uploads import Upload

__all__ = ["ROUTES", "UploadRows"]

EVENT_SECONDS = 0.5


class UploadRows:
    """An upload read again by the intake, with the user's edits, under its original name.

    The pipeline reads it as it reads a file: the same `InputFile` (notes, counts), each edited
    row validated again by `revalidate`, every row renamed to the file the user uploaded.
    """

    def __init__(self, opened: InputFile, name: str, edits: Edits, options: InputOptions) -> None:
        self._opened, self._edits, self._options = opened, edits, options
        self.source_file = name  # the name the user knows, not the stored file's
        self.sheet = opened.sheet
        self.headers = opened.headers
        self.fields = opened.fields
        self.notes = opened.notes

    @property
    def rows(self) -> int:
        """Rows read so far (final once `chunks` is exhausted)."""
        return self._opened.rows

    @property
    def blank(self) -> int:
        """Blank rows skipped so far."""
        return self._opened.blank

    def chunks(self, now: datetime) -> Iterator[list[Row]]:
        """The file's rows with the edits applied, under the upload's name."""
        for chunk in self._opened.chunks(now):
            yield [
                replace(
                    edited(row, self._edits.get(row.source_row), self._options),
                    source_file=self.source_file,
                )
                for row in chunk
            ]


def _upload_rows(context: WebContext, upload: Upload) -> UploadRows:
    options = upload_options(context.settings, upload)
    with CheckedRows(context.uploads.folder(upload.id)) as stored:
        edits = stored.edits()
    opened = open_input(upload.path(context.uploads.root), options)
    return UploadRows(opened, upload.name, edits, options)


@guarded
async def send(request: Request) -> Response:
    """Read the rows again (edits applied) and start sending them in the background."""
    context = web_context(request)
    upload = load_upload(request)
    if context.runner.busy():
        return RedirectResponse(f"/uploads/{upload.id}/send", status_code=303)
    # Read again, after any check still running (the same queue, so the two never mix rows).
    check = context.checks.start(upload.id, lambda _stored: build_rows(request, upload))
    await run_in_threadpool(check.done.wait)
    if isinstance(check.error, BatchError):
        text = file_message(request, upload, check.error)
        return context.pages.render(request, "error.html", 400, message=text)
    if check.error is not None:
        raise check.error
    user = request.scope["session"]["user"]
    context.runner.start(
        upload.id,
        lambda: _upload_rows(context, upload),
        [_('web upload "{name}"').format(name=upload.name)],
        lambda progress: _finished(context, progress),
        on_run=lambda run_id: record(
            context.settings.state_dir, user, "send", run_id, detail=upload.name
        ),
    )
    return RedirectResponse(f"/uploads/{upload.id}/send", status_code=303)


def _finished(context: WebContext, progress: Progress) -> None:
    """After a run: UDB's answer on every row of the grid, the run and workbook on the upload."""
    if progress.result is None or progress.run_id is None:
        return
    upload = context.uploads.load(progress.upload_id)
    with CheckedRows(context.uploads.folder(upload.id)) as rows:
        rows.record_answers(journal_answers(context.settings, progress.run_id))
    upload.run_ids.append(progress.run_id)
    upload.workbook = str(progress.result.paths.workbook)
    context.uploads.save(upload)


async def send_page(request: Request) -> Response:
    """The live progress of the send (or the wait for the lock)."""
    context = web_context(request)
    upload = load_upload(request)
    current = context.runner.current()
    mine = current is not None and current.upload_id == upload.id
    if not mine and not upload.run_ids:
        return RedirectResponse(f"/uploads/{upload.id}/check", status_code=303)
    return context.pages.render(
        request,
        "send.html",
        upload=upload,
        live=mine and context.runner.busy(),
        simulator_notice=_(SIMULATOR_NOTICE) if context.settings.uses_simulator else None,
        labels={status: _(label) for status, label in STATUS_LABELS.items()},
        step="send",
    )


async def events(request: Request) -> Response:
    """Server-sent events: the progress twice a second until the run ends."""
    context = web_context(request)
    upload = load_upload(request)

    async def stream() -> AsyncIterator[str]:
        while True:
            current = context.runner.current()
            if current is None or current.upload_id != upload.id:
                yield _event({"phase": "none"})
                return
            state = await run_in_threadpool(snapshot, current, context.settings)
            yield _event(state)
            if state["phase"] in {"done", "failed"} or await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_SECONDS)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


def _event(data: dict[str, object]) -> str:
    return f"data: {json.dumps(data)}\n\n"


@guarded
async def stop(request: Request) -> Response:
    """Stop sending as Ctrl-C does: rows in flight finish, the rest wait in Retry."""
    context = web_context(request)
    upload = load_upload(request)
    current = context.runner.current()
    if current is not None and current.upload_id == upload.id:
        current.stop.set()
        await audit(request, "stop", current.run_id, detail=upload.name)
    return RedirectResponse(f"/uploads/{upload.id}/send", status_code=303)


async def result_page(request: Request) -> Response:
    """Rows per outcome of the last send, the workbook, and the Fix rows to edit and send again."""
    context = web_context(request)
    upload = load_upload(request)
    if not upload.run_ids:
        return RedirectResponse(f"/uploads/{upload.id}/check", status_code=303)
    with CheckedRows(context.uploads.folder(upload.id)) as rows:
        summary = rows.summary()
    labels = {status: _(label) for status, label in STATUS_LABELS.items()}
    return context.pages.render(
        request,
        "result.html",
        upload=upload,
        summary=summary,
        labels=labels,
        grid=grid_config(summary, upload),
        step="result",
    )


async def workbook(request: Request) -> Response:
    """The result workbook of the upload's last run (addressed by the upload, never a path)."""
    upload = load_upload(request)
    if not upload.workbook or not await run_in_threadpool(Path(upload.workbook).is_file):
        raise HTTPException(404)
    name = f"{Path(upload.name).stem}-result.xlsx"
    await audit(request, "download", upload.run_ids[-1] if upload.run_ids else None, detail=name)
    return FileResponse(
        upload.workbook,
        filename=mask_cpr(name),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Cache-Control": "no-store"},
    )


ROUTES = [
    Route("/uploads/{upload_id}/send", send, methods=["POST"]),
    Route("/uploads/{upload_id}/send", send_page, methods=["GET"]),
    Route("/uploads/{upload_id}/events", events, methods=["GET"]),
    Route("/uploads/{upload_id}/stop", stop, methods=["POST"]),
    Route("/uploads/{upload_id}/result", result_page, methods=["GET"]),
    Route("/uploads/{upload_id}/workbook", workbook, methods=["GET"]),
]
