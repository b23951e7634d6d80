"""The start of a run: certificates dated and refused when expired, risky settings warned."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from batch.config import Settings
from batch.errors import ConfigError
from batch.preflight import startup_checks
from batch.preflight.checks import Status, _wsdl_check
from batch.preflight.startup import address_warning
from batch.preflight.wiring import client_settings
from tests.pki_kit import issue

CPH = ZoneInfo("Europe/Copenhagen")  # certificate dates are shown in Danish local time


def _warnings(**settings):
    chosen = Settings(**settings)
    return startup_checks(chosen, client_settings(chosen)).warnings


def test_risky_settings_are_warned():
    """tls_verify false, plain http off this machine, no signing towards the real platform."""
    warnings = _warnings(
        tls_verify=False, endpoint="http://udb.example/s", system_id="KUI", wsdl=None
    )
    assert any("tls_verify is false" in text for text in warnings)
    assert any("http://udb.example/s" in text for text in warnings)
    assert any("no signing" in text for text in warnings)


def test_http_on_loopback_and_the_simulator_are_not_warned():
    """http://127.0.0.1 is this machine; the built-in simulator needs no signing."""
    assert _warnings() == ()
    on_loopback = _warnings(endpoint="http://127.0.0.1:8080/s")
    assert not any("http://" in text for text in on_loopback)


def test_an_expired_signing_certificate_refuses_the_start(tmp_path):
    """Expired: ConfigError naming the file and the date."""
    when = datetime.now(UTC) - timedelta(days=1)
    old = issue(tmp_path, "old-signer", not_after=when)
    with pytest.raises(ConfigError, match=when.astimezone(CPH).strftime("%d-%m-%Y")) as raised:
        _warnings(sign_key=old.key, sign_cert=old.cert, endpoint="https://udb.example/s")
    assert str(old.cert) in str(raised.value)


def test_a_signing_pem_holding_its_key_is_read(tmp_path):
    """sign_cert alone, holding certificate and key, is a signing certificate with a date."""
    signer = issue(tmp_path, "signer", not_after=datetime.now(UTC) + timedelta(days=100))
    both = tmp_path / "both.pem"
    both.write_bytes(signer.cert.read_bytes() + signer.key.read_bytes())
    chosen = Settings(sign_cert=both, endpoint="https://udb.example/s")
    startup = startup_checks(chosen, client_settings(chosen))
    assert [(c.role, c.days_left()) for c in startup.certificates] == [("signing", 99)]
    assert startup.warnings == ()


def test_a_plain_http_address_named_only_by_the_wsdl_is_warned(tmp_path):
    """With no endpoint set, the WSDL's own address is where the CPR numbers go: check it too."""
    bundled = Path(__file__).parents[2] / "batch" / "contract"
    text = (bundled / "IndberetningKontaktJobOgUddOensker.wsdl").read_text(encoding="utf-8")
    https = "https://integrationsplatformen.dk/"
    assert https in text
    wsdl = tmp_path / "plain.wsdl"
    wsdl.write_text(text.replace(https, "http://udb.example/"), encoding="utf-8")
    for xsd in bundled.glob("*.xsd"):
        (tmp_path / xsd.name).write_bytes(xsd.read_bytes())
    chosen = Settings(wsdl=str(wsdl), system_id="KUI")
    check, endpoint = _wsdl_check(client_settings(chosen))
    assert endpoint is not None
    assert endpoint.startswith("http://udb.example/")
    assert check.status is Status.WARN
    assert "travels unencrypted" in check.advice
    assert address_warning("https://udb.example/s") is None
    assert address_warning("http://[::1]:8080/s") is None
