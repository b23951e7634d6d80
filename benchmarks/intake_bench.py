"""Benchmark: load + normalize + validate (batch.intake) beside pandas and a row-by-row loop.

Generates fictitious data (a cp1252 semicolon CSV, 1,000,000 rows by default, and an .xlsx,
200,000 rows), then times, each in a child process of its own so that peak memory belongs to
that reader alone:

  csv:  batch.intake | pandas.read_csv(dtype=str) | pandas.read_csv() | the same rules row by
        row in plain Python (csv module, re, datetime, zoneinfo; same caches for mail verdicts
        and birth dates, same Row/Report objects out)
  xlsx: batch.intake | pandas.read_excel(engine="calamine") | read_excel(engine="openpyxl"),
        the last on a smaller file (`--openpyxl-rows`), its rows/s extrapolated

Times cover the reading only (imports and interpreter start are outside the clock). Ratios are
speed ratios against batch.intake measured in the same run; the machine is shared and noisy,
so compare within one run.

    .venv/bin/python benchmarks/intake_bench.py [--csv-rows N] [--xlsx-rows N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from batch.intake import InputOptions, open_input
from batch.intake.columns import header_matcher, map_columns, unique_headers
from batch.intake.cpr import age_on
from batch.intake.text import PLACEHOLDERS, mail_syntax_ok
from batch.intake.times import COPENHAGEN
from batch.intake.validate import AGE_LIMIT, LIMITS
from batch.records import CellValue, Contact, Issue, Report, Row, Wish

__all__ = ["main"]

SYSTEM_ID = "BATCH-BENCH"
HEADER = ["CPR-nr.", "Institutionsnummer", "Kontaktperson", "Kontakt e-mail", "Mobil",
          "Kontakt registreret", "Jobønske", "Jobønske registreret", "Uddannelsesønske",
          "Uddannelsesønske registreret", "Bemærkning"]  # fmt: skip
FIRST = ("Mette", "Jonas", "Sara", "Peter", "Anne", "Søren", "Åse", "Ærling", "Bo", "Lærke")
LAST = ("Holm", "Kjær", "Lund", "Bach", "Friis", "Østergaard", "Møller", "Dahl")
JOBS = ("Tømrer", "Elektriker på værft", "Pædagogmedhjælper", "Butiksassistent; gerne i Århus",
        "Smed", "Ved ikke endnu", "Chauffør", "Frisør")  # fmt: skip
EDUCATIONS = ("EUX Byggeri", "STX", "HHX", "Social- og sundhedsassistent", "Frisøruddannelsen",
              "EUD Data og kommunikation", "Gymnasium (STX), naturvidenskabelig linje")  # fmt: skip
NOTES = ("", "", "", "Aftalt på møde", "Ringet op, ingen svar", "flyttet")


# -- data -----------------------------------------------------------------------------------


def _people(rng: random.Random, count: int) -> list[str]:
    """Fictitious CPR numbers of 15-24-year-olds (born 2001-2010, 7th digit 4: 2000s)."""
    people = []
    for _ in range(count):
        born = datetime(2001, 1, 1) + timedelta(days=rng.randrange(3650))
        people.append(f"{born:%d%m%y}4{rng.randrange(1000):03d}")
    return people


def _row(rng: random.Random, people: list[str], workers: list[tuple[str, str]]) -> list[Any]:
    """One row: 2-4 rows per person, a contact on most, a job and/or education wish on some."""
    cpr = rng.choice(people)
    name, mail = rng.choice(workers)
    when = datetime(2024, 1, 1, 7) + timedelta(minutes=rng.randrange(600_000))
    contact = rng.random() < 0.8
    job = rng.random() < 0.5
    education = not contact or rng.random() < 0.5
    phone = rng.choice(("+45 {} {} {} {}", "{}{}{}{}", "{}-{}-{}-{}", "0045 {}{} {}{}")).format(
        *(f"{rng.randrange(20, 99)}" for _ in range(4))
    )
    return [
        cpr if rng.random() < 0.7 else f"{cpr[:6]}-{cpr[6:]}",
        751001,
        name if contact else "",
        mail if contact else "",
        phone if contact and rng.random() < 0.6 else "",
        when if contact else "",
        rng.choice(JOBS) if job else "",
        when if job else "",
        rng.choice(EDUCATIONS) if education else "",
        when if education else "",
        rng.choice(NOTES),
    ]


def _rows(count: int, seed: int) -> Any:  # noqa: ANN401 - an iterator of mixed rows
    rng = random.Random(seed)
    people = _people(rng, max(count // 3, 1))
    workers = [
        (f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"vejleder{i}@kui.ungekommune.dk")
        for i in range(60)
    ]
    return (_row(rng, people, workers) for _ in range(count))


def write_csv(path: Path, count: int) -> None:
    """Semicolon CSV in Windows-1252, CRLF, times written `dd.mm.yyyy HH:MM`, as Excel does."""
    with path.open("w", encoding="cp1252", newline="") as file:
        writer = csv.writer(file, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        for row in _rows(count, seed=1):
            writer.writerow([f"{v:%d.%m.%Y %H:%M}" if isinstance(v, datetime) else v for v in row])


def write_xlsx(path: Path, count: int) -> None:
    """A workbook as people make them: a title row, numeric CPRs, real datetimes."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Unge")
    stamp = book.add_format({"num_format": "dd-mm-yyyy hh:mm"})
    sheet.write_row(0, 0, ["Ungeliste, efterår"])
    sheet.write_row(2, 0, HEADER)
    for index, row in enumerate(_rows(count, seed=2), start=3):
        for column, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write_datetime(index, column, value, stamp)
            elif column == 0 and str(value).isdigit():
                sheet.write_number(index, column, int(value))  # Excel drops the leading 0
            elif value != "":
                sheet.write(index, column, value)
    book.close()


