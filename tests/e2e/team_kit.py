"""Files made the way the data team makes them: openpyxl, filters, hidden rows, a totals row."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import openpyxl

if TYPE_CHECKING:
    from pathlib import Path

# Young people the simulator knows (batch/simulator/registry.csv), all of KUI 751001.
PEOPLE = (
    ("0910054836", "Alfred Rasmussen"),
    ("0603114290", "Agnes Pedersen"),
    ("2602074165", "Sofia Nielsen"),
    ("0712064041", "Nora Kristensen"),
    ("0508104734", "Freja Nielsen"),
    ("1909084752", "Lucas Kristensen"),
    ("2308074035", "Olivia Nielsen"),
)
HEADER = ["CPR-nr.", "Institutionsnummer", "Kontaktperson", "Kontakt e-mail", "Kontakt registreret"]


def when(days: int = 3) -> str:
    """A registration time some days back, as a Danish export writes it."""
    return (datetime.now() - timedelta(days=days)).strftime("%d.%m.%Y %H:%M")


def person_row(index: int, *, mail: str | None = None, days: int = 3) -> list[object]:
    """One row of HEADER for PEOPLE[index]."""
    cpr, name = PEOPLE[index]
    return [cpr, 751001, f"Vejleder {name.split()[0]}", mail or "vejleder@kui.dk", when(days)]


def team_workbook(
    path: Path,
    rows: list[list[object]],
    *,
    header: list[str] = HEADER,
    hidden_rows: tuple[int, ...] = (),
    hidden_columns: tuple[str, ...] = (),
    totals: bool = False,
    title: str | None = None,
    use_filter: bool = False,
) -> Path:
    """A workbook as a person makes it; `hidden_rows` are indices into `rows` (0 = first)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Unge"
    if title:
        sheet.append([title])
    sheet.append(header)
    first_data = sheet.max_row + 1
    for row in rows:
        sheet.append(row)
    if totals:
        last = sheet.max_row
        sheet.append(["I alt", f"=COUNTA(A{first_data}:A{last})"])
    for index in hidden_rows:
        sheet.row_dimensions[first_data + index].hidden = True
    for letter in hidden_columns:
        sheet.column_dimensions[letter].hidden = True
    if use_filter:
        sheet.auto_filter.ref = f"A{first_data - 1}:E{sheet.max_row}"
    book.save(path)
    return path
