"""Uploaded files: received with a size limit, typed by their content, kept owner-only.

Each upload is a folder `<state_dir>/uploads/<id>/` (the journal's retention purges the folders
by age): `original.<kind>` as received, `upload.json` with its original name, owner, sheet,
header row and column mapping, and `rows.sqlite3` with the checked rows and the user's edits.
Everything a user chose or typed is on disk before the page answers, so a restart of `batch
serve` loses nothing. Ids are 24 lowercase letters: they cannot name another folder, and they
never look like a CPR number in a log line.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import string
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from starlette.requests import Request

from batch.errors import InputError
from batch.i18n import _
from batch.web.accounts import private_dir, write_private

if TYPE_CHECKING:
    from pathlib import Path

    from starlette.types import Message

__all__ = [
    "BodyTooLargeError",
    "Upload",
    "UploadStore",
    "declared_too_large",
    "limited",
    "sniff_kind",
]

_SLACK = 64 * 1024  # multipart framing around the file itself


class BodyTooLargeError(Exception):
    """The request body passed the upload limit."""


def declared_too_large(request: Request, limit: int) -> bool:
    """The request says at once that its body is over `limit` (and the framing around it)."""
    declared = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > limit + _SLACK


def limited(request: Request, limit: int) -> Request:
    """The request, its body refused (`BodyTooLargeError`) once past `limit`, as it streams in.

    Counted on the stream, not taken from Content-Length, which a client may leave out or lie in.
    """
    counted = 0

    async def receive() -> Message:
        nonlocal counted
        message = await request.receive()
        counted += len(message.get("body", b""))
        if counted > limit + _SLACK:
            raise BodyTooLargeError
        return message

    return Request(request.scope, receive)


_ID = re.compile(r"[a-z]{24}")
_HEAD = 64 * 1024
_OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")
_TEXT_ENCODINGS = ("utf-8-sig", "utf-16", "cp1252")
META = "upload.json"


@dataclass
class Upload:
    """One upload's facts and the user's choices about it (saved as `upload.json`)."""

    id: str
    owner: str
    name: str  # the file's name as the user's computer gave it
    kind: str  # csv, xlsx, xls or ods: from the content
    size: int
    created: str
    sheet: str | None = None
    header_row: int | None = None  # 1-based as Excel shows it; None: found by the loader
    mapping: dict[str, str] = field(default_factory=dict)  # header -> field or "ignore"
    run_ids: list[str] = field(default_factory=list)  # runs that sent this upload's rows
    workbook: str | None = None  # the last run's result workbook

    def path(self, root: Path) -> Path:
        """The stored file."""
        return root / self.id / f"original.{self.kind}"


def sniff_kind(head: bytes, path: Path) -> str:
    """csv, xlsx, xls or ods from the bytes themselves; the file's name is not trusted."""
    if head.startswith(_OLE2):
        return "xls"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(_not_a_table())
    for encoding in _TEXT_ENCODINGS:
        try:
            head.decode(encoding)
        except UnicodeDecodeError:
            continue
        if head.strip():
            return "csv"
        raise InputError(_("the file is empty: export the table again and upload that file"))
    raise InputError(_not_a_table())


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                kind = archive.read("mimetype").decode("ascii", "replace").strip()
                if kind == "application/vnd.oasis.opendocument.spreadsheet":
                    return "ods"
            elif "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
                return "xlsx"
    except (zipfile.BadZipFile, OSError, KeyError):
        pass
    raise InputError(_not_a_table())


def _not_a_table() -> str:
    return _(
        "the file is not a spreadsheet or a CSV file: save it from Excel as .xlsx or .csv "
        "and upload that file"
    )


class UploadStore:
    """The uploads of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.root = private_dir(state_dir.expanduser() / "uploads")

    def folder(self, upload_id: str) -> Path:
        """The folder of an upload; `KeyError` for an id that is not one (or not ours)."""
        if not _ID.fullmatch(upload_id) or not (self.root / upload_id / META).is_file():
            raise KeyError(upload_id)
        return self.root / upload_id

    def receive(self, owner: str, name: str, source: BinaryIO) -> Upload:
        """Store a received file (already within the size limit); `InputError` if unusable."""
        upload_id = "".join(secrets.choice(string.ascii_lowercase) for _ in range(24))
        folder = private_dir(self.root / upload_id)
        try:
            temporary = folder / "received"
            with temporary.open("xb") as target:
                temporary.chmod(0o600)
                shutil.copyfileobj(source, target, 1024 * 1024)
            with temporary.open("rb") as handle:
                head = handle.read(_HEAD)
            kind = sniff_kind(head, temporary)
            size = temporary.stat().st_size
            upload = Upload(upload_id, owner, _safe_name(name), kind, size, _now())
            temporary.replace(upload.path(self.root))
            self.save(upload)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return upload

    def load(self, upload_id: str) -> Upload:
        """An upload by id; `KeyError` when there is none."""
        data: dict[str, Any] = json.loads((self.folder(upload_id) / META).read_text("utf-8"))
        return Upload(**data)

    def save(self, upload: Upload) -> None:
        """Write the upload's facts and choices (atomically, owner-only)."""
        text = json.dumps(asdict(upload), ensure_ascii=False, indent=1)
        write_private(self.root / upload.id / META, text.encode("utf-8"))

    def recent(self, owner: str, limit: int = 10) -> list[Upload]:
        """The owner's latest uploads, newest first."""
        found = []
        for meta in self.root.glob(f"*/{META}"):
            try:
                upload = self.load(meta.parent.name)
            except (KeyError, ValueError, TypeError):
                continue
            if upload.owner == owner:
                found.append(upload)
        return sorted(found, key=lambda item: item.created, reverse=True)[:limit]


def _safe_name(name: str) -> str:
    """The last part of the name the browser gave, printable, at most 120 characters."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip() or "upload"
    return cleaned[:120]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