# -- the row-by-row baseline ------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_DANISH_TIME = re.compile(
    r"(\d{1,2})[-./](\d{1,2})[-./](\d{4})[ T]+(\d{1,2})[:.](\d{2})(?::(\d{2}))?"
)
_ISO_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _text(value: str) -> str | None:
    cleaned = _SPACES.sub(" ", _CONTROL.sub("", value)).strip()
    return None if not cleaned or cleaned.casefold() in PLACEHOLDERS else cleaned


def _time(value: str | None) -> tuple[datetime | None, str | None]:
    if value is None:
        return None, None
    match = _DANISH_TIME.fullmatch(value)
    parts: tuple[str | None, ...] | None = None
    if match:
        parts = (match[3], match[2], match[1], match[4], match[5], match[6])
    elif match := _ISO_TIME.fullmatch(value):
        parts = match.groups()
    if parts is None:
        return None, "invalid"
    year, month, day, hour, minute, second = (int(p or 0) for p in parts)
    try:
        wall = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None, "invalid"
    moment = wall.replace(tzinfo=COPENHAGEN)
    if moment.astimezone(UTC).astimezone(COPENHAGEN).replace(tzinfo=None) != wall:
        return None, "nonexistent"
    return moment, None


@functools.cache
def _age(prefix: str, today: Any) -> int | None:  # noqa: ANN401 - a date
    return age_on(f"{prefix}000", today)


