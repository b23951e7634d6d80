"""Local accounts of the web app: names and Argon2 hashes in one owner-only file.

The state directory already holds the journal with its CPR numbers, so it is where the people
allowed to see them are listed too (`<state_dir>/web/users.json`, mode 0600). Only Argon2id
hashes are stored; a password never touches a log line or the command line.
"""

from __future__ import annotations

import json
import os
import re
import threading
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from batch.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["MIN_PASSWORD", "Accounts", "private_dir", "write_private"]

MIN_PASSWORD = 10
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_HASHER = PasswordHasher()
# Verified against when the name is unknown, so an unknown name costs the same time.
_DUMMY = _HASHER.hash("not a password of anybody")


def private_dir(path: Path) -> Path:
    """Create `path` owner-only (and its parent: the state directory); tighten it if it exists."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.mkdir(mode=0o700, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (a crash leaves the old file or the new), mode 0600."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


class Accounts:
    """The users file of one state directory; safe to share between threads."""

    def __init__(self, state_dir: Path) -> None:
        self.path = private_dir(state_dir.expanduser() / "web") / "users.json"
        self._lock = threading.Lock()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(name): str(digest) for name, digest in data.items()}

    def _write(self, users: dict[str, str]) -> None:
        write_private(self.path, json.dumps(users, indent=1, sort_keys=True).encode())

    def names(self) -> list[str]:
        """The account names, sorted."""
        return sorted(self._read())

    def add(self, name: str, password: str) -> None:
        """Add `name` (or set a new password for it); `ConfigError` for a bad name or password."""
        if not _NAME.fullmatch(name):
            raise ConfigError(
                f"{name!r} cannot be an account name: use letters, digits and . _ @ - (at most 64)"
            )
        if len(password) < MIN_PASSWORD:
            raise ConfigError(f"the password is too short: use at least {MIN_PASSWORD} characters")
        with self._lock:
            users = self._read()
            users[name] = _HASHER.hash(password)
            self._write(users)

    def remove(self, name: str) -> None:
        """Remove `name`; `ConfigError` when there is no such account."""
        with self._lock:
            users = self._read()
            if users.pop(name, None) is None:
                raise ConfigError(f"there is no account {name!r}")
            self._write(users)

    def verify(self, name: str, password: str) -> bool:
        """True when `password` is `name`'s; the time taken does not tell whether `name` exists."""
        digest = self._read().get(name)
        try:
            return _HASHER.verify(digest or _DUMMY, password) and digest is not None
        except (VerificationError, InvalidHashError):
            return False
