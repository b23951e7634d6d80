"""HTTP-level tests of Bad input: a message on the page, never a trace; restarts lose nothing."""

from __future__ import annotations

import io
import json
import threading
from typing import TYPE_CHECKING

import openpyxl
import pytest

from batch.journal import Journal
from tests.web.webkit import columns_form, serve, settings_for, signed_in, upload

if TYPE_CHECKING:
    import requests

CSV = (
    b"CPRNr;KontaktNavn;KontaktMail;KontaktRegistreringstid\n"
    b"2412084170;Anne Friis;anne@example.dk;2025-08-18 09:00\n"
    b"0303064561;Bo Berg;ikke-en-mail;2025-08-18 09:00\n"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _no_trace(answer: requests.Response) -> None:
    assert "Traceback" not in answer.text
    assert 'File "' not in answer.text
    assert answer.status_code != 500


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("billede.xlsx", PNG, "not a spreadsheet or a CSV file"),
        ("tom.csv", b"", "the file is empty"),
        ("blank.csv", b"   \n\n", "the file is empty"),
        ("ødelagt.xlsx", b"PK\x03\x04" + b"garbage" * 20, "not a spreadsheet or a CSV file"),
    ],
)
def test_a_file_that_cannot_be_used_gets_a_message(served, name, data, expected):
    """A wrong type, an empty or a broken file: the upload page says what and what to do."""
    client, token = signed_in(served.url)
    answer = upload(client, served.url, token, name, data)
    _no_trace(answer)
    assert answer.status_code == 400
    assert expected in answer.text
    assert list((served.settings.state_dir / "uploads").iterdir()) == []  # nothing half-kept


def test_the_type_comes_from_the_content_not_the_name(served):
    """A CSV file named .xlsx is read as CSV."""
    client, token = signed_in(served.url)
    answer = upload(client, served.url, token, "forkert-navn.xlsx", CSV)
    assert answer.status_code == 200
    upload_id = answer.url.split("/")[-2]
    meta = served.settings.state_dir / "uploads" / upload_id / "upload.json"
    assert json.loads(meta.read_text())["kind"] == "csv"


def test_a_sheet_without_a_header_gets_a_message(served):
    """A workbook with numbers only: the Columns page names the problem, with status 400."""
    client, token = signed_in(served.url)
    answer = upload(client, served.url, token, "tal.xlsx", _workbook([[1, 2, 3], [4, 5, 6]]))
    _no_trace(answer)
    assert answer.status_code == 400
    assert "header" in answer.text.lower()
    assert "original.xlsx" not in answer.text  # the file is named as the user knows it
    assert "tal.xlsx" in answer.text


def test_a_missing_required_column_is_explained_on_the_columns_page(served):
    """Checking rows without a CPR column keeps the user on Columns with the intake's message."""
    client, token = signed_in(served.url)
    answer = upload(client, served.url, token, "eksport.csv", CSV)
    form = columns_form(answer.text, token)
    form["field-0"] = "ignore"  # the CPR column, taken away
    answer = client.post(answer.url, data=form, timeout=30)
    _no_trace(answer)
    assert answer.status_code == 400
    assert "missing required column CPRNr" in answer.text


