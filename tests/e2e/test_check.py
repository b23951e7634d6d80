"""`batch check` against the simulator over mutual TLS: passes, and fails on the right line."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.helpers import run_cli
from tests.pki_kit import issue, make_pki
from tests.proxy_kit import proxy_process

pytestmark = pytest.mark.slow


CPH = ZoneInfo("Europe/Copenhagen")  # certificate dates are shown in Danish local time


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A throwaway CA, server, client and signer for this module."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def mtls_udb(fresh_simulator, pki):
    """The simulator over HTTPS, demanding a client certificate from the test CA."""
    return fresh_simulator(tls_cert=pki.server.cert, tls_key=pki.server.key, client_ca=pki.ca.cert)


def _env(pki, udb, **extra: str) -> dict[str, str]:
    return {
        "BATCH_WSDL": udb.wsdl_url,
        "BATCH_SYSTEM_ID": "KUI-TEST",
        "BATCH_TLS_CA_BUNDLE": str(pki.ca.cert),
        "BATCH_TLS_CLIENT_CERT": str(pki.client.cert),
        "BATCH_TLS_CLIENT_KEY": str(pki.client.key),
        "BATCH_SIGN_KEY": str(pki.signer.key),
        "BATCH_SIGN_CERT": str(pki.signer.cert),
        "BATCH_CERT_WARN_DAYS": "1",  # the test certificates live for two days
        **extra,
    }


def _check(tmp_path, env, *args: str):
    run = run_cli(
        "check", "--json", *args, state_dir=tmp_path / "state", report_dir=tmp_path / "r", env=env
    )
    report = json.loads(run.stdout)
    return run, {item["check"]: item for item in report["checks"]}


def test_a_sound_set_up_passes_every_check(mtls_udb, pki, tmp_path):
    """Settings, certificates, WSDL, DNS, TCP, TLS with the client certificate, HTTP, clock: OK."""
    run, checks = _check(tmp_path, _env(pki, mtls_udb))
    assert run.code == 0, run.output
    wanted = {"settings", "certificate_tls", "certificate_signing", "wsdl", "dns", "tcp", "tls"}
    wanted |= {"http", "clock", "state_dir", "report_dir", "lock"}
    assert wanted <= set(checks)
    assert {name: checks[name]["status"] for name in wanted} == dict.fromkeys(wanted, "OK")
    assert checks["certificate_tls"]["days_left"] >= 1
    assert abs(checks["clock"]["offset_seconds"]) < 60
    assert mtls_udb.received() == []  # nothing was sent


def test_the_human_form_prints_a_line_per_check(mtls_udb, pki, tmp_path):
    """Without --json: OK/WARN/FAIL at the start of each line, and the verdict last."""
    run = run_cli(
        "check", state_dir=tmp_path / "s", report_dir=tmp_path / "r", env=_env(pki, mtls_udb)
    )
    assert run.code == 0, run.output
    lines = run.stdout.strip().splitlines()
    assert lines[0].startswith("OK   settings")
    assert lines[-1] == "nothing failed: ready to run"


def test_a_server_from_a_wrong_ca_fails_the_tls_line(mtls_udb, pki, tmp_path):
    """Our CA bundle does not know the service's CA: the WSDL and TLS lines fail, named."""
    other = issue(tmp_path, "other-ca", ca=True)
    env = _env(pki, mtls_udb, BATCH_TLS_CA_BUNDLE=str(other.cert))
    env["BATCH_ENDPOINT"] = mtls_udb.endpoint_url
    run, checks = _check(tmp_path, env)
    assert run.code == 4
    assert checks["wsdl"]["status"] == "FAIL"
    assert checks["tls"]["status"] == "FAIL"
    assert checks["tls"]["cause"] == "tls_server_certificate_untrusted"


