"""Bad input through the real CLI: a clear line, no traceback, nothing wrongly sent, nothing lost.

Every case is a `batch run` against a simulator of its own, so "nothing sent" is read from that
simulator's record. The runs are independent and nothing asserted depends on timing, so they
run a few at a time (the module fixture); each test then looks at its own case. The loader's
unit tests (tests/intake/) check the same files one function down; these check what the user
sees: exit code, message, workbook, and what reached the service.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from batch.records import RESULT_COLUMNS
from batch.simulator import ReceivedRequest, SimulatorConfig, start_simulator
from tests.e2e.helpers import Run, run_cli
from tests.reliability.kit import (
    HEADER,
    Book,
    csv_rows,
    good_rows,
    run_many,
    service_args,
    write_csv,
)
from tests.reliability.ole import encrypted_workbook

pytestmark = pytest.mark.slow

JOB = HEADER.index("JobOnsker")
FORMULAS = (
    "=1+2",
    "+45 cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    '=HYPERLINK("http://evil.example/?x=1","Klik her")',
    "=cmd|' /C notepad'!'A1'",
)


@dataclass(frozen=True)
class Case:
    """One bad input's run: what the CLI said, what reached the service, where the books are."""

    source: Path
    run: Run
    received: list[ReceivedRequest]
    reports: Path

    def book(self) -> Book:
        """The run's workbook read back."""
        return Book.newest(self.reports)

    def error_lines(self) -> list[str]:
        """The user-facing error lines on stderr: JSON error events, as the runs log JSON."""
        events = [json.loads(line) for line in self.run.stderr.splitlines() if line.strip()]
        return [str(event["message"]) for event in events if event.get("level") == "error"]


def _xlsx(path: Path, rows: list[list[object]], header=HEADER) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Unge"
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


# -- the inputs, one builder each: root folder -> (input file, extra options) -------------------


def _empty(root: Path) -> Path:
    path = root / "export.csv"
    path.write_bytes(b"")
    return path


def _header_only(root: Path) -> Path:
    return _xlsx(root / "export.xlsx", [])


def _garbage(root: Path) -> Path:
    path = root / "export.xlsx"
    path.write_bytes(bytes((n * 7919) % 251 for n in range(20_000)))
    return path


def _truncated(root: Path) -> Path:
    whole = _xlsx(root / "whole.xlsx", [list(row) for row in good_rows(50)]).read_bytes()
    path = root / "export.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    return path


def _password(root: Path) -> Path:
    path = root / "export.xlsx"
    path.write_bytes(encrypted_workbook())
    return path


def _huge_cell(root: Path) -> Path:
    rows = good_rows(5)
    rows[2][JOB] = "Tømrer " + "x" * (50 * 1024 * 1024)
    return write_csv(root / "export.csv", rows)


def _nul_bytes(root: Path) -> Path:
    rows = good_rows(5)
    rows[2][JOB] = "Tøm\x00rer"
    return write_csv(root / "export.csv", rows)


WIDE = 10_000


def _wide(root: Path) -> Path:
    extra = [f"Ekstra {n}" for n in range(WIDE - len(HEADER))]
    rows = [[*row, *(f"v{n}" for n in range(len(extra)))] for row in good_rows(3)]
    return write_csv(root / "export.csv", rows, header=[*HEADER, *extra])


def _mixed_encodings(root: Path) -> Path:
    """A UTF-8 export with one row pasted in from a Windows-1252 file."""
    rows = good_rows(6)
    rows[3][JOB] = "Smørrebrødsjomfru"
    lines = write_csv(root / "utf8.csv", rows).read_text(encoding="utf-8").splitlines(keepends=True)
    data = b"".join(line.encode("cp1252" if n == 4 else "utf-8") for n, line in enumerate(lines))
    path = root / "export.csv"
    path.write_bytes(data)
    return path


def _duplicate_field(root: Path) -> Path:
    """Two columns both headed CPRNr, holding different people."""
    rows = good_rows(4)
    others = good_rows(4, first=20)
    return write_csv(
        root / "export.csv",
        [[*row, other[0]] for row, other in zip(rows, others, strict=True)],
        header=[*HEADER, "CPRNr"],
    )


def _duplicate_extra(root: Path) -> Path:
    rows = [[*row, f"note {n}", f"anden {n}"] for n, row in enumerate(good_rows(3))]
    return write_csv(root / "export.csv", rows, header=[*HEADER, "Bemærkning", "Bemærkning"])


def _ragged(root: Path) -> Path:
    """Rows with fewer and more cells than the header has columns."""
    rows = [[*row, "note"] for row in good_rows(6)]
    rows[1] = rows[1][:5]  # cut inside the contact: its registration time is missing
    rows[2] = rows[2][:-1]  # only the trailing note is missing: a row like any other
    rows[4] = [*rows[4], "stray", "cells"]
    return write_csv(root / "export.csv", rows, header=[*HEADER, "Bemærkning"])


def _formulas(root: Path) -> Path:
    rows = good_rows(len(FORMULAS))
    for row, formula in zip(rows, FORMULAS, strict=True):
        row[JOB] = formula
        row[HEADER.index("KontaktNavn")] = formula
    return write_csv(root / "export.csv", rows)


