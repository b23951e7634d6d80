"""Benchmark: the result workbook writer against openpyxl, in rows/s and peak memory.

Each measurement runs in its own subprocess, so peak RSS (`ru_maxrss`) belongs to that writer
alone; writers take turns within each round, so the machine's noise spreads over all of them.
Rows are generated lazily and fictitious: 8 input columns plus the 6 result columns (14).

    .venv/bin/python benchmarks/report_bench.py [--rows 200000] [--runs 3] [--writers ...]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

import xlsxwriter
from openpyxl import Workbook

from batch.records import RESULT_COLUMNS, CellValue, Outcome, RowResult
from batch.report import InputSheet, RunSummary, write_report

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["main"]

WRITERS = ("report", "openpyxl-normal", "openpyxl-write-only", "xlsxwriter-raw")
HEADERS = ("CPRNr", "KommuneInstitutionNummer", "KontaktNavn", "KontaktMail", "KontaktTelefon",
           "KontaktRegistreringstid", "JobOnsker", "UddannelsesOnsker")  # fmt: skip
SHARES = {Outcome.ACCEPTED: 70, Outcome.FIX: 15, Outcome.DROP: 5, Outcome.RETRY: 5,
          Outcome.UNCHANGED: 5}  # fmt: skip
NAMES = ("Anne Andersen", "Bo Bech", "Cecilie Christensen", "Dorte Dahl", "Emil Eriksen")
WISHES = (
    "Tømrerlærling i en mindre virksomhed tæt på bopælen",
    "Gymnasium (STX), gerne med naturvidenskabelig studieretning",
    "Social- og sundhedsassistent",
    "Ved ikke endnu",
)
BASE = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _cells(n: int) -> dict[str, CellValue]:
    """One fictitious input row; CPR numbers in the 6xxxxx range (no real birth date in 60s)."""
    return {
        "CPRNr": f"{610000 + n % 90000:06d}{n % 10000:04d}",
        "KommuneInstitutionNummer": 751000 + n % 98,
        "KontaktNavn": NAMES[n % len(NAMES)],
        "KontaktMail": f"kontakt{n % 500}@kommune.example",
        "KontaktTelefon": 20000000 + n % 9999999,
        "KontaktRegistreringstid": BASE + timedelta(minutes=n),
        "JobOnsker": WISHES[n % len(WISHES)],
        "UddannelsesOnsker": WISHES[(n + 1) % len(WISHES)],
    }


def _results(rows: int) -> dict[Outcome, tuple[int, int]]:
    """Each outcome's half-open range of row numbers."""
    ranges, start = {}, 0
    for outcome, share in SHARES.items():
        count = rows * share // 100 if outcome is not Outcome.UNCHANGED else rows - start
        ranges[outcome] = (start, start + count)
        start += count
    return ranges


def _stream(outcome: Outcome, span: tuple[int, int]) -> Iterator[RowResult]:
    for n in range(*span):
        yield RowResult(
            source_file="historik.csv",
            source_row=n + 2,
            cells=_cells(n),
            outcome=outcome,
            code=None if outcome is Outcome.ACCEPTED else "280",
            text=None if outcome is Outcome.ACCEPTED else "Registreringstid må ikke fremdateres.",
            attempts=1,
            last_attempt=BASE,
        )


def _flat(rows: int) -> Iterator[list[CellValue]]:
    """The same rows as plain value lists (input columns then result columns)."""
    for outcome, span in _results(rows).items():
        for r in _stream(outcome, span):
            yield [*r.cells.values(), r.source_file, r.source_row, r.code, r.text, r.attempts,
                   r.last_attempt.replace(tzinfo=None) if r.last_attempt else None]  # fmt: skip


def _naive(values: list[CellValue]) -> list[CellValue]:
    return [v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in values]


def _write_report(rows: int, out: Path) -> None:
    ranges = _results(rows)
    summary = RunSummary(
        run_id="bench", dry_run=False, started=BASE, finished=BASE + timedelta(hours=1),
        status="finished", message=None,
        inputs=(InputSheet("historik.csv", None, HEADERS, rows, 0),),
        settings={"endpoint": "benchmark"},
        counts={outcome: end - start for outcome, (start, end) in ranges.items()},
    )  # fmt: skip
    write_report(out, summary, lambda outcome: _stream(outcome, ranges[outcome]))


