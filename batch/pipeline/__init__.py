"""One run, end to end: input files -> journal -> service -> workbook; the CLI's only entry point.

Three phases, each streaming and each resumable because the journal is the single source of
truth: (1) ingest every file (a file that cannot be read stops the run before anything is
sent), (2) submit what is pending, (3) write the workbook from the journal. A crash in any
phase leaves the journal consistent; the next run of the same files finishes the work.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from batch.errors import SetupError
from batch.i18n import N_, _
from batch.intake import InputFile, InputOptions, open_input
from batch.journal import SIMULATOR, Journal, Service, fixed_originals
from batch.journal.retention import after_run
from batch.pipeline.fixback import lent_settings, open_all
from batch.pipeline.ingest import InputSource, ingest
from batch.pipeline.memory import give_back
from batch.pipeline.result import (
    EXIT_FAILED_ROWS,
    EXIT_OK,
    EXIT_UNSENT,
    RunResult,
    exit_code_for,
    next_flags_of,
    open_journal_to_read,
    rebuild_report,
    write_result,
)
from batch.preflight import Startup, startup_checks
from batch.preflight.startup import address_warning
from batch.preflight.wiring import (
    check_settings,
    check_system_id,
    client_settings,
    input_options,
    submit_settings,
)
from batch.records import Outcome, StopCause
from batch.service.client import UdbClient
from batch.simulator import SimulatorConfig, start_simulator
from batch.submit import plan_validate, share_key, submit_run
from batch.submit.deadline import RunDeadline

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from batch.config import Settings
    from batch.records import Sender
    from batch.submit import Snapshot, SubmitStats

__all__ = [
    "EXIT_FAILED_ROWS",
    "EXIT_OK",
    "EXIT_UNSENT",
    "SIMULATOR_NOTICE",
    "InputSource",
    "RunResult",
    "client_settings",
    "exit_code_for",
    "input_options",
    "open_journal_to_read",
    "rebuild_report",
    "run_job",
    "run_sources",
    "submit_settings",
]

SIMULATOR_NOTICE = N_(
    "no endpoint configured: sending to the built-in UDB simulator; nothing leaves this machine"
)
FIRST_RUN_NOTICE = N_(
    "first run against {endpoint}: nothing is known as accepted there yet; "
    "the memory of {other} is kept apart"
)

log = structlog.get_logger(__name__)


@contextlib.contextmanager
def _sender(settings: Settings) -> Iterator[tuple[Sender, Service]]:
    """The real client, or the embedded simulator when no endpoint is configured.

    With it, the service whose memory the run uses: the address requests really go to, or
    the built-in simulator by name (its port changes every run).
    """
    if not settings.uses_simulator:
        check_system_id(settings)
        with UdbClient(client_settings(settings)) as client:
            yield client, Service.at(client.endpoint, settings.system_id)
        return
    with start_simulator(SimulatorConfig()) as simulator:
        embedded = client_settings(settings, wsdl=simulator.wsdl_url)
        # The embedded simulator is on this machine: never through a proxy.
        with UdbClient(dataclasses.replace(embedded, proxy="none")) as client:
            yield client, Service(SIMULATOR, settings.system_id)


def first_run_note(journal: Journal, service: Service) -> str | None:
    """One line when this service has no memory but another one has: why all is sent."""
    memories = journal.memories()
    if any(m.service == service and m.remembered for m in memories):
        return None
    others = [m for m in memories if m.service != service and m.remembered]
    if not others:
        return None
    newest = max(others, key=lambda m: m.last_accepted or "")
    return _(FIRST_RUN_NOTICE).format(endpoint=service, other=newest.service)


class _Notes:
    """The console's notice callback, keeping what belongs in the Summary too."""

    def __init__(self, notice: Callable[[str], None]) -> None:
        self._notice = notice
        self.kept: list[str] = []

    def __call__(self, text: str, *, keep: bool = False) -> None:
        self._notice(text)
        if keep:
            self.kept.append(text)

    def joined(self, message: str | None) -> str | None:
        parts = [*([message] if message else []), *self.kept]
        return "; ".join(parts) if parts else None


