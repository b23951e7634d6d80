"""Runs asked for through the HTTP API: kept beside their upload, run one after another.

A run asked for by `POST /api/runs` is an upload (`batch.web.uploads`, the same store, limit
and retention as the pages') with `api.json` beside it: who asked (the token's name), whether to
send, and what became of it. Its id is the upload's (24 lowercase letters), known at once,
while the journal's run id exists only once the run holds the journal's lock.

One worker thread runs the jobs in the order they came, each through `pipeline.run_sources`
exactly as the web app's Send does (`UploadRows`: the stored file read by the intake, under the
name the client gave it). While the nightly job or a send from the pages holds the journal's
lock, the job waits (`waiting`) and tries again. A validation (`send=false`) is the dry run of
`batch validate`: it needs no lock and leaves the journal untouched, so its rows are kept in
`rows-<outcome>.jsonl` beside the upload, read from the dry run's journal before that is gone.
"""

from __future__ import annotations

import functools
import json
import queue
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from batch.errors import BatchError, JournalLockedError
from batch.i18n import _, use_language
from batch.intake import open_input
from batch.pipeline import run_sources
from batch.privacy import mask_cpr
from batch.records import Outcome
from batch.report import result_facts
from batch.web.accounts import write_private
from batch.web.api_rows import row_json
from batch.web.audit import record
from batch.web.options import upload_options
from batch.web.sendpages import UploadRows

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from batch.config import Settings
    from batch.journal import Journal
    from batch.pipeline import RunResult
    from batch.web.uploads import Upload, UploadStore

__all__ = ["ACTIVE", "ApiJob", "ApiJobs", "now", "write_job"]

log = structlog.get_logger(__name__)
JOB_FILE = "api.json"
LOCK_POLL_SECONDS = 2.0
ACTIVE = frozenset({"queued", "waiting", "running"})


@dataclass
class ApiJob:
    """One run asked for through the API, as `api.json` keeps it."""

    id: str  # the upload's id
    token: str  # the name of the token that asked
    file: str  # the file's name as the client sent it
    send: bool
    submitted: str
    sheet: str | None = None
    mapping: str | None = None  # the saved mapping's name
    language: str = "en"  # of the workbook's texts: the caller's Accept-Language
    status: str = "queued"  # queued, waiting, running; then the run's own, stopped or failed
    run_id: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # the JSON summary's, once finished
    workbook: str | None = None
    error: str | None = None


def write_job(uploads: UploadStore, job: ApiJob) -> None:
    """Write a job's record beside its upload (atomically, owner-only)."""
    text = json.dumps(asdict(job), ensure_ascii=False, indent=1)
    write_private(uploads.folder(job.id) / JOB_FILE, text.encode("utf-8"))


