"""Roles over real HTTP and in a real browser: viewer, sender, admin; accounts from before roles."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from batch.cli.web import ROLE_CHOICES
from batch.web.accounts import ROLES, Accounts
from batch.web.audit import read_entries
from tests.e2e.helpers import run_cli
from tests.web.webkit import PASSWORD, USER, signed_in, upload

ROOT = Path(__file__).resolve().parents[2]
CSV = b"Fornavn;Efternavn;CPR\nAnne;Hansen;0101084321\n"
WAIT = 60  # a generous bound for a shared machine, never a timing assertion


def _add(served, name: str, role: str) -> None:
    Accounts(served.settings.state_dir).add(name, PASSWORD, role)


def test_a_viewer_reads_runs_and_nothing_else(served):
    """A viewer lands on Runs; upload, send, edit and admin requests are refused 403."""
    _add(served, "vera", "viewer")
    client, token = signed_in(served.url, "vera")
    home = client.get(f"{served.url}/", timeout=30)
    assert home.url.endswith("/runs")
    assert 'action="/uploads"' not in home.text
    assert 'id="drop"' not in home.text
    refused = {
        "upload": upload(client, served.url, token, "unge.csv", CSV),
        "send": client.post(f"{served.url}/uploads/abc/send", data={"csrf": token}, timeout=30),
        "stop": client.post(f"{served.url}/uploads/abc/stop", data={"csrf": token}, timeout=30),
        "edit": client.post(
            f"{served.url}/uploads/abc/rows/2",
            json={"column": "c0", "value": "x"},
            headers={"X-CSRF-Token": token},
            timeout=30,
        ),
        "users": client.get(f"{served.url}/admin/users", timeout=30),
        "add user": client.post(
            f"{served.url}/admin/users",
            data={"csrf": token, "name": "mallory", "password": PASSWORD, "role": "admin"},
            timeout=30,
        ),
    }
    assert {what: answer.status_code for what, answer in refused.items()} == dict.fromkeys(
        refused, 403
    )
    assert Accounts(served.settings.state_dir).role("mallory") is None
    switched = client.post(
        f"{served.url}/language", data={"csrf": token, "language": "da", "next": "/runs"}
    )
    assert switched.status_code == 200  # the language switch is for every role
    assert 'lang="da"' in switched.text


def test_a_sender_uploads_but_cannot_add_users(served):
    """A sender's upload goes through; the accounts page and adding an account are refused."""
    client, token = signed_in(served.url)
    taken = upload(client, served.url, token, "unge.csv", CSV)
    assert [step.status_code for step in taken.history] == [303]  # on to its Columns page
    assert "/columns" in taken.url
    assert client.get(f"{served.url}/admin/users", timeout=30).status_code == 403
    added = client.post(
        f"{served.url}/admin/users",
        data={"csrf": token, "name": "mallory", "password": PASSWORD, "role": "admin"},
        timeout=30,
    )
    assert added.status_code == 403
    assert Accounts(served.settings.state_dir).role("mallory") is None
    assert "/admin/users" not in client.get(f"{served.url}/runs", timeout=30).text


def test_an_admin_manages_accounts_and_it_is_audited(served):
    """An admin adds a viewer and makes it a sender; both changes are in the audit log."""
    _add(served, "ada", "admin")
    client, token = signed_in(served.url, "ada")
    added = client.post(
        f"{served.url}/admin/users",
        data={"csrf": token, "name": "bo", "password": PASSWORD, "role": "viewer"},
        timeout=30,
    )
    assert added.status_code == 200
    assert 'data-account="bo"' in added.text
    changed = client.post(
        f"{served.url}/admin/users/role", data={"csrf": token, "name": "bo", "role": "sender"}
    )
    assert changed.status_code == 200
    assert Accounts(served.settings.state_dir).role("bo") == "sender"
    entries = read_entries(served.settings.state_dir, "user")
    assert [(e.actor, e.target) for e in entries] == [("ada", "bo"), ("ada", "bo")]
    assert (entries[0].old_value, entries[0].new_value) == ("viewer", "sender")
    mine = client.post(f"{served.url}/admin/users/remove", data={"csrf": token, "name": "ada"})
    assert mine.status_code == 400  # never one's own account: the last admin stays


