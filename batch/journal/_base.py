"""The journal's pieces that hold no connection: schema, file and lock handling, codecs, types."""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from batch.errors import JournalLockedError, StateError
from batch.i18n import _
from batch.records import CellValue, Report

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from batch.journal._keys import Pseudonyms

__all__ = [
    "FINAL",
    "GROUPS",
    "IN_FLIGHT",
    "JOURNAL_NAME",
    "LOCAL_ZONE",
    "LOCK_NAME",
    "PAGE",
    "PENDING",
    "STATES",
    "CprBatch",
    "CprHistory",
    "GroupState",
    "InputInfo",
    "PendingRow",
    "RunInfo",
    "cells_text",
    "connect",
    "create_private",
    "default_state_dir",
    "dump_cells",
    "format_local",
    "group_by_cpr",
    "iso_micros",
    "load_cells",
    "micros_iso",
    "now_text",
    "pack_cells",
    "parse_time",
    "row_text",
    "sort_micros",
    "stored_text",
    "take_lock",
    "unusable",
    "utc_key",
]

JOURNAL_NAME = "journal.sqlite3"
LOCK_NAME = "journal.lock"
GROUPS: tuple[str, ...] = ("contact", "job", "education")
LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")
# A row's state as `slim_rows` stores it, one byte or none; the `rows` view reads the words.
PENDING, IN_FLIGHT, FINAL = "p", "i", ""
STATES = {"pending": PENDING, "in_flight": IN_FLIGHT, "final": FINAL}
PAGE = 1000  # rows per keyset page when streaming: bounded memory, short read transactions
_DT_TAG = "__batch_datetime__"


def default_state_dir() -> Path:
    """`$XDG_STATE_HOME/batch`, else `~/.local/state/batch`: per user, outside the work folder."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "batch"


def utc_key(moment: datetime) -> str:
    """A datetime as fixed-width UTC text, so that text order is time order in SQL and Python."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def format_local(moment: datetime) -> str:
    """Minutes in Danish local time: how a case worker reads a moment in the workbook.

    `dd-mm-yyyy hh:mm`, the display of the workbook's date-time cells, so a time reads the same
    in a Result text, a cell and `batch status`.
    """
    return moment.astimezone(LOCAL_ZONE).strftime("%d-%m-%Y %H:%M")


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _encode_cell(value: object) -> object:
    if isinstance(value, datetime):
        return {_DT_TAG: value.isoformat()}
    raise TypeError(f"cannot store a cell of type {type(value).__name__}")


def _decode_cell(obj: dict[str, Any]) -> object:
    if len(obj) == 1 and _DT_TAG in obj:
        return datetime.fromisoformat(obj[_DT_TAG])
    return obj


def dump_cells(cells: Mapping[str, CellValue]) -> str:
    return json.dumps(cells, ensure_ascii=False, default=_encode_cell)


def load_cells(text: str, names: Sequence[str] | None = None) -> dict[str, CellValue]:
    """A row's cells as stored: an object, or a list of values in the order of `names`."""
    cells = json.loads(text, object_hook=_decode_cell)
    if isinstance(cells, list):
        return dict(zip(names or (), cells, strict=True))
    return dict(cells)


def stored_text(text: str, fix_cells: str | None) -> str | None:
    """A Fix or Drop row's text as stored: none when it is its cells-to-fix messages joined.

    Every issue of most such rows names its column, so the text would repeat `fix_cells`
    word for word; `row_text` makes it again when read.
    """
    if fix_cells is not None and text == " ".join(json.loads(fix_cells).values()):
        return None
    return text


def row_text(text: str | None, fix_cells: str | None) -> str | None:
    """A row's text as read: as stored, else (see `stored_text`) its messages joined."""
    if text is not None or not fix_cells:
        return text
    return " ".join(json.loads(fix_cells).values())


def pack_cells(cells: Mapping[str, CellValue], names: Sequence[str]) -> str:
    """How a row's cells are stored: the values alone when its columns are its source's.

    The column names are then kept once per input (`sources.headers`), not in every row: about
    half of a row's cells in bytes. A row with other columns is stored as an object.
    """
    if len(cells) == len(names) and all(a == b for a, b in zip(cells, names, strict=True)):
        return json.dumps(list(cells.values()), ensure_ascii=False, default=_encode_cell)
    return dump_cells(cells)


