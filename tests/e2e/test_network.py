"""`batch run` on a municipal network: a real proxy process, real HTTPS, certificates made here.

Every run is the real CLI in a process of its own against the simulator (or a hostile stand-in)
on loopback; certificates are issued by the test (expired, expiring, from a wrong CA).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.helpers import run_cli
from tests.pki_kit import issue, make_pki
from tests.proxy_kit import proxy_process
from tests.reliability.hostile import HostileService, envelope
from tests.reliability.kit import Book, csv_rows, good_rows, service_args, write_csv

pytestmark = pytest.mark.slow

ROWS = 4


CPH = ZoneInfo("Europe/Copenhagen")  # certificate dates are shown in Danish local time


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A throwaway CA, server, client and signer for this module."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def strict_udb(fresh_simulator, pki):
    """The simulator over HTTPS, demanding our client certificate and a valid signature."""
    return fresh_simulator(
        tls_cert=pki.server.cert,
        tls_key=pki.server.key,
        client_ca=pki.ca.cert,
        require_signature=True,
        trusted_signers=(pki.signer.cert,),
    )


def _secure_env(pki, **extra: str) -> dict[str, str]:
    return {
        "BATCH_TLS_CA_BUNDLE": str(pki.ca.cert),
        "BATCH_TLS_CLIENT_CERT": str(pki.client.cert),
        "BATCH_TLS_CLIENT_KEY": str(pki.client.key),
        "BATCH_SIGN_KEY": str(pki.signer.key),
        "BATCH_SIGN_CERT": str(pki.signer.cert),
        **extra,
    }


def _run(tmp_path, *args: str, env: dict[str, str], rows: int = ROWS):
    source = write_csv(tmp_path / "export.csv", good_rows(rows))
    return run_cli(
        "run",
        source,
        *args,
        state_dir=tmp_path / "state",
        report_dir=tmp_path / "reports",
        env=env,
    )


def test_a_run_through_the_proxy_with_mutual_tls_and_signing(strict_udb, pki, tmp_path):
    """HTTPS_PROXY set: every row accepted through CONNECT; certificates dated in the summary."""
    with proxy_process() as proxy:
        run = _run(tmp_path, *service_args(strict_udb), env=_secure_env(pki, HTTPS_PROXY=proxy.url))
    assert run.code == 0, run.output
    book = Book.newest(tmp_path / "reports")
    book.assert_each_row_once(csv_rows("export.csv", ROWS))
    assert book.count("accepted") == ROWS
    port = strict_udb.endpoint_url.split(":")[2].split("/")[0]
    assert f"127.0.0.1:{port}" in proxy.connects()
    roles = {item["role"]: item for item in book.summary["certificates"]}
    assert set(roles) == {"tls", "signing"}
    assert roles["tls"]["days_left"] >= 1
    assert book.summary["stop_cause"] is None


@pytest.mark.parametrize(
    ("proxy_args", "slug"),
    [
        (("--auth", "kommune:rigtigt"), "proxy_auth_required"),
        (("--refuse", "502"), "proxy_refused"),
    ],
    ids=["407", "502"],
)
def test_a_refusing_proxy_is_a_set_up_problem(strict_udb, pki, tmp_path, proxy_args, slug):
    """407 or 502 from the proxy: exit 4, the proxy named (password masked), rows kept in Retry."""
    with proxy_process(*proxy_args) as proxy:
        env = _secure_env(pki, BATCH_PROXY=proxy.url_with("kommune", "forkert"))
        run = _run(tmp_path, *service_args(strict_udb), env=env)
    assert run.code == 4, run.output
    assert f"kommune:***@127.0.0.1:{proxy.port}" in run.stderr
    assert "forkert" not in run.output
    book = Book.newest(tmp_path / "reports")
    book.assert_each_row_once(csv_rows("export.csv", ROWS))
    assert book.count("retry") == ROWS
    assert book.summary["stop_cause"]["slug"] == slug
    assert strict_udb.received() == []


def test_a_password_in_the_proxy_flag_is_refused(tmp_path):
    """--proxy with user:password is exit 2, pointing to the config file or BATCH_PROXY."""
    run = _run(tmp_path, "--proxy", "http://u:hemmelig@127.0.0.1:9", env={})
    assert run.code == 2
    assert "BATCH_PROXY" in run.stderr
    assert "hemmelig" not in run.output


def test_an_expired_service_certificate_stops_the_run_at_the_first_failure(
    fresh_simulator, pki, tmp_path
):
    """The service's certificate expired: exit 4 after one attempt, the cause in words."""
    expired = issue(
        tmp_path,
        "expired-server",
        issuer=pki.ca,
        server=True,
        not_after=datetime.now(UTC) - timedelta(days=2),
    )
    udb = fresh_simulator(tls_cert=expired.cert, tls_key=expired.key)
    env = {"BATCH_TLS_CA_BUNDLE": str(pki.ca.cert), "BATCH_SYSTEM_ID": "KUI-TEST"}
    run = _run(tmp_path, "--endpoint", udb.endpoint_url, "--concurrency", "1", env=env, rows=6)
    assert run.code == 4, run.output
    assert "the service's certificate has expired" in run.stderr
    book = Book.newest(tmp_path / "reports")
    book.assert_each_row_once(csv_rows("export.csv", 6))
    assert book.count("retry") == 6
    assert book.attempts() == 1  # the first failure stopped the run
    cause = book.summary["stop_cause"]
    assert cause["slug"] == "tls_server_certificate_expired"
    assert cause["setup"] is True


