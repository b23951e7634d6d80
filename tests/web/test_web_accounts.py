"""Local accounts: `batch user add|list|remove`, Argon2 hashes kept owner-only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from batch.errors import ConfigError
from batch.web.accounts import Accounts


def _batch(tmp_path, *args, stdin: str = ""):
    env = {**os.environ, "BATCH_STATE_DIR": str(tmp_path / "state"), "BATCH_LANGUAGE": "en"}
    return subprocess.run(
        [sys.executable, "-m", "batch", "user", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def test_user_add_list_remove_from_the_command_line(tmp_path):
    """A password piped on stdin makes an account; list shows it and its role; remove takes it."""
    added = _batch(tmp_path, "add", "anna", stdin="a long enough password\n")
    assert added.returncode == 0, added.stderr
    assert "a long enough password" not in added.stdout + added.stderr
    assert _batch(tmp_path, "list").stdout.split() == ["anna", "sender"]  # name, role
    assert _batch(tmp_path, "remove", "anna").returncode == 0
    assert _batch(tmp_path, "list").stdout.split() == []
    missing = _batch(tmp_path, "remove", "anna")
    assert missing.returncode == 2
    assert "no account" in missing.stderr


def test_the_users_file_holds_only_argon2_hashes_owner_only(tmp_path):
    """users.json is mode 0600 in a 0700 folder and holds no password, only Argon2id hashes."""
    accounts = Accounts(tmp_path / "state")
    accounts.add("anna", "a long enough password")
    text = accounts.path.read_text()
    assert "a long enough password" not in text
    assert "$argon2id$" in text
    assert stat.S_IMODE(accounts.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(accounts.path.parent.stat().st_mode) == 0o700
    assert accounts.verify("anna", "a long enough password")
    assert not accounts.verify("anna", "a long enough passwort")
    assert not accounts.verify("nobody", "a long enough password")


@pytest.mark.parametrize(("name", "password"), [("anna", "short"), ("../x", "long enough pass")])
def test_a_bad_name_or_short_password_is_refused(tmp_path, name, password):
    """Names are plain words; passwords have at least ten characters."""
    with pytest.raises(ConfigError):
        Accounts(tmp_path / "state").add(name, password)