def cells_text(stored: str, names_json: str | None) -> str:
    """The cells as `dump_cells` writes them, from how they are stored: what digests are of.

    The keyed digests of a row's cells (a Fix row seen again, a fixed original) are made of
    this text whichever way the row was stored, so they compare across schema versions.
    """
    if not stored.startswith("["):
        return stored
    names = json.loads(names_json) if names_json else []
    return json.dumps(dict(zip(names, json.loads(stored), strict=True)), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class InputInfo:
    """One input file (or sheet) of a run as the pipeline read it."""

    source_file: str
    sheet: str | None
    headers: list[str]
    rows: int
    blank: int
    fields: dict[str, str] = field(default_factory=dict)  # header -> canonical field, as read
    notes: dict[str, Any] = field(default_factory=dict)  # how it was read (intake's ReadNotes)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run: when, how it ended, with which settings and inputs."""

    run_id: str
    started: datetime
    finished: datetime | None
    status: str  # running | finished | interrupted | broken | failed
    message: str | None
    dry_run: bool
    settings: dict[str, object]
    inputs: list[InputInfo]
    files: list[str] = field(default_factory=list)
    version: str | None = None  # batch's version that ran it (None: written before 0.2)


@dataclass(frozen=True, slots=True)
class GroupState:
    """The newest registration UDB accepted for one CPR and group, and what it said."""

    registered: str  # utc_key
    content_hash: bytes  # keyed digest
    institution: int
    accepted_at: str  # ISO, UTC
    run_id: str


@dataclass(slots=True)
class CprHistory:
    """What UDB already accepted for one CPR: payload digests and the newest group per kind.

    Mutable on purpose: the one worker that holds a CPR updates it as it goes, so the next row
    of the same CPR in the same run is judged against what was just accepted. `keys` makes the
    digests it compares (the memory holds keyed digests only, see `_keys`).
    """

    keys: Pseudonyms
    person: bytes = b""  # the CPR's pseudonym when known (saves hashing it again)
    accepted: dict[bytes, tuple[str, str]] = field(default_factory=dict)  # digest -> (at, run)
    latest: dict[str, GroupState] = field(default_factory=dict)  # group -> state
    # Payloads UDB rejected for good (14, 15, 86): digest -> (at, run, code); not sent again.
    rejected: dict[bytes, tuple[str, str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PendingRow:
    """A row waiting to be sent: its journal id, where it came from and what to send."""

    row_id: int
    source_file: str
    source_row: int
    report: Report
    payload_hash: bytes  # keyed digest of the payload


@dataclass(frozen=True, slots=True)
class CprBatch:
    """Every pending row of one CPR, oldest registration first, with the CPR's history."""

    person: bytes  # the CPR number's pseudonym
    rows: list[PendingRow]
    history: CprHistory


def create_private(path: Path) -> None:
    """Create `path` owner-only before SQLite opens it: SQLite gives its -wal/-shm the same mode."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise unusable(path, exc.strerror) from exc
    os.close(fd)


def unusable(path: Path, why: object) -> StateError:
    """A journal that is no journal (a file of another kind, no permission): say where it is."""
    return StateError(
        _(
            "the journal {path} is not usable ({why}); move it aside or use another --state-dir"
        ).format(path=path, why=why)
    )


def newer_journal(path: Path, version: int, ours: int) -> StateError:
    """A journal a newer batch wrote: moving it aside would send every row again, so say not to."""
    return StateError(
        _(
            "the journal {path} was written by a newer version of batch (schema {version}; "
            "this one reads up to {ours}): run that version, or restore the backup taken before "
            "the upgrade; moving it aside would send every row once more"
        ).format(path=path, version=version, ours=ours)
    )


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (we BEGIN ourselves), WAL, synchronous=NORMAL."""
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    except sqlite3.Error as exc:
        raise unusable(path, exc) from exc
    try:
        # Before WAL: switching to WAL writes a new file's header, which fixes its auto-vacuum
        # mode for good (a purge then needs a full VACUUM); on an older file it only tells the
        # next VACUUM (see `_purge.reclaim_space`).
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        # Checkpoint (the only fsync under NORMAL) every ~40 MB of WAL instead of every 4 MB:
        # measured 1.6x fewer microseconds per committed row on a busy run.
        conn.execute("PRAGMA wal_autocheckpoint=10000")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: history lookups by CPR hit RAM
        # What is deleted or overwritten (a purged row's cells, an Unchanged row's payload) is
        # zeroed in the file, not left readable in free space until the next VACUUM.
        conn.execute("PRAGMA secure_delete=ON")
    except sqlite3.Error as exc:
        conn.close()
        raise unusable(path, exc) from exc
    return conn


def take_lock(state_dir: Path) -> int:
    """Hold an exclusive flock on the lock file for the journal's lifetime; say who holds it."""
    path = state_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        who = f" (pid {holder})" if holder.isdigit() else ""
        raise JournalLockedError(
            _(
                "another batch run{who} is using the state directory {folder}; "
                "wait for it to finish, or use another --state-dir"
            ).format(who=who, folder=state_dir)
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode("ascii"))
    return fd


def group_by_cpr(page: list[Any]) -> list[tuple[bytes, list[PendingRow]]]:
    groups: list[tuple[bytes, list[PendingRow]]] = []
    for cpr, row_id, source_file, source_row, payload, digest in page:
        if not groups or groups[-1][0] != cpr:
            groups.append((cpr, []))
        report = Report.from_json(payload)
        groups[-1][1].append(PendingRow(row_id, source_file, source_row, report, digest))
    return groups


def sort_micros(moment: datetime) -> int:
    """A moment as microseconds since 1970 (UTC): a row's place in its CPR's order, 8 bytes."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_micros(text: str) -> int:
    """An ISO moment (as `utc_key` writes it) as microseconds: the memory stores 8 bytes."""
    return sort_micros(datetime.fromisoformat(text))


def micros_iso(micros: int) -> str:
    """Inverse of `iso_micros`, in UTC: exactly the text `utc_key` gives for that moment."""
    return (_EPOCH + timedelta(microseconds=micros)).isoformat(timespec="microseconds")
