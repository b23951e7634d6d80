"""Retention: a person's data in clear is kept `retention_days` (default 30), then deleted.

What holds a person's data in clear, and where the purge finds it:
- the journal's rows and attempts (see `batch.journal._purge`: unsettled rows are kept), and
  with them the keyed digests of single rows' cells: the Fix/Drop rows remembered as reported
  (`issues_seen`, once the last run that reported one is past retention) and the links of rows
  fed back through a Fix sheet (`fix_links`);
- result workbooks and JSON summaries (`<name>-YYYYMMDD-HHMMSS[-N].xlsx|.json`) in every report
  directory a run wrote to (the journal records each) and in the current `report_dir`; other
  files there are left alone;
- every file under `done/` and `failed/` of every inbox an `--inbox` run used (recorded in the
  journal when the run starts; `batch purge --inbox DIR` adds one), whatever its name;
- uploads of the web app: each folder under `<state_dir>/uploads/` goes when its newest file
  has expired.

A file's age counts from the later of its modification and its status change (`ctime`), so a
file moved into `done/` today is not taken for the export's old date. What stays: the
pseudonymised memory, each run's record and counts, and the key.

Purging runs at the end of every run (`batch run`) and on demand (`batch purge`). A failure to
remove a file is logged and counted, never fatal: the next purge tries again.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from batch.errors import BatchError
from batch.journal import Journal

if TYPE_CHECKING:
    from pathlib import Path

    from batch.config import Settings
    from batch.journal._purge import JournalPurge

__all__ = [
    "PurgeResult",
    "after_run",
    "cutoff_for",
    "expired_files",
    "purge",
    "remember_inbox",
]

log = structlog.get_logger(__name__)

UPLOADS = "uploads"
_REPORT_NAME = re.compile(r".+-\d{8}-\d{6}(?:-\d+)?\.(?:xlsx|json)$")


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What a purge removed (or, dry, would remove)."""

    journal: JournalPurge
    files: list[tuple[Path, int]] = field(default_factory=list)  # path, bytes
    failed: int = 0

    @property
    def file_bytes(self) -> int:
        """Bytes of the files removed."""
        return sum(size for _path, size in self.files)


def cutoff_for(days: float, now: datetime | None = None) -> datetime:
    """The moment before which data has expired."""
    return (now or datetime.now(UTC)) - timedelta(days=days)


def _age_mark(path: Path) -> float:
    info = path.stat()
    return max(info.st_mtime, info.st_ctime)


def _expired(path: Path, cutoff: float) -> bool:
    try:
        return _age_mark(path) < cutoff
    except OSError:
        return False  # gone meanwhile


def _files_under(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.rglob("*") if path.is_file())


def expired_files(
    report_dirs: list[Path], inboxes: list[Path], state_dir: Path, cutoff: datetime
) -> list[Path]:
    """Every file past retention in the places the purge looks after (see the docstring)."""
    mark = cutoff.timestamp()
    found: list[Path] = []
    for folder in dict.fromkeys(report_dirs):
        if folder.is_dir():
            found += sorted(
                path
                for path in folder.iterdir()
                if path.is_file() and _REPORT_NAME.match(path.name) and _expired(path, mark)
            )
    for inbox in dict.fromkeys(inboxes):
        for sub in ("done", "failed"):
            found += [path for path in _files_under(inbox / sub) if _expired(path, mark)]
    uploads = state_dir / UPLOADS
    if uploads.is_dir():
        for upload in sorted(uploads.iterdir()):
            files = _files_under(upload) if upload.is_dir() else [upload]
            if files and all(_expired(path, mark) for path in files):
                found += files
    return found


def _remove(paths: list[Path], state_dir: Path) -> tuple[list[tuple[Path, int]], int]:
    removed: list[tuple[Path, int]] = []
    failed = 0
    for path in paths:
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            failed += 1
            log.warning("an expired file could not be removed", file=str(path), error=str(exc))
            continue
        removed.append((path, size))
    uploads = state_dir / UPLOADS
    if uploads.is_dir():  # an upload's folder goes with its last file
        for upload in uploads.iterdir():
            if upload.is_dir() and not _files_under(upload):
                shutil.rmtree(upload, ignore_errors=True)
    return removed, failed


def purge(
    journal: Journal,
    *,
    state_dir: Path,
    report_dir: Path,
    cutoff: datetime,
    dry_run: bool = False,
    inboxes: tuple[Path, ...] = (),
) -> PurgeResult:
    """Remove everything past `cutoff` that holds a person's data in clear (see the docstring)."""
    for inbox in inboxes:
        journal.remember_place("inbox", inbox)
    in_journal = journal.purge(cutoff, dry_run=dry_run)
    paths = expired_files(
        [report_dir, *journal.places("reports")], journal.places("inbox"), state_dir, cutoff
    )
    if dry_run:
        return PurgeResult(in_journal, [(path, _size(path)) for path in paths])
    removed, failed = _remove(paths, state_dir)
    return PurgeResult(in_journal, removed, failed)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def remember_inbox(state_dir: Path, inbox: Path) -> None:
    """Record an inbox in the journal, so that its `done/` and `failed/` files expire."""
    with Journal.open(state_dir) as journal:
        journal.remember_place("inbox", inbox)


def after_run(journal: Journal, run_id: str, settings: Settings) -> None:
    """Compact the run's Unchanged rows and purge what passed retention (see `retention`)."""
    journal.compact(run_id)
    journal.remember_place("reports", settings.report_dir)
    try:
        result = purge(
            journal,
            state_dir=settings.state_dir,
            report_dir=settings.report_dir,
            cutoff=cutoff_for(settings.retention_days),
        )
    except (OSError, sqlite3.Error, BatchError) as exc:  # the run is done; the next tries again
        log.warning("purging expired data failed", error=str(exc))
        return
    if result.journal.rows or result.files:
        log.info(
            "expired data purged",
            rows=result.journal.rows,
            files=len(result.files),
            file_bytes=result.file_bytes,
            journal_bytes_before=result.journal.bytes_before,
            journal_bytes_after=result.journal.bytes_after,
        )