class ApiJobs:
    """The API's jobs in one state directory, and the thread that runs them in turn."""

    def __init__(self, settings: Settings, uploads: UploadStore) -> None:
        self.settings = settings
        self.uploads = uploads
        self._queue: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stops: dict[str, threading.Event] = {}
        self._recover()

    def path(self, job_id: str, name: str = JOB_FILE) -> Path:
        """A file of the job's folder; `KeyError` for an id that is no upload."""
        return self.uploads.folder(job_id) / name

    def load(self, job_id: str) -> ApiJob:
        """A job by id; `KeyError` when there is none."""
        path = self.path(job_id)
        if not path.is_file():
            raise KeyError(job_id)
        return ApiJob(**json.loads(path.read_text(encoding="utf-8")))

    def save(self, job: ApiJob) -> None:
        """Write the job's record (atomically, owner-only)."""
        write_job(self.uploads, job)

    def all(self) -> list[ApiJob]:
        """Every job whose upload is still kept (retention removes both together)."""
        found = []
        for path in self.uploads.root.glob(f"*/{JOB_FILE}"):
            try:
                found.append(self.load(path.parent.name))
            except (KeyError, ValueError, TypeError):
                continue
        return found

    def submit(self, job: ApiJob) -> None:
        """Keep the job and queue it; the worker starts with the first job."""
        self.save(job)
        self._queue.put(job.id)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="api-runs", daemon=True)
                self._thread.start()

    def stop(self, job_id: str) -> None:
        """Stop a job as Ctrl-C stops a run.

        Not started, it never starts; waiting for the lock, it stops waiting; sending, the rows
        in flight finish and the rest wait in Retry.
        """
        with self._lock:
            self._stops.setdefault(job_id, threading.Event()).set()

    def _stop_of(self, job_id: str) -> threading.Event:
        with self._lock:
            return self._stops.setdefault(job_id, threading.Event())

    def _recover(self) -> None:
        """After a restart: queued jobs are queued again; one cut off mid-run is failed."""
        for job in sorted(self.all(), key=lambda item: item.submitted):
            if job.status == "queued":
                self.submit(job)
            elif job.status in ACTIVE:
                job.status = "failed"
                job.error = _("the server stopped during the run; send the file again")
                self.save(job)

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            try:
                self._run(self.load(job_id))
            except Exception:  # the worker must live on for the next job
                log.exception("api run failed", job=job_id)

    def _run(self, job: ApiJob) -> None:
        use_language(job.language)
        upload = self.uploads.load(job.id)
        stop = self._stop_of(job.id)
        try:
            result = None if stop.is_set() else self._until_free(job, upload, stop)
        except BatchError as error:
            job.status, job.error = "failed", mask_cpr(str(error))
        except Exception as error:
            log.exception("api run failed", job=job.id)
            job.status = "failed"
            job.error = mask_cpr(f"internal error ({type(error).__name__})")
        else:
            if result is None:
                job.status = "stopped"  # before it held the journal: nothing was run
            else:
                job.status, job.run_id = result.status, result.run_id
                job.facts = result_facts(result)
                job.workbook = str(result.paths.workbook)
        with self._lock:
            self._stops.pop(job.id, None)
        self.save(job)
        log.info("api run ended", job=job.id, status=job.status)

    def _until_free(self, job: ApiJob, upload: Upload, stop: threading.Event) -> RunResult | None:
        """The run, tried again while another run holds the journal's lock; None if stopped."""
        options = upload_options(self.settings, upload)
        path = upload.path(self.uploads.root)
        named = _('API upload "{name}" by {token}').format(name=job.file, token=job.token)
        while True:
            try:
                return run_sources(
                    [UploadRows(open_input(path, options), upload.name, {}, options)],
                    self.settings,
                    inputs=[named],
                    dry_run=not job.send,
                    stop=stop,
                    on_run=lambda run_id: self._started(job, run_id),
                    on_end=functools.partial(self._keep_rows, job),
                )
            except JournalLockedError:
                if job.status != "waiting":
                    job.status = "waiting"
                    self.save(job)
                if stop.wait(LOCK_POLL_SECONDS):
                    return None

    def _started(self, job: ApiJob, run_id: str) -> None:
        job.status, job.run_id = "running", run_id
        self.save(job)
        if job.send:  # a validation's run is in a temporary journal: no run of this one
            actor = f"token:{job.token}"
            record(self.settings.state_dir, actor, "send", run_id, detail=job.file)

    def _keep_rows(self, job: ApiJob, journal: Journal, run_id: str) -> None:
        """A validation's rows, from its dry run's journal before that is removed.

        One file per outcome, so that reading the Fix rows does not read past the Ready ones.
        """
        if job.send:
            return  # a sent run's rows stay in the state directory's journal
        for outcome in Outcome:
            lines = (
                json.dumps(row_json(row), ensure_ascii=False)
                for row in journal.results(run_id, outcome)
            )
            text = "".join(f"{line}\n" for line in lines)
            if text:
                write_private(self.path(job.id, _rows_file(outcome)), text.encode("utf-8"))

    def kept_rows(self, job: ApiJob, outcomes: Iterable[Outcome]) -> Iterator[dict[str, Any]]:
        """A validation's kept rows of `outcomes`, in that order, each in input order."""
        for outcome in outcomes:
            path = self.path(job.id, _rows_file(outcome))
            if not path.is_file():
                continue
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    yield json.loads(line)


def _rows_file(outcome: Outcome) -> str:
    return f"rows-{outcome.value}.jsonl"


def now() -> str:
    """The time a job is submitted (ISO 8601, UTC)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
