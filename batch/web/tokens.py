"""Bearer tokens of the HTTP API: names and SHA-256 digests in one owner-only file.

A token is shown once, when it is made (`batch token create NAME`), and only its digest is kept
(`<state_dir>/web/tokens.json`, mode 0600, beside the accounts). A token is 32 random bytes, so
a plain SHA-256 is enough: there is nothing to guess that a slow hash would protect, and each
API call is checked in microseconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from batch.errors import ConfigError
from batch.i18n import _
from batch.web.accounts import NAME, NamedEntries, private_dir

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["PREFIX", "TOKEN_ROLES", "TokenInfo", "Tokens"]

PREFIX = "batch_"  # lets a secret scanner (or a person) tell what a leaked string is
# As the pages' roles: a viewer reads runs, rows and workbooks; a sender also sends files.
TOKEN_ROLES = ("viewer", "sender")


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """One token as `batch token list` shows it: never the token itself."""

    name: str
    created: str  # ISO 8601, UTC
    role: str = "sender"  # a token made before roles existed sends, as accounts do


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Tokens(NamedEntries):
    """The tokens file of one state directory; safe to share between threads."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir.expanduser()
        super().__init__(private_dir(self.state_dir / "web") / "tokens.json")

    def create(self, name: str, role: str = "sender") -> str:
        """Make a token for `name` with `role` and return it (the only time it is seen).

        `ConfigError` for a bad name or one that has a token already: revoking first makes the
        replacement of a token a deliberate act, not a typo that cuts a system off.
        """
        if role not in TOKEN_ROLES:
            raise ConfigError(
                _("{role} is no token role: use {roles}").format(
                    role=repr(role), roles=" | ".join(TOKEN_ROLES)
                )
            )
        if not NAME.fullmatch(name):
            raise ConfigError(
                _(
                    "{name} cannot be a token name: use letters, digits and . _ @ - (at most 64)"
                ).format(name=repr(name))
            )
        token = PREFIX + secrets.token_urlsafe(32)
        with self._lock:
            tokens = self._read()
            if name in tokens:
                raise ConfigError(
                    _(
                        "there is a token named {name} already: `batch token revoke {plain}` first"
                    ).format(name=repr(name), plain=name)
                )
            created = datetime.now(UTC).isoformat(timespec="seconds")
            tokens[name] = {"sha256": _digest(token), "created": created, "role": role}
            self._write(tokens)
        return token

    def list(self) -> list[TokenInfo]:
        """Every token's name, when it was made and its role, sorted by name."""
        return [_info(name, entry) for name, entry in sorted(self._read().items())]

    def revoke(self, name: str) -> None:
        """Remove `name`'s token; `ConfigError` when there is none."""
        with self._lock:
            tokens = self._read()
            if tokens.pop(name, None) is None:
                raise ConfigError(_("there is no token named {name}").format(name=repr(name)))
            self._write(tokens)

    def holder(self, token: str) -> TokenInfo | None:
        """Whose token `token` is, or None; every digest is compared in constant time."""
        digest = _digest(token)
        found = None
        for name, entry in self._read().items():
            if hmac.compare_digest(entry.get("sha256", ""), digest):
                found = _info(name, entry)
        return found


def _info(name: str, entry: dict[str, str]) -> TokenInfo:
    return TokenInfo(name, entry.get("created", ""), entry.get("role", "sender"))
