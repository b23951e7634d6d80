"""File names, owner-only creation and crash-safe publishing of the workbook and its summary.

Both files hold personal data, so they are created 0o600 from the first byte (never chmod-ed
after the data is in), written under a private 0o700 directory inside the report directory,
and only then linked under their final names: a crash never leaves a half workbook there, and
an existing file is never overwritten.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from batch.report._model import InputSheet, ReportPaths

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "WORK_PREFIX",
    "create_private",
    "first_free",
    "publish",
    "remove_orphaned_work",
    "report_stem",
    "stem_candidates",
    "work_prefix",
]

WORK_PREFIX = ".batch-report-"
_WORK_DIR = re.compile(re.escape(WORK_PREFIX) + r"([0-9]+)-")


def work_prefix() -> str:
    """The private work directory's prefix, naming our pid so a later run can tell orphans."""
    return f"{WORK_PREFIX}{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_orphaned_work(report_dir: Path) -> None:
    """Remove work directories whose writer was killed: they hold row data nobody will use."""
    if not report_dir.is_dir():
        return
    for entry in report_dir.iterdir():
        match = _WORK_DIR.match(entry.name)
        if match and entry.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)


# A stem that already ends in a run time (a result workbook fed back in) loses it, so the Fix
# sheet's round trip gives `demo-<new time>.xlsx`, not an ever longer name.
_RUN_TIME_SUFFIX = re.compile(r"-\d{8}-\d{6}(?:-\d+)?$")
_UNSAFE = re.compile(r"[^\w.\- ]+")


def report_stem(inputs: tuple[InputSheet, ...], started_local: str) -> str:
    """`<first input's stem>[-and-N-more]-<run start>`, safe as a file name."""
    files = list(dict.fromkeys(sheet.source_file for sheet in inputs))
    stem = Path(files[0]).stem if files else "batch"
    stem = _RUN_TIME_SUFFIX.sub("", _UNSAFE.sub("_", stem)).strip(" .") or "batch"
    more = f"-and-{len(files) - 1}-more" if len(files) > 1 else ""
    return f"{stem}{more}-{started_local}"


def stem_candidates(stem: str) -> Iterator[str]:
    """The stem, then `-2`, `-3`, ...: the first free one is used."""
    yield stem
    number = 2
    while True:
        yield f"{stem}-{number}"
        number += 1


def first_free(report_dir: Path, stem: str) -> str:
    """The first candidate stem for which neither the workbook nor the summary exists yet."""
    for candidate in stem_candidates(stem):
        names = (f"{candidate}.xlsx", f"{candidate}.json")
        if not any((report_dir / name).exists() for name in names):
            return candidate
    raise AssertionError  # pragma: no cover - the candidates never run out


@contextmanager
def create_private(path: Path) -> Iterator[BinaryIO]:
    """Open a new file for writing that only its owner can read, from the first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        yield handle


def publish(report_dir: Path, stem: str, workbook: Path, summary: Path) -> ReportPaths:
    """Give the finished files their final names, taking the next free stem on a clash."""
    for candidate in stem_candidates(stem):
        final = ReportPaths(report_dir / f"{candidate}.xlsx", report_dir / f"{candidate}.json")
        if not _place(workbook, final.workbook):
            continue
        if _place(summary, final.summary):
            return final
        final.workbook.unlink()
    raise AssertionError  # pragma: no cover - the candidates never run out


def _place(source: Path, target: Path) -> bool:
    """Link `source` to `target` unless `target` exists; False when it does."""
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        # No hard links on this file system: rename, checking first (a narrow race only).
        if target.exists():
            return False
        source.rename(target)
    return True