def _unclosed_quote(root: Path) -> Path:
    """Row 4 opens a quote in its job wish and never closes it: the rest is one cell."""
    lines = write_csv(root / "export.csv", good_rows(8)).read_text(encoding="utf-8").splitlines()
    cells = lines[3].split(";")
    cells[JOB] = '"' + cells[JOB]
    lines[3] = ";".join(cells)
    path = root / "export.csv"
    path.write_text("".join(f"{line}\r\n" for line in lines), encoding="utf-8")
    return path


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "empty": _empty,
    "header-only": _header_only,
    "binary-garbage": _garbage,
    "truncated-xlsx": _truncated,
    "password-xlsx": _password,
    "50-MB-cell": _huge_cell,
    "nul-bytes": _nul_bytes,
    "10000-columns": _wide,
    "mixed-encodings": _mixed_encodings,
    "duplicate-field-header": _duplicate_field,
    "duplicate-extra-header": _duplicate_extra,
    "ragged-rows": _ragged,
    "formula-injection": _formulas,
    "unclosed-quote": _unclosed_quote,
}


def _attempt(name: str, root: Path) -> Case:
    source = BUILDERS[name](root)
    reports = root / "reports"
    with start_simulator(SimulatorConfig()) as sim:
        run = run_cli(
            "run",
            source,
            *service_args(sim, "--rate", "1000"),
            state_dir=root / "state",
            report_dir=reports,
        )
        return Case(source, run, sim.received(), reports)


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> dict[str, Case]:
    """Every bad input's run, a few at a time."""
    names = list(BUILDERS)
    roots = [tmp_path_factory.mktemp(name) for name in names]
    done = run_many(
        [partial(_attempt, name, root) for name, root in zip(names, roots, strict=True)]
    )
    return dict(zip(names, done, strict=True))


def _assert_refused(case: Case, *words: str) -> None:
    """Exit 2, one error line naming the file and saying why, no traceback, nothing sent."""
    assert case.run.code == 2, case.run.output
    assert "Traceback" not in case.run.output
    lines = case.error_lines()
    assert len(lines) == 1, case.run.stderr
    assert str(case.source) in lines[0]
    for word in words:
        assert word in lines[0]
    assert case.received == []
    assert not case.reports.exists() or not list(case.reports.glob("*.xlsx"))


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("empty", ("empty",)),
        ("binary-garbage", ("not a real .xlsx workbook",)),
        ("truncated-xlsx", ("cannot be read as a workbook", "damaged")),
        ("password-xlsx", ("password-protected", "remove the password")),
    ],
)
def test_unreadable_files_are_refused_before_sending(cases, name, words):
    """Empty, garbage, truncated, password-protected: exit 2, one line naming file and cause."""
    _assert_refused(cases[name], *words)


def test_an_unclosed_quote_is_refused_saying_where(cases):
    """A quote never closed would hide the rows after it in one cell: exit 2, row and column."""
    _assert_refused(cases["unclosed-quote"], "row 4", 'column "JobOnsker"', "quote")


def test_header_only_is_a_quiet_night(cases):
    """A workbook with a header and no rows: exit 0, zero rows, a workbook, nothing sent."""
    case = cases["header-only"]
    assert case.run.code == 0, case.run.output
    assert case.book().count("rows") == 0
    assert case.received == []


def test_a_50_mb_cell_sends_the_other_rows(cases):
    """One 50 MB cell: that row to Fix naming its column, the other rows sent, no traceback."""
    case = cases["50-MB-cell"]
    assert "Traceback" not in case.run.output
    assert case.run.code == 1, case.run.output
    book = case.book()
    book.assert_each_row_once(csv_rows("export.csv", 5))
    assert [row["Source row"] for row in book.rows("Fix")] == [4]
    assert "JobOnsker" in str(book.rows("Fix")[0]["Result text"])
    assert len(case.received) == book.count("accepted") == 4


def test_nul_bytes_cost_at_most_their_own_row(cases):
    """A NUL byte inside one cell: the other rows are sent, that row is kept (sent or Fix)."""
    case = cases["nul-bytes"]
    assert "Traceback" not in case.run.output
    assert case.run.code in (0, 1), case.run.output
    book = case.book()
    book.assert_each_row_once(csv_rows("export.csv", 5))
    assert book.count("accepted") >= 4
    assert len(case.received) == book.count("accepted")
    assert all("\x00" not in str(r.fields.get("JobOnsker")) for r in case.received)


def test_ten_thousand_columns_are_kept(cases):
    """10,000 columns: every row sent, every column back in the workbook with its value."""
    case = cases["10000-columns"]
    assert case.run.code == 0, case.run.output
    book = case.book()
    book.assert_each_row_once(csv_rows("export.csv", 3))
    assert len(case.received) == 3
    last = f"Ekstra {WIDE - len(HEADER) - 1}"
    rows = book.rows("Accepted")
    assert len(rows[0]) == WIDE + len(RESULT_COLUMNS)  # the input's columns, then the results
    assert [row[last] for row in rows] == [f"v{WIDE - len(HEADER) - 1}"] * 3


