"""The API's runs: submit a file (POST), and read every run of the state directory.

A run's id is the journal's run id for a run started elsewhere (the nightly job, the CLI, the
pages), and the upload's id for one asked for here (known at once, before the run holds the
lock); such a run also answers to its journal run id. Reads never take the journal's lock.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, JSONResponse, Response

from batch.errors import BatchError
from batch.i18n import _, current_language
from batch.intake import open_input
from batch.pipeline import SIMULATOR_NOTICE
from batch.privacy import mask_cpr
from batch.records import Outcome
from batch.web.api_jobs import ACTIVE, ApiJob, ApiJobs, now
from batch.web.api_problem import problem
from batch.web.api_rows import journal_rows
from batch.web.api_upload import received_form
from batch.web.audit import record
from batch.web.options import upload_options
from batch.web.runs_data import RunLine, find_workbook, run_detail, run_lines

if TYPE_CHECKING:
    from starlette.requests import Request

    from batch.web.context import WebContext
    from batch.web.uploads import Upload

__all__ = ["list_runs", "one_run", "rows", "stop", "submit", "workbook"]

_JOB_ID = re.compile(r"[a-z]{24}")
_RUN_ID = re.compile(r"\d{8}T\d{6}-[a-z]{4}")
MAX_LIMIT = 10_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _context(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


def _jobs(request: Request) -> ApiJobs:
    jobs: ApiJobs = request.app.state.jobs
    return jobs


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def _facts(job: ApiJob | None, line: RunLine | None) -> tuple[dict[str, Any], dict[str, int]]:
    """What is known of a run, and its rows per outcome: the job's, then the journal's."""
    counts = {outcome.value: 0 for outcome in Outcome}
    facts: dict[str, Any] = {"status": "queued", "run_id": None, "started": None}
    facts |= {"finished": None, "message": None, "dry_run": False, "files": []}
    facts["started_by"] = None if job is None else f"token:{job.token}"
    if job is not None:
        counts |= {key: job.facts.get(key, 0) for key in counts}
        facts |= {"status": job.status, "run_id": job.run_id, "dry_run": not job.send}
        facts |= {"message": job.error, "files": [job.file]}
    if line is not None:
        counts |= line.counts
        facts |= {"run_id": line.run_id, "dry_run": line.dry_run}
        facts |= {"started": _iso(line.started), "finished": _iso(line.finished)}
        facts["files"] = line.file_names() or facts["files"]
        facts["started_by"] = facts["started_by"] or line.started_by
        if job is None:  # a job's own status wins: it ends once the workbook is written
            facts["status"] = line.status
    return facts, counts


def view(job: ApiJob | None, line: RunLine | None) -> dict[str, Any]:
    """A run as the API lists it: status, when, from which files, and rows per outcome."""
    facts, counts = _facts(job, line)
    run = job.id if job is not None else facts["run_id"]
    return {
        "id": run,
        **facts,
        "submitted": None if job is None else job.submitted,
        "rows": sum(counts.values()),
        **counts,
        "links": {
            "self": f"/api/runs/{run}",
            "rows": f"/api/runs/{run}/rows",
            "workbook": f"/api/runs/{run}/workbook",
        },
    }


def _find(context: WebContext, jobs: ApiJobs, run: str) -> tuple[ApiJob | None, RunLine | None]:
    """The job and journal run `run` names; 404 when neither."""
    job: ApiJob | None = None
    if _JOB_ID.fullmatch(run):
        try:
            job = jobs.load(run)
        except KeyError:
            raise HTTPException(404) from None
        run_id = job.run_id if job.send else None
    elif _RUN_ID.fullmatch(run):
        job = next((item for item in jobs.all() if item.run_id == run), None)
        run_id = run
    else:
        raise HTTPException(404)
    line = None if run_id is None else run_detail(context.settings.state_dir, run_id)
    if job is None and line is None:
        raise HTTPException(404)
    return job, line


def _listing(context: WebContext, jobs: ApiJobs, limit: int) -> list[dict[str, Any]]:
    """The journal's runs, each with the job that asked for it, then the jobs it does not hold."""
    asked = jobs.all()
    by_run = {job.run_id: job for job in asked if job.run_id is not None}
    lines = run_lines(context.settings.state_dir)
    held = {line.run_id for line in lines}
    listed = [view(by_run.get(line.run_id), line) for line in lines]
    listed += [view(job, None) for job in asked if job.run_id not in held]
    listed.sort(key=lambda item: item["started"] or item["submitted"] or "", reverse=True)
    return listed[:limit]


async def list_runs(request: Request) -> Response:
    """Every run in the state directory, newest first, whichever way it started."""
    limit = _number(request, "limit", 100)
    found = await run_in_threadpool(_listing, _context(request), _jobs(request), limit)
    return JSONResponse({"runs": found})


async def one_run(request: Request) -> Response:
    """One run: status and rows per outcome, with the rest of its JSON summary once written."""
    context, jobs = _context(request), _jobs(request)
    job, line = await run_in_threadpool(_find, context, jobs, request.path_params["run"])
    shown = view(job, line)
    if shown["status"] not in ACTIVE:
        summary = await run_in_threadpool(_summary, context, job, line)
        summary.pop("workbook", None)  # a path on the server: the link serves the file
        shown = {**summary, **shown}
    return JSONResponse(shown)


