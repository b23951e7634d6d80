"""A small run with every outcome, written once per test to a fresh directory."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from batch.records import Outcome, RowResult
from batch.report import InputSheet, ReportPaths, RunSummary, write_report

CSV_HEADERS = ("CPR-nummer", "Navn på kontakt", "Jobønske", "Registreret")
XLSX_HEADERS = ("CPR", "Uddannelsesønske", "Registreret", "Bemærkning")
STARTED = datetime(2026, 11, 27, 8, 15, 2, tzinfo=UTC)  # 09:15:02 in Copenhagen


def _row(file: str, row: int, outcome: Outcome, cells: dict, **kwargs) -> RowResult:
    return RowResult(source_file=file, source_row=row, cells=cells, outcome=outcome, **kwargs)


def sample_rows() -> dict[Outcome, list[RowResult]]:
    """Rows from two inputs with different headers, covering every outcome of a real run."""
    summer = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # 14:00 in Copenhagen (CEST)
    return {
        Outcome.ACCEPTED: [
            _row(
                "kommune.csv",
                2,
                Outcome.ACCEPTED,
                {
                    "CPR-nummer": "0101084123",
                    "Navn på kontakt": "Anne Andersen",
                    "Jobønske": "Tømrer",
                    "Registreret": datetime(2026, 1, 5, 10, 30),
                },
                attempts=1,
                last_attempt=summer,
            ),
            _row(
                "migrering.xlsx",
                3,
                Outcome.ACCEPTED,
                {
                    "CPR": 101084123,
                    "Uddannelsesønske": '=HYPERLINK("http://x")',
                    "Registreret": datetime(2026, 2, 1),
                    "Bemærkning": None,
                },
                attempts=2,
                last_attempt=STARTED,
                sheet="Ark1",
            ),
        ],
        Outcome.FIX: [
            _row(
                "kommune.csv",
                3,
                Outcome.FIX,
                {
                    "CPR-nummer": "0202085678",
                    "Navn på kontakt": "+45 12 34 56 78",
                    "Jobønske": "-",
                    "Registreret": datetime(2030, 1, 1),
                },
                code="280",
                text="The registration time is later than now: set it to the moment it was "
                "registered, then send the row again. (Checked before sending, as UDB's code "
                "280: not sent.)",
                fix_cells={"Registreret": 'Column "Registreret" is later than now.'},
            ),
            _row(
                "migrering.xlsx",
                4,
                Outcome.FIX,
                {
                    "CPR": "0303",
                    "Uddannelsesønske": "@SUM(1)",
                    "Registreret": None,
                    "Bemærkning": "=1+1",
                },
                code="cpr-invalid, missing-time",
                text="CPR: too short. Registreret: missing.",
                sheet="Ark1",
            ),
        ],
        Outcome.DROP: [
            _row(
                "kommune.csv",
                5,
                Outcome.DROP,
                {
                    "CPR-nummer": "0404084444",
                    "Navn på kontakt": "Bo",
                    "Jobønske": "Smed",
                    "Registreret": datetime(2026, 3, 1, 8, 0),
                },
                code="14",
                text="UDB has no data on this young person; check the CPR number, otherwise "
                "drop the row.",
                answer_text="Den unge findes ikke i Ungedatabasen",
                attempts=1,
                last_attempt=STARTED,
            ),
        ],
        Outcome.RETRY: [
            _row(
                "kommune.csv",
                6,
                Outcome.RETRY,
                {
                    "CPR-nummer": "0505085555",
                    "Navn på kontakt": "Cy",
                    "Jobønske": None,
                    "Registreret": datetime(2026, 3, 2, tzinfo=timezone(timedelta(hours=-5))),
                },
                code="101",
                text="exeption - UDB. Sent again next run.",
                attempts=5,
                last_attempt=STARTED,
            ),
        ],
        Outcome.UNCHANGED: [
            _row(
                "migrering.xlsx",
                5,
                Outcome.UNCHANGED,
                {
                    "CPR": "0606086666",
                    "Uddannelsesønske": "Gymnasium",
                    "Registreret": datetime(2025, 8, 1, 9, 0),
                    "Bemærkning": 3.5,
                },
                sheet="Ark1",
            ),
        ],
    }


def sample_summary(rows: Mapping[Outcome, list[RowResult]], **changes) -> RunSummary:
    """The summary matching `rows`: inputs with their headers, counts per outcome."""
    counts = {outcome: len(items) for outcome, items in rows.items()}
    per_file: dict[str, int] = {}
    for items in rows.values():
        for item in items:
            per_file[item.source_file] = per_file.get(item.source_file, 0) + 1
    summary = RunSummary(
        run_id="run-0001",
        dry_run=False,
        started=STARTED,
        finished=STARTED + timedelta(minutes=2, seconds=5),
        status="finished",
        message=None,
        inputs=(
            InputSheet("kommune.csv", None, CSV_HEADERS, per_file.get("kommune.csv", 0), 1),
            InputSheet(
                "migrering.xlsx", "Ark1", XLSX_HEADERS, per_file.get("migrering.xlsx", 0), 2
            ),
        ),
        settings={"endpoint": "built-in simulator", "rate": "20/s", "concurrency": "4"},
        counts=counts,
    )
    return replace(summary, **changes)


def streamer(
    rows: Mapping[Outcome, Iterable[RowResult]],
) -> Callable[[Outcome], Iterable[RowResult]]:
    """A `rows_for` that serves each outcome's rows, like the journal does."""
    return lambda outcome: iter(rows.get(outcome, ()))


@pytest.fixture
def rows() -> dict[Outcome, list[RowResult]]:
    """Fresh sample rows per test."""
    return sample_rows()


@pytest.fixture
def make_summary() -> Callable[..., RunSummary]:
    """`sample_summary`, for tests that need a variant of the run."""
    return sample_summary


@pytest.fixture
def make_streamer() -> Callable[..., Callable[[Outcome], Iterable[RowResult]]]:
    """`streamer`, for tests that hand over rows of their own."""
    return streamer


@pytest.fixture
def written(tmp_path: Path, rows) -> ReportPaths:
    """The workbook and summary of the sample run, in a fresh report directory."""
    return write_report(tmp_path / "reports", sample_summary(rows), streamer(rows))
