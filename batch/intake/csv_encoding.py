"""Which encoding a CSV file is in, and its text when it mixes UTF-8 and Windows-1252 lines.

The encoding (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252, Latin-1) is detected
before the delimiter. A file that is mostly UTF-8 but has lines that are not (rows pasted in
from a Windows-1252 export) is decoded line by line: UTF-8 where the line is valid UTF-8,
Windows-1252 (Latin-1 where 1252 leaves a byte undefined) where it is not. Read whole as
Windows-1252, every other row's æøå would reach UDB as mojibake ("T\u00c3\u00b8mrer"); read
as UTF-8 with replacement, the pasted rows would lose theirs. That slower path (Python per bad
line) is only taken when strict UTF-8 decoding fails and the file's other non-ASCII bytes are
valid UTF-8; a plain UTF-8 or Windows-1252 file is decoded by pyarrow alone.
"""

from __future__ import annotations

import codecs
import io
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["MIXED", "MixedText", "detect_encoding", "looks_binary", "sample_text"]

_SCAN_BYTES = 1 << 20
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
# More control characters (NUL included) than this share of the sample: not a text file. Random
# bytes read as Windows-1252 are about a quarter control characters; a stray NUL in a cell is a
# few in a thousand, and text normalization drops it.
_MAX_CONTROL_SHARE = 0.05
MIXED = "utf-8+cp1252"  # mostly UTF-8, some lines Windows-1252: decoded line by line
# A file that is not valid UTF-8 is still "mostly UTF-8" when at least this share of its
# non-ASCII bytes form valid UTF-8 sequences; in Windows-1252 text they are a rare accident.
_MIN_UTF8_SHARE = 0.1
_COUNT_ALL_BYTES, _COUNT_EVERY = 8 << 20, 8  # then only every eighth block is counted


def detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 if the whole file decodes as UTF-8, mixed if it mostly does, else cp1252/Latin-1."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    scan = _EncodingScan()
    with path.open("rb") as file:
        while block := file.read(_SCAN_BYTES):
            scan.feed(block)
    return scan.verdict()


class _EncodingScan:
    """What a file's bytes say about its encoding, block by block.

    Until strict UTF-8 decoding fails this costs a decode and an `isascii` per block; after it
    fails, the valid UTF-8 sequences are counted (numpy, about 1 ms per MiB) in the first 8 MiB
    and then in every eighth block, which keeps a large Windows-1252 file's scan cheap.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._utf8 = True
        self._utf8_text = False  # a non-ASCII block decoded as UTF-8
        self._undefined = False  # a byte Windows-1252 leaves undefined
        self._pairs = self._high = 0  # UTF-8 lead+continuation pairs; bytes >= 0x80
        self._counted = self._skipped = 0  # bytes counted; blocks since the last counted one

    def feed(self, block: bytes) -> None:
        self._undefined = self._undefined or any(byte in block for byte in _CP1252_UNDEFINED)
        if self._utf8:
            try:
                self._decoder.decode(block)
            except UnicodeDecodeError:
                self._utf8 = False
            else:
                self._utf8_text = self._utf8_text or not block.isascii()
                return
        if self._counted >= _COUNT_ALL_BYTES and self._skipped < _COUNT_EVERY - 1:
            self._skipped += 1
            return
        self._counted, self._skipped = self._counted + len(block), 0
        data = np.frombuffer(block, dtype=np.uint8)
        high = data >= 0x80  # noqa: PLR2004 - the first non-ASCII byte
        lead = (data[:-1] >= 0xC2) & (data[:-1] <= 0xF4)  # noqa: PLR2004 - UTF-8 lead bytes
        self._pairs += int(np.count_nonzero(lead & high[1:] & (data[1:] < 0xC0)))  # noqa: PLR2004
        self._high += int(np.count_nonzero(high))

    def verdict(self) -> str:
        if self._utf8:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self._utf8 = False
            else:
                return "utf-8"
        if self._utf8_text or 2 * self._pairs >= _MIN_UTF8_SHARE * max(self._high, 1):
            return MIXED
        return "latin-1" if self._undefined else "cp1252"


def _utf8_lines(data: bytes) -> bytes:
    """UTF-8 text: lines valid as UTF-8 kept as they are, each other line decoded as cp1252.

    Python work is per line that is not UTF-8; the valid stretches between them are checked by
    the codec in one call each.
    """
    parts: list[bytes | memoryview] = []
    view = memoryview(data)
    start = 0
    while True:
        try:
            codecs.utf_8_decode(view[start:], "strict", True)  # noqa: FBT003 - final
        except UnicodeDecodeError as error:
            bad = start + error.start
            line = data.rfind(b"\n", start, bad) + 1 or start
            stop = data.find(b"\n", bad) + 1 or len(data)
            parts += [view[start:line], _legacy_text(data[line:stop]).encode()]
            start = stop
        else:
            parts.append(view[start:])
            return b"".join(parts)


def _legacy_text(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:  # a byte cp1252 leaves undefined: a Latin-1 line
        return line.decode("latin-1")


class MixedText(io.RawIOBase):
    """A mostly-UTF-8 file read as UTF-8 (see `_utf8_lines`), streamed in whole lines."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._file = path.open("rb")
        self._carry = bytearray()  # the start of a line not yet complete
        self._out = memoryview(b"")  # transcoded, not yet read

    def readable(self) -> bool:
        """Always: the stream is read, never written."""
        return True

    def readinto(self, buffer: Any) -> int:  # noqa: ANN401 - a writable buffer
        """Copy transcoded bytes into `buffer`; 0 only at the end of the file."""
        while not self._out and not self._fill():
            pass
        size = min(len(buffer), len(self._out))
        memoryview(buffer).cast("B")[:size] = self._out[:size]
        self._out = self._out[size:]
        return size

    def _fill(self) -> bool:
        """Transcode the next complete lines; True when there is output or nothing is left."""
        block = self._file.read(_SCAN_BYTES)
        newline = block.rfind(b"\n")
        if block and newline < 0:
            self._carry += block
            return False
        self._carry += block[: newline + 1] if block else b""
        self._out = memoryview(_utf8_lines(bytes(self._carry)))
        self._carry = bytearray(block[newline + 1 :]) if block else bytearray()
        return True

    def close(self) -> None:
        """Close the file underneath as well."""
        self._file.close()
        super().close()


def sample_text(head: bytes, encoding: str, *, complete: bool) -> str:
    """The head of a file as text, for finding the delimiter and header; bad bytes replaced."""
    if encoding == MIXED:
        text = _utf8_lines(head).decode("utf-8-sig", errors="replace")
    else:
        codec = "utf-8-sig" if encoding == "utf-8" else encoding
        text = head.decode(codec, errors="replace")
    if not complete:  # drop the record cut off at the end of the sample
        text = text[: max(text.rfind("\n"), 0)]
    return text


def looks_binary(text: str) -> bool:
    """Too many control characters for a text file (see `_MAX_CONTROL_SHARE`)."""
    controls = sum(1 for c in text if (c < " " and c not in "\t\r\n") or "\x7f" <= c < "\xa0")
    return controls > _MAX_CONTROL_SHARE * max(len(text), 1)
