"""Review of proxy trust, real HTTP on loopback: a network written with host bits is one network."""

from __future__ import annotations

import pytest
import requests

from tests.web.webkit import csrf_of, serve, settings_for

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
