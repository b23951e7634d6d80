"""One run, end to end: input files -> journal -> service -> workbook; the CLI's only entry point.

Three phases, each streaming and each resumable because the journal is the single source of
truth: (1) ingest every file (a file that cannot be read stops the run before anything is
sent), (2) submit what is pending, (3) write the workbook from the journal. A crash in any
phase leaves the journal consistent; the next run of the same files finishes the work.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from batch.errors import ConfigError
from batch.i18n import N_, _
from batch.intake import InputFile, InputOptions, open_input
from batch.intake.columns import load_mapping
from batch.intake.notes import ReadNotes
from batch.journal import Journal
from batch.records import Outcome, RowResult
from batch.report import InputSheet, ReportPaths, RunSummary, write_report
from batch.service.client import ClientSettings, UdbClient
from batch.service.keys import Secret
from batch.service.signing import SigningSettings
from batch.service.tls import TlsSettings
from batch.simulator import SimulatorConfig, start_simulator
from batch.submit import SubmitSettings, submit_run

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from batch.config import Settings
    from batch.records import Sender

__all__ = [
    "EXIT_FAILED_ROWS",
    "EXIT_OK",
    "EXIT_UNSENT",
    "SIMULATOR_NOTICE",
    "RunResult",
    "exit_code_for",
    "rebuild_report",
    "run_job",
]

EXIT_OK = 0
EXIT_FAILED_ROWS = 1  # the run finished; some rows are in Fix or Drop
EXIT_UNSENT = 3  # some rows could not be sent (Retry); wins over 1
SIMULATOR_NOTICE = N_(
    "no endpoint configured: sending to the built-in UDB simulator; nothing leaves this machine"
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RunResult:
    """What the CLI needs to tell the user and the scheduler.

    `codes` counts the result codes per outcome (a row with several issues counts each), as
    the workbook streamed them: the console groups a thousand 280s into one line.
    """

    run_id: str
    counts: dict[Outcome, int]
    paths: ReportPaths
    status: str
    message: str | None
    blank: int
    dry_run: bool = False
    started: datetime | None = None
    finished: datetime | None = None
    codes: dict[Outcome, Counter[str]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Rows in, blank rows not counted."""
        return sum(self.counts.values())


def exit_code_for(counts: dict[Outcome, int]) -> int:
    """0 all accepted or unchanged; 3 some unsent (wins); 1 some to fix or drop."""
    if counts.get(Outcome.RETRY, 0):
        return EXIT_UNSENT
    if counts.get(Outcome.FIX, 0) or counts.get(Outcome.DROP, 0):
        return EXIT_FAILED_ROWS
    return EXIT_OK


def input_options(settings: Settings, sheet: str | int | None) -> InputOptions:
    """The loader's options from the run's settings."""
    mapping = load_mapping(settings.mapping) if settings.mapping is not None else {}
    return InputOptions(
        system_id=settings.system_id,
        institution=settings.institution,
        sheet=sheet,
        mapping=mapping,
        date_only_time=settings.date_only_time,
        header_row=settings.header_row,
        hidden_rows=settings.hidden_rows,
    )


def client_settings(settings: Settings, wsdl: str | None = None) -> ClientSettings:
    """The SOAP client's settings; certificate paths and secrets come from file or environment."""
    if settings.tls_client_cert is not None and settings.tls_client_key is None:
        raise ConfigError("tls_client_cert is set but tls_client_key is not: set both")
    tls = TlsSettings(
        verify=settings.tls_verify,
        ca_bundle=settings.tls_ca_bundle,
        client_cert=settings.tls_client_cert,
        client_key=settings.tls_client_key,
        pkcs12=settings.tls_pkcs12,
        pkcs12_password=_secret(settings.tls_pkcs12_password),
    )
    signing = None
    if settings.sign_pkcs12 is not None or settings.sign_key is not None:
        signing = SigningSettings(
            key=settings.sign_key,
            cert=settings.sign_cert,
            key_password=_secret(settings.sign_key_password),
            pkcs12=settings.sign_pkcs12,
            pkcs12_password=_secret(settings.sign_pkcs12_password),
        )
    return ClientSettings(
        wsdl=wsdl or settings.wsdl,
        endpoint=settings.endpoint,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        pool_size=max(settings.concurrency, 1),
        tls=tls,
        signing=signing,
    )


def _secret(value: str | None) -> Secret | None:
    return None if value is None else Secret(value)


def submit_settings(settings: Settings) -> SubmitSettings:
    """The scheduler's settings."""
    return SubmitSettings(
        concurrency=settings.concurrency,
        rate=settings.rate,
        max_attempts=settings.max_attempts,
        resend_all=settings.resend_all,
    )


@contextlib.contextmanager
def _sender(settings: Settings) -> Iterator[Sender]:
    """The real client, or the embedded simulator when no endpoint is configured."""
    if not settings.uses_simulator:
        if settings.system_id == "BATCH-DEMO":
            raise ConfigError(
                "system_id is not set: set it to your system's SystemName on IPL "
                "(config file `system_id = ...` or BATCH_SYSTEM_ID)"
            )
        with UdbClient(client_settings(settings)) as client:
            yield client
        return
    with (
        start_simulator(SimulatorConfig()) as simulator,
        UdbClient(client_settings(settings, wsdl=simulator.wsdl_url)) as client,
    ):
        yield client


def _open_inputs(paths: Sequence[Path], options: InputOptions) -> list[InputFile]:
    # Every file's header is read before any row is sent: a bad file stops the run here.
    return [open_input(path, options) for path in paths]


