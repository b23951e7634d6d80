"""The memory's key: pseudonyms for CPR numbers, payloads and groups, keyed with HMAC-SHA256.

The memory of what UDB accepted does not need a CPR number or what was sent, only to recognise
them again; a keyed hash does that and, without the key, says nothing (a plain SHA-256 of a CPR
number is reversed by trying the few million valid numbers). The key is 32 random bytes in
`memory.key` in the state directory, owner-only, created on first use.

Digests are HMAC-SHA256 cut to 16 bytes (RFC 2104 allows truncation; 128 bits leave no
practical collision among a municipality's rows) and stored as BLOBs: raw bytes take half the
room of hex text and never read as a ten-digit number in a file dump.

Losing the key loses no row: the memory can no longer be read, so the next run sends every row
once. But a key that goes missing while a memory exists is not replaced silently: that would
hide a restore gone wrong. `batch purge --memory` forgets the memory on purpose.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from typing import TYPE_CHECKING

from batch.errors import StateError
from batch.i18n import N_, _
from batch.journal._base import utc_key
from batch.records import Contact

if TYPE_CHECKING:
    from pathlib import Path

    from batch.records import Wish

__all__ = ["DIGEST_SIZE", "KEY_NAME", "Pseudonyms", "forget_key", "load_key"]

KEY_NAME = "memory.key"
KEY_SIZE = 32
DIGEST_SIZE = 16


class Pseudonyms:
    """Keyed digests of one state directory's key; the only place the key is used."""

    __slots__ = ("_inner", "_key", "_outer")

    def __init__(self, key: bytes) -> None:
        self._key = key
        # HMAC's two padded-key hashes, made once: each digest then starts from a copy of
        # them. `hmac.digest` sets them up again on every call, 2.5x the time of the whole
        # digest here (4.6 against 1.7 us; two digests a row when a file is journalled).
        block = hashlib.sha256().block_size
        padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in padded))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in padded))

    def _digest(self, data: str) -> bytes:
        """HMAC-SHA256 of `data` (RFC 2104), cut to `DIGEST_SIZE`."""
        inner = self._inner.copy()
        inner.update(data.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:DIGEST_SIZE]

    def person(self, cpr: str) -> bytes:
        """The pseudonym of a CPR number: how the memory and `batch history` find a person."""
        return self._digest("person:" + cpr)

    def payload(self, payload_json: str) -> bytes:
        """The digest of a report's canonical JSON: equal digests, equal data sent."""
        return self._digest(payload_json)

    def group(self, group: Contact | Wish) -> bytes:
        """The digest of one group's content, its registration time taken in UTC."""
        if isinstance(group, Contact):
            parts: list[object] = ["contact", group.name, group.mail, group.phone]
        else:
            parts = ["wish", group.text]
        parts.append(utc_key(group.registered))
        return self._digest(json.dumps(parts))


def load_key(state_dir: Path, *, memory_exists: bool) -> Pseudonyms:
    """The state directory's key; created when missing, unless a memory needs the lost one.

    Raises:
        StateError: the key is missing while a memory exists, or cannot be read.
    """
    path = state_dir / KEY_NAME
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        if memory_exists:
            raise StateError(_missing(path)) from None
        return Pseudonyms(_create(path))
    except OSError as exc:
        raise StateError(
            _(
                "the memory's key {path} cannot be read ({why}); restore its owner "
                "and mode (0600), or restore it from the backup"
            ).format(path=path, why=exc.strerror)
        ) from exc
    if len(key) != KEY_SIZE:
        damaged = _("the memory's key {path} is damaged (not {size} bytes); {fix}")
        raise StateError(damaged.format(path=path, size=KEY_SIZE, fix=_(_FIX)))
    return Pseudonyms(key)


_FIX = N_(
    "restore it from the backup of the state directory, or forget the memory on purpose with "
    "`batch purge --memory` (the next run then sends every row once)"
)


def _missing(path: Path) -> str:
    return _(
        "the memory's key {path} is missing, but the journal remembers rows hashed with it; {fix}"
    ).format(path=path, fix=_(_FIX))


def _create(path: Path) -> bytes:
    """Write a new key owner-only from the first byte; never overwrite one (O_EXCL)."""
    key = secrets.token_bytes(KEY_SIZE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        message = _("the memory's key {path} cannot be created ({why})")
        raise StateError(message.format(path=path, why=exc.strerror)) from exc
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def forget_key(state_dir: Path) -> None:
    """Remove the key (after its memory was deleted): the next open creates a new one."""
    (state_dir / KEY_NAME).unlink(missing_ok=True)
