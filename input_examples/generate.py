"""Write the bundled example inputs; every person in them is fictitious.

Run `python input_examples/generate.py` to make the files again. They agree with
`batch/simulator/registry.csv` so that the demo (`make run`) shows every outcome:
  historik-migrering.csv      a migration file: UTF-8 with BOM, commas, ISO times, several rows
                              per young person out of order. The demo sends it first ("last night").
  kommune-export.csv          a municipal system's export: Windows-1252, semicolons, Danish headers,
                              dates as 15.06.2025 14.30, phone numbers written many ways.
  ungeliste-haandlavet.xlsx   a spreadsheet made by a person: a title row above the header, CPR numbers
                              Excel turned into numbers, Excel dates, no institution column.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
KUI = 751001
MAIL = "kui.example-kommune.dk"

EXPORT_HEADERS = [
    "CPR-nr.",
    "Institutionsnummer",
    "Kontaktperson",
    "Kontakt e-mail",
    "Mobil",
    "Kontakt registreret",
    "Jobønske",
    "Jobønske registreret",
    "Uddannelsesønske",
    "Uddannelsesønske registreret",
    "Bemærkning",
]
# fmt: off
EXPORT_ROWS = [
    # accepted
    ["091005-4836", KUI, "Mette Holm", f"mette.holm@{MAIL}", "+45 20 12 34 56", "15.06.2025 14.30", "Tømrer", "15.06.2025 14.30", "EUX Byggeri", "15.06.2025 14.30", "Aftalt på møde"],
    ["0603114290", KUI, "Mette Holm", f"mette.holm@{MAIL}", "20-12-34-56", "03-01-2025 08:00", "", "", "", "", ""],
    ["2602074165", KUI, "Jonas Kjær", f"jonas.kjaer@{MAIL}", "0045 3012 4567", "2025-09-01T10:15:00", "Elektriker", "2025-09-01T10:15:00", "", "", ""],
    ["0712064041", KUI, "", "", "", "", "Frisør", "12/05/2025 09:00", "Frisøruddannelsen", "12/05/2025 09:00", ""],
    ["0508104734", KUI, "Jonas Kjær", f"jonas.kjaer@{MAIL}", "30124567", "2025-10-20 13:45", "", "", "HHX", "2025-10-20 13:45", '=HYPERLINK("http://example.invalid","klik")'],
    ["1909084752", KUI, "Sara Lund", f"sara.lund@{MAIL}", "", "01.11.2025 11.00", "Social- og sundhedsassistent", "01.11.2025 11.00", "", "", ""],
    # unchanged: the same as last night's migration accepted
    ["2308074035", KUI, "Sara Lund", f"sara.lund@{MAIL}", "40 11 22 33", "2025-03-10 09:30", "Smed", "2025-03-10 09:30", "", "", ""],
    # unchanged: older than what the migration already reported for this young person
    ["2604084523", KUI, "", "", "", "", "Kok", "2024-01-15 10:00", "", "", "ældre end registreret"],
    # drop: 14 (not in UDB), 86 (lives in another municipality), 15 (aged 25 or more)
    ["1503094999", KUI, "Mette Holm", f"mette.holm@{MAIL}", "", "02.02.2025 10.00", "Maler", "02.02.2025 10.00", "", "", "ukendt CPR"],
    ["1212074715", KUI, "Jonas Kjær", f"jonas.kjaer@{MAIL}", "", "05.05.2025 12.00", "", "", "STX", "05.05.2025 12.00", "flyttet"],
    ["2708913389", KUI, "Sara Lund", f"sara.lund@{MAIL}", "", "07.07.2025 08.15", "Chauffør", "07.07.2025 08.15", "", "", ""],
    # fix: a future registration time (280), a bad mail, a missing name, a bad phone number
    ["0903074732", KUI, "Mette Holm", f"mette.holm@{MAIL}", "", "01.01.2099 09.00", "", "", "", "", "fremtidig dato"],
    ["2108064913", KUI, "Jonas Kjær", "jonas.kjaer(at)kommune", "", "04.04.2025 10.00", "", "", "", "", ""],
    ["1709114109", KUI, "", f"sara.lund@{MAIL}", "", "04.04.2025 10.00", "", "", "", "", "navn mangler"],
    ["0910054836", KUI, "Mette Holm", f"mette.holm@{MAIL}", "12 34", "06.06.2025 10.00", "", "", "", "", ""],
]
# fmt: on

MIGRATION_HEADERS = [
    "cprnr",
    "instnr",
    "kontakt navn",
    "kontaktemail",
    "tlf",
    "kontakt registreringstid",
    "jobønsker",
    "jobønske registreret",
    "uddannelsesønsker",
    "uddannelsesønske registreret",
]
# fmt: off
MIGRATION_ROWS = [
    # several rows per young person, out of order: sent in registration-time order
    ["2604084523", KUI, "", "", "", "", "Kok", "2025-02-01T09:00:00", "", ""],
    ["2604084523", KUI, "", "", "", "", "Tjener", "2023-05-01T09:00:00", "", ""],
    ["2604084523", KUI, "", "", "", "", "Bager", "2024-06-01T09:00:00", "", ""],
    ["2308074035", KUI, "Sara Lund", f"sara.lund@{MAIL}", "40112233", "2025-03-10T09:30:00", "Smed", "2025-03-10T09:30:00", "", ""],
    ["2308074035", KUI, "Peter Bach", f"peter.bach@{MAIL}", "", "2023-08-14T13:00:00", "", "", "", ""],
    ["1909084752", KUI, "", "", "", "", "", "", "Gymnasium", "2024-08-12T08:00:00"],
    ["0712064041", KUI, "Peter Bach", f"peter.bach@{MAIL}", "", "2023-02-20T10:00:00", "", "", "STX", "2023-02-20T10:00:00"],
]
# fmt: on

SHEET_HEADERS = [
    "Personnummer",
    "Kontakt navn",
    "E-mail",
    "Telefon",
    "Kontakt registreringstid",
    "Uddannelsesønske",
    "Uddannelsesønske registreret",
]
# fmt: off
SHEET_ROWS = [
    # CPR numbers as Excel keeps them: numbers, the leading zero gone
    [2412084170, "Anne Friis", f"anne.friis@{MAIL}", 51234567, datetime(2025, 8, 18, 9, 0), "EUD Data og kommunikation", datetime(2025, 8, 18, 9, 0)],
    [303064561, "Anne Friis", f"anne.friis@{MAIL}", "51 23 45 67", datetime(2025, 8, 19, 14, 30), "", None],
    [1701114593, "Anne Friis", f"anne.friis@{MAIL}", None, datetime(2025, 9, 2, 10, 0), "Pædagogisk assistent", datetime(2025, 9, 2, 10, 0)],
    # an Excel serial date (45900.5 = 2025-08-31 12:00)
    [2007104234, "Anne Friis", f"anne.friis@{MAIL}", None, 45900.5, "", None],
    [1104094321, "Anne Friis", f"anne.friis@{MAIL}", None, datetime(2025, 10, 1, 8, 0), "Handelsskole", datetime(2025, 10, 1, 8, 0)],
]
# fmt: on


def write_csv(
    path: Path,
    headers: list[str],
    rows: list[list[object]],
    *,
    encoding: str,
    delimiter: str,
    blank_after: int | None = None,
) -> None:
    """Write a CSV as the source system would (CRLF, as Excel and Windows systems do)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for index, row in enumerate(rows):
        writer.writerow(row)
        if index == blank_after:
            writer.writerow([""] * len(headers))
    path.write_bytes(buffer.getvalue().encode(encoding))


def write_sheet(path: Path) -> None:
    """A workbook as a person makes it: a title, a blank row, then the header."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Unge"
    sheet.append(["Ungeliste – kontaktpersoner og uddannelsesønsker, efterår 2025"])
    sheet.append([])
    sheet.append(SHEET_HEADERS)
    for row in SHEET_ROWS:
        sheet.append(row)
    for cell in sheet["E"][3:]:
        cell.number_format = "dd-mm-yyyy hh:mm"
    workbook.save(path)


def main() -> None:
    """Write all three example files."""
    write_csv(
        HERE / "historik-migrering.csv",
        MIGRATION_HEADERS,
        MIGRATION_ROWS,
        encoding="utf-8-sig",
        delimiter=",",
    )
    write_csv(
        HERE / "kommune-export.csv",
        EXPORT_HEADERS,
        EXPORT_ROWS,
        encoding="cp1252",
        delimiter=";",
        blank_after=5,
    )
    write_sheet(HERE / "ungeliste-haandlavet.xlsx")


if __name__ == "__main__":
    main()
