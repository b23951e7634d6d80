"""The API's runs: submit a file (POST), and read every run of the state directory.

A run's id is the journal's run id for a run started elsewhere (the nightly job, the CLI, the
pages), and the upload's id for one asked for here (known at once, before the run holds the
lock); such a run also answers to its journal run id. Reads never take the journal's lock.
"""

from __future__ import annotations

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
from batch.web.api_jobs import ApiJob, ApiJobs, now
from batch.web.api_problem import problem
from batch.web.api_rows import find_summary, journal_rows, journal_run, journal_runs, report_dirs
from batch.web.api_upload import received_form
from batch.web.options import upload_options

if TYPE_CHECKING:
    from starlette.requests import Request

    from batch.web.api_rows import JournalRun
    from batch.web.context import WebContext

__all__ = ["list_runs", "one_run", "rows", "submit", "workbook"]

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


def _facts(job: ApiJob | None, found: JournalRun | None) -> tuple[dict[str, Any], dict[str, int]]:
    """What is known of a run, and its rows per outcome: the job's, then the journal's."""
    counts = {outcome.value: 0 for outcome in Outcome}
    facts: dict[str, Any] = {"status": "queued", "run_id": None, "started": None}
    facts |= {"finished": None, "message": None, "dry_run": False, "files": []}
    if job is not None:
        counts |= {key: job.facts.get(key, 0) for key in counts}
        facts |= {"status": job.status, "run_id": job.run_id, "dry_run": not job.send}
        facts |= {"message": job.error, "files": [job.file]}
    if found is not None:
        info, journal_counts = found
        counts |= {outcome.value: count for outcome, count in journal_counts.items()}
        facts |= {"run_id": info.run_id, "dry_run": info.dry_run}
        facts |= {"started": _iso(info.started), "finished": _iso(info.finished)}
        facts["files"] = [item.source_file for item in info.inputs] or facts["files"]
        if job is None:  # a job's own status wins: it ends once the workbook is written
            facts["status"] = info.status
        if facts["message"] is None and info.message is not None:
            facts["message"] = mask_cpr(info.message)
    return facts, counts


def view(job: ApiJob | None, found: JournalRun | None) -> dict[str, Any]:
    """A run as the API lists it: status, when, from which files, and rows per outcome."""
    facts, counts = _facts(job, found)
    run = job.id if job is not None else facts["run_id"]
    return {
        "id": run,
        **facts,
        "submitted": None if job is None else job.submitted,
        "token": None if job is None else job.token,
        "rows": sum(counts.values()),
        **counts,
        "links": {
            "self": f"/api/runs/{run}",
            "rows": f"/api/runs/{run}/rows",
            "workbook": f"/api/runs/{run}/workbook",
        },
    }


def _find(context: WebContext, jobs: ApiJobs, run: str) -> tuple[ApiJob | None, JournalRun | None]:
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
    found = None if run_id is None else journal_run(context.settings.state_dir, run_id)
    if job is None and found is None:
        raise HTTPException(404)
    return job, found


def _listing(context: WebContext, jobs: ApiJobs, limit: int) -> list[dict[str, Any]]:
    """The journal's runs, each with the job that asked for it, then the jobs it does not hold."""
    asked = jobs.all()
    by_run = {job.run_id: job for job in asked if job.run_id is not None}
    journal = journal_runs(context.settings.state_dir)
    held = {info.run_id for info, _counts in journal}
    listed = [view(by_run.get(found[0].run_id), found) for found in journal]
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
    job, found = await run_in_threadpool(_find, context, jobs, request.path_params["run"])
    shown = view(job, found)
    if shown["run_id"] is not None and shown["status"] not in {"queued", "waiting", "running"}:
        folders = report_dirs(context.settings.state_dir, context.settings.report_dir)
        summary = await run_in_threadpool(find_summary, folders, shown["run_id"])
        if summary is not None:
            summary.pop("workbook", None)  # a path on the server: the link serves it
            shown = {**summary, **shown}
    return JSONResponse(shown)


def _workbook_path(
    context: WebContext, job: ApiJob | None, found: JournalRun | None
) -> Path | None:
    """The workbook file the run wrote, if it is still there."""
    path = None if job is None or job.workbook is None else Path(job.workbook)
    run_id = job.run_id if job is not None else found[0].run_id if found else None
    if (path is None or not path.is_file()) and run_id is not None:
        folders = report_dirs(context.settings.state_dir, context.settings.report_dir)
        summary = find_summary(folders, run_id)
        path = Path(summary["workbook"]) if summary and summary.get("workbook") else None
    return path if path is not None and path.is_file() else None


async def workbook(request: Request) -> Response:
    """The result workbook the run wrote; 404 while it runs, or once retention removed it."""
    context, jobs = _context(request), _jobs(request)
    job, found = await run_in_threadpool(_find, context, jobs, request.path_params["run"])
    path = await run_in_threadpool(_workbook_path, context, job, found)
    if path is None:
        text = _("This run has no workbook: it is still running, or its workbook was removed.")
        return problem(404, "no-workbook", text)
    return FileResponse(path, filename=path.name, media_type=XLSX)


def _rows_page(
    context: WebContext,
    jobs: ApiJobs,
    found: tuple[ApiJob | None, JournalRun | None],
    query: tuple[list[Outcome], int, int],
) -> list[dict[str, Any]]:
    """A validation's kept rows, or a run's rows from the journal: one page of them."""
    job, journal = found
    outcomes, offset, limit = query
    if job is not None and not job.send:
        wanted = {outcome.value for outcome in outcomes}
        kept = (row for row in jobs.kept_rows(job) if row["outcome"] in wanted)
        return list(islice(kept, offset, offset + limit))
    if journal is None:
        return []
    state_dir = context.settings.state_dir
    return journal_rows(state_dir, journal[0].run_id, outcomes, offset, limit) or []


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
    most = MAX_LIMIT if name == "limit" else None
    if not given.isdigit() or (most is not None and int(given) > most):
        text = _("{name} must be a whole number from 0 to {most}").format(
            name=name, most=most or "∞"
        )
        raise _BadQuery(text)
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
    jobs.submit(job)
    shown = view(job, None)
    if job.send and context.settings.uses_simulator:
        shown["notice"] = _(SIMULATOR_NOTICE)  # as the pages' banner says
    return JSONResponse(shown, status_code=202, headers={"Location": shown["links"]["self"]})


def _readable(context: WebContext, upload: Any) -> str | None:  # noqa: ANN401 - an Upload
    """None when the stored file opens with the upload's options, else what is wrong (masked)."""
    path = upload.path(context.uploads.root)
    try:
        open_input(path, upload_options(context.settings, upload))
    except BatchError as error:
        return mask_cpr(str(error).replace(str(path), upload.name))
    return None