def _ingest(
    journal: Journal,
    run_id: str,
    files: Sequence[InputFile],
    stop: threading.Event,
    notice: Callable[[str], None],
) -> bool:
    """Read every file into the journal; False when a signal cut the reading short.

    A file cut short is recorded with the rows read so far, so that the run's counts still add
    up to its inputs and its workbook can be written (the report writer checks exactly that).
    """
    now = datetime.now(UTC)
    for input_file in files:
        complete = False
        try:
            complete = _read_into(journal, run_id, input_file, now, stop)
        finally:
            journal.record_input(
                run_id,
                source_file=input_file.source_file,
                sheet=input_file.sheet,
                headers=input_file.headers,
                rows=input_file.rows,
                blank=input_file.blank,
                fields=input_file.fields,
                notes=input_file.notes.to_json(),
            )
        if not complete:
            return False
        for line in input_file.notes.shape_lines():
            notice(f"{input_file.source_file}: {line}")
        log.info("file read", file=input_file.source_file, rows=input_file.rows)
    return True


def _read_into(
    journal: Journal, run_id: str, input_file: InputFile, now: datetime, stop: threading.Event
) -> bool:
    for chunk in input_file.chunks(now):
        journal.add_rows(run_id, chunk)
        if stop.is_set():
            return False
    return True


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
) -> RunResult:
    """Run the whole job on `paths` and write the workbook; return what happened.

    Raises a `BatchError` (exit 2) for anything that stops the run before rows are sent.
    """
    stop = stop or threading.Event()
    if settings.uses_simulator and not dry_run:
        notice(_(SIMULATOR_NOTICE))  # the first thing the user reads
    files = _open_inputs(paths, input_options(settings, sheet))
    for input_file in files:
        for line in input_file.notes.column_lines():
            notice(f"{input_file.source_file}: {line}")
    with contextlib.ExitStack() as stack:
        state_dir = settings.state_dir
        if dry_run:  # a dry run leaves no trace and needs no lock
            state_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="batch-")))
        journal = stack.enter_context(Journal.open(state_dir))
        run_id = journal.start_run(
            inputs=[str(path) for path in paths], settings=settings.printable(), dry_run=dry_run
        )
        structlog.contextvars.bind_contextvars(run_id=run_id)
        status, message = "finished", None
        try:
            if not _ingest(journal, run_id, files, stop, notice):
                status, message = "interrupted", _("interrupted while reading the input files")
                journal.mark_unsent_as_retry(run_id, message)
            elif not dry_run:
                status, message = _submit(
                    journal,
                    run_id,
                    settings,
                    stop=stop,
                    on_total=on_total,
                    on_progress=on_progress,
                )
        except BaseException:
            journal.mark_unsent_as_retry(run_id, _("the run stopped before this row was sent"))
            journal.finish_run(run_id, status="failed", message=_("the run stopped on an error"))
            raise
        journal.finish_run(run_id, status=status, message=message)
        return _write(journal, run_id, settings.report_dir)


def _submit(
    journal: Journal,
    run_id: str,
    settings: Settings,
    *,
    stop: threading.Event,
    on_total: Callable[[int], None] | None,
    on_progress: Callable[[int], None] | None,
) -> tuple[str, str | None]:
    if on_total is not None:
        on_total(journal.counts(run_id)[Outcome.RETRY])
    with _sender(settings) as sender:
        stats = submit_run(
            journal, run_id, sender, submit_settings(settings), stop=stop, on_progress=on_progress
        )
    if stats.stopped_by == "breaker":
        why = stats.message or _("the service kept failing")
        message = _("{why}: sending stopped; the next run sends the rest").format(why=why)
        journal.mark_unsent_as_retry(run_id, message)
        return "broken", message
    if stats.stopped_by == "signal":
        message = _("interrupted: rows not sent are in Retry; run again to send them")
        journal.mark_unsent_as_retry(run_id, message)
        return "interrupted", message
    return "finished", None


def _write(journal: Journal, run_id: str, report_dir: Path) -> RunResult:
    info = journal.run_info(run_id)
    counts = journal.counts(run_id)
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
        for item in info.inputs
    )
    summary = RunSummary(
        run_id=run_id,
        dry_run=info.dry_run,
        started=info.started,
        finished=info.finished or datetime.now(UTC),
        status=info.status,
        message=info.message,
        inputs=inputs,
        settings={key: str(value) for key, value in info.settings.items()},
        counts=counts,
    )
    codes: dict[Outcome, Counter[str]] = {}
    paths = write_report(
        report_dir,
        summary,
        lambda outcome: _counting(
            journal.results(run_id, outcome), codes.setdefault(outcome, Counter())
        ),
    )
    return RunResult(
        run_id=run_id,
        counts=counts,
        paths=paths,
        status=info.status,
        message=info.message,
        blank=sum(item.blank for item in inputs),
        dry_run=info.dry_run,
        started=summary.started,
        finished=summary.finished,
        codes={outcome: found for outcome, found in codes.items() if found},
    )


def _counting(results: Iterator[RowResult], codes: Counter[str]) -> Iterator[RowResult]:
    """Pass the rows on to the workbook, counting their codes on the way (no second read)."""
    for result in results:
        if result.code:
            codes.update(result.code.split(", "))
        yield result


def rebuild_report(state_dir: Path, report_dir: Path, run_id: str | None = None) -> RunResult:
    """Write the workbook of a run (the last one by default) again from the journal."""
    with Journal.open(state_dir) as journal:
        run_id = run_id or journal.last_run_id()
        if run_id is None:
            raise ConfigError(f"the journal in {state_dir} holds no run yet")
        return _write(journal, run_id, report_dir)
