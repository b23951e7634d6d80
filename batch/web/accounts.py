"""Local accounts of the web app: names and Argon2 hashes in one owner-only file.

The state directory already holds the journal with its CPR numbers, so it is where the people
allowed to see them are listed too (`<state_dir>/web/users.json`, mode 0600). Only Argon2id
hashes are stored; a password never touches a log line or the command line.

Each account has a role (`ROLES`): a viewer sees runs and workbooks, a sender also uploads and
sends, an admin also manages accounts and tokens. An account written before roles existed (its
entry is the bare hash) is a sender, as is a new account unless told otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from batch.errors import ConfigError
from batch.i18n import _

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "DEFAULT_ROLE",
    "MIN_PASSWORD",
    "NAME",
    "ROLES",
    "Accounts",
    "NamedEntries",
    "private_dir",
    "write_private",
]

MIN_PASSWORD = 10
ROLES = ("viewer", "sender", "admin")  # each may do what the one before it may, and more
DEFAULT_ROLE = "sender"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")  # an account's or a token's
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


class NamedEntries:
    """An owner-only JSON file of named entries (accounts, tokens), one writer at a time.

    Subclasses hold `self._lock` around a read-modify-write; `_entry` reads one stored value.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _entry(self, value: object) -> dict[str, str]:
        return dict(value) if isinstance(value, dict) else {}

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(name): self._entry(value) for name, value in data.items()}

    def _write(self, entries: dict[str, dict[str, str]]) -> None:
        write_private(self.path, json.dumps(entries, indent=1, sort_keys=True).encode())


class Accounts(NamedEntries):
    """The users file of one state directory; safe to share between threads."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(private_dir(state_dir.expanduser() / "web") / "users.json")

    def _entry(self, value: object) -> dict[str, str]:
        return _entry(value)

    def names(self) -> list[str]:
        """The account names, sorted."""
        return sorted(self._read())

    def roles(self) -> dict[str, str]:
        """Account name -> role, sorted by name."""
        return {name: entry["role"] for name, entry in sorted(self._read().items())}

    def role(self, name: str) -> str | None:
        """The role of `name`, None when there is no such account (any more)."""
        entry = self._read().get(name)
        return None if entry is None else entry["role"]

    def stamp(self, name: str) -> str | None:
        """A digest of the account's password hash, kept in its sessions at sign-in.

        A new password (or the account removed and made again) gives a new hash with a new
        salt, so the sessions signed in before it end at their next request; None: no account.
        """
        entry = self._read().get(name)
        return None if entry is None else hashlib.sha256(entry["hash"].encode()).hexdigest()[:16]

    def add(self, name: str, password: str, role: str | None = None) -> None:
        """Add `name` (or set a new password for it); `ConfigError` for a bad name or password.

        Without `role`, a new account is a sender and an existing one keeps its role.
        """
        if not NAME.fullmatch(name):
            raise ConfigError(
                _(
                    "{name} cannot be an account name: use letters, digits and . _ @ - (at most 64)"
                ).format(name=repr(name))
            )
        if len(password) < MIN_PASSWORD:
            raise ConfigError(
                _("the password is too short: use at least {count} characters").format(
                    count=MIN_PASSWORD
                )
            )
        _check_role(role)
        with self._lock:
            users = self._read()
            kept = users.get(name, {}).get("role", DEFAULT_ROLE)
            users[name] = {"hash": _HASHER.hash(password), "role": role or kept}
            self._write(users)

    def set_role(self, name: str, role: str) -> None:
        """Give `name` another role; `ConfigError` for no such account or no such role."""
        _check_role(role)
        with self._lock:
            users = self._read()
            if name not in users:
                raise ConfigError(_("there is no account {name}").format(name=repr(name)))
            users[name]["role"] = role
            self._write(users)

    def remove(self, name: str) -> None:
        """Remove `name`; `ConfigError` when there is no such account."""
        with self._lock:
            users = self._read()
            if users.pop(name, None) is None:
                raise ConfigError(_("there is no account {name}").format(name=repr(name)))
            self._write(users)

    def verify(self, name: str, password: str) -> bool:
        """True when `password` is `name`'s; the time taken does not tell whether `name` exists."""
        digest = self._read().get(name, {}).get("hash")
        try:
            return _HASHER.verify(digest or _DUMMY, password) and digest is not None
        except (VerificationError, InvalidHashError):
            return False


def _entry(value: object) -> dict[str, str]:
    """An account's entry; a bare hash (written before roles) is a sender's."""
    if isinstance(value, str):
        return {"hash": value, "role": DEFAULT_ROLE}
    if isinstance(value, dict):
        role = str(value.get("role", DEFAULT_ROLE))
        return {"hash": str(value.get("hash", "")), "role": role if role in ROLES else "viewer"}
    return {"hash": "", "role": "viewer"}


def _check_role(role: str | None) -> None:
    if role is not None and role not in ROLES:
        raise ConfigError(
            _("{role} is not a role: use one of {roles}").format(
                role=repr(role), roles=", ".join(ROLES)
            )
        )
