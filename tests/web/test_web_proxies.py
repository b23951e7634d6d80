"""Behind a reverse proxy, real HTTP on loopback: forwarded headers and SSO, trusted or not."""

from __future__ import annotations

import pytest
import requests

from batch.config import proxy_addresses
from batch.web.audit import read_entries
from tests.web.webkit import USER, csrf_of, serve, settings_for

SSO = "X-Remote-User"


def _get(url: str, path: str, **headers: str) -> requests.Response:
    return requests.get(f"{url}{path}", headers=headers, timeout=30, allow_redirects=False)


def test_sso_header_signs_in_only_from_a_configured_proxy(tmp_path):
    """From 127.0.0.1 configured as the proxy the header signs its account in, audited."""
    settings = settings_for(tmp_path, trusted_proxies=("127.0.0.1",), sso_header=SSO.lower())
    with serve(settings) as running:
        runs = _get(running.url, "/runs", **{SSO: USER, "Accept-Language": "en"})
        unknown = _get(running.url, "/runs", **{SSO: "nobody", "Accept-Language": "en"})
    assert runs.status_code == 200
    assert f"Signed in as {USER}" in runs.text
    assert unknown.status_code == 403
    assert "has no account here" in unknown.text
    [entry] = read_entries(settings.state_dir, "sign-in")
    assert (entry.actor, entry.detail) == (USER, "by the proxy")


@pytest.mark.parametrize("trusted", [(), ("10.0.0.0/8",)])
def test_sso_and_forwarded_headers_are_ignored_from_anybody_else(tmp_path, trusted):
    """Not configured, or another address configured: the header is no sign-in, no TLS."""
    settings = settings_for(tmp_path, trusted_proxies=trusted, sso_header=SSO.lower())
    with serve(settings) as running:
        runs = _get(running.url, "/runs", **{SSO: USER})
        login = _get(running.url, "/login", **{"X-Forwarded-Proto": "https"})
    assert runs.status_code == 303
    assert runs.headers["location"] == "/login"
    assert "Secure" not in login.headers["set-cookie"]
    assert read_entries(settings.state_dir, "sign-in") == []


def _failures_then(url: str, forwarded: list[str], last: str) -> int:
    """Failed sign-ins from the forwarded addresses (a new name each), then one from `last`."""
    client = requests.Session()
    token = csrf_of(client.get(f"{url}/login", timeout=30).text)
    for index, address in enumerate([*forwarded, last]):
        answer = client.post(
            f"{url}/login",
            data={"csrf": token, "name": f"guess{index}", "password": "wrong password!"},
            headers={"X-Forwarded-For": address},
            timeout=30,
        )
    return answer.status_code


@pytest.mark.parametrize(("trusted", "status"), [(("127.0.0.1",), 401), ((), 429)])
def test_x_forwarded_for_counts_only_from_a_configured_proxy(tmp_path, trusted, status):
    """The throttle counts the forwarded client from a trusted proxy, else the peer itself."""
    with serve(settings_for(tmp_path, trusted_proxies=trusted)) as running:
        code = _failures_then(running.url, ["203.0.113.7"] * 5, "203.0.113.8")
    assert code == status


def test_proxy_addresses_are_checked_when_read():
    """A list, a comma string and networks are read; a wrong address is an error."""
    assert proxy_addresses("['127.0.0.1', '::1']") == ("127.0.0.1", "::1")
    assert proxy_addresses("10.0.0.0/8, 192.168.1.10") == ("10.0.0.0/8", "192.168.1.10")
    with pytest.raises(ValueError, match="999"):
        proxy_addresses("127.0.0.999")