def test_a_removed_account_is_signed_out(served):
    """Removing an account ends its sessions at the next request."""
    client, _token = signed_in(served.url)
    Accounts(served.settings.state_dir).remove(USER)
    answer = client.get(f"{served.url}/runs", timeout=30, allow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


def test_a_new_password_signs_out_the_sessions_signed_in_with_the_old_one(served):
    """A password reset (or the account removed and made again) ends the older sessions."""
    accounts = Accounts(served.settings.state_dir)
    before, _token = signed_in(served.url)
    accounts.add(USER, PASSWORD)  # the same words, a new salt: as after a reset
    answer = before.get(f"{served.url}/runs", timeout=30, allow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")
    after, _token = signed_in(served.url)
    accounts.remove(USER)
    accounts.add(USER, PASSWORD)
    answer = after.get(f"{served.url}/runs", timeout=30, allow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")
    again, _token = signed_in(served.url)
    assert again.get(f"{served.url}/runs", timeout=30, allow_redirects=False).status_code == 200


def test_accounts_made_before_roles_are_senders(tmp_path):
    """A users file of bare hashes reads as senders; a role not known reads as viewer."""
    accounts = Accounts(tmp_path)
    accounts.add("old", PASSWORD)
    data = json.loads(accounts.path.read_text())
    data["old"] = data["old"]["hash"]
    data["odd"] = {"hash": data["old"], "role": "superuser"}
    accounts.path.write_text(json.dumps(data))
    assert accounts.roles() == {"odd": "viewer", "old": "sender"}
    assert accounts.verify("old", PASSWORD)
    accounts.add("old", PASSWORD + "!")  # a new password keeps the role
    assert accounts.role("old") == "sender"


def test_batch_user_add_takes_a_role(tmp_path):
    """`batch user add NAME --role viewer` makes a viewer; `user list` shows each role."""
    state, reports = tmp_path / "state", tmp_path / "reports"
    added = run_cli(
        "user",
        "add",
        "vera",
        "--role",
        "viewer",
        state_dir=state,
        report_dir=reports,
        stdin=PASSWORD + "\n",
    )
    assert added.code == 0, added.output
    run_cli("user", "add", "sam", state_dir=state, report_dir=reports, stdin=PASSWORD + "\n")
    listed = run_cli("user", "list", state_dir=state, report_dir=reports)
    assert listed.stdout.split() == ["sam", "sender", "vera", "viewer"]
    assert [entry.target for entry in read_entries(state, "user")] == ["sam", "vera"]
    assert ROLE_CHOICES == ROLES


@pytest.mark.slow
def test_in_the_browser_a_viewer_has_no_upload_and_a_sender_no_accounts(served, browser):
    """Buttons and links follow the role: a viewer sees Runs only, a sender no Accounts."""
    _add(served, "vera", "viewer")
    driver = browser
    for name in ("vera", USER):
        driver.delete_all_cookies()
        driver.get(f"{served.url}/login")
        driver.find_element(By.ID, "name").send_keys(name)
        driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
        WebDriverWait(driver, WAIT).until(ready.presence_of_element_located((By.ID, "main")))
        links = [
            a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".team-nav a")
        ]
        assert not any(link.endswith("/admin/users") for link in links)
        if name == "vera":
            assert driver.current_url.endswith("/runs")
            assert not driver.find_elements(By.ID, "drop")
            assert not any(link.rstrip("/") == served.url for link in links)
        else:
            assert driver.find_elements(By.ID, "drop")


def test_an_admin_makes_and_revokes_an_api_token_a_sender_cannot(served):
    """A token made on the admin page works on /api, is audited, and stops when revoked."""
    Accounts(served.settings.state_dir).add("ada", PASSWORD, "admin")
    sender, sender_token = signed_in(served.url)
    refused = sender.post(f"{served.url}/admin/tokens", data={"csrf": sender_token, "name": "x"})
    assert refused.status_code == 403
    client, token = signed_in(served.url, "ada")
    made = client.post(f"{served.url}/admin/tokens", data={"csrf": token, "name": "esdh"})
    found = re.search(r'id="made-token">([^<]+)<', made.text)
    assert found
    bearer = {"Authorization": f"Bearer {found.group(1)}"}
    assert requests.get(f"{served.url}/api/runs", headers=bearer, timeout=30).status_code == 200
    client.post(f"{served.url}/admin/tokens/revoke", data={"csrf": token, "name": "esdh"})
    assert requests.get(f"{served.url}/api/runs", headers=bearer, timeout=30).status_code == 401
    details = [e.detail for e in read_entries(served.settings.state_dir, "token")]
    assert details == ["revoked", "created"]
