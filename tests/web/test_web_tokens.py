"""API tokens: `batch token create|list|revoke`, only a digest kept, owner-only."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys

import pytest

from batch.errors import ConfigError
from batch.web.audit import read_entries
from batch.web.tokens import Tokens


def _batch(tmp_path, *args):
    env = {**os.environ, "BATCH_STATE_DIR": str(tmp_path / "state"), "BATCH_LANGUAGE": "en"}
    return subprocess.run(
        [sys.executable, "-m", "batch", "token", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def test_token_create_list_revoke_from_the_command_line(tmp_path):
    """`token create` prints it once; `list` names it without it; `revoke` removes it; audited."""
    made = _batch(tmp_path, "create", "sagssystem")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("batch_")
    assert len(token) > 40
    assert "not shown again" in made.stderr
    listed = _batch(tmp_path, "list")
    assert listed.stdout.split("\t")[:2] == ["sagssystem", "sender"]
    assert token not in listed.stdout
    holder = Tokens(tmp_path / "state").holder(token)
    assert holder is not None
    assert (holder.name, holder.role) == ("sagssystem", "sender")
    again = _batch(tmp_path, "create", "sagssystem")
    assert again.returncode == 2
    assert "revoke" in again.stderr
    assert _batch(tmp_path, "revoke", "sagssystem").returncode == 0
    assert Tokens(tmp_path / "state").holder(token) is None
    missing = _batch(tmp_path, "revoke", "sagssystem")
    assert missing.returncode == 2
    assert "no token" in missing.stderr
    changes = read_entries(tmp_path / "state", "token")
    assert [entry.detail for entry in changes] == ["revoked", "created (sender)"]  # newest first
    assert all(entry.actor.startswith("cli:") and entry.target == "sagssystem" for entry in changes)


def test_the_tokens_file_holds_only_digests_owner_only(tmp_path):
    """tokens.json is mode 0600 in a 0700 folder and holds the SHA-256 digest, not the token."""
    tokens = Tokens(tmp_path / "state")
    token = tokens.create("planner")
    text = tokens.path.read_text()
    assert token not in text
    assert hashlib.sha256(token.encode()).hexdigest() in text
    assert stat.S_IMODE(tokens.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(tokens.path.parent.stat().st_mode) == 0o700
    assert tokens.holder(token + "x") is None
    assert tokens.holder("") is None


@pytest.mark.parametrize("name", ["../x", "", "a b"])
def test_a_bad_token_name_is_refused(tmp_path, name):
    """Token names are plain words, as account names are."""
    with pytest.raises(ConfigError):
        Tokens(tmp_path / "state").create(name)


def test_a_token_role_must_be_viewer_or_sender(tmp_path):
    """A token reads (viewer) or also sends (sender); no other role, and sender by default."""
    tokens = Tokens(tmp_path / "state")
    with pytest.raises(ConfigError):
        tokens.create("dashboard", "admin")
    holder = tokens.holder(tokens.create("dashboard", "viewer"))
    assert holder is not None
    assert holder.role == "viewer"