def _check(values: dict[str, str | None], today: Any, latest: datetime) -> tuple[Any, list[str]]:  # noqa: ANN401, C901, PLR0912
    problems: list[str] = []
    cpr = values["CPRNr"]
    if cpr is not None:
        cpr = cpr.replace("-", "").replace(" ", "")
        cpr = "0" + cpr if len(cpr) == 9 and cpr.isdigit() else cpr
    if cpr is None or not (len(cpr) == 10 and cpr.isdigit()):
        problems.append("cpr")
    else:
        age = _age(cpr[:7], today)
        if age is None:
            problems.append("cpr-birth-date")
        elif age >= AGE_LIMIT:
            problems.append("15")
    phone = values["KontaktTelefon"]
    if phone is not None:
        phone = re.sub(r"[\s\-.()/]", "", phone)
        phone = phone[-8:] if re.fullmatch(r"(\+45|0045)\d{8}", phone) else phone
        if not re.fullmatch(r"\d{8}", phone):
            problems.append("phone")
    times = {}
    for field in ("KontaktRegistreringstid", "JobRegistreringstid", "UddannelsesRegistreringstid"):
        times[field], problem = _time(values[field])
        if problem:
            problems.append(problem)
        elif times[field] is not None and times[field] > latest:  # type: ignore[operator]
            problems.append("280")
    groups = (("KontaktNavn", "KontaktMail", "KontaktRegistreringstid"),
              ("JobOnsker", "JobRegistreringstid"),
              ("UddannelsesOnsker", "UddannelsesRegistreringstid"))  # fmt: skip
    present = [any(values[f] is not None for f in g) for g in groups]
    if values["KontaktTelefon"] is not None:
        present[0] = True
    for group, here in zip(groups, present, strict=True):
        problems += [f"{f}-missing" for f in group if here and values[f] is None]
    if not any(present):
        problems.append("nothing")
    for field, limit in LIMITS.items():
        if values.get(field) is not None and len(values[field] or "") > limit:
            problems.append(f"{field}-long")
    mail = values["KontaktMail"]
    if mail is not None and not _mail_ok(mail):
        problems.append("mail")
    institution = values["KommuneInstitutionNummer"]
    if institution is None or not institution.isdigit():
        problems.append("institution")
    return (cpr, phone, times), problems


@functools.cache
def _mail_ok(address: str) -> bool:
    return mail_syntax_ok(address)


def rowwise(path: Path, now: datetime) -> Any:  # noqa: ANN401 - an iterator of Rows
    """The same rules in plain Python, one row at a time (encoding and delimiter known)."""
    today, latest = now.astimezone(COPENHAGEN).date(), now + timedelta(minutes=5)
    with path.open(encoding="cp1252", newline="") as file:
        records = csv.reader(file, delimiter=";")
        headers = unique_headers(next(records))
        columns = map_columns(headers, {}, institution_configured=False, source=str(path))
        fields = {f: columns.positions[i] for f, i in columns.fields.items()}
        for number, record in enumerate(records, start=2):
            if not any(cell.strip() for cell in record):
                continue
            values = {f: _text(record[p]) if p < len(record) else None for f, p in fields.items()}
            values.setdefault("ModtagerSystemID", SYSTEM_ID)
            (cpr, phone, times), problems = _check(values, today, latest)
            issues = tuple(Issue(slug=p, message=p) for p in problems)
            report = None if issues else _report(values, cpr, phone, times)
            cells: dict[str, CellValue] = dict(
                zip(headers, (c or None for c in record), strict=False)
            )
            yield Row(str(path), number, cells, report, issues)


def _report(values: dict[str, Any], cpr: str, phone: str | None, times: dict[str, Any]) -> Report:
    contact_time = times["KontaktRegistreringstid"]
    return Report(
        system_id=values["ModtagerSystemID"] or SYSTEM_ID,
        cpr=cpr,
        institution=int(values["KommuneInstitutionNummer"]),
        contact=None
        if contact_time is None
        else Contact(
            values["KontaktNavn"],
            values["KontaktMail"],
            int(phone) if phone else None,
            contact_time,
        ),
        job=None
        if times["JobRegistreringstid"] is None
        else Wish(values["JobOnsker"], times["JobRegistreringstid"]),
        education=None
        if times["UddannelsesRegistreringstid"] is None
        else Wish(values["UddannelsesOnsker"], times["UddannelsesRegistreringstid"]),
    )