def test_mixed_encodings_never_send_mojibake(cases):
    """A UTF-8 file with one cp1252 row: no text reaches UDB garbled; every row kept."""
    case = cases["mixed-encodings"]
    assert "Traceback" not in case.run.output
    book = case.book()
    book.assert_each_row_once(csv_rows("export.csv", 6))
    sent = [str(request.fields.get("JobOnsker")) for request in case.received]
    assert sent
    assert [text for text in sent if "Ã" in text] == []
    assert book.count("accepted") >= 5


def test_a_field_named_twice_is_refused(cases):
    """Two columns headed CPRNr with different people: exit 2 naming the column, none sent."""
    _assert_refused(cases["duplicate-field-header"], "CPRNr")


def test_an_extra_column_named_twice_keeps_both(cases):
    """Two columns headed Bemærkning: both kept (the second as `Bemærkning (2)`), rows sent."""
    case = cases["duplicate-extra-header"]
    assert case.run.code == 0, case.run.output
    book = case.book()
    book.assert_each_row_once(csv_rows("export.csv", 3))
    rows = book.rows("Accepted")
    assert [(row["Bemærkning"], row["Bemærkning (2)"]) for row in rows] == [
        (f"note {n}", f"anden {n}") for n in range(3)
    ]


def test_ragged_rows_are_rows_like_any_other(cases):
    """Short rows are padded, long rows go to Fix; nothing is dropped or shifted."""
    case = cases["ragged-rows"]
    assert case.run.code == 1, case.run.output
    book = case.book()
    book.assert_each_row_once(csv_rows("export.csv", 6))
    fixes = {int(str(row["Source row"])): str(row["Result text"]) for row in book.rows("Fix")}
    assert sorted(fixes) == [3, 6]
    assert "KontaktRegistreringstid" in fixes[3]
    assert "more fields than the header" in fixes[6]
    assert book.count("accepted") == len(case.received) == 4
    accepted = {int(str(row["Source row"])) for row in book.rows("Accepted")}
    assert 4 in accepted  # the row without its trailing note


def test_formula_strings_are_sent_as_text_and_stay_text(cases):
    """Formula-like text is data: sent verbatim, and never a formula in the workbook."""
    case = cases["formula-injection"]
    assert case.run.code == 0, case.run.output
    sent = sorted(str(request.fields.get("JobOnsker")) for request in case.received)
    assert sent == sorted(FORMULAS)
    book = load_workbook(case.book().path)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    texts = {cell.value for cell in cells if isinstance(cell.value, str)}
    assert set(FORMULAS) <= texts


def test_edited_result_columns_of_a_fix_sheet_are_ignored(tmp_path, fresh_simulator):
    """A Fix sheet fed back with its result columns vandalised: only the data columns count.

    The corrected rows are sent and accepted; nothing typed into Source file, Source row,
    Result code, Result text, Attempts or Last attempt reaches UDB or breaks the run.
    """
    sim = fresh_simulator()
    state, reports = tmp_path / "state", tmp_path / "reports"
    rows = good_rows(6)
    for row in rows[::2]:
        row[HEADER.index("KontaktMail")] = "ikke en mail"
    source = write_csv(tmp_path / "export.csv", rows)
    first = run_cli("run", source, *service_args(sim, "--rate", "1000"), state_dir=state,
                    report_dir=reports)  # fmt: skip
    assert first.code == 1, first.output
    fixed = _vandalised_fix_sheet(Book.newest(reports).path, tmp_path / "rettet.xlsx")
    before = len(sim.received())
    again = run_cli(
        "run", fixed, "--sheet", "Fix", *service_args(sim, "--rate", "1000"),
        state_dir=state, report_dir=reports,
    )  # fmt: skip
    assert again.code == 0, again.output
    book = Book.newest(reports)
    book.assert_each_row_once(csv_rows("rettet.xlsx", 3))
    assert book.count("accepted") == 3
    received = sim.received()[before:]
    assert len(received) == 3
    vandalism = {"evil.csv", "0101080000", "=1+1", "-7", "i går"}
    for request in received:
        assert not vandalism & {str(value) for value in request.fields.values()}
        assert request.fields["KontaktMail"] == "rettet@kui.example-kommune.dk"


def _vandalised_fix_sheet(book_path: Path, target: Path) -> Path:
    """The Fix sheet corrected as a person would, with every result column tampered with."""
    book = load_workbook(book_path)
    sheet = book["Fix"]
    header = [cell.value for cell in sheet[1]]
    when = (datetime.now() - timedelta(days=1)).strftime("%d.%m.%Y %H.%M")
    edits = {
        "KontaktMail": "rettet@kui.example-kommune.dk",
        "KontaktRegistreringstid": when,
        "Source file": "evil.csv",
        "Source row": "=1+1",
        "Result code": "0101080000",
        "Result text": '=HYPERLINK("http://evil.example","klik")',
        "Attempts": -7,
        "Last attempt": "i går",
    }
    for row in sheet.iter_rows(min_row=2):
        for column, value in edits.items():
            row[header.index(column)].value = value
    book.save(target)
    return target
