"""The audit log: an edit in the browser recorded with old and new value; append-only; retention."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready

from batch.journal import JOURNAL_NAME, Journal, append_audit, audit_connection
from batch.journal._schema import SCHEMA_VERSION
from batch.web.accounts import Accounts
from batch.web.audit import read_entries, record
from batch.web.templating import local_time
from tests.journal.test_schema import _v2_state
from tests.web.test_web_browser import EXAMPLE, _edit, _shot, _status_of, _wait
from tests.web.webkit import PASSWORD, signed_in

ADMIN = "ada"


@pytest.mark.slow
def test_an_edit_in_the_browser_is_audited_with_old_and_new_value(served, browser):
    """Admin edits a cell and sends: the audit page shows the edit (old, new) and the run."""
    Accounts(served.settings.state_dir).add(ADMIN, PASSWORD, "admin")
    driver = browser
    driver.get(f"{served.url}/login")
    driver.find_element(By.ID, "name").send_keys(ADMIN)
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    _wait(driver).until(ready.presence_of_element_located((By.ID, "drop")))
    driver.find_element(By.ID, "file").send_keys(str(EXAMPLE))
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    _wait(driver).until(ready.presence_of_element_located((By.ID, "columns-form")))
    driver.find_element(By.CSS_SELECTOR, "button[value=check]").click()
    _wait(driver).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, "#grid .tabulator-row"))
    )
    _edit(driver, 4, "c2", "ikke-en-mail")
    _wait(driver).until(lambda d: _status_of(d, 4) == "Ret")
    driver.find_element(By.ID, "send").click()
    _wait(driver).until(ready.url_contains("/result"))
    driver.get(f"{served.url}/admin/audit")
    edit = driver.find_element(By.CSS_SELECTOR, '#audit tr[data-action="edit"]')
    old, new = (edit.find_element(By.CSS_SELECTOR, f"td.{key}").text for key in ("old", "new"))
    assert "@" in old  # the example's mail address before the edit
    assert new == "ikke-en-mail"
    send = driver.find_element(By.CSS_SELECTOR, '#audit tr[data-action="send"]')
    run_id = send.find_element(By.TAG_NAME, "a").text
    _shot(driver, "audit-01-log")
    driver.get(f"{served.url}/runs")
    row = driver.find_element(By.CSS_SELECTOR, f'#runs tr[data-run="{run_id}"]')
    assert ADMIN in row.text  # who started it


def test_the_audit_log_refuses_deletes_and_changes(tmp_path):
    """Append-only by the database: DELETE, UPDATE and REPLACE of an entry are refused."""
    record(tmp_path, "anna", "edit", "u1", detail="row 2", old="a", new="b")
    conn = audit_connection(tmp_path)
    try:
        for statement in (
            "DELETE FROM audit",
            "UPDATE audit SET actor = 'mallory'",
            "UPDATE audit SET new_value = 'c'",
            "UPDATE audit SET old_value = NULL, new_value = NULL",  # without saying when: no
            "INSERT OR REPLACE INTO audit (id, at, actor, action) VALUES (1, 'x', 'mallory', 'x')",
            "REPLACE INTO audit (id, at, actor, action) SELECT id, at, 'eve', action FROM audit",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
    finally:
        conn.close()
    [entry] = read_entries(tmp_path)
    assert (entry.actor, entry.old_value, entry.new_value) == ("anna", "a", "b")


def test_the_purge_blanks_old_and_new_values_past_retention_and_keeps_the_entry(tmp_path):
    """Retention: an edit's values go with the journal's rows; who, what and when stay."""
    conn = audit_connection(tmp_path)
    try:
        append_audit(conn, "anna", "edit", "u1", old_value="0101084321", new_value="x")
    finally:
        conn.close()
    record(tmp_path, "anna", "sign-in")
    journal = Journal.open(tmp_path)
    try:
        journal.purge(datetime.now(UTC) - timedelta(days=30))  # nothing old enough yet
        assert read_entries(tmp_path, "edit")[0].old_value == "0101084321"
        journal.purge(datetime.now(UTC) + timedelta(seconds=1))
    finally:
        journal.close()
    [edit] = read_entries(tmp_path, "edit")
    assert (edit.actor, edit.old_value, edit.new_value) == ("anna", None, None)
    assert edit.redacted is not None
    assert len(read_entries(tmp_path)) == 2  # nothing deleted
    raw = (tmp_path / JOURNAL_NAME).read_bytes()
    assert b"0101084321" not in raw  # secure_delete: not left in free pages either


def test_an_older_journal_gets_the_audit_table_on_first_open(tmp_path):
    """A real schema-2 journal (no audit table) is migrated when the web app first records."""
    state = _v2_state(tmp_path)
    record(state, "anna", "sign-in")
    conn = sqlite3.connect(state / JOURNAL_NAME)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    conn.close()
    assert [entry.action for entry in read_entries(state)] == ["sign-in"]


def test_admins_export_the_audit_log_as_csv(served):
    """The CSV has every entry; a value a spreadsheet would run as a formula is defused."""
    Accounts(served.settings.state_dir).add(ADMIN, PASSWORD, "admin")
    record(served.settings.state_dir, "anna", "edit", "u1", detail="row 2", old="a", new="=1+1")
    client, _token = signed_in(served.url, ADMIN)
    answer = client.get(f"{served.url}/admin/audit.csv", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [row["action"] for row in rows] == ["sign-in", "edit"]  # newest first
    assert rows[1]["new"] == "'=1+1"
    assert rows[0]["actor"] == ADMIN


def test_pages_show_a_time_as_the_workbook_does():
    """The audit log's UTC text reads dd-mm-yyyy hh:mm in Danish time, summer and winter."""
    assert local_time("2026-12-02T13:31:09.123456+00:00") == "02-12-2026 14:31"
    assert local_time("2026-07-01T10:00:00+00:00") == "01-07-2026 12:00"
    assert local_time(None) == "\u2013"