def _write_openpyxl(rows: int, out: Path, *, write_only: bool) -> None:
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("Rows") if write_only else book.active
    assert sheet is not None
    sheet.append([*HEADERS, *RESULT_COLUMNS])
    for values in _flat(rows):
        sheet.append(_naive(values))
    book.save(out / "openpyxl.xlsx")


def _write_xlsxwriter(rows: int, out: Path) -> None:
    book = xlsxwriter.Workbook(str(out / "raw.xlsx"), {"constant_memory": True, "tmpdir": str(out)})
    sheet, stamp = book.add_worksheet("Rows"), book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for col, header in enumerate((*HEADERS, *RESULT_COLUMNS)):
        sheet.write_string(0, col, header)
    for line, values in enumerate(_flat(rows), start=1):
        for col, value in enumerate(_naive(values)):
            if isinstance(value, str):
                sheet.write_string(line, col, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(line, col, value, stamp)
            elif value is not None:
                sheet.write_number(line, col, value)
    book.close()


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _child(writer: str, rows: int) -> None:
    """Run one writer once and print its figures as JSON (in the subprocess)."""
    with tempfile.TemporaryDirectory() as work:
        base = _rss_kib()
        began, cpu = time.perf_counter(), time.process_time()
        if writer == "report":
            _write_report(rows, Path(work))
        elif writer == "xlsxwriter-raw":
            _write_xlsxwriter(rows, Path(work))
        else:
            _write_openpyxl(rows, Path(work), write_only=writer == "openpyxl-write-only")
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {"seconds": seconds, "cpu": cpu, "peak_kib": peak, "added_kib": peak - base}
    print(json.dumps(figures))


def _measure(writer: str, rows: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", writer, "--rows", str(rows)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return cast("dict[str, float]", json.loads(done.stdout))


def main() -> None:
    """Measure every writer `--runs` times, print the medians as a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--writers", nargs="+", choices=WRITERS, default=list(WRITERS))
    parser.add_argument("--child", choices=WRITERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.rows)
        return
    figures: dict[str, list[dict[str, float]]] = {w: [] for w in args.writers}
    for run in range(1, args.runs + 1):
        for writer in args.writers:
            figures[writer].append(result := _measure(writer, args.rows))
            rate, peak = args.rows / result["seconds"], result["peak_kib"] / 1024
            print(
                f"run {run} {writer:20} {rate:8.0f} rows/s, {result['cpu']:6.2f} CPU s, "
                f"peak {peak:6.0f} MiB",
                file=sys.stderr,
            )
    _table(figures, args.rows, len(HEADERS) + len(RESULT_COLUMNS))


def _table(figures: dict[str, list[dict[str, float]]], rows: int, columns: int) -> None:
    medians = {
        writer: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for writer, runs in figures.items()
    }
    normal, bare = medians.get("openpyxl-normal"), medians.get("xlsxwriter-raw")
    print(f"\n{rows:,} rows x {columns} columns, median of {len(next(iter(figures.values())))}")
    print(f"{'writer':22}{'rows/s':>9}{'seconds':>9}{'CPU s':>8}{'peak MiB':>10}{'added MiB':>11}"
          f"{'speed x':>9}{'memory x':>10}{'CPU x bare':>12}")  # fmt: skip
    for writer, m in medians.items():
        speed = f"{normal['seconds'] / m['seconds']:.2f}" if normal else "-"
        memory = f"{m['added_kib'] / normal['added_kib']:.2f}" if normal else "-"
        versus = f"{bare['cpu'] / m['cpu']:.2f}" if bare else "-"
        rate, peak, added = rows / m["seconds"], m["peak_kib"] / 1024, m["added_kib"] / 1024
        print(
            f"{writer:22}{rate:9.0f}{m['seconds']:9.1f}{m['cpu']:8.2f}{peak:10.0f}{added:11.0f}"
            f"{speed:>9}{memory:>10}{versus:>12}"
        )
    print(
        "speed x and memory x are relative to openpyxl normal mode (added memory); CPU x bare "
        "is bare xlsxwriter's CPU time over the writer's (issue 18 wants >= 0.9 for the report)."
    )


if __name__ == "__main__":
    main()