def test_a_file_over_the_limit_is_refused_while_it_streams(tmp_path):
    """Over `upload_max_mb` the upload stops with a message, with or without Content-Length."""
    with serve(settings_for(tmp_path, upload_max_mb=1)) as served:
        client, token = signed_in(served.url)
        big = b"CPRNr;KontaktNavn\n" + b"0101085123;Anne\n" * 140_000  # 2.2 MB
        answer = upload(client, served.url, token, "stor.csv", big)
        _no_trace(answer)
        assert answer.status_code == 413
        assert "larger than 1 MB" in answer.text
        boundary = "boundary1234"

        def chunks():
            yield f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'.encode()
            yield token.encode() + f"\r\n--{boundary}\r\n".encode()
            yield b'Content-Disposition: form-data; name="file"; filename="s.csv"\r\n\r\n'
            for _ in range(40):  # 2.6 MB, never announced in a Content-Length
                yield b"x" * 65_536
            yield f"\r\n--{boundary}--\r\n".encode()

        streamed = client.post(
            f"{served.url}/uploads",
            data=chunks(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            timeout=30,
        )
        assert streamed.status_code == 413
    assert list((tmp_path / "state" / "uploads").iterdir()) == []


def test_upload_mapping_and_edits_survive_a_restart(tmp_path):
    """After `batch serve` restarts, the upload, its mapping and its edited cell are all there."""
    settings = settings_for(tmp_path)
    with serve(settings) as first:
        client, token = signed_in(first.url)
        with_phone = CSV.replace(b"\n", b";Mobil\n", 1).replace(b"09:00\n", b"09:00;12345678\n")
        answer = upload(client, first.url, token, "eksport.csv", with_phone)
        upload_id = answer.url.split("/")[-2]
        form = columns_form(answer.text, token)
        assert form["field-4"] == "KontaktTelefon"
        form["field-4"] = "ignore"  # the young person's own number, not the contact's
        assert client.post(answer.url, data=form, timeout=30).url.endswith("/check")
        edited = client.post(
            f"{first.url}/uploads/{upload_id}/rows/3",
            json={"column": "c2", "value": "bo@example.dk"},
            headers={"X-CSRF-Token": token},
            timeout=30,
        )
        assert edited.status_code == 200
        assert edited.json()["status"] == "ready"
    with serve(settings) as second:
        client, token = signed_in(second.url)
        assert "eksport.csv" in client.get(f"{second.url}/", timeout=10).text
        columns = client.get(f"{second.url}/uploads/{upload_id}/columns", timeout=10).text
        assert columns_form(columns, token)["field-4"] == "ignore"
        rows = client.get(f"{second.url}/uploads/{upload_id}/rows", timeout=10).json()
    by_row = {row["n"]: row for row in rows["data"]}
    assert by_row[3]["c2"] == "bo@example.dk"
    assert by_row[3]["status"] == "ready"


def _checked_upload(served) -> tuple[requests.Session, str, str]:
    client, token = signed_in(served.url)
    answer = upload(client, served.url, token, "eksport.csv", CSV)
    checked = client.post(answer.url, data=columns_form(answer.text, token), timeout=30)
    assert checked.url.endswith("/check")
    return client, token, answer.url.split("/")[-2]


def _events(client: requests.Session, url: str) -> list[dict]:
    with client.get(url, stream=True, timeout=120) as stream:
        return [json.loads(line[6:]) for line in stream.iter_lines() if line.startswith(b"data: ")]


def test_a_send_waits_while_another_run_holds_the_journal(served):
    """While the nightly job holds the lock the page says so; the send starts once it is free."""
    client, token, upload_id = _checked_upload(served)
    journal = Journal.open(served.settings.state_dir)
    released = threading.Event()
    seen: list[dict] = []

    def watch() -> None:
        with client.get(
            f"{served.url}/uploads/{upload_id}/events", stream=True, timeout=120
        ) as stream:
            for line in stream.iter_lines():
                if line.startswith(b"data: "):
                    state = json.loads(line[6:])
                    seen.append(state)
                    if state["phase"] == "waiting" and not released.is_set():
                        journal.close()
                        released.set()

    try:
        client.post(f"{served.url}/uploads/{upload_id}/send", data={"csrf": token}, timeout=30)
        watcher = threading.Thread(target=watch)
        watcher.start()
        watcher.join(120)
    finally:
        journal.close()
    phases = [state["phase"] for state in seen]
    assert "waiting" in phases
    assert phases[-1] == "done"
    assert sum(seen[-1]["counts"].values()) == 2  # both rows have their place
    page = client.get(f"{served.url}/uploads/{upload_id}/send", timeout=10)
    assert page.status_code == 200


def test_the_result_shows_udb_answers_and_the_workbook_counts_every_row(served):
    """After a send: every row's outcome, UDB's answer, and a workbook holding every row."""
    client, token, upload_id = _checked_upload(served)
    client.post(f"{served.url}/uploads/{upload_id}/send", data={"csrf": token}, timeout=30)
    assert _events(client, f"{served.url}/uploads/{upload_id}/events")[-1]["phase"] == "done"
    rows = client.get(f"{served.url}/uploads/{upload_id}/rows", timeout=10).json()["data"]
    assert sorted(row["status"] for row in rows) == ["accepted", "fix"]
    accepted = next(row for row in rows if row["status"] == "accepted")
    assert "Accepted by UDB" in accepted["message"] or accepted["message"]
    book = client.get(f"{served.url}/uploads/{upload_id}/workbook", timeout=30)
    workbook = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)
    counted = sum(
        workbook[name].max_row - 1
        for name in ("Accepted", "Fix", "Drop", "Retry", "Unchanged")
        if name in workbook.sheetnames
    )
    assert counted == 2
    again = client.post(f"{served.url}/uploads/{upload_id}/send", data={"csrf": token}, timeout=30)
    assert again.status_code == 200
    final = _events(client, f"{served.url}/uploads/{upload_id}/events")[-1]
    assert final["counts"].get("unchanged") == 1  # what UDB accepted is not sent twice


