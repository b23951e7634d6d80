"""Sending an upload's rows from the browser: the pipeline in a background thread, watched.

The run is `pipeline.run_sources` over the upload's checked (and edited) rows, so it goes
through the same journal, memory of what UDB holds, rate limit, retry and workbook as the
nightly job. Stopping sets the same `threading.Event` Ctrl-C sets. The journal's lock decides
"one run at a time per state directory": while another run holds it, the runner waits and
tries again, and the page says so. Live counts per outcome are read from the journal with a
read-only connection (WAL lets it read beside the writer).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from batch.errors import BatchError, JournalLockedError
from batch.i18n import current_language, use_language
from batch.journal import peek_answers, peek_counts
from batch.pipeline import run_sources
from batch.privacy import mask_cpr

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from batch.config import Settings
    from batch.pipeline import InputSource, RunResult

__all__ = ["Progress", "Runner", "journal_counts"]

log = structlog.get_logger(__name__)
LOCK_POLL_SECONDS = 2.0


@dataclass
class Progress:
    """What the Send page shows; written by the run's thread, read by the page's stream."""

    upload_id: str
    phase: str = "starting"  # starting, waiting (lock held elsewhere), running, done, failed
    run_id: str | None = None
    total: int = 0
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    sending_since: float | None = None
    error: str | None = None
    result: RunResult | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    on_run: Callable[[str], None] | None = None  # told the run's id when it starts (audit log)

    def rate(self) -> float:
        """Rows closed per second since sending began."""
        if self.sending_since is None:
            return 0.0
        elapsed = time.monotonic() - self.sending_since
        return self.done / elapsed if elapsed > 0 else 0.0

    def seconds_left(self) -> int | None:
        """At the current rate, how long the rest takes (None until there is a rate)."""
        rate = self.rate()
        if rate <= 0 or self.total <= self.done:
            return None
        return round((self.total - self.done) / rate)


def journal_counts(settings: Settings, run_id: str | None) -> dict[str, int]:
    """Rows of a run per outcome so far, read without the journal's lock."""
    return {} if run_id is None else peek_counts(settings.state_dir, run_id)


def journal_answers(settings: Settings, run_id: str) -> Iterator[tuple[int, str, str, str]]:
    """(source row, outcome, code, text) of every row of a run: UDB's answer per row."""
    return peek_answers(settings.state_dir, run_id)


class Runner:
    """At most one send at a time from this server; the journal's lock guards the rest."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._current: Progress | None = None

    def current(self) -> Progress | None:
        """The send under way or last finished."""
        return self._current

    def busy(self) -> bool:
        """A send of this server is under way (or waiting for the lock)."""
        current = self._current
        return current is not None and current.phase in {"starting", "waiting", "running"}

    def start(
        self,
        upload_id: str,
        source: Callable[[], InputSource],
        inputs: list[str],
        finished: Callable[[Progress], None],
        on_run: Callable[[str], None] | None = None,
    ) -> Progress:
        """Start sending; `source` makes the rows afresh for each try at the lock."""
        with self._lock:
            if self.busy():
                raise RuntimeError("a send is already under way")
            progress = Progress(upload_id, on_run=on_run)
            self._current = progress
        language = current_language()
        thread = threading.Thread(
            target=self._run,
            args=(progress, source, inputs, finished, language),
            name=f"send-{upload_id}",
            daemon=True,
        )
        thread.start()
        return progress

    def _run(
        self,
        progress: Progress,
        source: Callable[[], InputSource],
        inputs: list[str],
        finished: Callable[[Progress], None],
        language: str,
    ) -> None:
        use_language(language)  # the workbook's texts in the language of who pressed Send
        try:
            progress.result = self._try_until_free(progress, source, inputs)
            progress.phase = "done"
        except BatchError as error:
            progress.error, progress.phase = mask_cpr(str(error)), "failed"
        except Exception as error:  # the thread's last line of defence: the page must hear
            log.exception("web send failed")
            progress.error = mask_cpr(f"internal error ({type(error).__name__})")
            progress.phase = "failed"
        try:
            finished(progress)  # UDB's answers onto the grid; the journal has them anyway
        except Exception:  # the page must still end; the workbook can be written again
            log.exception("web send: recording the answers failed")

    def _try_until_free(
        self, progress: Progress, source: Callable[[], InputSource], inputs: list[str]
    ) -> RunResult | None:
        while True:
            try:
                return run_sources(
                    [source()],
                    self.settings,
                    inputs=inputs,
                    stop=progress.stop,
                    on_run=lambda run_id: _started(progress, run_id),
                    on_total=lambda total: _total(progress, total),
                    on_progress=lambda count: _advance(progress, count),
                )
            except JournalLockedError:
                progress.phase = "waiting"
                if progress.stop.wait(LOCK_POLL_SECONDS):
                    return None


def _started(progress: Progress, run_id: str) -> None:
    progress.run_id, progress.phase = run_id, "running"
    if progress.on_run is not None:
        try:
            progress.on_run(run_id)
        except Exception:  # the run goes on; the log says the audit entry is missing
            log.exception("web send: the audit entry of the run failed", run=run_id)
    log.info("web send started", upload=progress.upload_id, at=datetime.now(UTC).isoformat())


def _total(progress: Progress, total: int) -> None:
    progress.total = total
    progress.sending_since = time.monotonic()


def _advance(progress: Progress, count: int) -> None:
    progress.done += count


def snapshot(progress: Progress, settings: Settings) -> dict[str, Any]:
    """The progress as the page's event stream sends it (JSON)."""
    counts = journal_counts(settings, progress.run_id)
    return {
        "phase": progress.phase,
        "total": progress.total,
        "done": progress.done,
        "counts": counts,
        "rate": round(progress.rate(), 1),
        "seconds_left": progress.seconds_left(),
        "error": progress.error,
    }
