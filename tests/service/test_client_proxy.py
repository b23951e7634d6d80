"""Through a real proxy process: CONNECT, mTLS and signing in the tunnel, NO_PROXY, refusals."""

import pytest
from client_kit import CPR_OK, EXPECTED, report
from pki_kit import issue
from proxy_kit import proxy_process

from batch.errors import ConfigError
from batch.records import Failure, FailureKind
from batch.service.proxy import bypasses, choose_proxy
from batch.service.signing import SigningSettings
from batch.service.tls import TlsSettings


@pytest.fixture
def strict_udb(sim_with, pki):
    """HTTPS, a client certificate from the test CA, and a valid signature demanded."""
    return sim_with(
        tls_cert=pki.server.cert,
        tls_key=pki.server.key,
        client_ca=pki.ca.cert,
        require_signature=True,
        trusted_signers=(pki.signer.cert,),
    )


def _secure(pki):
    tls = TlsSettings(ca_bundle=pki.ca.cert, client_cert=pki.client.cert, client_key=pki.client.key)
    return {"tls": tls, "signing": SigningSettings(key=pki.signer.key, cert=pki.signer.cert)}


def test_mutual_tls_and_signing_go_through_the_tunnel(strict_udb, make_client, pki, monkeypatch):
    """With HTTPS_PROXY set, the WSDL and the call go through CONNECT; mTLS and WS-Security hold."""
    with proxy_process() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        client = make_client(wsdl=strict_udb.wsdl_url, **_secure(pki))
        assert client.send(report()) == EXPECTED[CPR_OK]
    port = strict_udb.endpoint_url.split(":")[2].split("/")[0]
    assert proxy.connects()
    assert set(proxy.connects()) == {f"127.0.0.1:{port}"}
    assert strict_udb.received()[-1].ok is True


def test_a_name_only_the_proxy_can_resolve_is_reached(sim_with, make_client, tmp_path):
    """The client does not resolve the service's name itself: the proxy does (CONNECT name:port)."""
    ca = issue(tmp_path, "ca", ca=True)
    server = issue(tmp_path, "udb", issuer=ca, server=True, names=("udb.test.invalid",))
    udb = sim_with(tls_cert=server.cert, tls_key=server.key)
    port = udb.endpoint_url.split(":")[2].split("/")[0]
    endpoint = udb.endpoint_url.replace("127.0.0.1", "udb.test.invalid")
    with proxy_process("--host", "udb.test.invalid=127.0.0.1") as proxy:
        client = make_client(
            wsdl=udb.wsdl_url,
            endpoint=endpoint,
            tls=TlsSettings(ca_bundle=ca.cert),
            proxy=proxy.url,
        )
        result = client.send(report())
    assert result == EXPECTED[CPR_OK]
    assert f"udb.test.invalid:{port}" in proxy.connects()


def test_no_proxy_bypasses_the_proxy(strict_udb, make_client, pki, monkeypatch):
    """NO_PROXY naming the service's host: the proxy sees nothing, the call still succeeds."""
    with proxy_process() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        client = make_client(wsdl=strict_udb.wsdl_url, **_secure(pki))
        assert client.send(report()) == EXPECTED[CPR_OK]
        assert client.proxy is None
    assert proxy.lines == []


def test_proxy_with_user_and_password(strict_udb, make_client, pki):
    """A proxy URL with user:password authenticates (Basic); the password is never shown."""
    with proxy_process("--auth", "kommune:hemmelig") as proxy:
        client = make_client(
            wsdl=strict_udb.wsdl_url, proxy=proxy.url_with("kommune", "hemmelig"), **_secure(pki)
        )
        assert client.send(report()) == EXPECTED[CPR_OK]
    assert client.proxy is not None
    assert "hemmelig" not in client.proxy.shown
    assert "kommune:***@" in client.proxy.shown
    assert "hemmelig" not in repr(client.proxy)


