"""What the pipeline hands the report writer, and the check that every input row is counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batch import __version__
from batch.i18n import N_
from batch.outcomes import SHEET_TITLES, sheet_names_for, sheet_title
from batch.privacy import mask_cpr
from batch.records import Outcome, StopCause

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from batch.intake.notes import ReadNotes
    from batch.pipeline import RunResult
    from batch.records import RowResult

__all__ = [
    "AGED_SHEET",
    "SHEET_NAMES",
    "InputSheet",
    "ReportIntegrityError",
    "ReportPaths",
    "RunSummary",
    "checked_counts",
    "needs_nobody",
    "result_facts",
    "run_facts",
    "sheet_names_for",
    "sheet_outcomes",
    "sheet_title",
    "summary_facts",
    "summary_json",
]

# The sheets' English names (the catalog's msgids); `sheet_title` gives the current
# language's, `sheet_names_for` every language's (the table lives in `batch.outcomes`, which
# the intake may import too).
SHEET_NAMES: Mapping[Outcome, str] = SHEET_TITLES


# Drop rows that need nobody: the young person is 25 or more (UDB's 15, or our check before
# sending). They share the outcome `drop` (never sent, never accepted) but get their own sheet
# and their own line in the Summary, apart from the 14/86 rows a person must look at.
AGED_SHEET = N_("Aged 25+")  # msgid: Danish "25 år eller ældre"
_AGED_CODE = "15"


def needs_nobody(result: RowResult) -> bool:
    """A Drop row about a young person aged 25 or more: nothing anyone can or should do."""
    return result.outcome is Outcome.DROP and _AGED_CODE in (result.code or "").split(", ")


@dataclass(frozen=True, slots=True)
class InputSheet:
    """One input read by the run; `rows` counts its non-blank rows, `blank` the skipped ones.

    `fields` (optional) maps headers to the canonical fields the run read them as, mapping file
    included; without it the built-in header names decide which columns of different inputs
    hold the same field and so share a column in the workbook.
    """

    source_file: str
    sheet: str | None
    headers: tuple[str, ...]
    rows: int
    blank: int
    fields: Mapping[str, str] = field(default_factory=dict, hash=False)
    notes: ReadNotes | None = field(default=None, hash=False)  # columns, hidden rows, totals


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The run as a whole: identity, times (timezone-aware), settings safe to print, counts."""

    run_id: str
    dry_run: bool
    started: datetime
    finished: datetime
    status: str  # "finished" | "interrupted" | "stopped" | "broken" | "setup" | "failed"
    message: str | None
    inputs: tuple[InputSheet, ...]
    settings: Mapping[str, str]
    counts: Mapping[Outcome, int]
    aged: int = 0  # of counts[DROP]: rows that need nobody (aged 25 or more), own sheet
    requests: int = 0  # requests the run sent (attempts, retries included)
    stop_cause: StopCause | None = None  # why the run stopped early (set-up problem, deadline)
    warnings: tuple[str, ...] = ()  # start-up warnings, as the operator read them
    certificates: tuple[Mapping[str, object], ...] = ()  # role, file, not_after, days_left
    still_wrong: int = 0  # Unchanged rows fixed here earlier but still wrong in the source
    report_dir: str | None = None  # where the workbook is written, as the user gave it
    next_flags: tuple[str, ...] = ()  # flags the next run needs (given on this command line)
    version: str | None = None  # batch's version that ran it (None: a journal from before 0.2)
    new_fix: int = 0  # rows in Fix not reported on an earlier night (batch.journal._issues)
    new_drop: int = 0
    exit_code: int | None = None  # what `batch run` exits with for this run


@dataclass(frozen=True, slots=True)
class ReportPaths:
    """Where the workbook and its JSON summary ended up."""

    workbook: Path
    summary: Path


class ReportIntegrityError(RuntimeError):
    """The rows handed over do not add up: a bug upstream, so no workbook is written.

    A workbook that silently lost rows would be worse than none: users trust it to hold every
    input row in exactly one place.
    """

    def __init__(self, message: str) -> None:
        super().__init__(mask_cpr(message))


def sheet_outcomes(*, dry_run: bool) -> tuple[Outcome, ...]:
    """The row sheets in workbook order; a dry run has `Ready` where a real run has `Accepted`."""
    first = Outcome.READY if dry_run else Outcome.ACCEPTED
    return (first, Outcome.FIX, Outcome.DROP, Outcome.RETRY, Outcome.UNCHANGED)


def checked_counts(summary: RunSummary) -> dict[Outcome, int]:
    """Counts per sheet, after checking that they add up to the rows read; raise if not."""
    outcomes = sheet_outcomes(dry_run=summary.dry_run)
    for outcome, count in summary.counts.items():
        if count < 0:
            raise ReportIntegrityError(f"negative count for {outcome.value}: {count}")
        if count and outcome not in outcomes:
            kind = "a dry run" if summary.dry_run else "a real run"
            raise ReportIntegrityError(f"{count} rows are {outcome.value}, impossible in {kind}")
    counts = {outcome: summary.counts.get(outcome, 0) for outcome in outcomes}
    rows_in = sum(sheet.rows for sheet in summary.inputs)
    if sum(counts.values()) != rows_in:
        detail = ", ".join(f"{o.value} {n}" for o, n in counts.items())
        raise ReportIntegrityError(
            f"the inputs hold {rows_in} rows but the outcomes add up to "
            f"{sum(counts.values())} ({detail})"
        )
    return counts


