"""The JSON summary beside the workbook, the Summary sheet, and Excel's sheet size limit."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace

import openpyxl
import pytest

from batch.records import RESULT_COLUMNS, Outcome
from batch.report import _write_report, summary_json

REQUIRED_KEYS = {"run_id", "inputs", "rows", "accepted", "fix", "drop", "retry", "unchanged",
                 "blank", "workbook", "started", "finished"}  # fmt: skip


def test_json_summary_keys_and_sums(written, rows):
    """The JSON holds the required keys, and rows = accepted + fix + drop + retry + unchanged."""
    document = json.loads(written.summary.read_text("utf-8"))
    assert document.keys() >= REQUIRED_KEYS
    outcomes = ("accepted", "fix", "drop", "retry", "unchanged", "ready")
    assert document["rows"] == sum(document[key] for key in outcomes) == 7
    assert [document[k] for k in outcomes] == [2, 2, 1, 1, 1, 0]
    assert document["blank"] == 3
    assert document["workbook"] == str(written.workbook)
    assert document["started"] == "2026-11-27T08:15:02+00:00"
    assert [(i["file"], i["rows"]) for i in document["inputs"]] == [
        ("kommune.csv", 4),
        ("migrering.xlsx", 3),
    ]


def test_json_summary_masks_cpr_in_message(tmp_path, rows, make_summary):
    """A message quoting a CPR number is masked in the JSON summary."""
    summary = make_summary(rows, status="broken", message="stopped at 0101084123")
    document = summary_json(summary, tmp_path / "x.xlsx")
    assert document["message"] == "stopped at 010108-XXXX"
    assert document["status"] == "broken"


def _summary_cells(path) -> list[tuple[object, ...]]:
    return list(openpyxl.load_workbook(path)["Summary"].iter_rows(values_only=True))


def test_summary_sheet_counts_and_guidance(written):
    """Summary lists rows per sheet with what each means and what to do, and the total."""
    lines = {line[0]: line for line in _summary_cells(written.workbook)}
    assert [lines[name][1] for name in ("Accepted", "Fix", "Drop", "Retry", "Unchanged")] == [
        2, 2, 1, 1, 1,
    ]  # fmt: skip
    assert lines["Total"][1] == 7
    assert lines["Blank rows"][1] == 3
    assert f"batch run {written.workbook.name} --sheet Fix" in lines["Fix"][3]
    assert "next run" in lines["Retry"][3]
    assert lines["Status"][1] == "Finished"
    assert lines["Duration"][1] == "2 min 05 s"
    assert lines["endpoint"][1] == "built-in simulator"
    assert lines["kommune.csv"][1:3] == (4, 1)


def test_summary_sheet_links_to_each_sheet(written):
    """Each sheet name on Summary is a link to that sheet."""
    sheet = openpyxl.load_workbook(written.workbook)["Summary"]
    links = {cell.value: cell.hyperlink.location for cell in sheet["A"] if cell.hyperlink}
    assert links == {
        name: f"'{name}'!A1"
        for name in ("Accepted", "Fix", "Drop", "Aged 25+", "Retry", "Unchanged")
    }


def test_summary_sheet_shows_why_masked(tmp_path, rows, make_summary, make_streamer):
    """An interrupted run says so and why, with any CPR in the message masked."""
    from batch.report import write_report

    summary = make_summary(rows, status="interrupted", message="stopped at 0101084123")
    paths = write_report(tmp_path, summary, make_streamer(rows))
    lines = {line[0]: line for line in _summary_cells(paths.workbook)}
    assert lines["Status"][1].startswith("Interrupted")
    assert lines["Why"][1] == "stopped at 010108-XXXX"


def test_sheet_continues_past_the_row_limit(tmp_path, rows, make_summary, make_streamer):
    """A sheet longer than the limit continues on `<name> 2`, right after it, rows in order."""
    many = [replace(rows[Outcome.DROP][0], source_row=n) for n in range(10, 17)]
    data = {**rows, Outcome.DROP: many}
    paths = _write_report(tmp_path, make_summary(data), make_streamer(data), max_rows=4)
    book = openpyxl.load_workbook(paths.workbook)
    assert book.sheetnames == ["Summary", "Accepted", "Fix", "Drop", "Drop 2", "Drop 3",
                               "Aged 25+", "Retry", "Unchanged"]  # fmt: skip
    at = -len(RESULT_COLUMNS) + RESULT_COLUMNS.index("Source row")
    sources = [
        line[at] for name in ("Drop", "Drop 2", "Drop 3")
        for line in book[name].iter_rows(min_row=2, values_only=True)
    ]  # fmt: skip
    assert sources == list(range(10, 17))


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
@pytest.mark.slow
def test_libreoffice_opens_the_workbook(written, tmp_path):
    """LibreOffice converts every sheet to CSV with the data and the formula-like text intact.

    Slow (a few seconds): LibreOffice starts a whole office suite, headless.
    """
    out = tmp_path / "csv"
    every_sheet_utf8 = (
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    )
    profile = f"-env:UserInstallation=file://{tmp_path}/lo-profile"
    command = ["soffice", "--headless", profile, "--convert-to", every_sheet_utf8]
    subprocess.run(
        [*command, "--outdir", str(out), str(written.workbook)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    fix = (out / f"{written.workbook.stem}-Fix.csv").read_text("utf-8")
    assert "=1+1" in fix  # as text: evaluated, it would read 2
    assert "0202085678" in fix
    assert "cpr-invalid, missing-time" in fix
    accepted = (out / f"{written.workbook.stem}-Accepted.csv").read_text("utf-8")
    assert "0101084123" in accepted
