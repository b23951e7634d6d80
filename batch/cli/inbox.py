"""`batch run --inbox DIR`: every export in a folder, one run each, then done/ or failed/.

What the inbox leaves alone, untouched and without an error: a file still being written (its
size or time changed within the last minute), a file open in LibreOffice or Excel (their lock
files `.~lock.NAME#` and `~$NAME` beside it), those lock files themselves, hidden files, and
notes (README, or a `.txt` file that does not read as an export). Only a file that looks like
an export and cannot be read goes to failed/.

Two inbox runs never work on one folder at once: the first holds a lock on the folder itself
(flock on the directory; no lock file is written into it), and a refused run touches nothing.
A file moved to done/ or failed/ gets the time of its run in its name, so the same export name
night after night never overwrites an earlier one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from batch.cli.exit_codes import EXIT_SIGNALLED, EXIT_USAGE
from batch.cli.options import INPUT_SUFFIXES
from batch.errors import InputError, SetupError, StateError
from batch.i18n import _
from batch.logging import RESULT_LOGGER

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from batch.errors import BatchError
    from batch.pipeline import RunResult

__all__ = [
    "SETTLE_SECONDS",
    "FileRun",
    "InboxBusyError",
    "InboxScan",
    "inbox_lock",
    "move_aside",
    "run_inbox",
    "scan_inbox",
]

SETTLE_SECONDS = 60.0  # a file changed more recently than this may still be being written
_NOTE_SUFFIX = ".txt"  # a .txt file is an export only when it reads as one
_OFFICE_LOCKS = (".~lock.", "~$")  # LibreOffice's `.~lock.NAME#`, Excel's `~$NAME`

log = structlog.get_logger("batch.cli")
result_log = structlog.get_logger(RESULT_LOGGER)


@dataclass(frozen=True, slots=True)
class FileRun:
    """What one file's run ended with: its exit code, its result, or the error that stopped it."""

    code: int
    result: RunResult | None = None
    error: BatchError | None = None
    stop: bool = False  # the inbox stops here (a signal, a set-up problem, the time is up)


@dataclass(slots=True)
class InboxScan:
    """The files to process, in name order, and the ones left alone with the reason why."""

    ready: list[Path] = field(default_factory=list)
    left_alone: list[tuple[Path, str]] = field(default_factory=list)


class InboxBusyError(StateError):
    """Another `batch run --inbox` works on the same folder."""


