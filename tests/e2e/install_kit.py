"""Install the wheel as operations do: a clean build, a venv of its own, a service user, nights.

The paths are those of README's "Nightly use" and of deploy/batch.service, rebased under a
temporary folder that stands in for `/` (the test must not touch the real /opt or /srv). The
dependencies are not downloaded (tests never leave loopback): the new venv sees the dev venv's
site-packages through a `.pth` file, filtered so that the checkout's own `batch` is not among
them and only the installed wheel can be imported.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.helpers import Run
from tests.e2e.nightly_kit import settle
from tests.reliability.kit import good_rows, write_csv

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "batch.service"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # systemd's PATH
# README's "Nightly use", word for word but for {root} (standing in for /) and {user} (kui).
USERADD = (
    "useradd --system --user-group --home-dir {root}/var/lib/batch --shell /usr/sbin/nologin {user}"
)
FOLDERS = (
    "install -d -o {user} -g {user} -m 0700"
    " {root}/var/lib/batch {root}/srv/kui/inbox {root}/srv/kui/reports"
)
BACKUP = (
    "runuser -u {user} -- {root}/opt/batch/bin/batch backup --state-dir {root}/var/lib/batch"
    " {root}/var/lib/batch/journal-before-upgrade.sqlite3"
)
CRON_SETUP = (
    "install -d -o {user} -g {user} -m 0700 {root}/var/log/batch {root}/etc/batch/kui",
    "printf '%s' 'the PKCS#12 password' > {root}/etc/batch/kui/tls.pass",
    "printf '%s' 'the PKCS#12 password' > {root}/etc/batch/kui/sign.pass",
    "chown {user}:{user} {root}/etc/batch/kui/*.pass && chmod 0400 {root}/etc/batch/kui/*.pass",
)
ROWS = 30  # rows of the nightly export, plus one that UDB cannot take (it stays in Fix)
_VERSION = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)
_ABSOLUTE = re.compile(r"(?<![\w./-])/(?=(?:opt|etc|var|srv)/)")  # the unit's own paths
_CHECKOUTS_BATCH = re.compile(r"^(batch|batch[-.].*|__editable__.*|.*\.pth)$")


def rebase(text: str, root: Path) -> str:
    """The unit's and README's absolute paths (/opt, /etc, /var, /srv) moved under `root`."""
    return _ABSOLUTE.sub(f"{root}/", text)


def tracked_files() -> list[str]:
    """The checkout's tracked files (`git ls-files`), relative to its root."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed: the clean copy is made with `git ls-files`")
    listed = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip(f"not a git checkout: {listed.stderr.decode(errors='replace').strip()}")
    return list(filter(None, listed.stdout.decode().split("\0")))


def clean_copy(dest: Path, *, version: str | None = None) -> Path:
    """The checkout's tracked files in `dest`, so no stale build/ or egg-info reaches the wheel.

    `version` rewrites `batch.__version__` in the copy: the one place the version is written.
    """
    for name in tracked_files():
        if (ROOT / name).is_file():  # a file deleted but not yet committed is not copied
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    if version is not None:
        init = dest / "batch" / "__init__.py"
        text, count = _VERSION.subn(f'__version__ = "{version}"', init.read_text("utf-8"))
        assert count == 1, 'batch/__init__.py must say __version__ = "..." once'
        init.write_text(text, encoding="utf-8")
    return dest


def build_wheel(source: Path, out: Path) -> Path:
    """The wheel of `source`, built offline with the dev venv's setuptools (README, step 1)."""
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*build, "--no-index", "--quiet", "-w", out, source],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("batch-*.whl")
    return wheel


def readable_by_all(path: Path) -> bool:
    """Whether any user may reach `path`: every folder above it lets others through."""
    real = path.resolve()
    folders_open = all(p.stat().st_mode & stat.S_IXOTH for p in real.parents)
    return folders_open and bool(real.stat().st_mode & stat.S_IROTH)


def base_python() -> str:
    """A Python of the dev venv's version that the service user may run, as on a server.

    The dev venv's own base may live where others cannot go (pyenv under /root); the system's
    `python3.X` of the same version shares the compiled dependencies (one ABI per 3.X).
    """
    name = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [shutil.which(name, path=SYSTEM_PATH), sys._base_executable]
    usable = [found for found in candidates if found and readable_by_all(Path(found))]
    return usable[0] if usable else sys._base_executable


