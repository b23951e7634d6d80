"""What a person at the terminal reads after a run: totals that add up, grouped codes, Danish."""

from __future__ import annotations

import contextvars
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from batch.console import Console, danish_time, grouped_codes
from batch.i18n import use_language
from batch.pipeline import RunResult
from batch.records import Outcome
from batch.report import ReportPaths

STARTED = datetime(2026, 1, 15, 1, 0, tzinfo=UTC)


def _result(*, dry_run: bool = False) -> RunResult:
    first = Outcome.READY if dry_run else Outcome.ACCEPTED
    counts = {first: 900, Outcome.FIX: 57, Outcome.DROP: 3, Outcome.RETRY: 0,
              Outcome.UNCHANGED: 40}  # fmt: skip
    return RunResult(
        run_id="20260115T020000-abcd",
        counts=counts,
        paths=ReportPaths(Path("reports/x.xlsx"), Path("reports/x.json")),
        status="finished",
        message=None,
        blank=2,
        dry_run=dry_run,
        started=STARTED,
        finished=STARTED.replace(minute=5),
        codes={Outcome.FIX: Counter({"280": 57}), Outcome.DROP: Counter({"14": 2, "86": 1})},
    )


def _printed(capsys, result: RunResult, language: str = "en") -> list[str]:
    def show() -> None:
        use_language(language)
        Console().summary(result)

    contextvars.copy_context().run(show)
    return capsys.readouterr().out.splitlines()


def _cells(lines: list[str]) -> dict[str, list[str]]:
    """Table rows by their first cell (rich draws them with │ between cells)."""
    rows = {}
    for line in lines:
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if len(cells) > 1:
            rows[cells[0]] = cells[1:]
    return rows


def test_the_rows_per_sheet_add_up_to_the_total(capsys):
    """Every sheet's rows, summed, are the total line; blank rows stand apart, not counted."""
    lines = _printed(capsys, _result())
    rows = _cells(lines)
    sheets = ("Accepted", "Fix", "Drop", "Retry", "Unchanged")
    counted = sum(int(rows[name][0].replace(",", "")) for name in sheets)
    assert counted == int(rows["total"][0].replace(",", "")) == 1000
    assert "blank rows skipped (not counted above): 2" in lines
    assert "blank (skipped)" not in "\n".join(lines)


def test_a_dry_run_shows_ready_and_no_accepted(capsys):
    """A validation has nothing accepted: its table says Ready, never "Accepted 0"."""
    rows = _cells(_printed(capsys, _result(dry_run=True)))
    assert "Ready" in rows
    assert "Accepted" not in rows


def test_repeated_codes_are_grouped(capsys):
    """57 rows with UDB's 280 are one entry, 280 times 57; the most frequent code first."""
    rows = _cells(_printed(capsys, _result()))
    assert rows["Fix"][1] == "280 \N{MULTIPLICATION SIGN} 57"
    assert rows["Drop"][1] == "14 \N{MULTIPLICATION SIGN} 2, 86 \N{MULTIPLICATION SIGN} 1"
    many = Counter({f"code-{n}": 10 - n for n in range(8)})
    assert grouped_codes(many).endswith("other codes \N{MULTIPLICATION SIGN} 7")  # 4 + 3


def test_times_are_danish_local_time_with_the_zone(capsys):
    """Winter and summer times read as in Copenhagen, with CET or CEST after them."""
    assert danish_time(datetime(2026, 1, 15, 1, 0, tzinfo=UTC)) == "15-01-2026 02:00 CET"
    assert danish_time(datetime(2026, 7, 1, 10, 30, tzinfo=UTC)) == "01-07-2026 12:30 CEST"
    lines = _printed(capsys, _result())
    assert "started 15-01-2026 02:00 CET, finished 15-01-2026 02:05 CET" in lines


def test_the_summary_in_danish(capsys):
    """language=da: the table names the sheets as the Danish workbook does."""
    lines = _printed(capsys, _result(), "da")
    rows = _cells(lines)
    assert {"Godkendt", "Ret", "Afvist", "Prøv igen", "Uændret", "i alt"} <= set(rows)
    assert lines[0] == "kørsel 20260115T020000-abcd: færdig"
    assert "tomme rækker sprunget over (ikke talt med ovenfor): 2" in lines