# -- child tasks ------------------------------------------------------------------------------


def _count(rows: Any) -> dict[str, int]:  # noqa: ANN401 - an iterable of Row or of chunks
    total = ready = 0
    for row in rows:
        total += 1
        ready += row.report is not None
    return {"rows": total, "ready": ready}


def _intake(path: Path) -> dict[str, int]:
    opened = open_input(path, InputOptions(system_id=SYSTEM_ID))
    return _count(row for chunk in opened.chunks(datetime.now(UTC)) for row in chunk)


TASKS: dict[str, Any] = {
    "intake": _intake,
    "read_csv(dtype=str)": lambda p: {
        "rows": len(pd.read_csv(p, sep=";", encoding="cp1252", dtype=str))
    },
    "read_csv()": lambda p: {"rows": len(pd.read_csv(p, sep=";", encoding="cp1252"))},
    "row by row": lambda p: _count(rowwise(p, datetime.now(UTC))),
    "read_excel(calamine)": lambda p: {"rows": len(pd.read_excel(p, engine="calamine", header=2))},
    "read_excel(openpyxl)": lambda p: {"rows": len(pd.read_excel(p, engine="openpyxl", header=2))},
}


def _child(task: str, path: str) -> None:
    header_matcher({})  # warm the imports the task needs, outside the clock
    wall, cpu = time.perf_counter(), time.process_time()
    result = TASKS[task](Path(path))
    result |= {
        "seconds": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(result))


def _measure(task: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", task, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["rows/s"] = result["rows"] / result["seconds"]
    return result


def _table(title: str, results: dict[str, dict[str, Any]], note: str = "") -> None:
    base = results["intake"]["rows/s"]
    print(f"\n{title}{note}")
    print(f"  {'reader':24} {'rows':>9} {'rows/s':>9} {'wall s':>7} {'CPU s':>7} {'peak MiB':>9} "
          f"{'intake speed / this':>20}")  # fmt: skip
    for name, r in results.items():
        print(f"  {name:24} {r['rows']:>9,} {r['rows/s']:>9,.0f} {r['seconds']:>7.1f} "
              f"{r['cpu']:>7.1f} {r['peak_mib']:>9,.0f} {base / r['rows/s']:>20.2f}")  # fmt: skip


def main() -> None:
    """Generate the files, measure every reader, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--openpyxl-rows", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="write the data files here and keep them")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as scratch:
        where = args.keep or Path(scratch)
        where.mkdir(parents=True, exist_ok=True)
        _run(where, args)


def _run(where: Path, args: argparse.Namespace) -> None:
    big_csv, big_xlsx, small_xlsx = where / "bench.csv", where / "bench.xlsx", where / "small.xlsx"
    for path, writer, rows in ((big_csv, write_csv, args.csv_rows),
                               (big_xlsx, write_xlsx, args.xlsx_rows),
                               (small_xlsx, write_xlsx, args.openpyxl_rows)):  # fmt: skip
        if not path.exists():
            writer(path, rows)
    csv_results = {
        t: _measure(t, big_csv)
        for t in ("intake", "read_csv(dtype=str)", "read_csv()", "row by row")
    }
    _table(
        f"CSV, cp1252, ';', {args.csv_rows:,} rows ({big_csv.stat().st_size / 2**20:.0f} MiB)",
        csv_results,
    )
    xlsx_results = {t: _measure(t, big_xlsx) for t in ("intake", "read_excel(calamine)")}
    xlsx_results["read_excel(openpyxl)"] = _measure("read_excel(openpyxl)", small_xlsx)
    _table(f".xlsx, {args.xlsx_rows:,} rows", xlsx_results,
           f" (openpyxl on {args.openpyxl_rows:,} rows; its rows/s compared)")  # fmt: skip


if __name__ == "__main__":
    main()