def _open_inputs(paths: Sequence[Path], options: InputOptions) -> list[InputFile]:
    # Every file's header is read before any row is sent: a bad file stops the run here.
    return [open_input(path, options) for path in paths]


def _startup(settings: Settings, notice: Callable[[str], None], *, dry_run: bool) -> Startup:
    """Settings, certificates and risky settings, checked before any file is read."""
    if not dry_run:
        check_settings(settings)  # a mistake found now leaves no run and no rows behind
    if dry_run or settings.uses_simulator:
        return Startup((), ())
    startup = startup_checks(settings, client_settings(settings))
    for text in startup.warnings:
        notice(text)
        log.warning("start-up warning", warning=text)
    return startup


def run_job(
    paths: Sequence[Path],
    settings: Settings,
    *,
    sheet: str | int | None = None,
    dry_run: bool = False,
    stop: threading.Event | None = None,
    notice: Callable[[str], None] = lambda _text: None,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_status: Callable[[Snapshot], None] | None = None,
    stop_code: Callable[[], int | None] = lambda: None,  # the exit code a signal means
) -> RunResult:
    """Run the whole job on `paths` and write the workbook; return what happened.

    Raises a `BatchError` for what stops the run before rows are sent (exit 2; the settings are
    checked before any file is read) and `ReportWriteError` when the workbook is not written.
    """
    notice = _Notes(notice)
    if settings.uses_simulator and not dry_run:
        notice(_(SIMULATOR_NOTICE))  # the first thing the user reads
    # A result workbook fed back lends the settings of its run (see batch.pipeline.fixback), before
    # the settings are checked.
    settings = lent_settings(paths, settings)
    startup = _startup(settings, notice, dry_run=dry_run)
    settings, opened = open_all(
        paths,
        settings,
        lambda chosen: input_options(chosen, sheet),
        sheet_given=sheet is not None,
        notice=notice,
    )
    files: list[InputFile] = opened
    for input_file in files:
        for line in input_file.notes.column_lines():
            notice(f"{input_file.source_file}: {line}")
    return run_sources(
        files,
        settings,
        inputs=[str(path) for path in paths],
        dry_run=dry_run,
        stop=stop,
        notice=notice,
        startup=startup,
        on_total=on_total,
        on_progress=on_progress,
        on_status=on_status,
        stop_code=stop_code,
    )