def _summary(context: WebContext, job: ApiJob | None, line: RunLine | None) -> dict[str, Any]:
    """The JSON summary beside the run's workbook; nothing once retention removed both."""
    path = _workbook_path(context, job, line)
    try:
        found = json.loads(path.with_suffix(".json").read_text("utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _workbook_path(context: WebContext, job: ApiJob | None, line: RunLine | None) -> Path | None:
    """The workbook file the run wrote, if it is still there."""
    if job is not None and job.workbook is not None and Path(job.workbook).is_file():
        return Path(job.workbook)  # a validation's: its run is in no journal
    if line is None:
        return None
    settings = context.settings
    return find_workbook(settings.state_dir, settings.report_dir, line.run_id)


async def workbook(request: Request) -> Response:
    """The result workbook the run wrote; 404 while it runs, or once retention removed it."""
    context, jobs = _context(request), _jobs(request)
    job, line = await run_in_threadpool(_find, context, jobs, request.path_params["run"])
    path = await run_in_threadpool(_workbook_path, context, job, line)
    if path is None:
        text = _("This run has no workbook: it is still running, or its workbook was removed.")
        return problem(404, "no-workbook", text)
    actor = f"token:{request.scope['api_token']}"
    target = line.run_id if line is not None else request.path_params["run"]
    await run_in_threadpool(record, context.settings.state_dir, actor, "download", target)
    return FileResponse(path, filename=mask_cpr(path.name), media_type=XLSX)


def _rows_page(
    context: WebContext,
    jobs: ApiJobs,
    found: tuple[ApiJob | None, RunLine | None],
    query: tuple[list[Outcome], int, int],
) -> list[dict[str, Any]]:
    """A validation's kept rows, or a run's rows from the journal: one page of them."""
    job, line = found
    outcomes, offset, limit = query
    if job is not None and not job.send:
        return list(islice(jobs.kept_rows(job, outcomes), offset, offset + limit))
    if line is None:
        return []
    state_dir = context.settings.state_dir
    return journal_rows(state_dir, line.run_id, outcomes, offset, limit)


async def rows(request: Request) -> Response:
    """The run's rows of the outcomes asked for (`outcome=fix,drop`), with their messages."""
    context, jobs = _context(request), _jobs(request)
    found = await run_in_threadpool(_find, context, jobs, request.path_params["run"])
    query = (_outcomes(request), _number(request, "offset", 0), _number(request, "limit", 1000))
    page = await run_in_threadpool(_rows_page, context, jobs, found, query)
    outcomes, offset, limit = query
    return JSONResponse(
        {
            "id": request.path_params["run"],
            "outcomes": [outcome.value for outcome in outcomes],
            "offset": offset,
            "limit": limit,
            "rows": page,
        }
    )


def _outcomes(request: Request) -> list[Outcome]:
    given = request.query_params.get("outcome", "")
    try:
        return [Outcome(word.strip()) for word in given.split(",") if word.strip()] or list(Outcome)
    except ValueError:
        raise _BadQuery(
            _("outcome must be one or more of: {outcomes}").format(
                outcomes=", ".join(outcome.value for outcome in Outcome)
            )
        ) from None


def _number(request: Request, name: str, default: int) -> int:
    """A whole-number query parameter; `limit` at most `MAX_LIMIT`."""
    given = request.query_params.get(name)
    if given is None:
        return default
    if not given.isdigit():
        raise _BadQuery(_("{name} must be a whole number").format(name=name))
    if name == "limit" and int(given) > MAX_LIMIT:
        raise _BadQuery(_("limit must be at most {most}").format(most=MAX_LIMIT))
    return int(given)


class _BadQuery(HTTPException):
    """A query parameter the API cannot use: 400 with what to send instead."""

    def __init__(self, detail: str) -> None:
        super().__init__(400, detail)


async def submit(request: Request) -> Response:
    """Take a file (multipart `file`, `sheet`, `mapping`, `send`) and queue its run: 202."""
    context, jobs = _context(request), _jobs(request)
    form = await received_form(request, context)
    if isinstance(form, Response):
        return form
    upload, choices = form
    opened = await run_in_threadpool(_readable, context, upload)
    if opened is not None:
        shutil.rmtree(context.uploads.folder(upload.id), ignore_errors=True)
        return problem(422, "bad-file", opened)
    job = ApiJob(
        id=upload.id,
        token=request.scope["api_token"],
        file=upload.name,
        send=choices.send,
        submitted=now(),
        sheet=upload.sheet,
        mapping=choices.mapping,
        language=current_language(),
    )
    actor = f"token:{job.token}"
    state_dir = context.settings.state_dir
    await run_in_threadpool(record, state_dir, actor, "upload", upload.id, detail=upload.name)
    jobs.submit(job)
    shown = view(job, None)
    if job.send and context.settings.uses_simulator:
        shown["notice"] = _(SIMULATOR_NOTICE)  # as the pages' banner says
    return JSONResponse(shown, status_code=202, headers={"Location": shown["links"]["self"]})


def _readable(context: WebContext, upload: Upload) -> str | None:
    """None when the stored file opens with the upload's options, else what is wrong (masked)."""
    path = upload.path(context.uploads.root)
    try:
        open_input(path, upload_options(context.settings, upload))
    except BatchError as error:
        return mask_cpr(str(error).replace(str(path), upload.name))
    return None


async def stop(request: Request) -> Response:
    """Stop a run asked for through the API, as Ctrl-C stops `batch run`: 202, then it ends."""
    context, jobs = _context(request), _jobs(request)
    job, line = await run_in_threadpool(_find, context, jobs, request.path_params["run"])
    if job is None:
        text = _("Only a run asked for through the API can be stopped here.")
        return problem(409, "not-stoppable", text)
    if job.status not in ACTIVE:
        return problem(409, "not-stoppable", _("This run has ended already."))
    jobs.stop(job.id)
    actor = f"token:{request.scope['api_token']}"
    target = job.run_id or job.id
    await run_in_threadpool(record, context.settings.state_dir, actor, "stop", target)
    return JSONResponse(view(job, line), status_code=202)
