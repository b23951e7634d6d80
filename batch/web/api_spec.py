"""The API's OpenAPI 3.1 description, written by hand, and /api/docs rendered from it.

Hand-written because the routes are few and their shapes matter more than their signatures; a
test holds it to the routes (every route described, nothing described that is not routed). The
docs pages are server-rendered from the same dict (`api_reference.html`): /api/docs on its own
for a token holder, /help/api among the pages: no viewer to vendor, no script to run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from batch import __version__
from batch.records import Outcome
from batch.web.context import web_context

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["PROBLEMS", "ROW", "RUN", "SPEC", "docs", "help_page", "openapi", "operations"]

PROBLEMS = {
    "token-missing": "No `Authorization: Bearer <token>` header (401).",
    "token-invalid": "The token is unknown or was revoked (401).",
    "token-role": "A viewer token may only read; sending needs a sender token (403).",
    "not-found": "No run, or no address, of that name (404).",
    "method-not-allowed": "The address exists, not with that method (405).",
    "bad-request": "A query parameter cannot be used; `detail` says which and why (400).",
    "not-multipart": "POST /api/runs takes multipart/form-data (415).",
    "too-large": "The file is over the upload limit, `upload_max_mb` (413).",
    "bad-field": "A form field is missing or wrong; `field` names it (422).",
    "bad-file": "The file cannot be read as a table: empty, not a spreadsheet, a sheet that "
    "is not there, a required column missing; `detail` says what to do (422).",
    "no-workbook": "The run is still under way, or retention removed its workbook (404).",
    "not-stoppable": "The run was not asked for through the API, or it has ended (409).",
    "internal": "A fault of ours, logged on the server (500).",
}
_OUTCOMES = [outcome.value for outcome in Outcome]
_PROBLEM = {"$ref": "#/components/responses/Problem"}
_RUN_PATH = {"name": "run", "in": "path", "required": True, "schema": {"type": "string"}}
_COUNTS = {name: {"type": "integer"} for name in _OUTCOMES}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


RUN = {
    "type": "object",
    "required": ["id", "status", "rows", *_OUTCOMES, "links"],
    "properties": {
        "id": {"type": "string", "description": "The id to ask for this run by."},
        "run_id": {"type": ["string", "null"], "description": "The journal's run id."},
        "status": {
            "type": "string",
            "description": "queued, waiting (another run holds the state directory), running, "
            "then finished, interrupted (stopped while sending), stopped (before it ran), "
            "broken, setup or failed.",
        },
        "dry_run": {"type": "boolean", "description": "A validation: nothing was sent."},
        "started_by": {
            "type": ["string", "null"],
            "description": "token:<name> for the API, the account for the pages, null for the "
            "command line (the nightly job).",
        },
        "files": {"type": "array", "items": {"type": "string"}},
        "started": {"type": ["string", "null"], "format": "date-time"},
        "finished": {"type": ["string", "null"], "format": "date-time"},
        "message": {"type": ["string", "null"]},
        "notice": {
            "type": "string",
            "description": "On POST, when no endpoint is configured: the run goes to the "
            "built-in simulator and nothing leaves the machine.",
        },
        "rows": {"type": "integer"},
        **_COUNTS,
        "links": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": True,
}
ROW = {
    "type": "object",
    "properties": {
        "file": {"type": "string"},
        "sheet": {"type": ["string", "null"]},
        "row": {"type": "integer", "description": "The row number as Excel shows it."},
        "outcome": {"enum": _OUTCOMES},
        "code": {"type": ["string", "null"]},
        "message": {"type": ["string", "null"]},
        "udb_text": {"type": ["string", "null"]},
        "problems": {"type": "object", "additionalProperties": {"type": "string"}},
        "attempts": {"type": "integer", "description": "Requests sent for the row."},
        "last_attempt": {"type": ["string", "null"], "format": "date-time"},
        "cells": {"type": "object", "description": "The row's cells as read (CPR unmasked)."},
    },
}
_BY_ID = {"parameters": [_RUN_PATH]}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "batch HTTP API",
        "version": __version__,
        "description": "Send files to UDB, or validate them, and read every run of this state "
        "directory. Every call needs `Authorization: Bearer <token>` (`batch token create`).",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "responses": {
            "Problem": {
                "description": "RFC 9457 problem details.",
                "content": {"application/problem+json": {"schema": {"type": "object"}}},
            }
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/runs": {
            "post": {
                "summary": "Send a file (or only validate it): the run is queued",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {
                                        "type": "string",
                                        "contentMediaType": "application/octet-stream",
                                    },
                                    "sheet": {"type": "string"},
                                    "mapping": {
                                        "type": "string",
                                        "description": "A saved mapping's name.",
                                    },
                                    "send": {
                                        "type": "boolean",
                                        "default": True,
                                        "description": "false: validate only.",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "202": _json(RUN, "Queued; poll the Location."),
                    "403": _PROBLEM,
                    "413": _PROBLEM,
                    "415": _PROBLEM,
                    "422": _PROBLEM,
                },
            },
            "get": {
                "summary": "Every run of the state directory, newest first",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100}}
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"runs": {"type": "array", "items": RUN}},
                        },
                        "The runs.",
                    )
                },
            },
        },
        "/api/runs/{run}": {
            **_BY_ID,
            "get": {
                "summary": "One run: status, rows per outcome, its JSON summary once finished",
                "responses": {"200": _json(RUN, "The run."), "404": _PROBLEM},
            },
        },
        "/api/runs/{run}/workbook": {
            **_BY_ID,
            "get": {
                "summary": "The run's result workbook",
                "responses": {
                    "200": {
                        "description": "The workbook.",
                        "content": {
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}
                        },
                    },
                    "404": _PROBLEM,
                },
            },
        },
        "/api/runs/{run}/rows": {
            **_BY_ID,
            "get": {
                "summary": "The run's rows with their messages, by outcome",
                "parameters": [
                    {
                        "name": "outcome",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "One or more of "
                        + ", ".join(_OUTCOMES)
                        + ", comma-separated; all by default.",
                    },
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "default": 0}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "default": 1000},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"rows": {"type": "array", "items": ROW}},
                        },
                        "The rows.",
                    ),
                    "400": _PROBLEM,
                    "404": _PROBLEM,
                },
            },
        },
        "/api/runs/{run}/stop": {
            **_BY_ID,
            "post": {
                "summary": "Stop a run asked for through the API, as Ctrl-C stops `batch run`: "
                "not started, it never starts; sending, rows in flight finish, the rest wait "
                "in Retry",
                "responses": {
                    "202": _json(RUN, "Stopping; poll the run."),
                    "403": _PROBLEM,
                    "404": _PROBLEM,
                    "409": _PROBLEM,
                },
            },
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This description",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1.")},
            }
        },
        "/api/docs": {
            "get": {
                "summary": "This description as a page",
                "responses": {"200": {"description": "HTML."}},
            }
        },
    },
}


async def openapi(_request: Request) -> Response:
    """The OpenAPI description."""
    return JSONResponse(SPEC)


def operations() -> list[dict[str, Any]]:
    """Each operation of `SPEC` as the docs list it: method, path, summary, fields, answers."""
    found = []
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            fields = [*item.get("parameters", []), *operation.get("parameters", [])]
            for form in operation.get("requestBody", {}).get("content", {}).values():
                fields += [
                    {"name": name, "in": "form", **field}
                    for name, field in form["schema"]["properties"].items()
                ]
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation["summary"],
                    "fields": fields,
                    "answers": list(operation["responses"]),
                }
            )
    return found


def _reference() -> dict[str, Any]:
    return {"operations": operations(), "problems": PROBLEMS, "version": __version__}


async def docs(request: Request) -> Response:
    """The operations and problems as one page of its own (for a token holder: no session)."""
    return web_context(request).pages.render(request, "api_docs.html", **_reference())


async def help_page(request: Request) -> Response:
    """The same, among the pages, for a signed-in person (`/help/api`)."""
    return web_context(request).pages.render(request, "api_help.html", **_reference())
