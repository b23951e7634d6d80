"""A consistent copy of the journal through SQLite's online backup, safe while a run is going.

The copy needs no lock: it reads one snapshot in a single read transaction, which in WAL mode
neither waits for nor blocks the running writer. It is written owner-only under a temporary
name beside the target and only then linked under the target's name, so a crash or a full disk
never leaves a half backup that looks whole, and an existing file is never overwritten.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import TYPE_CHECKING

from batch.errors import ConfigError, StateError
from batch.i18n import N_, _
from batch.journal._base import JOURNAL_NAME
from batch.journal._keys import KEY_NAME

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["backup_journal"]

_EXISTS = N_("{target} exists already: a backup never overwrites a file")


def backup_journal(state_dir: Path, target: Path) -> Path:
    """Copy the journal of `state_dir` to `target` (a new file); return the journal copied.

    Raises:
        ConfigError: `target` exists already (a backup is never overwritten).
        StateError: there is no journal, or the copy cannot be written (message says why).
    """
    source = state_dir.expanduser() / JOURNAL_NAME
    if not source.is_file():
        raise StateError(_("there is no journal to back up in {folder}").format(folder=state_dir))
    if target.exists():
        raise ConfigError(_(_EXISTS).format(target=target))
    work = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        _copy(source, work)
        os.link(work, target)
        _copy_key(state_dir.expanduser() / KEY_NAME, target.with_name(f"{target.name}.key"))
    except FileExistsError:
        raise ConfigError(_(_EXISTS).format(target=target)) from None
    except (OSError, sqlite3.Error) as error:
        why = getattr(error, "strerror", None) or str(error)
        message = _("the backup {target} could not be written ({why})")
        raise StateError(message.format(target=target, why=why)) from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            work.unlink()
    return source


def _copy_key(key: Path, target: Path) -> None:
    """The memory's key beside the copy (`FILE.key`, owner-only): the memory needs it.

    A journal without a memory yet may have no key to copy.
    """
    if not key.is_file():
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.read_bytes())


def _copy(source: Path, work: Path) -> None:
    """One-step backup (one snapshot) into a file created owner-only from its first byte."""
    os.close(os.open(work, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    # Read-only: the backup must not change the journal, nor open one that is not there.
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    writer = sqlite3.connect(work)
    try:
        reader.backup(writer)  # pages=-1: the whole journal from one read transaction
        writer.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
    finally:
        writer.close()
        reader.close()
    fd = os.open(work, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
