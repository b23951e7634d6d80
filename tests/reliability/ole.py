"""A password-protected workbook as Excel writes it: an OLE2 (CFB) file with encrypted streams.

Excel's "Encrypt with Password" does not produce a zip: it wraps the encrypted package in a
Compound File Binary container with the streams `EncryptionInfo` and `EncryptedPackage`
([MS-OFFCRYPTO] 2.3.4). Readers see the OLE2 signature and these stream names; that is all a
loader can know without the password. Built here byte by byte (version 3, 512-byte sectors,
both streams at least 4,096 bytes so they live in regular sectors, not the mini stream), so the
test needs no encryption package.
"""

from __future__ import annotations

import math
import struct

SECTOR = 512
END_OF_CHAIN = 0xFFFFFFFE
FAT_SECTOR = 0xFFFFFFFD
FREE = 0xFFFFFFFF
NO_STREAM = 0xFFFFFFFF
MINI_CUTOFF = 4096
SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# The start of an agile EncryptionInfo: version 4.4, reserved 0x40, then its XML descriptor.
ENCRYPTION_INFO = (
    struct.pack("<HHI", 4, 4, 0x40)
    + b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    + b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
    + b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" '
    + b'cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" '
    + b'saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/></encryption>'
)


def _entry(name: str, kind: int, *, child: int, right: int, start: int, size: int) -> bytes:
    """One 128-byte directory entry (black node, no left sibling)."""
    encoded = (name + "\0").encode("utf-16-le")
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", NO_STREAM, right, child)
        + bytes(16)  # CLSID
        + struct.pack("<IQQ", 0, 0, 0)  # state bits, creation and modification time
        + struct.pack("<IQ", start, size)
    )


_UNUSED_ENTRY = bytes(66) + struct.pack("<BBIII", 0, 0, NO_STREAM, NO_STREAM, NO_STREAM) + bytes(48)


def _header(fat_sectors: list[int], directory: int) -> bytes:
    difat = [*fat_sectors, *[FREE] * (109 - len(fat_sectors))]
    return (
        SIGNATURE
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<I", 0)  # number of directory sectors (0 in version 3)
        + struct.pack("<I", len(fat_sectors))
        + struct.pack("<I", directory)
        + struct.pack("<I", 0)  # transaction signature
        + struct.pack("<I", MINI_CUTOFF)
        + struct.pack("<II", END_OF_CHAIN, 0)  # no mini FAT
        + struct.pack("<II", END_OF_CHAIN, 0)  # no further DIFAT sectors
        + struct.pack("<109I", *difat)
    )


def encrypted_workbook(payload_size: int = 8192) -> bytes:
    """The bytes of an encrypted `.xlsx` whose password nobody knows."""
    info = ENCRYPTION_INFO.ljust(MINI_CUTOFF, b"\0")
    package = struct.pack("<Q", payload_size) + bytes((n * 151 + 7) % 256 for n in range(8192))
    streams = [("EncryptionInfo", info), ("EncryptedPackage", package)]
    # Layout: sector 0 the FAT, sector 1 the directory, then each stream's sectors in turn.
    fat = [FAT_SECTOR, END_OF_CHAIN]
    starts, data = [], b""
    for _, content in streams:
        count = math.ceil(len(content) / SECTOR)
        first = len(fat)
        starts.append(first)
        fat.extend([*range(first + 1, first + count), END_OF_CHAIN])
        data += content.ljust(count * SECTOR, b"\0")
    assert len(fat) <= SECTOR // 4, "one FAT sector is enough for this small file"
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat).ljust(SECTOR, b"\xff")
    directory = (
        _entry("Root Entry", 5, child=1, right=NO_STREAM, start=END_OF_CHAIN, size=0)
        + _entry("EncryptionInfo", 2, child=NO_STREAM, right=2, start=starts[0], size=len(info))
        + _entry(
            "EncryptedPackage",
            2,
            child=NO_STREAM,
            right=NO_STREAM,
            start=starts[1],
            size=len(package),
        )
        + _UNUSED_ENTRY
    )
    return _header([0], 1) + fat_bytes + directory + data