@pytest.mark.parametrize(
    ("args", "slug"),
    [
        (("--auth", "kommune:rigtigt"), "proxy_auth_required"),
        (("--refuse", "502"), "proxy_refused"),
    ],
    ids=["407", "502"],
)
def test_a_refusing_proxy_is_a_set_up_problem_naming_it(tls_pki_udb, make_client, pki, args, slug):
    """407 or 502 to CONNECT: not retryable, a set-up cause, the proxy named (password masked)."""
    with proxy_process(*args) as proxy:
        client = make_client(
            endpoint=tls_pki_udb.endpoint_url,
            tls=TlsSettings(ca_bundle=pki.ca.cert),
            proxy=proxy.url_with("kommune", "forkert"),
        )
        result = client.send(report())
    assert isinstance(result, Failure)
    assert (result.kind, result.retryable) == (FailureKind.CONNECTION, False)
    assert result.setup is not None
    assert result.setup.slug == slug
    assert f"kommune:***@127.0.0.1:{proxy.port}" in result.message
    assert "forkert" not in result.message


@pytest.fixture
def tls_pki_udb(sim_with, pki):
    """HTTPS with the test CA's server certificate, no client certificate asked."""
    return sim_with(tls_cert=pki.server.cert, tls_key=pki.server.key)


def test_plain_http_goes_through_a_forwarding_proxy(udb, make_client, monkeypatch):
    """HTTP_PROXY for an http:// address: the proxy forwards the request (absolute URI)."""
    with proxy_process() as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        client = make_client(endpoint=udb.endpoint_url)
        assert client.send(report()) == EXPECTED[CPR_OK]
    assert any(line.startswith(f"POST {udb.endpoint_url}") for line in proxy.lines)


def test_the_setting_wins_over_the_environment_and_none_means_direct():
    """`proxy` beats HTTPS_PROXY; `none` ignores the environment; lower case beats upper."""
    env = {"HTTPS_PROXY": "http://upper:3128", "https_proxy": "http://lower:3128"}
    url = "https://udb.example/s"
    assert choose_proxy(url, None, env).url == "http://lower:3128"
    assert choose_proxy(url, "http://setting:8080", env).url == "http://setting:8080"
    assert choose_proxy(url, "none", env) is None
    assert choose_proxy("http://udb.example/s", None, env) is None  # no HTTP_PROXY


@pytest.mark.parametrize(
    ("url", "no_proxy", "bypassed"),
    [
        ("https://udb.example/s", "example", True),
        ("https://udb.example/s", ".example", True),
        ("https://udb.example/s", "*.example", True),
        ("https://udb.example/s", "dbexample", False),
        ("https://udb.example:8443/s", "udb.example:443", False),
        ("https://udb.example:8443/s", "udb.example:8443", True),
        ("https://10.1.2.3/s", "10.0.0.0/8", True),
        ("https://[::1]/s", "::1", True),
        ("https://udb.example/s", "*", True),
        ("https://udb.example/s", "", False),
    ],
)
def test_no_proxy_matching(url, no_proxy, bypassed):
    """NO_PROXY: a host, a parent domain, host:port, a CIDR range, an IPv6 address, or *."""
    assert bypasses(url, no_proxy) is bypassed


def test_a_proxy_that_is_no_url_is_a_config_error():
    """HTTPS_PROXY=socks5://... is refused with the variable named."""
    with pytest.raises(ConfigError, match="https_proxy"):
        choose_proxy("https://udb.example/s", None, {"https_proxy": "socks5://p:1080"})


def test_a_proxy_that_cannot_be_reached_is_named_and_retried(tls_pki_udb, make_client, pki):
    """Nothing listens at the proxy's address: a retryable connection failure naming the proxy."""
    client = make_client(
        endpoint=tls_pki_udb.endpoint_url,
        tls=TlsSettings(ca_bundle=pki.ca.cert),
        proxy="http://kommune:hemmelig@127.0.0.1:9",
    )
    result = client.send(report())
    assert isinstance(result, Failure)
    assert (result.kind, result.retryable, result.setup) == (FailureKind.CONNECTION, True, None)
    assert "the proxy http://kommune:***@127.0.0.1:9 could not be reached" in result.message
    assert "hemmelig" not in result.message
