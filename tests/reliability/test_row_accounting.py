"""Property: whatever the service answers, every row ends in exactly one sheet, as predicted.

In-process and unit-level: random rows (valid, invalid, hard-invalid, repeats of an earlier
payload) go into a journal in a temporary folder, a scripted sender answers each CPR's requests
from a random script (answers, UDB codes, failures, retryable or not), `submit_run` sends them
and `rebuild_report` writes the workbook from the journal, as the pipeline does. A small model
of the rules predicts each row's sheet and attempts; the workbook read back must match it. It
tests the accounting, not the transport (that is what the CLI suites are for).
"""

from __future__ import annotations

import tempfile
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch.journal import Journal
from batch.pipeline import rebuild_report
from batch.records import Answer, Failure, FailureKind, Issue, Report, Row, Wish
from batch.submit import SubmitSettings, submit_run
from tests.e2e.helpers import read_rows

REMEMBERED_REJECTIONS = {14, 15, 86}  # UDB's answers for good: a payload is not sent again

pytestmark = pytest.mark.slow

CPH = ZoneInfo("Europe/Copenhagen")
BASE = datetime(2026, 2, 2, 9, 0, tzinfo=CPH)
CPRS = ("0603114290", "2602074165", "0712064041", "0508104734")
FILES = ("a.csv", "b.xlsx")
SHEET_OF = {"accepted": "Accepted", "fix": "Fix", "drop": "Drop", "retry": "Retry"}
SHEET_OF["unchanged"] = "Unchanged"

RESULTS: tuple[Answer | Failure, ...] = (
    Answer(ok=True),
    Answer(ok=False, code=14, text="Den unge findes ikke i Ungedatabasen"),
    Answer(ok=False, code=86, text="Bruger må ikke indberette oplysninger om dette CPR-nummer"),
    Answer(ok=False, code=280, text="Registreringstid ... må ikke fremdateres"),
    Answer(ok=False, code=101, text="exeption - UDB"),
    Answer(ok=False, code=999, text="ukendt"),
    Failure(FailureKind.TIMEOUT, "no answer", retryable=True),
    Failure(FailureKind.CONNECTION, "reset", retryable=True),
    Failure(FailureKind.SERVER_ERROR, "503", retryable=True, http_status=503),
    Failure(FailureKind.RATE_LIMITED, "429", retryable=True, http_status=429, retry_after=0.001),
    Failure(FailureKind.RECEIVER_FAULT, "IPL000001", retryable=True, fault_code="IPL000001"),
    Failure(FailureKind.BAD_RESPONSE, "no Ok", retryable=True),
    Failure(FailureKind.SENDER_FAULT, "schema", retryable=False, fault_code="IPL000002"),
    Failure(FailureKind.CLIENT_ERROR, "403", retryable=False, http_status=403),
)


def _transient(result: Answer | Failure) -> bool:
    if isinstance(result, Failure):
        return result.retryable
    return result.code == 101


def _sheet(result: Answer | Failure) -> str:
    """The model's table: where a row ends after its last result."""
    if isinstance(result, Failure):
        return "Fix" if result.kind is FailureKind.SENDER_FAULT else "Retry"
    if result.ok:
        return "Accepted"
    return {14: "Drop", 15: "Drop", 86: "Drop", 101: "Retry"}.get(result.code or 0, "Fix")


@dataclass(frozen=True)
class Spec:
    """One generated row: what kind, whose, and (for a repeat) which earlier row it repeats."""

    kind: str  # valid | invalid | hard | repeat
    cpr: int
    file: int
    repeats: int


specs = st.lists(
    st.builds(
        Spec,
        kind=st.sampled_from(("valid", "valid", "valid", "invalid", "hard", "repeat")),
        cpr=st.integers(0, len(CPRS) - 1),
        file=st.integers(0, len(FILES) - 1),
        repeats=st.integers(0, 30),
    ),
    min_size=1,
    max_size=14,
)
scripts = st.dictionaries(
    st.sampled_from(CPRS), st.lists(st.sampled_from(RESULTS), max_size=10), max_size=len(CPRS)
)


class Sender:
    """Answers each CPR's requests from its script in order, then accepts."""

    def __init__(self, script: dict[str, list[Answer | Failure]]) -> None:
        self.script = script
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()

    def send(self, report: Report) -> Answer | Failure:
        """The next scripted result for this CPR."""
        with self.lock:
            n = self.seen[report.cpr]
            self.seen[report.cpr] += 1
        answers = self.script.get(report.cpr, [])
        return answers[n] if n < len(answers) else Answer(ok=True)


