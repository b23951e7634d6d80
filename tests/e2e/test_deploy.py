"""Install and operate: the wheel carries what the tool needs; the shipped systemd units verify."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.e2e import install_kit

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
README = (ROOT / "README.md").read_text(encoding="utf-8")
PACKAGE_DATA = (
    "batch/py.typed",
    "batch/contract/IndberetningKontaktJobOgUddOensker.wsdl",
    "batch/contract/IndberetningKontaktJobOgUddOensker.xsd",
    "batch/simulator/registry.csv",
    "batch/locale/da/LC_MESSAGES/batch.po",
)
INSTALLED = "/opt/batch/bin/batch"  # where README's "Nightly use" installs it


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built offline from a clean copy: the checkout gets no build/."""
    source = install_kit.clean_copy(tmp_path_factory.mktemp("source"))
    return install_kit.build_wheel(source, tmp_path_factory.mktemp("wheel"))


@pytest.mark.slow
def test_the_wheel_holds_the_contract_the_registry_and_the_catalog(wheel):
    """WSDL, XSD, the simulator's registry and the Danish catalog are in the wheel."""
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(PACKAGE_DATA) <= names
    assert not [name for name in names if name.startswith(("tests/", "input_examples/"))]


@pytest.mark.slow
def test_the_installed_wheel_runs_outside_the_checkout(wheel, tmp_path):
    """Installed into its own folder, `batch` starts from there, in Danish, with its contract."""
    target = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet"]
    subprocess.run([*install, "--target", target, wheel], check=True)
    env = {**os.environ, "PYTHONPATH": str(target), "BATCH_STATE_DIR": str(tmp_path / "s")}
    where = subprocess.run(
        [sys.executable, "-c", "import batch.contract, batch; print(batch.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        env=env,
    )
    assert where.stdout.strip().startswith(str(target))
    version = subprocess.run(
        [target / "bin" / "batch", "--version"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        env=env,
    )
    assert version.stdout.startswith("batch, version ")
    empty = tmp_path / "inbox"
    empty.mkdir()
    night = subprocess.run(
        [target / "bin" / "batch", "run", "--inbox", empty, "--require-file", "--language", "da"],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
        env={**env, "BATCH_LOG_FORMAT": "console"},
    )
    assert night.returncode == 2, night.stderr
    assert "ingen eksportfil i indbakken" in night.stderr  # the catalog came with the wheel


def _verifiable_copy(tmp_path: Path) -> Path:
    """The shipped units with ExecStart pointing at a program that exists on this machine."""
    program = tmp_path / "bin" / "batch"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    for unit in DEPLOY.glob("batch.*"):
        text = unit.read_text(encoding="utf-8").replace(INSTALLED, str(program))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_shipped_units_verify(tmp_path):
    """`systemd-analyze verify` finds nothing to complain about in deploy/batch.{service,timer}."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    folder = _verifiable_copy(tmp_path)
    done = subprocess.run(
        [analyze, "verify", "batch.service", "batch.timer"],
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr


def test_the_service_is_hardened_and_follows_the_exit_policy():
    """The unit runs as a user, read-only but for its folders, with credentials; 1 is success."""
    service = (DEPLOY / "batch.service").read_text(encoding="utf-8")
    settings = dict(
        re.findall(r"^(\w+)=(.*)$", service, flags=re.MULTILINE)
    )  # the last of a repeated key
    assert settings["User"] != "root"
    assert settings["SuccessExitStatus"] == "1"
    assert settings["ProtectSystem"] == "strict"
    assert settings["NoNewPrivileges"] == "yes"
    assert "/srv/kui/reports" in settings["ReadWritePaths"]
    assert settings["ExecStart"].startswith(f"{INSTALLED} run --inbox ")
    assert "LoadCredential=tls_pkcs12_password:" in service


def test_the_readme_installs_what_the_units_run():
    """README's "Nightly use" installs to the units' path and ships the same unit files."""
    assert INSTALLED in README
    assert "deploy/batch.service" in README
    assert "deploy/batch.timer" in README
    assert "SuccessExitStatus=1" in README