@dataclass(frozen=True)
class Installation:
    """A venv at the unit's program path under `root`, with the wheel installed in it."""

    root: Path
    venv: Path

    def pip(self, *args: str | Path) -> None:
        """The venv's own pip, offline: what the README's `/opt/batch/bin/pip` does."""
        done = subprocess.run(
            [self.venv / "bin" / "pip", *args, "--no-deps", "--no-index", "--quiet"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    def python(self, code: str) -> str:
        """What the venv's Python prints for `code`, started from `/` as a service is."""
        done = subprocess.run(
            [self.venv / "bin" / "python", "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd="/",
            env={"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"},
        )
        return done.stdout.strip()


def install(root: Path, wheel: Path) -> Installation:
    """`python3.X -m venv /opt/batch` and the wheel in it, then the dependencies beside it.

    The wheel goes in before the dependencies are linked, and they are linked without the
    checkout's `batch`: pip must never see (or try to replace) the dev venv's own install.
    """
    venv = Path(unit_command(root)[0]).parent.parent
    assert venv.is_relative_to(root), f"{venv} would be outside the test's folder"
    subprocess.run([base_python(), "-m", "venv", venv], check=True, capture_output=True)
    installed = Installation(root, venv)
    installed.pip("install", wheel)
    dependencies = root / "dependencies"
    dependencies.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not _CHECKOUTS_BATCH.match(entry.name):
            (dependencies / entry.name).symlink_to(entry)
    site = Path(installed.python("import sysconfig; print(sysconfig.get_paths()['purelib'])"))
    (site / "dev-dependencies.pth").write_text(f"{dependencies}\n", encoding="utf-8")
    return installed


@contextlib.contextmanager
def serving(installed: Installation, state: Path) -> Iterator[str]:
    """`batch serve` from the installed venv on a free loopback port; its address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    program = installed.venv / "bin" / "batch"
    command = [program, "serve", "--port", str(port), "--state-dir", state, "--quiet"]
    env = {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8", "HOME": str(state)}
    with subprocess.Popen(command, cwd="/", env=env, stderr=subprocess.PIPE) as server:
        try:
            _wait_for_port(port, server)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(30)


def _wait_for_port(port: int, server: subprocess.Popen[bytes]) -> None:
    """Until the server takes connections; fails at once if it ends first (a start-up error)."""
    deadline = time.monotonic() + 120  # a bound for a stuck start, not a speed expectation
    while time.monotonic() < deadline:
        if server.poll() is not None:
            assert server.stderr is not None
            pytest.fail(f"batch serve ended: {server.stderr.read().decode(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    pytest.fail("batch serve did not start listening")


def write_config(root: Path, wsdl: str) -> Path:
    """The unit's BATCH_CONFIG file: the service to send to (the simulator), as root writes it."""
    path = Path(unit_environment(root)["BATCH_CONFIG"])
    path.parent.mkdir(parents=True)
    service = f'[service]\nwsdl = "{wsdl}"\nsystem_id = "KUI-TEST"\n'
    path.write_text(service, encoding="utf-8")
    return path


def unit_settings(name: str) -> list[str]:
    """Every value of `name=` in deploy/batch.service, in order."""
    text = UNIT.read_text(encoding="utf-8")
    return re.findall(rf"^{name}=(.*)$", text, flags=re.MULTILINE)


def unit_command(root: Path) -> list[str]:
    """The unit's ExecStart, its paths under `root`."""
    (line,) = unit_settings("ExecStart")
    return shlex.split(rebase(line, root))


def unit_environment(root: Path) -> dict[str, str]:
    """The unit's Environment= variables, their paths under `root`."""
    pairs = (rebase(line, root).split("=", 1) for line in unit_settings("Environment"))
    return dict(pairs)


@contextlib.contextmanager
def service_user(root: Path) -> Iterator[str]:
    """A system user made by README's `useradd` line (unique name), removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("creating and running as a service user needs root (CI runs as root)")
    shared = Path(sysconfig.get_paths()["purelib"])
    if not readable_by_all(shared):
        pytest.skip(f"the service user cannot read the dev venv's dependencies in {shared}")
    if not readable_by_all(Path(base_python())):
        pytest.skip(f"no python{sys.version_info.major}.{sys.version_info.minor} for all users")
    missing = [
        t for t in ("useradd", "userdel", "runuser") if not shutil.which(t, path=SYSTEM_PATH)
    ]
    if missing:
        pytest.skip(f"no {', '.join(missing)} on this machine")
    user = f"udbtest{secrets.token_hex(4)}"
    made = readme_line(USERADD, root, user)
    if made.code != 0:
        pytest.skip(f"useradd is refused on this machine: {made.stderr.strip()}")
    try:
        folders = readme_line(FOLDERS, root, user)
        assert folders.code == 0, folders.output
        yield user
    finally:
        userdel = shutil.which("userdel", path=SYSTEM_PATH) or "userdel"
        subprocess.run([userdel, user], capture_output=True, check=False)


def readme_line(template: str, root: Path, user: str) -> Run:
    """One of README's lines as root runs it, its paths under `root`, `kui` being `user`."""
    done = subprocess.run(
        ["/bin/sh", "-c", template.format(root=root, user=user)],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
        env={"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"},
    )
    return Run(done.returncode, done.stdout, done.stderr)


def as_user(user: str, root: Path, *command: str | Path) -> Run:
    """`runuser -u USER -- COMMAND` from `/`, in the environment deploy/batch.service sets."""
    env = {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8", **unit_environment(root)}
    done = subprocess.run(
        ["runuser", "-u", user, "--", *map(str, command)],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
        env=env,
        timeout=180,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def night(user: str, root: Path) -> Run:
    """One night: the unit's ExecStart as the service user."""
    return as_user(user, root, *unit_command(root))


def cron_night(user: str, root: Path) -> Run:
    """One night by README's cron line, as cron runs it: `/bin/sh -c` as the user.

    Cron's own environment only (the unit's is not there); the log is the file the line
    appends to.
    """
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (line,) = re.findall(r"^```cron\n(.*)\n```$", readme, flags=re.MULTILINE)
    fields = line.split(maxsplit=6)
    assert fields[5] == "kui", "README's cron line runs as kui"
    command = rebase(fields[6], root)
    log = Path(re.findall(r">>(\S+)", command)[0])
    home = root / "var" / "lib" / "batch"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "SHELL": "/bin/sh", "LOGNAME": user}
    runuser = shutil.which("runuser", path=SYSTEM_PATH) or "runuser"
    done = subprocess.run(
        [runuser, "-u", user, "--", "/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        check=False,
        cwd=home,
        env=env,
        timeout=180,
    )
    return Run(done.returncode, done.stdout + done.stderr, log.read_text(encoding="utf-8"))


def nightly_export(root: Path, user: str, *, changed: int = 0, tag: str = "") -> Path:
    """The export job's file in the inbox, as last evening's: the first `changed` rows differ.

    The same name every night, written as the service user's (README: the export job writes as
    `kui`), and one row UDB cannot take, so every night has a row in Fix.
    """
    rows = good_rows(ROWS)
    rows[:changed] = good_rows(changed, tag=tag)
    broken = good_rows(1, tag="bad", first=1000)[0]
    broken[3] = "ikke-en-mail"
    path = write_csv(root / "srv" / "kui" / "inbox" / "kui-export.csv", [*rows, broken])
    path.chmod(0o600)  # written as `kui` under the unit's UMask=0077
    settle(path)
    shutil.chown(path, user, user)
    return path


def loose_files(folder: Path, owner: str) -> list[str]:
    """What under `folder` (itself included) is not 0600 (files) or 0700 (folders) and owner's.

    The journal, the workbooks and the exports hold personal data: the service user's alone.
    """
    found = []
    for path in [folder, *folder.rglob("*")]:
        info = path.lstat()
        wanted = 0o700 if stat.S_ISDIR(info.st_mode) else 0o600
        if stat.S_IMODE(info.st_mode) != wanted or path.owner() != owner:
            found.append(f"{path} {stat.filemode(info.st_mode)} {path.owner()}")
    return found