def test_an_expired_client_certificate_refuses_to_start(strict_udb, pki, tmp_path):
    """An expired TLS client certificate: exit 2 before anything is sent, file and date named."""
    when = datetime.now(UTC) - timedelta(days=1)
    old = issue(tmp_path, "old-client", issuer=pki.ca, not_after=when)
    env = _secure_env(pki, BATCH_TLS_CLIENT_CERT=str(old.cert), BATCH_TLS_CLIENT_KEY=str(old.key))
    run = _run(tmp_path, *service_args(strict_udb), env=env)
    assert run.code == 2, run.output
    assert str(old.cert) in run.stderr
    assert when.astimezone(CPH).strftime("%d-%m-%Y") in run.stderr
    assert strict_udb.received() == []


def test_a_certificate_expiring_soon_is_a_warning(strict_udb, pki, tmp_path):
    """A signing certificate expiring in 10 days: the run goes ahead, warned on console, summary."""
    soon = issue(tmp_path, "soon-signer", not_after=datetime.now(UTC) + timedelta(days=10))
    udb = strict_udb
    env = _secure_env(pki, BATCH_SIGN_KEY=str(soon.key), BATCH_SIGN_CERT=str(soon.cert))
    run = _run(tmp_path, *service_args(udb), env=env)
    book = Book.newest(tmp_path / "reports")
    assert "expires in" in run.stderr
    assert any("signing certificate" in text for text in book.summary["warnings"])
    signing = next(c for c in book.summary["certificates"] if c["role"] == "signing")
    assert signing["days_left"] in (9, 10)


def test_a_retry_after_of_a_day_does_not_hold_the_run(tmp_path):
    """503 with Retry-After: 86400: a second attempt follows; exit 3, rows in Retry."""
    with HostileService(envelope(""), status=503, headers=(("Retry-After", "86400"),)) as hostile:
        run = _run(
            tmp_path,
            *service_args(hostile.wsdl_url, "--max-attempts", "2", "--concurrency", "1"),
            env={"BATCH_RETRY_AFTER_MAX": "5"},
            rows=2,
        )
        posts = hostile.posts
    assert run.code == 3, run.output
    book = Book.newest(tmp_path / "reports")
    book.assert_each_row_once(csv_rows("export.csv", 2))
    assert posts >= 2
    assert max(int(row["Attempts"]) for row in book.rows("Retry")) == 2


def test_max_run_minutes_stops_the_run_and_writes_the_workbook(fresh_simulator, tmp_path):
    """When max_run_minutes passes, the run stops as on Ctrl-C: exit 3, workbook, cause named."""
    udb = fresh_simulator(faults=_slow())
    run = _run(
        tmp_path,
        *service_args(udb, "--rate", "2", "--concurrency", "1", "--max-run-minutes", "0.02"),
        env={},
        rows=60,
    )
    assert run.code == 3, run.output
    book = Book.newest(tmp_path / "reports")
    book.assert_each_row_once(csv_rows("export.csv", 60))
    assert book.count("retry") > 0
    assert book.summary["stop_cause"]["slug"] == "max_run_minutes"


def _slow():
    from batch.simulator import FaultConfig

    return FaultConfig(latency_ms=100)