def test_stop_ends_a_send_as_ctrl_c_does(tmp_path):
    """Stop: rows on their way finish, the rest wait in Retry, every row still has its place."""
    lines = ["CPRNr;KontaktNavn;KontaktMail;KontaktRegistreringstid"]
    lines += [
        f"2412084170;Anne Friis;anne@example.dk;2025-08-{day:02d} 09:00" for day in range(1, 13)
    ]
    with serve(settings_for(tmp_path, rate=1.0, concurrency=1)) as served:
        client, token = signed_in(served.url)
        answer = upload(client, served.url, token, "lang.csv", "\n".join(lines).encode())
        client.post(answer.url, data=columns_form(answer.text, token), timeout=30)
        upload_id = answer.url.split("/")[-2]
        client.post(f"{served.url}/uploads/{upload_id}/send", data={"csrf": token}, timeout=30)
        seen = []
        with client.get(f"{served.url}/uploads/{upload_id}/events", stream=True, timeout=120) as s:
            for line in s.iter_lines():
                if not line.startswith(b"data: "):
                    continue
                seen.append(json.loads(line[6:]))
                if seen[-1]["phase"] == "running" and len(seen) == 2:
                    stopped = client.post(
                        f"{served.url}/uploads/{upload_id}/stop", data={"csrf": token}, timeout=30
                    )
                    assert stopped.status_code == 200
    final = seen[-1]
    assert final["phase"] == "done"
    assert final["counts"].get("retry", 0) > 0
    assert sum(final["counts"].values()) == 12


def test_check_shows_rows_udb_already_holds_as_unchanged(served):
    """After a send, checking the same rows again marks the accepted one Unchanged, saying why."""
    client, token, upload_id = _checked_upload(served)
    client.post(f"{served.url}/uploads/{upload_id}/send", data={"csrf": token}, timeout=30)
    assert _events(client, f"{served.url}/uploads/{upload_id}/events")[-1]["phase"] == "done"
    page = client.get(f"{served.url}/uploads/{upload_id}/columns", timeout=30)
    client.post(page.url, data=columns_form(page.text, token), timeout=30)
    rows = client.get(f"{served.url}/uploads/{upload_id}/rows", timeout=10).json()["data"]
    by_row = {row["n"]: row for row in rows}
    assert by_row[2]["status"] == "unchanged"
    assert "already accepted" in by_row[2]["message"]
    assert by_row[3]["status"] == "fix"