def run_sources(
    files: Sequence[InputSource],
    settings: Settings,
    *,
    inputs: Sequence[str],
    dry_run: bool = False,
    stop: threading.Event | None = None,
    notice: Callable[[str], None] = lambda _text: None,
    startup: Startup | None = None,
    on_run: Callable[[str], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_status: Callable[[Snapshot], None] | None = None,
    stop_code: Callable[[], int | None] = lambda: None,  # the exit code a signal means
    on_end: Callable[[Journal, str], None] = lambda _journal, _run_id: None,
) -> RunResult:
    """Run the job on opened inputs (`run_job`'s files, or rows the web app checked and edited).

    `inputs` names them in the journal; `on_run` hears the run's id once it is recorded;
    `startup` is what `run_job` checked before reading its files (else it is checked here);
    `on_end` reads the run's rows once its workbook is written, while a dry run's journal (in a
    temporary folder) still exists: the HTTP API keeps a validation's rows that way.
    """
    stop = stop or threading.Event()
    notice = notice if isinstance(notice, _Notes) else _Notes(notice)
    if startup is None:
        startup = _startup(settings, notice, dry_run=dry_run)
    with contextlib.ExitStack() as stack:
        clock = stack.enter_context(RunDeadline(settings.max_run_minutes, stop))
        state_dir = settings.state_dir
        if dry_run:  # a dry run leaves no trace and needs no lock; it reads the real memory
            state_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="batch-")))
            share_key(settings.state_dir, state_dir)
        journal = stack.enter_context(Journal.open(state_dir))
        if dry_run:  # an original fixed through a Fix sheet is Unchanged here too, as in a run
            journal.meet_fixed(fixed_originals(settings.state_dir))
        run_id = journal.start_run(
            inputs=list(inputs), settings=settings.printable(), dry_run=dry_run
        )
        structlog.contextvars.bind_contextvars(run_id=run_id)
        if on_run is not None:
            on_run(run_id)
        status, message, cause = "finished", None, None
        try:
            read = ingest(journal, run_id, files, stop, notice)
            give_back()  # the reading phase's memory, before hours of sending and the workbook
            if not read:
                status, message = "interrupted", _("interrupted while reading the input files")
                cause = clock.cause
                journal.mark_unsent_as_retry(run_id, message)
            elif dry_run:
                plan_validate(journal, run_id, settings, stop)
            else:
                status, message, cause = _submit(
                    journal,
                    run_id,
                    settings,
                    notice=notice,
                    stop=stop,
                    watchers=(on_total, on_progress, on_status),
                )
                journal.settle_fixes(run_id)  # the originals of accepted fixed rows
                if cause is None and clock.cause is not None:
                    cause = clock.cause
                    message = f"{cause.text()}: rows not sent are in Retry; the next run sends them"
        except BaseException:
            journal.mark_unsent_as_retry(run_id, _("the run stopped before this row was sent"))
            journal.finish_run(run_id, status="failed", message=_("the run stopped on an error"))
            raise
        journal.finish_run(run_id, status=status, message=notice.joined(message))
        result = write_result(
            journal,
            run_id,
            settings.report_dir,
            cause,
            startup,
            next_flags=next_flags_of(settings),
            stop_code=stop_code(),
        )
        on_end(journal, run_id)
        if not dry_run:
            after_run(journal, run_id, settings)
        return result


def _submit(
    journal: Journal,
    run_id: str,
    settings: Settings,
    *,
    notice: _Notes,
    stop: threading.Event,
    watchers: tuple[
        Callable[[int], None] | None,
        Callable[[int], None] | None,
        Callable[[Snapshot], None] | None,
    ],
) -> tuple[str, str | None, StopCause | None]:
    on_total, on_progress, on_status = watchers
    if on_total is not None:
        on_total(journal.counts(run_id)[Outcome.RETRY])
    try:
        with _sender(settings) as (sender, service):
            journal.use_service(run_id, service)
            plain = address_warning(service.endpoint) if settings.endpoint is None else None
            note = first_run_note(journal, service)
            for text in (plain, note):
                if text is not None:
                    notice(text, keep=True)
            stats = submit_run(
                journal,
                run_id,
                sender,
                submit_settings(settings),
                stop=stop,
                on_progress=on_progress,
                on_status=on_status,
            )
    except SetupError as error:  # the WSDL could not be fetched: TLS, proxy
        message = _("{error}: nothing was sent; fix it, then run again").format(error=error)
        journal.mark_unsent_as_retry(run_id, message)
        return "setup", message, error.cause
    return _stopped(journal, run_id, stats)


def _stopped(
    journal: Journal, run_id: str, stats: SubmitStats
) -> tuple[str, str | None, StopCause | None]:
    """The run's status and message from how sending ended; unsent rows closed as Retry."""
    if stats.stopped_by is None:
        return "finished", None, None
    if stats.stopped_by == "setup":
        why = stats.message or ""
        status, message = (
            "setup",
            _("{why}: sending stopped; fix it, then run again").format(why=why),
        )
    elif stats.stopped_by == "breaker":
        why = stats.message or _("the service kept failing")
        message = _("{why}: sending stopped; the next run sends the rest").format(why=why)
        status = "broken"
    elif stats.stopped_by in ("max_rows", "until"):  # as asked: --max-rows, --until
        status, asked = "stopped", _("stopped: {why}; rows not sent are in Retry; run again")
        message = asked.format(why=stats.message)
    else:
        status = "interrupted"
        message = _("interrupted: rows not sent are in Retry; run again to send them")
    journal.mark_unsent_as_retry(run_id, message)
    return status, message, stats.cause
