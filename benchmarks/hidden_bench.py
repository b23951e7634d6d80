"""What finding hidden rows costs beside reading the cells of a large `.xlsx`.

`python -m benchmarks.hidden_bench [ROWS]` writes a fictitious workbook (11 columns, every
tenth row hidden, with xlsxwriter), then times, in turns over 3 rounds (medians): calamine
reading every row of the sheet (what the intake does anyway) and `batch.intake.hidden`
scanning the sheet's XML for hidden rows and columns. Figures in BENCHMARKS.md.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import python_calamine
from xlsxwriter.workbook import Workbook

from batch.intake.hidden import hidden_cells

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


def main() -> None:
    """Write the workbook, time both in turns, print the medians and the ratio."""
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "big.xlsx")
        _write(path, rows)
        times: dict[str, list[float]] = {"calamine, every cell": [], "hidden rows scan": []}
        for _round in range(3):
            for name, task in (("calamine, every cell", _cells), ("hidden rows scan", _hidden)):
                start = time.perf_counter()
                task(path)
                times[name].append(time.perf_counter() - start)
        size = path.stat().st_size
    cells, scan = (statistics.median(t) for t in times.values())
    print(f"{rows:,} rows, {size / 2**20:.1f} MiB xlsx, {rows // 10:,} hidden")
    print(f"calamine, every cell: {cells:.2f} s; hidden rows scan: {scan:.2f} s "
          f"({scan / cells:.0%} of reading the cells)")  # fmt: skip


if __name__ == "__main__":
    main()
