"""Installed as operations install it, from a wheel to a night that runs as a service user.

A wheel from the tracked files, a venv of its own outside the checkout, a system user running
deploy/batch.service's command night after night, and an upgrade.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import tempfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import requests

from batch import __version__
from tests.e2e import install_kit as kit
from tests.e2e.helpers import UNMASKED_CPR, summary_of
from tests.e2e.nightly_kit import events, json_lines

pytestmark = [pytest.mark.install, pytest.mark.slow]
NEWER = f"{__version__}.post1"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel of the checkout's tracked files, built as README's step 1 builds it."""
    source = kit.clean_copy(tmp_path_factory.mktemp("source"))
    return kit.build_wheel(source, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def newer_wheel(tmp_path_factory):
    """The same code one version later: only `__version__` in batch/__init__.py changed."""
    source = kit.clean_copy(tmp_path_factory.mktemp("source-newer"), version=NEWER)
    return kit.build_wheel(source, tmp_path_factory.mktemp("dist-newer"))


def _stand_in_root() -> Path:
    """A folder standing in for `/`, open to other users (pytest's own tmp_path is not)."""
    folder = Path(tempfile.mkdtemp(prefix="udb-batch-root-"))
    folder.chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def installed(wheel):
    """The wheel in a venv at the unit's path: shared by the tests that do not upgrade it."""
    root = _stand_in_root()
    try:
        yield kit.install(root, wheel)
    finally:
        shutil.rmtree(root)


@pytest.fixture
def root():
    """A stand-in for `/` of one test's own."""
    folder = _stand_in_root()
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _finished(night):
    """The night's `run finished` line, after checking that stderr is JSON only, stdout empty."""
    assert night.stdout == "", night.output  # the table is for a terminal only
    assert not UNMASKED_CPR.search(night.stderr)
    assert json_lines(night.stderr)
    (finished,) = events(night.stderr, "run finished")
    return finished


def _versions_in(journal: Path) -> list[str]:
    """The version that ran each run the journal holds, oldest first."""
    with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as conn:
        return [version for (version,) in conn.execute("SELECT version FROM runs ORDER BY started")]


def test_the_version_is_written_once(wheel, newer_wheel):
    """The wheel's version is batch.__version__: changing it alone names the wheel (pyproject)."""
    project = tomllib.loads((kit.ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "batch.__version__"}
    for built, version in ((wheel, __version__), (newer_wheel, NEWER)):
        assert built.name == f"batch-{version}-py3-none-any.whl"
        metadata = zipfile.ZipFile(built).read(f"batch-{version}.dist-info/METADATA")
        assert f"\nVersion: {version}\n" in metadata.decode()


def test_the_wheel_holds_every_tracked_file_of_the_package(wheel):
    """Every tracked file under batch/ is in the wheel, the web app's pages and scripts too."""
    tracked = {name for name in kit.tracked_files() if name.startswith("batch/")}
    packed = {name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("batch/")}
    assert sorted(tracked - packed) == []
    assert sorted(packed - tracked) == []


def test_the_installed_wheel_is_what_runs_not_the_checkout(installed):
    """In a fresh venv outside the checkout both commands start the wheel's `batch`."""
    where = Path(installed.python("import batch; print(batch.__file__)"))
    assert where.is_relative_to(installed.venv), where
    assert not where.is_relative_to(kit.ROOT)
    for program in ("batch", "udb-batch"):
        version = subprocess.run(
            [installed.venv / "bin" / program, "--version"],
            capture_output=True,
            text=True,
            check=True,
            cwd="/",
        )
        assert version.stdout.strip() == f"batch, version {__version__}"


def test_the_installed_wheel_serves_the_web_app(installed, tmp_path):
    """`batch serve` from the venv finds its pages and scripts in the installed package."""
    with kit.serving(installed, tmp_path / "state") as url:
        login = requests.get(f"{url}/login", timeout=30)
        script = requests.get(f"{url}/static/app.js", timeout=30)
    assert login.status_code == 200
    assert 'name="csrf"' in login.text
    assert script.status_code == 200
    assert script.content == (kit.ROOT / "batch" / "web" / "static" / "app.js").read_bytes()


def test_the_readme_and_the_test_install_alike():
    """README's "Nightly use" has the very lines this test runs, and cleans build/ first."""
    readme = (kit.ROOT / "README.md").read_text(encoding="utf-8")
    for line in (kit.USERADD, kit.FOLDERS, kit.BACKUP, *kit.CRON_SETUP):
        assert line.format(root="", user="kui") in readme
    assert "rm -rf build && .venv/bin/pip wheel --no-deps --no-build-isolation" in readme
    assert "/opt/batch/bin/pip install --upgrade" in readme


def test_two_nights_as_the_service_user(installed, fresh_simulator):
    """A system user's nights, by the unit, then by the cron line: the second sends only changes.

    A row in Fix is exit 1, which the unit counts as success; what the nights leave behind is
    the user's alone.
    """
    root, sim = installed.root, fresh_simulator()
    with kit.service_user(root) as user:
        kit.write_config(root, sim.wsdl_url)
        _two_nights(installed, user, sim)


def _two_nights(installed, user, sim):
    """The nights of the test above, as `user`."""
    root = installed.root
    cannot_write = kit.as_user(user, root, "test", "-w", installed.venv / "bin")
    assert cannot_write.code == 1  # the user runs the program and cannot change it
    good = {0, *map(int, " ".join(kit.unit_settings("SuccessExitStatus")).split())}

    kit.nightly_export(root, user)
    first = kit.night(user, root)
    assert first.code == 1, first.output
    assert first.code in good
    finished = _finished(first)
    assert (finished["accepted"], finished["fix"], finished["new_fix"]) == (kit.ROWS, 1, 1)
    assert finished["version"] == __version__

    for line in kit.CRON_SETUP:
        assert kit.readme_line(line, root, user).code == 0, line
    kit.nightly_export(root, user, changed=2, tag="night2-")
    sim.clear()
    second = kit.cron_night(user, root)
    assert second.code == 1, second.output
    finished = _finished(second)
    assert (finished["accepted"], finished["unchanged"]) == (2, kit.ROWS - 2)
    assert (finished["fix"], finished["new_fix"]) == (1, 0)  # the same row, known: no alert
    assert len(sim.received()) == 2

    env = kit.unit_environment(root)
    inbox = root / "srv" / "kui" / "inbox"
    assert [path.name for path in inbox.iterdir()] == ["done"]
    assert len(list((inbox / "done").glob("kui-export-*.csv"))) == 2  # never overwritten
    assert len(list(Path(env["BATCH_REPORT_DIR"]).glob("*.xlsx"))) == 2
    for folder in (env["BATCH_STATE_DIR"], env["BATCH_REPORT_DIR"], inbox):
        assert kit.loose_files(Path(folder), user) == []


def test_an_upgrade_keeps_the_journal_and_sends_nothing_twice(
    root, wheel, newer_wheel, fresh_simulator
):
    """README's upgrade keeps the journal: the night after it sends only what changed since.

    Back up, `pip install --upgrade` the newer wheel; the next night runs the new version.
    """
    sim = fresh_simulator()
    with kit.service_user(root) as user:
        installed = kit.install(root, wheel)
        kit.write_config(root, sim.wsdl_url)
        kit.nightly_export(root, user)
        before = kit.night(user, root)
        assert before.code == 1, before.output
        backup = kit.readme_line(kit.BACKUP, root, user)
        assert backup.code == 0, backup.output
        _upgrade(installed, user, newer_wheel, sim)


def _upgrade(installed, user, newer_wheel, sim):
    """The upgrade and the night after it, as `user`."""
    root = installed.root
    state = Path(kit.unit_environment(root)["BATCH_STATE_DIR"])

    installed.pip("install", "--upgrade", newer_wheel)
    kit.nightly_export(root, user, changed=3, tag="night2-")
    sim.clear()
    after = kit.night(user, root)
    assert after.code == 1, after.output
    finished = _finished(after)
    assert finished["version"] == NEWER
    assert summary_of(Path(str(finished["workbook"])))["version"] == NEWER
    assert (finished["accepted"], finished["unchanged"], finished["new_fix"]) == (3, 27, 0)
    assert len(sim.received()) == 3
    assert _versions_in(state / "journal.sqlite3") == [__version__, NEWER]
    assert _versions_in(state / "journal-before-upgrade.sqlite3") == [__version__]