def test_an_expired_client_certificate_fails_its_line(mtls_udb, pki, tmp_path):
    """An expired TLS client certificate: its line fails with the date."""
    when = datetime.now(UTC) - timedelta(days=3)
    old = issue(tmp_path, "old", issuer=pki.ca, not_after=when)
    env = _env(
        pki, mtls_udb, BATCH_TLS_CLIENT_CERT=str(old.cert), BATCH_TLS_CLIENT_KEY=str(old.key)
    )
    run, checks = _check(tmp_path, env)
    assert run.code == 4
    assert checks["certificate_tls"]["status"] == "FAIL"
    assert when.astimezone(CPH).strftime("%d-%m-%Y") in checks["certificate_tls"]["text"]


def test_a_certificate_expiring_soon_warns(mtls_udb, pki, tmp_path):
    """A signing certificate with 5 days left: WARN, and the check still passes (exit 0)."""
    soon = issue(tmp_path, "soon", not_after=datetime.now(UTC) + timedelta(days=5))
    env = _env(pki, mtls_udb, BATCH_SIGN_KEY=str(soon.key), BATCH_SIGN_CERT=str(soon.cert))
    env["BATCH_CERT_WARN_DAYS"] = "30"
    run, checks = _check(tmp_path, env)
    assert run.code == 0, run.output
    assert checks["certificate_signing"]["status"] == "WARN"


def test_a_proxy_that_wants_a_password_fails_the_proxy_line(mtls_udb, pki, tmp_path):
    """A proxy answering 407: the proxy line fails, naming it; no password printed."""
    with proxy_process("--auth", "kommune:rigtigt") as proxy:
        env = _env(pki, mtls_udb, BATCH_PROXY=proxy.url_with("kommune", "forkert"))
        run, checks = _check(tmp_path, env)
    assert run.code == 4
    assert checks["proxy"]["status"] == "FAIL"
    assert checks["proxy"]["cause"] == "proxy_auth_required"
    assert "forkert" not in run.output


def test_through_a_proxy_the_check_passes(mtls_udb, pki, tmp_path):
    """HTTPS_PROXY set: the proxy line is OK and the proxy saw the CONNECT."""
    with proxy_process() as proxy:
        run, checks = _check(tmp_path, _env(pki, mtls_udb, HTTPS_PROXY=proxy.url))
    assert run.code == 0, run.output
    assert checks["proxy"]["status"] == "OK"
    assert proxy.connects()


def test_a_closed_port_fails_the_tcp_line(pki, tmp_path):
    """Nothing listens at the address: the tcp line fails."""
    env = {
        "BATCH_ENDPOINT": "https://127.0.0.1:9/services/x",
        "BATCH_SYSTEM_ID": "KUI-TEST",
        "BATCH_TLS_CA_BUNDLE": str(pki.ca.cert),
    }
    run, checks = _check(tmp_path, env)
    assert run.code == 4
    assert checks["tcp"]["status"] == "FAIL"


def test_a_taken_lock_and_a_read_only_report_dir_fail_their_lines(mtls_udb, pki, tmp_path):
    """Another run holds the lock; the report directory is read-only: both lines fail."""
    state = tmp_path / "state"
    state.mkdir()
    fd = os.open(state / "journal.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"4242")
    reports = tmp_path / "r"
    reports.mkdir(mode=0o500)
    try:
        run, checks = _check(tmp_path, _env(pki, mtls_udb))
    finally:
        os.close(fd)
        reports.chmod(0o700)
    assert run.code == 4
    assert checks["lock"]["status"] == "FAIL"
    assert "4242" in checks["lock"]["text"]
    if os.geteuid() != 0:  # root writes anywhere
        assert checks["report_dir"]["status"] == "FAIL"


def test_a_password_in_the_proxy_flag_fails_the_settings_line(tmp_path):
    """--proxy with a password: the settings line fails, exit 2, the password not printed."""
    run, checks = _check(tmp_path, {}, "--proxy", "http://u:hemmelig@127.0.0.1:9")
    assert run.code == 2
    assert checks["settings"]["status"] == "FAIL"
    assert "hemmelig" not in run.output
