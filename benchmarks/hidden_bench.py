"""What finding hidden rows costs beside reading the cells of a large workbook.

`python -m benchmarks.hidden_bench [ROWS]` writes a fictitious workbook (11 columns, every
tenth row hidden, with xlsxwriter), then times, in turns over 3 rounds (medians): calamine
reading every row of the sheet (what the intake does anyway) and `batch.intake.hidden`
finding the hidden rows and columns. With LibreOffice (`soffice`) on the machine, the same
workbook saved as `.ods`, and as `.xls` when it fits (65,535 rows), is timed the same way.
Figures in BENCHMARKS.md.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import python_calamine
from xlsxwriter.workbook import Workbook

from batch.intake.hidden import hidden_cells

XLS_ROWS = 65_536  # a .xls sheet holds at most this many rows, its header included
HEADER = ["CPRNr", "KommuneInstitutionNummer", "KontaktNavn", "KontaktMail", "KontaktTelefon",
          "KontaktRegistreringstid", "JobOnsker", "JobRegistreringstid", "UddannelsesOnsker",
          "UddannelsesRegistreringstid", "Bemærkning"]  # fmt: skip


def _write(path: Path, rows: int) -> None:
    book = Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Unge")
    sheet.write_row(0, 0, HEADER)
    for n in range(1, rows + 1):
        values = [f"{(n % 28) + 1:02d}0110{4000 + n % 6000:04d}", 751001, f"Vejleder {n % 60}",
                  f"v{n % 60}@kui.dk", "20123456", "15.06.2025 14:30", "Tømrer",
                  "15.06.2025 14:30", "EUX", "15.06.2025 14:30", "note"]  # fmt: skip
        sheet.set_row(n, None, None, {"hidden": n % 10 == 0})
        sheet.write_row(n, 0, values)
    book.close()


def _cells(path: Path) -> int:
    with path.open("rb") as file:
        sheet = python_calamine.CalamineWorkbook.from_filelike(file).get_sheet_by_name("Unge")
        return sum(1 for _ in sheet.iter_rows())


def _hidden(path: Path) -> int:
    found = hidden_cells(path, "Unge")
    assert found is not None
    return len(found.rows)


def _saved_as(path: Path, kind: str) -> Path | None:
    """The workbook saved as `kind` by LibreOffice, as a person would; None without it."""
    if shutil.which("soffice") is None:
        return None
    profile = f"-env:UserInstallation=file://{path.parent / 'profile'}"
    subprocess.run(
        ["soffice", "--headless", profile, "--convert-to", kind, "--outdir", str(path.parent),
         str(path)],
        check=True, capture_output=True, timeout=1800,
    )  # fmt: skip
    return path.with_suffix(f".{kind}")


def _timed(path: Path) -> tuple[float, float]:
    """Medians of reading the cells and of finding what is hidden, taking turns."""
    times: dict[str, list[float]] = {"cells": [], "hidden": []}
    for _round in range(3):
        for name, task in (("cells", _cells), ("hidden", _hidden)):
            start = time.perf_counter()
            task(path)
            times[name].append(time.perf_counter() - start)
    cells, scan = (statistics.median(t) for t in times.values())
    return cells, scan


def main() -> None:
    """Write the workbook, time each format in turns, print the medians and the ratio."""
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "big.xlsx")
        _write(path, rows)
        books = [path, _saved_as(path, "ods")]
        books += [_saved_as(path, "xls")] if rows < XLS_ROWS else []
        print(f"{rows:,} rows, {rows // 10:,} hidden")
        for book in filter(None, books):
            cells, scan = _timed(book)
            size = book.stat().st_size / 2**20
            share = f"{scan / cells:.0%}"
            print(f"{book.suffix} ({size:.1f} MiB): calamine, every cell: {cells:.2f} s; "
                  f"hidden rows: {scan:.2f} s ({share} of reading the cells)")  # fmt: skip


if __name__ == "__main__":
    main()
