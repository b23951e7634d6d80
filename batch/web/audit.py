"""The web app's side of the audit log: what a signed-in person did, appended to the journal.

The table and its append-only rule live in `batch.journal._audit`; here are the actions the
app records, the request-side helper (`audit`), and the reads of the Audit and Runs pages.
An entry names a run, an upload, a row or a column, never a cell's content, except an edit's
old and new value, which retention blanks with the rows they came from.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import sqlite3
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from batch.i18n import N_
from batch.journal import JOURNAL_NAME, append_audit, audit_connection, audit_entries
from batch.privacy import mask_cpr

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from starlette.requests import Request

    from batch.journal import AuditEntry

__all__ = ["ACTIONS", "audit", "csv_text", "read_entries", "record", "run_starters"]

# What each action is called on the Audit page.
ACTIONS = {
    "sign-in": N_("Signed in"),
    "sign-in-refused": N_("Sign-in refused"),
    "upload": N_("Uploaded a file"),
    "mapping": N_("Changed the columns"),
    "edit": N_("Edited a cell"),
    "send": N_("Sent (a run started)"),
    "stop": N_("Stopped sending"),
    "download": N_("Downloaded a workbook"),
    "user": N_("Changed an account"),
    "token": N_("Changed a token"),
}


def record(
    state_dir: Path,
    actor: str,
    action: str,
    target: str | None = None,
    *,
    detail: str | None = None,
    old: str | None = None,
    new: str | None = None,
) -> None:
    """Append one entry to the journal's audit log (made or migrated first if need be).

    The detail is masked here, once for every caller: it often names a file, whose name may
    hold a CPR number, and retention never blanks a detail (only old and new values).
    """
    masked = None if detail is None else mask_cpr(detail)
    conn = audit_connection(state_dir)
    try:
        append_audit(conn, actor, action, target, detail=masked, old_value=old, new_value=new)
    finally:
        conn.close()


async def audit(
    request: Request,
    action: str,
    target: str | None = None,
    *,
    detail: str | None = None,
    old: str | None = None,
    new: str | None = None,
) -> None:
    """Record what the request's signed-in person did, off the event loop."""
    state_dir = request.app.state.web.settings.state_dir
    actor = str(request.scope["session"].get("user") or "")
    await run_in_threadpool(
        functools.partial(record, detail=detail, old=old, new=new), state_dir, actor, action, target
    )


@contextlib.contextmanager
def _read_only(state_dir: Path) -> Iterator[sqlite3.Connection | None]:
    path = state_dir.expanduser() / JOURNAL_NAME
    conn: sqlite3.Connection | None = (
        sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) if path.is_file() else None
    )
    try:
        yield conn
    finally:
        if conn is not None:
            conn.close()


def read_entries(state_dir: Path, action: str | None = None) -> list[AuditEntry]:
    """Every entry (of `action`), newest first; none before the journal has the table."""
    with _read_only(state_dir) as conn:
        if conn is None:
            return []
        try:
            return list(audit_entries(conn, action=action))
        except sqlite3.OperationalError:  # a journal not yet migrated: nothing recorded
            return []


def run_starters(state_dir: Path) -> dict[str, str]:
    """Run id -> who started it from the web app or the API (runs of the CLI are not here)."""
    return {entry.target or "": entry.actor for entry in read_entries(state_dir, "send")}


def csv_text(entries: Iterable[AuditEntry]) -> str:
    """The entries as CSV for a spreadsheet; CPR numbers in the details masked as on the page."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at_utc", "actor", "action", "target", "detail", "old", "new"])
    for entry in entries:
        writer.writerow(
            [
                entry.id,
                entry.at,
                _cell(entry.actor),
                entry.action,
                _cell(entry.target or ""),
                _cell(mask_cpr(entry.detail or "")),
                _cell(entry.old_value or ""),
                _cell(entry.new_value or ""),
            ]
        )
    return out.getvalue()


def _cell(text: str) -> str:
    """A text a spreadsheet will not take for a formula (a cell edited to `=HYPERLINK(...)`)."""
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text
