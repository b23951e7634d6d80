"""What the pipeline hands the report writer, and the check that every input row is counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batch import __version__
from batch.privacy import mask_cpr
from batch.records import Outcome

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from batch.intake.notes import ReadNotes

__all__ = [
    "SHEET_NAMES",
    "InputSheet",
    "ReportIntegrityError",
    "ReportPaths",
    "RunSummary",
    "checked_counts",
    "run_facts",
    "sheet_outcomes",
    "summary_facts",
    "summary_json",
]

SHEET_NAMES: Mapping[Outcome, str] = {
    Outcome.ACCEPTED: "Accepted",
    Outcome.READY: "Ready",
    Outcome.FIX: "Fix",
    Outcome.DROP: "Drop",
    Outcome.RETRY: "Retry",
    Outcome.UNCHANGED: "Unchanged",
}


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
    status: str  # "finished" | "interrupted" | "broken" | "failed"
    message: str | None
    inputs: tuple[InputSheet, ...]
    settings: Mapping[str, str]
    counts: Mapping[Outcome, int]
    version: str | None = None  # batch's version that ran it (None: a journal from before 0.2)
    new_fix: int = 0  # rows in Fix not reported on an earlier night (batch.journal._issues)
    new_drop: int = 0
    exit_code: int | None = None  # what `batch run` exits with for this run
    stop_cause: str | None = None  # why the run stopped early; None when it finished
    certificates: tuple[dict[str, object], ...] = ()  # role, file, not_after, days_left
    warnings: tuple[str, ...] = ()  # for a person to act on before it fails (expiry)


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
    special case for dry runs.
    """
    counts = checked_counts(summary)
    every = {outcome.value: counts.get(outcome, 0) for outcome in SHEET_NAMES}
    return {
        "run_id": summary.run_id,
        "status": summary.status,
        "message": None if summary.message is None else mask_cpr(summary.message),
        "dry_run": summary.dry_run,
        "inputs": [
            {"file": s.source_file, "sheet": s.sheet, "rows": s.rows, "blank": s.blank}
            for s in summary.inputs
        ],
        "rows": sum(counts.values()),
        **every,
        "new_fix": summary.new_fix,
        "new_drop": summary.new_drop,
        "blank": sum(sheet.blank for sheet in summary.inputs),
        "exit_code": summary.exit_code,
        "stop_cause": None if summary.stop_cause is None else mask_cpr(summary.stop_cause),
        "version": summary.version,
        "certificates": [dict(certificate) for certificate in summary.certificates],
        "warnings": list(summary.warnings),
        "workbook": str(workbook),
        "started": summary.started.isoformat(),
        "finished": summary.finished.isoformat(),
        "duration_seconds": round((summary.finished - summary.started).total_seconds(), 3),
        "settings": dict(summary.settings),
    }


def run_facts(
    run_id: str,
    counts: dict[Outcome, int],
    *,
    status: str,
    message: str | None,
    new: tuple[int, int],
    exit_code: int,
    certificates: tuple[Sequence[Mapping[str, object]], Sequence[str]] = ((), ()),
) -> dict[str, object]:
    """The machine-readable line per run: also logged when the workbook could not be written."""
    return {
        "run_id": run_id,
        "status": status,
        "exit_code": exit_code,
        "stop_cause": None if status == "finished" else message,
        "rows": sum(counts.values()),
        **{outcome.value: count for outcome, count in counts.items()},
        "new_fix": new[0],
        "new_drop": new[1],
        "version": __version__,
        "certificates": [dict(certificate) for certificate in certificates[0]],
        "warnings": list(certificates[1]),
    }


def summary_facts(summary: RunSummary, exit_code: int) -> dict[str, object]:
    """`run_facts` of a run whose workbook was not written (the summary is all there is)."""
    return run_facts(
        summary.run_id,
        dict(summary.counts),
        status=summary.status,
        message=summary.message,
        new=(summary.new_fix, summary.new_drop),
        exit_code=exit_code,
        certificates=(summary.certificates, summary.warnings),
    )