@contextlib.contextmanager
def inbox_lock(inbox: Path) -> Iterator[None]:
    """Hold an exclusive lock on the inbox folder itself for the whole inbox run."""
    try:
        fd = os.open(inbox, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise StateError(
            _("the inbox {inbox} cannot be opened ({why})").format(inbox=inbox, why=error.strerror)
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InboxBusyError(
                _(
                    "another batch run is working on the inbox {inbox}; this run touched "
                    "nothing: wait for the other one to finish"
                ).format(inbox=inbox)
            ) from None
        except OSError as error:  # a file system without locks (some network shares)
            raise StateError(
                _("the inbox {inbox} cannot be locked ({why})").format(
                    inbox=inbox, why=error.strerror
                )
            ) from None
        yield
    finally:
        os.close(fd)


def _why_left_alone(path: Path, names: set[str], now: float) -> str | None:
    """The reason to leave `path` alone, or None when it is an export to process."""
    name = path.name
    if name.startswith(_OFFICE_LOCKS):
        return "office lock file"
    if name.startswith("."):
        return "hidden file"
    if path.suffix.lower() not in INPUT_SUFFIXES:
        return "not an export"
    if {f".~lock.{name}#", f"~${name}", f"~${name[2:]}"} & names:
        return "open in an office program"
    if now - path.stat().st_mtime < SETTLE_SECONDS:
        return "still being written"
    return None


def scan_inbox(inbox: Path, now: float | None = None) -> InboxScan:
    """Sort the inbox's files into those to process and those to leave alone."""
    now = time.time() if now is None else now
    entries = sorted(entry for entry in inbox.iterdir() if entry.is_file())
    names = {entry.name for entry in entries}
    found = InboxScan()
    for path in entries:
        why = _why_left_alone(path, names, now)
        if why is None:
            found.ready.append(path)
        else:
            found.left_alone.append((path, why))
    return found


def move_aside(path: Path, folder: Path, stamp: str) -> Path | None:
    """`_move_aside`, with an operator's message when the inbox cannot be written (exit 4)."""
    try:
        return _move_aside(path, folder, stamp)
    except OSError as error:
        raise SetupError(
            _(
                "{file} cannot be moved to {folder} ({why}); it stays in the inbox and the "
                "next run reads it again (what was accepted is not sent twice)"
            ).format(file=path, folder=folder, why=error.strerror)
        ) from None


def _move_aside(path: Path, folder: Path, stamp: str) -> Path | None:
    """Move `path` into `folder` as `STEM-STAMP.SUFFIX` (then -2, -3, ...), never overwriting.

    The name is reserved with O_EXCL before the rename, so a file already there (or put there
    at the same moment) is never replaced. None when `path` is gone (moved by someone else).
    """
    folder.mkdir(mode=0o700, exist_ok=True)
    for number in range(1, 10_000):
        extra = "" if number == 1 else f"-{number}"
        target = folder / f"{path.stem}-{stamp}{extra}{path.suffix}"
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        try:
            path.replace(target)
        except FileNotFoundError:
            target.unlink()
            log.warning("inbox file vanished", file=str(path))
            return None
        return target
    raise AssertionError  # pragma: no cover - ten thousand runs of one name in one second


def run_inbox(
    inbox: Path,
    run_file: Callable[[Path], FileRun],
    show_error: Callable[[BatchError], None],
    *,
    require_file: bool,
) -> int:
    """One run per file, so one bad file cannot hold back the others; the worst code wins.

    A file whose rows were all settled (accepted, unchanged, or for a person to fix) moves to
    done/; a file that could not be read to failed/. A file with rows still to send (exit 3),
    or whose run was interrupted or stopped by a set-up problem, stays: the next run sends what
    is left. A set-up problem, a signal or the end of `max_run_minutes` stops the inbox (every
    other file would meet it too); any other error (the journal's lock, the configuration)
    stops it as well and touches nothing: it is not the file's fault. `run_file` shows nothing
    of an error; this shows it through `show_error`, except for a note, which is no error.
    """
    found = scan_inbox(inbox)
    for path, why in found.left_alone:
        log.info("inbox file left alone", file=str(path), reason=why)
    worst, moved = 0, 0
    for path in found.ready:
        code, done = _one(inbox, path, run_file, show_error)
        moved += done
        if code >= EXIT_SIGNALLED or code < 0:
            worst = max(worst, abs(code))  # a signal, or a stop that is not the file's
            break
        worst = max(worst, code)
    if not found.ready and require_file:
        show_error(
            InputError(
                _(
                    "no export in the inbox {inbox} (--require-file): "
                    "is the export upstream broken?"
                ).format(inbox=inbox)
            )
        )
        worst = EXIT_USAGE
    result_log.info(
        "inbox finished",
        inbox=str(inbox),
        files=len(found.ready),
        moved=moved,
        left_alone=len(found.left_alone),
        exit_code=worst,
    )
    return worst


def _one(
    inbox: Path,
    path: Path,
    run_file: Callable[[Path], FileRun],
    show_error: Callable[[BatchError], None],
) -> tuple[int, int]:
    """Run one file and move it; a negative code means: stop the inbox with this code."""
    outcome = run_file(path)
    try:
        return _settle(inbox, path, outcome, show_error)
    except SetupError as error:  # done/ or failed/ cannot be written: stop for tonight
        show_error(error)
        return -error.exit_code, 0


def _settle(
    inbox: Path, path: Path, outcome: FileRun, show_error: Callable[[BatchError], None]
) -> tuple[int, int]:
    """Move the file as its run's outcome says; see `run_inbox`."""
    if outcome.stop:
        return -outcome.code, 0
    error = outcome.error
    if error is not None and not isinstance(error, InputError):
        show_error(error)  # not the file's fault (lock, configuration, set-up): leave it
        return -error.exit_code, 0
    if error is not None:
        if path.suffix.lower() == _NOTE_SUFFIX:
            log.info("inbox file left alone", file=str(path), reason="a note, not an export")
            return 0, 0
        show_error(error)
        stamp = datetime.now().astimezone().strftime("%Y%m%dT%H%M%S")
        target = move_aside(path, inbox / "failed", stamp)
        log.warning("inbox file failed", file=str(path), moved_to=str(target))
        return outcome.code, int(target is not None)
    if outcome.code in (0, 1) and outcome.result is not None:
        target = move_aside(path, inbox / "done", outcome.result.run_id)
        log.info("inbox file done", file=str(path), moved_to=str(target))
        return outcome.code, int(target is not None)
    return outcome.code, 0
