"""The dry run's plan: which rows a run would send, decided exactly as a run decides them.

`batch validate` used to call every valid row Ready, even after all of them were accepted. Here
every valid row goes through the same decisions a run makes just before sending (the window,
`--newest-only`, and the memory of what UDB accepted: changed-only, never older over newer), in
the same per-CPR registration order, as if each row sent were accepted (so a later row of the
same person is judged against it, as in a run). Rows a run would send end `ready`; the others
`unchanged` with the reason a run would give. Nothing is sent and the memory is only read:
`histories` (CPRs -> what UDB accepted) comes from the caller.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch.i18n import _
from batch.journal import (
    KEY_NAME,
    CprHistory,
    MemoryReader,
    Skip,
    record_acceptance,
    service_for,
)
from batch.records import Outcome
from batch.submit._select import Dropped, decide, select_rows
from batch.submit._settings import SubmitSettings

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from batch.config import Settings
    from batch.journal import CprBatch, Journal, JournalWriter
    from batch.submit._select import Rules, Selection

__all__ = ["plan_dry_run", "plan_validate", "share_key"]


def plan_dry_run(
    journal: Journal,
    run_id: str,
    settings: SubmitSettings,
    *,
    stop: threading.Event,
    histories: Callable[[Sequence[bytes]], dict[bytes, CprHistory]] | None = None,
) -> int:
    """Close every pending row of a dry run as `ready` or `unchanged`; return the ready ones.

    `histories` gives the memory for some persons (None: nothing is remembered). Rows left
    when `stop` is set stay pending for the caller to close.
    """
    ready = 0
    with journal.writer(run_id) as writer:
        planner = _Planner(writer, settings.selection, settings.rules(), run_id)
        for batch in journal.pending(run_id):
            if stop.is_set():
                break
            known = histories([batch.person]) if histories is not None else {}
            history = known.get(batch.person) or CprHistory(journal.keys, batch.person)
            ready += planner.batch(batch, history)
    return ready


@dataclass(frozen=True)
class _Planner:
    writer: JournalWriter
    selection: Selection
    rules: Rules
    run_id: str

    def batch(self, batch: CprBatch, history: CprHistory) -> int:
        """Close one CPR's rows; return how many a run would send."""
        chosen = select_rows(batch.rows, self.selection) if self.selection.active else {}
        ready = 0
        for row in batch.rows:
            plan = decide(row, history, chosen.get(row.row_id), self.rules)
            if isinstance(plan, Skip):
                self.writer.finish(row.row_id, Outcome.UNCHANGED, code=None, text=plan.text)
                continue
            if isinstance(plan, Dropped):  # rejected for good before: a run would not send it
                self.writer.finish(row.row_id, Outcome.DROP, code=plan.code, text=plan.text)
                continue
            record_acceptance(history, plan.report, at=self.rules.now, run_id=self.run_id)
            valid = _("Valid: would be sent.")
            text = f"{valid} {plan.note}" if plan.note else valid
            self.writer.finish(row.row_id, Outcome.READY, code=None, text=text)
            ready += 1
        return ready


def share_key(real: Path, dry: Path) -> None:
    """The dry run's journal digests with the real memory's key, so it can read that memory."""
    key = real.expanduser() / KEY_NAME
    if key.is_file():
        shutil.copy2(key, dry / KEY_NAME)  # owner-only, as the original (copy2 keeps the mode)


def plan_validate(journal: Journal, run_id: str, settings: Settings, stop: threading.Event) -> None:
    """`batch validate`: decide its rows with the run's rules and the real memory, read only."""
    where = {"endpoint": settings.endpoint, "wsdl": settings.wsdl, "system_id": settings.system_id}
    with MemoryReader(settings.state_dir, service_for(where)) as memory:
        plan = SubmitSettings.from_settings(settings)
        plan_dry_run(journal, run_id, plan, stop=stop, histories=memory)
    journal.mark_unsent_as_retry(run_id, "interrupted while counting what would be sent")
