"""Review of proxy trust, real HTTP on loopback: a network written with host bits is one network."""

from __future__ import annotations

import http.client

import pytest
import requests

from batch.web.audit import read_entries
from tests.web.webkit import USER, csrf_of, serve, settings_for

# `proxy_addresses` reads networks leniently (10.1.2.3/8 means 10.0.0.0/8); both halves of the
# trust (the SSO header and the forwarded headers) must then trust the same addresses.
WITH_HOST_BITS = ("127.0.0.1/8",)


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


def test_forwarded_for_from_a_network_written_with_host_bits_is_believed(tmp_path):
    """Trusted as 127.0.0.1/8, the proxy's X-Forwarded-For names the client for the throttle."""
    with serve(settings_for(tmp_path, trusted_proxies=WITH_HOST_BITS)) as running:
        code = _failures_then(running.url, ["203.0.113.7"] * 5, "203.0.113.8")
    assert code == 401  # 203.0.113.8 is not throttled for 203.0.113.7's failures


@pytest.mark.parametrize(("trusted", "secure"), [(WITH_HOST_BITS, True), ((), False)])
def test_forwarded_proto_from_a_network_written_with_host_bits_makes_cookies_secure(
    tmp_path, trusted, secure
):
    """X-Forwarded-Proto: https from the trusted network marks the session cookie Secure."""
    with serve(settings_for(tmp_path, trusted_proxies=trusted)) as running:
        login = requests.get(
            f"{running.url}/login", headers={"X-Forwarded-Proto": "https"}, timeout=30
        )
    assert ("Secure" in login.headers["set-cookie"]) is secure


def _raw_get(url: str, path: str, headers: list[tuple[str, str]]) -> tuple[int, dict[str, str]]:
    """GET with exactly these header lines (repeats and odd cases kept), on a raw connection."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("GET", path)
    for name, value in headers:
        connection.putheader(name, value)
    connection.endheaders()
    answer = connection.getresponse()
    found = {name.lower(): value for name, value in answer.getheaders()}
    connection.close()
    return answer.status, found


SPOOFS = [
    [("X-REMOTE-USER", USER)],
    [("x-remote-user", USER), ("X-Remote-User", USER)],
    [("X-Forwarded-For", "127.0.0.1"), ("x-remote-user", USER)],
    [("X-Forwarded-For", "::1, 127.0.0.1"), ("X-Remote-User", USER)],
]


@pytest.mark.parametrize("headers", SPOOFS)
def test_case_variants_and_repeats_of_the_sso_header_sign_nobody_in_untrusted(tmp_path, headers):
    """Untrusted loopback peer: any case or repeat of the SSO header still means no sign-in."""
    settings = settings_for(tmp_path, sso_header="x-remote-user")
    with serve(settings) as running:
        status, found = _raw_get(running.url, "/runs", headers)
    assert (status, found["location"]) == (303, "/login")
    assert read_entries(settings.state_dir, "sign-in") == []


@pytest.mark.parametrize("name", ["X-FORWARDED-PROTO", "x-forwarded-proto", "X-Forwarded-Proto"])
def test_case_variants_of_forwarded_proto_are_ignored_untrusted(tmp_path, name):
    """Untrusted loopback peer: X-Forwarded-Proto in any case does not make the cookie Secure."""
    with serve(settings_for(tmp_path)) as running:
        status, found = _raw_get(running.url, "/login", [(name, "https"), (name, "https")])
    assert status == 200
    assert "secure" not in found["set-cookie"].lower()
