"""Passwords from systemd's credentials directory, over mutual TLS with the simulator."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import run_cli, summary_of, workbook_of
from tests.e2e.nightly_kit import events, export
from tests.pki_kit import make_pki
from tests.reliability.kit import service_args

pytestmark = pytest.mark.slow


def test_the_client_certificate_password_comes_from_the_credentials_directory(
    tmp_path, fresh_simulator
):
    """Mutual TLS with the PKCS#12 password from $CREDENTIALS_DIRECTORY; expiry is reported."""
    pki = make_pki(tmp_path)
    sim = fresh_simulator(tls_cert=pki.server.cert, tls_key=pki.server.key, client_ca=pki.ca.cert)
    bundle = pki.client.pkcs12(tmp_path / "oces3.p12", "rigtigt-kodeord")
    config = tmp_path / "prod.toml"
    config.write_text(
        f'[tls]\ntls_ca_bundle = "{pki.ca.cert}"\ntls_pkcs12 = "{bundle}"\n', encoding="utf-8"
    )
    credentials = tmp_path / "credentials"
    credentials.mkdir(mode=0o700)
    password = credentials / "tls_pkcs12_password"
    source = export(tmp_path / "kui-export.csv", 3)

    def night(name: str):
        return run_cli(
            "run", source, *service_args(sim), "--config", config,
            "--metrics-file", tmp_path / "batch.prom",
            state_dir=tmp_path / "state", report_dir=tmp_path / name,
            env={"CREDENTIALS_DIRECTORY": str(credentials)},
        )  # fmt: skip

    password.write_text("forkert-kodeord\n", encoding="utf-8")
    wrong = night("wrong")
    assert wrong.code == 2, wrong.output
    assert "wrong password" in wrong.stderr
    assert "forkert-kodeord" not in wrong.output

    password.write_text("rigtigt-kodeord\n", encoding="utf-8")
    right = night("right")
    assert right.code == 0, right.output
    assert "rigtigt-kodeord" not in right.output
    (certificate,) = summary_of(workbook_of(tmp_path / "right"))["certificates"]
    assert (certificate["role"], certificate["file"]) == ("tls", str(bundle))
    assert certificate["days_left"] in (1, 2)  # the test certificate lives two days
    (finished,) = events(right.stderr, "run finished")
    assert finished["certificates"] == [certificate]
    assert "expires in" in finished["warnings"][0]
    metrics = (tmp_path / "batch.prom").read_text(encoding="utf-8")
    gauge = f'batch_certificate_days_left{{role="tls",file="{bundle}"}} {certificate["days_left"]}'
    assert gauge in metrics.splitlines()