def _rows(generated: list[Spec]) -> list[Row]:
    rows: list[Row] = []
    numbers: Counter[str] = Counter()
    for index, spec in enumerate(generated):
        source = FILES[spec.file]
        numbers[source] += 1
        report: Report | None = Report(
            system_id="KUI-TEST",
            cpr=CPRS[spec.cpr],
            institution=751001,
            job=Wish(f"Job {index}", BASE + timedelta(minutes=index)),
        )
        issues: tuple[Issue, ...] = ()
        if spec.kind == "repeat" and rows and rows[spec.repeats % len(rows)].report is not None:
            report = rows[spec.repeats % len(rows)].report
        elif spec.kind in ("invalid", "hard"):
            hard = spec.kind == "hard"
            report = None
            issues = (Issue("too-old" if hard else "bad-mail", "checked", hard=hard),)
        cells = {"CPR": CPRS[spec.cpr], "n": index}
        rows.append(Row(source, numbers[source] + 1, cells, report, issues))  # type: ignore[arg-type]
    return rows


def _model(
    rows: list[Row], script: dict[str, list[Answer | Failure]], max_attempts: int
) -> dict[tuple[str, int], tuple[str, int]]:
    """(file, row) -> (sheet, attempts), by the rules in `batch.submit` and `batch.journal`."""
    expected: dict[tuple[str, int], tuple[str, int]] = {}
    by_cpr: dict[str, list[tuple[int, Row]]] = defaultdict(list)
    for index, row in enumerate(rows):
        if row.report is None:
            hard = any(issue.hard for issue in row.issues)
            expected[row.source_file, row.source_row] = ("Drop" if hard else "Fix", 0)
        else:
            by_cpr[row.report.cpr].append((index, row))
    for cpr, group in by_cpr.items():
        ordered = sorted(group, key=lambda item: (item[1].report.latest_registration(), item[0]))  # type: ignore[union-attr]
        _model_person(
            [row for _, row in ordered], iter(script.get(cpr, [])), max_attempts, expected
        )
    return expected


def _model_person(
    rows: list[Row],
    answers: Iterator[Answer | Failure],
    max_attempts: int,
    expected: dict[tuple[str, int], tuple[str, int]],
) -> None:
    """One person's rows in sending order: Unchanged after an acceptance, Drop after 14/15/86."""
    accepted: set[str] = set()
    rejected: set[str] = set()  # answered 14/15/86: the same payload is not sent again
    for row in rows:
        assert row.report is not None
        digest = row.report.payload_hash()
        if digest in accepted or digest in rejected:
            expected[row.source_file, row.source_row] = (
                ("Unchanged", 0) if digest in accepted else ("Drop", 0)
            )
            continue
        attempts, result = 0, None
        while attempts < max_attempts:
            attempts += 1
            result = next(answers, Answer(ok=True))
            if not _transient(result):
                break
        assert result is not None
        sheet = _sheet(result)
        if sheet == "Accepted":
            accepted.add(digest)
        elif isinstance(result, Answer) and result.code in REMEMBERED_REJECTIONS:
            rejected.add(digest)
        expected[row.source_file, row.source_row] = (sheet, attempts)


def _run(rows: list[Row], sender: Sender, settings: SubmitSettings, root: Path) -> Path:
    """Journal -> submit -> workbook, as `batch.pipeline.run_job` does; the workbook's path."""
    state = root / "state"
    with Journal.open(state) as journal:
        run_id = journal.start_run(inputs=list(FILES), settings={})
        journal.add_rows(run_id, rows)
        for name in FILES:
            count = sum(1 for row in rows if row.source_file == name)
            journal.record_input(
                run_id, source_file=name, sheet=None, headers=["CPR", "n"], rows=count, blank=0
            )
        submit_run(journal, run_id, sender, settings, stop=threading.Event())
        journal.finish_run(run_id, status="finished")
    return rebuild_report(state, root / "reports", run_id).paths.workbook


@settings(max_examples=25, deadline=None)
@given(generated=specs, script=scripts, max_attempts=st.integers(1, 3), workers=st.integers(1, 3))
def test_every_row_lands_once_where_the_rules_say(generated, script, max_attempts, workers):
    """Random rows and answers: each row in one sheet with the predicted attempts; sums match."""
    rows = _rows(generated)
    settings_ = SubmitSettings(
        concurrency=workers,
        rate=None,
        max_attempts=max_attempts,
        backoff_initial=0.0001,
        backoff_max=0.0005,
        breaker_consecutive_failures=10**6,
        breaker_failed_requests=10**6,
    )
    sender = Sender(script)
    with tempfile.TemporaryDirectory() as folder:
        workbook = _run(rows, sender, settings_, Path(folder))
        sheets = read_rows(workbook)
    placed = {
        (str(row["Source file"]), int(str(row["Source row"]))): (name, int(str(row["Attempts"])))
        for name, found in sheets.items()
        for row in found
    }
    assert sum(len(found) for found in sheets.values()) == len(rows)  # no row twice
    assert placed == _model(rows, script, max_attempts)
    assert sum(sender.seen.values()) == sum(attempts for _, attempts in placed.values())