def summary_json(summary: RunSummary, workbook: Path) -> dict[str, object]:
    """The machine-readable summary beside the workbook, for schedulers and dashboards.

    The outcome keys are always all present (zero when empty), so a consumer needs no
    special case for dry runs. `stop_cause` is null unless the run stopped early for a named
    cause (`{"slug": "tls_server_certificate_expired", "text": ..., "setup": true}`);
    `warnings` are the start-up warnings; `certificates` the TLS and signing certificates with
    `not_after` and `days_left` (for monitoring). `still_wrong`, `hidden_rows` and
    `totals_rows` are the Summary sheet's counts of the rows fixed here but still wrong in the
    source, the rows hidden in the sheet and the totals rows left out.
    """
    counts = checked_counts(summary)
    every = {outcome.value: counts.get(outcome, 0) for outcome in SHEET_NAMES}
    return {
        "run_id": summary.run_id,
        "status": summary.status,
        "message": None if summary.message is None else mask_cpr(summary.message),
        "dry_run": summary.dry_run,
        "inputs": [_input_json(sheet) for sheet in summary.inputs],
        "rows": sum(counts.values()),
        **every,
        "new_fix": summary.new_fix,
        "new_drop": summary.new_drop,
        "aged": summary.aged,
        "still_wrong": summary.still_wrong,
        "hidden_rows": sum(len(s.notes.hidden_rows) for s in summary.inputs if s.notes),
        "totals_rows": sum(len(s.notes.totals) for s in summary.inputs if s.notes),
        "requests": summary.requests,
        "blank": sum(sheet.blank for sheet in summary.inputs),
        "exit_code": summary.exit_code,
        "version": summary.version,
        "workbook": str(workbook),
        "started": summary.started.isoformat(),
        "finished": summary.finished.isoformat(),
        "duration_seconds": round((summary.finished - summary.started).total_seconds(), 3),
        "settings": dict(summary.settings),
        "stop_cause": _cause_json(summary.stop_cause),
        "warnings": [mask_cpr(text) for text in summary.warnings],
        "certificates": [dict(item) for item in summary.certificates],
    }


def _input_json(sheet: InputSheet) -> dict[str, object]:
    """One input with the Summary sheet's notes: hidden rows and totals rows by row number.

    `hidden_checked` is false for a kind of file whose hidden rows cannot be told, so that
    `hidden_rows: []` is not read as "none were hidden" there.
    """
    notes = sheet.notes
    found: dict[str, object] = {"hidden_checked": False}
    if notes is not None:
        found = {
            "hidden_checked": notes.hidden_checked,
            "hidden_rows": sorted(notes.hidden_rows),
            "hidden_skipped": notes.skipped_hidden,
            "hidden_columns": list(notes.hidden_columns),
            "totals_rows": sorted(notes.totals),
        }
    plain = {"hidden_rows": [], "hidden_skipped": False, "hidden_columns": [], "totals_rows": []}
    return {
        "file": sheet.source_file,
        "sheet": sheet.sheet,
        "rows": sheet.rows,
        "blank": sheet.blank,
        **plain,
        **found,
    }


def _cause_json(cause: StopCause | None) -> dict[str, object] | None:
    """`slug` for a machine, `text` in English for a log reader, `setup` for the exit code."""
    if cause is None:
        return None
    return {"slug": cause.slug, "text": mask_cpr(cause.text()), "setup": cause.setup}


def run_facts(
    run_id: str,
    counts: Mapping[Outcome, int],
    *,
    status: str,
    exit_code: int | None,
    stop_cause: StopCause | None = None,
    warnings: Sequence[str] = (),
    certificates: Sequence[Mapping[str, object]] = (),
    new: tuple[int, int] = (0, 0),
    version: str | None = __version__,
) -> dict[str, object]:
    """The machine-readable line per run (`run finished`), with the JSON summary's keys."""
    return {
        "run_id": run_id,
        "status": status,
        "exit_code": exit_code,
        "stop_cause": _cause_json(stop_cause),
        "rows": sum(counts.values()),
        **{outcome.value: count for outcome, count in counts.items()},
        "new_fix": new[0],
        "new_drop": new[1],
        "version": version,
        "warnings": [mask_cpr(text) for text in warnings],
        "certificates": [dict(item) for item in certificates],
    }


def summary_facts(summary: RunSummary, exit_code: int | None = None) -> dict[str, object]:
    """`run_facts` of a run from its summary (also when its workbook could not be written)."""
    return run_facts(
        summary.run_id,
        summary.counts,
        status=summary.status,
        exit_code=summary.exit_code if exit_code is None else exit_code,
        stop_cause=summary.stop_cause,
        warnings=summary.warnings,
        certificates=summary.certificates,
        new=(summary.new_fix, summary.new_drop),
        version=summary.version,
    )


def result_facts(result: RunResult) -> dict[str, object]:
    """`run_facts` of a finished run, from what `run_job` returned."""
    return run_facts(
        result.run_id,
        result.counts,
        status=result.status,
        exit_code=result.exit_code,
        stop_cause=result.stop_cause,
        warnings=result.warnings,
        certificates=tuple(c.as_json() for c in result.certificates),
        new=result.new,
    )
