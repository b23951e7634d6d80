"""A run's `RunSummary` as the journal holds it: what the workbook's Summary is written from."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from batch.intake.notes import ReadNotes
from batch.journal import unrecorded_inputs
from batch.records import Outcome
from batch.report._model import InputSheet, RunSummary, needs_nobody

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from batch.journal import Journal
    from batch.preflight import Startup
    from batch.records import RowResult, StopCause

__all__ = ["counted_rows", "run_summary"]


def counted_rows(
    journal: Journal, run_id: str, codes: dict[Outcome, Counter[str]]
) -> Callable[[Outcome], Iterator[RowResult]]:
    """The workbook's rows per outcome, counting their result codes on the way (no second read).

    A row with several issues counts each; the console groups a thousand 280s into one line.
    """

    def rows(outcome: Outcome) -> Iterator[RowResult]:
        counter = codes.setdefault(outcome, Counter())
        for result in journal.results(run_id, outcome):
            if result.code:
                counter.update(result.code.split(", "))
            yield result

    return rows


def run_summary(
    journal: Journal, run_id: str, cause: StopCause | None, startup: Startup | None
) -> RunSummary:
    """The run's identity, inputs, counts, requests and start-up findings, from the journal.

    The Drop rows that need nobody (aged 25 or more) are counted apart here: a pass over the
    Drop rows only, which the workbook streams anyway.
    """
    info = journal.run_info(run_id)
    recorded = info.inputs
    if info.status == "running":  # read beside the run: the files it is still reading
        recorded = [*recorded, *unrecorded_inputs(journal, run_id)]
    new = journal.new_issues(run_id)  # Fix/Drop rows not reported on an earlier night
    inputs = tuple(
        InputSheet(
            source_file=item.source_file,
            sheet=item.sheet,
            headers=tuple(item.headers),
            rows=item.rows,
            blank=item.blank,
            fields=item.fields,
            notes=ReadNotes.from_json(item.notes),
        )
        for item in recorded
    )
    return RunSummary(
        run_id=run_id,
        dry_run=info.dry_run,
        started=info.started,
        finished=info.finished or datetime.now(UTC),
        status=info.status,
        message=info.message,
        inputs=inputs,
        settings={key: str(value) for key, value in info.settings.items()},
        counts=journal.counts(run_id),
        stop_cause=cause,
        warnings=startup.warnings if startup else (),
        certificates=tuple(c.as_json() for c in startup.certificates) if startup else (),
        aged=sum(needs_nobody(row) for row in journal.results(run_id, Outcome.DROP)),
        requests=journal.requests(run_id),
        version=info.version,
        new_fix=new[Outcome.FIX],
        new_drop=new[Outcome.DROP],
    )
