"""Helpers for end-to-end tests: run the real `batch` command, read its workbook back."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

ROW_SHEETS = ("Accepted", "Ready", "Fix", "Drop", "Aged 25+", "Retry", "Unchanged")
SUMMARY_KEYS = {
    "run_id",
    "inputs",
    "rows",
    "accepted",
    "fix",
    "drop",
    "retry",
    "unchanged",
    "blank",
    "workbook",
    "started",
    "finished",
}
# Ten digits, or six and four around a hyphen, not inside a longer number, not already masked.
UNMASKED_CPR = re.compile(r"(?<![0-9])[0-9]{6}-?[0-9]{4}(?![0-9])")


@dataclass
class Run:
    """One finished `batch` process."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Everything the process printed, for assertion messages and leak scans."""
        return self.stdout + self.stderr


def run_cli(
    *args: str | Path,
    state_dir: Path,
    report_dir: Path,
    timeout: float = 180,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
) -> Run:
    """Run `python -m batch ...` as a user would, with JSON logs (not a terminal)."""
    full_env = {
        **os.environ,
        "BATCH_STATE_DIR": str(state_dir),
        "BATCH_REPORT_DIR": str(report_dir),
        "BATCH_LOG_FORMAT": "json",
        **(env or {}),
    }
    done = subprocess.run(
        [sys.executable, "-m", "batch", *map(str, args)],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        env=full_env,
        check=False,
        cwd=cwd,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def workbook_of(report_dir: Path) -> Path:
    """The newest workbook in report_dir."""
    books = sorted(report_dir.glob("*.xlsx"), key=lambda p: p.stat().st_mtime_ns)
    assert books, f"no workbook in {report_dir}"
    return books[-1]


def read_rows(workbook: Path) -> dict[str, list[dict[str, object]]]:
    """Every row sheet as a list of {header: value}."""
    book = load_workbook(workbook, read_only=True)
    sheets: dict[str, list[dict[str, object]]] = {}
    for name in book.sheetnames:
        if name not in ROW_SHEETS:
            continue
        rows = list(book[name].iter_rows(values_only=True))
        header = [str(h) for h in rows[0]] if rows else []
        sheets[name] = [dict(zip(header, row, strict=False)) for row in rows[1:]]
    book.close()
    return sheets


def summary_of(workbook: Path) -> dict[str, object]:
    """The JSON summary beside the workbook."""
    summary: dict[str, object] = json.loads(workbook.with_suffix(".json").read_text("utf-8"))
    return summary


def placed_rows(sheets: dict[str, list[dict[str, object]]]) -> list[tuple[str, int]]:
    """(source file name, source row) of every row in every sheet, duplicates kept.

    The workbook names a workbook's sheet after the file (`book.xlsx [Unge]`); drop it here.
    """
    return [
        (
            Path(re.sub(r" \[[^\]]*\]$", "", str(row["Source file"]))).name,
            int(str(row["Source row"])),
        )
        for rows in sheets.values()
        for row in rows
    ]


def csv_data_rows(path: Path, encoding: str, delimiter: str) -> list[int]:
    """Spreadsheet row numbers of the non-blank records below the header (header is row 1)."""
    with path.open(encoding=encoding, newline="") as handle:
        records = list(csv.reader(handle, delimiter=delimiter))
    return [
        index + 1
        for index, record in enumerate(records)
        if index > 0 and any(cell.strip() for cell in record)
    ]


def xlsx_data_rows(path: Path, header_row: int) -> list[int]:
    """Row numbers of the non-blank rows below the header row of the first sheet."""
    book = load_workbook(path, read_only=True)
    sheet = book.worksheets[0]
    rows = [
        index
        for index, row in enumerate(sheet.iter_rows(values_only=True), start=1)
        if index > header_row and any(v not in (None, "") for v in row)
    ]
    book.close()
    return rows
