"""Fictitious benchmark inputs: a municipal export as cp1252 CSV or .xlsx, and its UDB registry.

Every CPR number is made up: born 16 to 22 years before this year, with 4 as the seventh digit
(the 2000s by the century rule), so it passes the loader's checks and is a young person aged
15 to 23 whenever the benchmark runs.
The text is the Danish a KUI export really holds (names with æ, ø and å, wishes, remarks),
in the shapes people type it: phone numbers written four ways, dates in three formats. About
one row in thirty has a problem that validation must catch (a bad e-mail, a phone number too
short, a registration time in the future), so validation has work to do.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import xlsxwriter

from input_examples.generate import EXPORT_HEADERS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = [
    "HEADERS",
    "KUI",
    "Layout",
    "as_text",
    "fictitious_cpr",
    "rows",
    "write_csv",
    "write_registry",
    "write_xlsx",
]

KUI = 751001
HEADERS = tuple(EXPORT_HEADERS)  # as input_examples/kommune-export.csv
FIRST = ("Mette", "Jonas", "Sara", "Søren", "Anne-Marie", "Bjørn", "Åse", "Mikkel", "Løkke", "Ida")
LAST = ("Holm", "Kjær", "Lund", "Sørensen", "Ærø-Hansen", "Østergaard", "Brændgaard", "Nielsen")
JOBS = (
    "Tømrer",
    "Elektriker",
    "Social- og sundhedsassistent",
    "Frisør",
    "Smed",
    "Kok",
    "Maler",
    "Lager- og logistikmedarbejder",
    "Ved ikke endnu, vil gerne prøve flere fag i praktik",
)
EDUCATIONS = (
    "EUX Byggeri",
    "HHX",
    "STX, naturvidenskabelig studieretning",
    "Frisøruddannelsen",
    "Pædagogisk assistent (PAU)",
    "Produktionsskole, træværksted",
    "Efterskole 10. klasse, derefter erhvervsuddannelse",
)
REMARKS = (
    "",
    "Aftalt på møde",
    "Ønsker vejledning om økonomi under uddannelse",
    "Forældre deltog i samtalen; følges op efter sommerferien",
    "",
    "Kontakt via SMS foretrækkes",
)
COUNSELLORS = 60
_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
BASE = datetime(2024, 1, 8, 8, 0)
_YEARS = 7
_DATES = 28 * 12 * _YEARS
_OLDEST = date.today().year - 22
_MINUTES_PER_ROW_STEP = 30 * 24 * 60  # a person's later rows are a month apart


@dataclass(frozen=True)
class Layout:
    """How many rows, and how many distinct young people they are about."""

    rows: int
    people: int

    def person(self, n: int) -> int:
        """Row `n` is about this person; their rows are spread over the file."""
        return n % self.people


def fictitious_cpr(person: int) -> str:
    """A made-up CPR number (aged 15-23, seventh digit 4); distinct up to 2,352,000."""
    day, month = person % 28 + 1, (person // 28) % 12 + 1
    year = (_OLDEST + (person // 336) % _YEARS) % 100
    serial = 4000 + (person // _DATES) % 1000
    return f"{day:02d}{month:02d}{year:02d}{serial:04d}"


def _registered(n: int, layout: Layout) -> datetime:
    person = layout.person(n)
    step = n // layout.people
    return BASE + timedelta(minutes=step * _MINUTES_PER_ROW_STEP + person % 7000)


def _counsellor(person: int) -> tuple[str, str]:
    """The KUI counsellor in contact with the young person: one of 60, name and e-mail."""
    number = (person * 7) % COUNSELLORS
    first, last = FIRST[number % len(FIRST)], LAST[(number // len(FIRST)) % len(LAST)]
    local = f"{first}.{last}".lower().translate(_ASCII).replace(" ", "")
    return f"{first} {last}", f"{local}{number}@kui.example-kommune.dk"


def _phone(n: int) -> str:
    digits = f"{20000000 + (n * 7919) % 79999999:08d}"
    shapes = (
        digits,
        f"+45 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}",
        f"{digits[:4]} {digits[4:]}",
        f"{digits[:2]}-{digits[2:4]}-{digits[4:6]}-{digits[6:]}",
    )
    return shapes[n % len(shapes)]


def _time_text(moment: datetime, n: int) -> str:
    shapes = ("%d.%m.%Y %H.%M", "%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M")
    return moment.strftime(shapes[n % len(shapes)])


def rows(layout: Layout) -> Iterator[list[object]]:
    """The export's rows: text cells as people type them, times as `datetime` (see `as_text`)."""
    for n in range(layout.rows):
        person = layout.person(n)
        name, mail = _counsellor(person)
        moment = _registered(n, layout)
        phone = _phone(n)
        if n % 97 == 0:
            mail = mail.replace("@", "(at)")  # contact-mail-invalid
        if n % 89 == 0:
            phone = "12 34"  # contact-phone-invalid
        if n % 83 == 0:
            moment = datetime(2099, 1, 1, 9, 0)
        job = JOBS[n % len(JOBS)] if n % 3 else ""
        education = EDUCATIONS[n % len(EDUCATIONS)] if n % 4 else ""
        yield [
            fictitious_cpr(person),
            KUI,
            name,
            mail,
            phone,
            moment,
            job,
            moment if job else "",
            education,
            moment if education else "",
            REMARKS[n % len(REMARKS)],
        ]


def as_text(values: list[object], n: int) -> list[str]:
    """One row as CSV text: times in one of three Danish export formats."""
    return [_time_text(v, n) if isinstance(v, datetime) else str(v) for v in values]


def write_csv(path: Path, layout: Layout) -> Path:
    """A Windows-1252, semicolon-separated export, as Danish municipal systems write them."""
    with path.open("w", encoding="cp1252", newline="") as file:
        writer = csv.writer(file, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADERS)
        for n, values in enumerate(rows(layout)):
            writer.writerow(as_text(values, n))
    return path


def write_xlsx(path: Path, layout: Layout) -> Path:
    """The same export as a workbook: real datetime cells, CPR numbers as text."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(path.parent)})
    sheet = book.add_worksheet("Unge")
    stamp = book.add_format({"num_format": "dd-mm-yyyy hh:mm"})
    sheet.write_row(0, 0, HEADERS)
    for line, values in enumerate(rows(layout), start=1):
        for col, value in enumerate(values):
            if isinstance(value, datetime):
                sheet.write_datetime(line, col, value, stamp)
            elif isinstance(value, int):
                sheet.write_number(line, col, value)
            elif value:
                sheet.write_string(line, col, str(value))
    book.close()
    return path


def write_registry(path: Path, people: int, *, unknown_every: int | None = None) -> Path:
    """The simulator's registry: the first `people`, but one in `unknown_every` (UDB's 14)."""
    with path.open("w", encoding="utf-8") as file:
        file.write("cpr;home_kui;name\n")
        for person in range(people):
            if unknown_every is None or person % unknown_every != unknown_every // 3:
                file.write(f"{fictitious_cpr(person)};{KUI};Ung {person}\n")
    return path
