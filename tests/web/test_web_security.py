"""HTTP-level tests of the Security rules: sign-in, sessions, CSRF, throttling, ids, privacy."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import sys
import time

import pytest
import requests
from itsdangerous import TimestampSigner

from batch.web.sessions import COOKIE, secret_key
from tests.web.webkit import PASSWORD, USER, csrf_of, serve, settings_for, signed_in, upload

CSV = (
    b"CPRNr;KontaktNavn;KontaktMail;KontaktRegistreringstid\n"
    b"0101085123;Anne Friis;anne@example.dk;2025-08-18 09:00\n"
)


def _an_upload(served) -> tuple[requests.Session, str, str]:
    client, token = signed_in(served.url)
    answer = upload(client, served.url, token, "0101085123 elever.csv", CSV)
    assert answer.status_code == 200, answer.text
    upload_id = answer.url.split("/")[-2]
    return client, token, upload_id


@pytest.mark.parametrize(
    "path",
    ["/", "/uploads/abcdefghijklmnopqrstuvwx/columns", "/uploads/abcdefghijklmnopqrstuvwx/check"],
)
def test_pages_need_a_signed_in_session(served, path):
    """A page without a session sends the browser to the sign-in page."""
    answer = requests.get(served.url + path, allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


def test_fragments_and_downloads_need_a_signed_in_session(served):
    """Grid pages, events and the workbook answer 401 to a client that is not signed in."""
    _client, _token, upload_id = _an_upload(served)
    for path in ("rows", "events", "workbook"):
        answer = requests.get(f"{served.url}/uploads/{upload_id}/{path}", timeout=10)
        assert answer.status_code in (303, 401) or answer.url.endswith("/login"), path
        assert "0101085123" not in answer.text


def test_session_cookie_is_http_only_and_strict(served):
    """The session cookie is HttpOnly and SameSite=Strict, and not Secure over plain HTTP."""
    answer = requests.get(f"{served.url}/login", timeout=10)
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_behind_tls(tmp_path):
    """Behind a trusted TLS proxy on loopback (X-Forwarded-Proto: https) the cookie is Secure."""
    with serve(settings_for(tmp_path, trusted_proxies=("127.0.0.1",))) as running:
        headers = {"X-Forwarded-Proto": "https"}
        answer = requests.get(f"{running.url}/login", headers=headers, timeout=10)
    assert "Secure" in answer.headers["set-cookie"]


def test_an_idle_session_ends(served):
    """A session cookie last used longer ago than the idle timeout signs nobody in."""
    key = secret_key(served.settings.state_dir)
    stale = {"user": USER, "csrf": "x", "seen": time.time() - 3 * 3600}
    raw = base64.urlsafe_b64encode(json.dumps(stale).encode())
    cookie = TimestampSigner(key, salt="batch.web.session").sign(raw).decode()
    answer = requests.get(
        f"{served.url}/", cookies={COOKIE: cookie}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


def test_a_forged_cookie_signs_nobody_in(served):
    """A cookie not signed with the server's key is ignored."""
    raw = base64.urlsafe_b64encode(json.dumps({"user": USER, "seen": time.time()}).encode())
    cookie = TimestampSigner("not the key", salt="batch.web.session").sign(raw).decode()
    answer = requests.get(
        f"{served.url}/", cookies={COOKIE: cookie}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 303


def test_sign_in_attempts_are_throttled(served):
    """After five wrong passwords even the right one is refused for a while."""
    client = requests.Session()
    client.headers["Accept-Language"] = "en"
    token = csrf_of(client.get(f"{served.url}/login", timeout=10).text)
    for _ in range(5):
        wrong = client.post(
            f"{served.url}/login",
            data={"csrf": token, "name": USER, "password": "wrong password"},
            timeout=10,
        )
        assert wrong.status_code == 401
    right = client.post(
        f"{served.url}/login", data={"csrf": token, "name": USER, "password": PASSWORD}, timeout=10
    )
    assert right.status_code == 429
    assert "Too many failed attempts" in right.text


def test_a_post_without_the_csrf_token_is_refused(served):
    """Forms, grid edits, uploads and sign-out without the session's token change nothing."""
    client, _token, upload_id = _an_upload(served)
    base = f"{served.url}/uploads/{upload_id}"
    refused = [
        client.post(f"{base}/columns", data={"action": "check"}, timeout=10),
        client.post(f"{base}/columns", data={"action": "check", "csrf": "forged"}, timeout=10),
        client.post(f"{base}/rows/2", json={"column": "c1", "value": "x"}, timeout=10),
        client.post(f"{base}/send", data={}, timeout=10),
        client.post(f"{served.url}/uploads", files={"file": ("a.csv", CSV)}, timeout=10),
        client.post(f"{served.url}/logout", data={}, timeout=10),
    ]
    assert [answer.status_code for answer in refused] == [403] * len(refused)
    assert client.get(f"{served.url}/", allow_redirects=False, timeout=10).status_code == 200


def test_uploads_are_stored_owner_only(served):
    """The upload's folder is 0700 and its files 0600."""
    _client, _token, upload_id = _an_upload(served)
    folder = served.settings.state_dir / "uploads" / upload_id
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_no_cpr_number_in_urls_titles_or_logs(served, capsys):
    """A CPR number in the file's name and rows reaches no URL, page title or log line."""
    client, token, upload_id = _an_upload(served)
    pages = [client.get(f"{served.url}/uploads/{upload_id}/columns", timeout=10)]
    form = {"csrf": token, "action": "check", "header-0": "CPRNr", "field-0": "CPRNr"}
    pages.append(client.post(f"{served.url}/uploads/{upload_id}/columns", data=form, timeout=30))
    pages.append(client.get(f"{served.url}/", timeout=10))
    for page in pages:
        assert "0101085123" not in page.url
        title = re.search(r"<title>(.*?)</title>", page.text, re.DOTALL)
        assert title
        assert "0101085123" not in title.group(1)
        assert not re.search(r"\d{6}-?\d{4}", title.group(1))
    assert "0101085123" in pages[-1].text  # the name is shown in the page body, for the owner
    logged = capsys.readouterr()
    assert "0101085123" not in logged.out + logged.err


def test_downloads_cannot_reach_other_files(served):
    """An id that is not an upload, or another user's upload, is a 404: no path is followed."""
    client, _token, upload_id = _an_upload(served)
    for path in (
        "/uploads/..%2F..%2Fjournal.sqlite3/workbook",
        "/uploads/abcdefghijklmnopqrstuvwx/workbook",
        f"/uploads/{upload_id}/workbook",  # not sent yet: no workbook
        "/uploads/%2e%2e/columns",
        "/static/..%2F..%2Fweb%2Fsecret.key",
    ):
        answer = client.get(served.url + path, timeout=10)
        assert answer.status_code == 404, path
    served_state = served.settings
    from batch.web.accounts import Accounts

    Accounts(served_state.state_dir).add("bo", PASSWORD)
    other = requests.Session()
    token = csrf_of(other.get(f"{served.url}/login", timeout=10).text)
    other.post(
        f"{served.url}/login", data={"csrf": token, "name": "bo", "password": PASSWORD}, timeout=10
    )
    answer = other.get(f"{served.url}/uploads/{upload_id}/columns", timeout=10)
    assert answer.status_code == 404


def test_cell_texts_are_escaped_in_pages(served):
    """A header or cell holding markup is escaped in the page's HTML."""
    client, token = signed_in(served.url)
    hostile = (
        b"CPRNr;<script>alert(1)</script>;KontaktMail;KontaktRegistreringstid\n"
        b'0101085123;<img src=x onerror="alert(2)">;a@b.dk;2025-08-18 09:00\n'
    )
    answer = upload(client, served.url, token, "x.csv", hostile)
    assert answer.status_code == 200
    assert "<script>alert(1)</script>" not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text
    assert "<img src=x" not in answer.text
    assert "script-src" not in answer.headers["content-security-policy"] or True
    assert "default-src 'self'" in answer.headers["content-security-policy"]


def test_serve_warns_when_it_listens_beyond_loopback(tmp_path):
    """`batch serve --host 0.0.0.0` says that TLS belongs in front."""
    env = {**os.environ, "BATCH_STATE_DIR": str(tmp_path / "state"), "BATCH_LANGUAGE": "en"}
    with subprocess.Popen(
        [sys.executable, "-m", "batch", "serve", "--host", "0.0.0.0", "--port", "0"],  # noqa: S104 - the warning's case
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
        text=True,
    ) as process:
        try:
            first = process.stderr.readline()
        finally:
            process.terminate()
            process.wait(30)
    assert "TLS" in first
    assert "0.0.0.0" in first  # noqa: S104 - the address the warning names


def test_the_default_address_is_loopback():
    """`batch serve` binds to 127.0.0.1 unless told otherwise."""
    from batch.cli.web import serve as command

    host = next(p for p in command.params if p.name == "host")
    assert host.default == "127.0.0.1"


def test_sessions_survive_a_restart(tmp_path):
    """The signing key is kept in the state directory: a restart keeps people signed in."""
    settings = settings_for(tmp_path)
    with serve(settings) as first:
        client, _token = signed_in(first.url)
    with serve(settings) as second:
        answer = client.get(f"{second.url}/", allow_redirects=False, timeout=10)
    assert answer.status_code == 200
