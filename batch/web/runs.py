"""The Runs pages: every run of the state directory, a chart of the last 30 days, one run's rows.

Readable by every role (a viewer's whole job); nothing here changes anything. A run opens to
its counts, its inputs, its rows per outcome (paged from the journal) and its workbook, the
one its run wrote, addressed by the run's id, never by a path.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from batch.i18n import N_, _
from batch.privacy import CPR_LIKE, mask_cpr
from batch.records import Outcome
from batch.web.audit import audit
from batch.web.context import web_context
from batch.web.grid import STATUS_LABELS
from batch.web.runs_chart import chart_of
from batch.web.runs_data import (
    OUTCOMES,
    STATUSES,
    RunFilter,
    find_workbook,
    recent,
    run_detail,
    run_lines,
    run_rows,
    written_again,
)

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["ROUTES"]

ROWS_PER_PAGE = 50
RUNS_PER_PAGE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_RUN_ID = re.compile(r"\d{8}T\d{6}-[a-z]{4}")
STATUS_NAMES = {
    "running": N_("Running"),
    "finished": N_("Finished"),
    "interrupted": N_("Interrupted"),
    "broken": N_("Stopped by the service"),
    "failed": N_("Failed"),
}


def _labels() -> dict[str, str]:
    return {key: _(STATUS_LABELS[key]) for key in OUTCOMES}


def _day(text: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        text = mask_cpr(text[:40])  # what was typed is said back, never a CPR number in full
        problems.append(_("{text} is not a date: write it as 2026-01-31.").format(text=text))
        return None


def _filter(request: Request) -> tuple[RunFilter, list[str]]:
    """The filter in the query string; what could not be read, said plainly."""
    query, problems = request.query_params, list[str]()
    status = query.get("status", "")
    return (
        RunFilter(
            since=_day(query.get("from", ""), problems),
            until=_day(query.get("to", ""), problems),
            status=status if status in STATUSES else "",
            file=query.get("file", "").strip()[:200],
        ),
        problems,
    )


NO_CPR_IN_ADDRESS = N_(
    "A CPR number cannot be searched for here: it would be kept in the page's address, in the "
    "browser's history and in the logs of the network it passes. Search by file name or date."
)


def _without_cpr(request: Request) -> Response | None:
    """A filter that carries a CPR-like number goes to the same list without it, said plainly.

    The page's script refuses such a filter before it is sent; this catches an address typed
    or pasted by hand. The redirect replaces the address in the browser's history.
    """
    query = request.query_params
    if not any(CPR_LIKE.search(value) for value in query.values()):
        return None
    kept = {k: v for k, v in query.items() if k != "refused" and not CPR_LIKE.search(v)}
    return RedirectResponse("/runs?" + urlencode({**kept, "refused": "cpr"}), status_code=303)


async def runs_page(request: Request) -> Response:
    """Every run, newest first, filtered; above it the chart of the last 30 days."""
    refused = _without_cpr(request)
    if refused is not None:
        return refused
    context = web_context(request)
    lines = await run_in_threadpool(run_lines, context.settings.state_dir)
    chosen, problems = _filter(request)
    if request.query_params.get("refused") == "cpr":
        problems.append(_(NO_CPR_IN_ADDRESS))
    shown = [line for line in lines if chosen.keeps(line)]
    pages = max(1, -(-len(shown) // RUNS_PER_PAGE))
    page = _page_number(request.query_params.get("page", ""), pages)
    query = {k: v for k, v in request.query_params.items() if k not in {"page", "refused"}}
    chart_lines = recent(lines)
    return context.pages.render(
        request,
        "runs.html",
        400 if problems else 200,
        runs=shown[(page - 1) * RUNS_PER_PAGE : page * RUNS_PER_PAGE],
        matching=len(shown),
        page=page,
        pages=pages,
        page_link=lambda number: "/runs?" + urlencode({**query, "page": number}),
        total=len(lines),
        chart=chart_of(chart_lines),
        chart_lines=chart_lines,
        chosen=chosen,
        problems=problems,
        no_cpr_text=_(NO_CPR_IN_ADDRESS),
        labels=_labels(),
        outcomes=OUTCOMES,
        statuses={key: _(name) for key, name in STATUS_NAMES.items()},
    )


def _page_number(text: str, pages: int) -> int:
    return min(max(int(text), 1), pages) if text.isdigit() else 1


def _run_id(request: Request) -> str:
    run_id = str(request.path_params["run_id"])
    if not _RUN_ID.fullmatch(run_id):
        raise HTTPException(404)
    return run_id


async def run_page(request: Request) -> Response:
    """One run: counts, inputs, the rows of one outcome a page at a time, the workbook."""
    context = web_context(request)
    state_dir = context.settings.state_dir
    line = await run_in_threadpool(run_detail, state_dir, _run_id(request))
    if line is None:
        raise HTTPException(404)
    outcome = request.query_params.get("outcome", "")
    if outcome not in line.counts:
        outcome = next((key for key in ("fix", "drop", "retry") if key in line.counts), "")
        outcome = outcome or next(iter(line.counts), "accepted")
    pages = max(1, -(-line.counts.get(outcome, 0) // ROWS_PER_PAGE))
    number = _page_number(request.query_params.get("page", ""), pages)
    rows = await run_in_threadpool(
        run_rows, state_dir, line.run_id, Outcome(outcome), number - 1, ROWS_PER_PAGE
    )
    query = {"outcome": outcome}
    return context.pages.render(
        request,
        "run.html",
        run=line,
        rows=[(row, mask_cpr(row.text or "")) for row in rows],
        outcome=outcome,
        page=number,
        pages=pages,
        page_link=lambda n: f"/runs/{line.run_id}?" + urlencode({**query, "page": n}),
        labels=_labels(),
        outcomes=OUTCOMES,
        statuses={key: _(name) for key, name in STATUS_NAMES.items()},
    )


async def run_workbook(request: Request) -> Response:
    """The workbook the run wrote (found by its JSON summary), else written again; by run id."""
    context = web_context(request)
    run_id = _run_id(request)
    settings = context.settings
    found = await run_in_threadpool(find_workbook, settings.state_dir, settings.report_dir, run_id)
    headers = {"Cache-Control": "no-store"}
    if found is not None:
        await audit(request, "download", run_id, detail=found.name)
        return FileResponse(found, filename=mask_cpr(found.name), media_type=XLSX, headers=headers)
    # Moved away, or a run under way: written afresh from the journal, kept in memory only.
    again = await run_in_threadpool(written_again, settings.state_dir, run_id)
    if again is None:
        text = _(
            "The rows of this run were deleted when their retention ended; its counts are kept."
        )
        return context.pages.render(request, "error.html", 404, message=text)
    name, content = again
    await audit(request, "download", run_id, detail=name)
    headers["Content-Disposition"] = f"attachment; filename*=utf-8''{quote(mask_cpr(name))}"
    return Response(content, media_type=XLSX, headers=headers)


ROUTES = [
    Route("/runs", runs_page, methods=["GET"]),
    Route("/runs/{run_id}", run_page, methods=["GET"]),
    Route("/runs/{run_id}/workbook", run_workbook, methods=["GET"]),
]
