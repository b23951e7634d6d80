"""The reading phase's freed memory goes back to the system before sending starts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from batch.pipeline.memory import give_back

_MIB = 1024 * 1024


def _rss() -> int:
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap, /proc")
def test_freed_heap_below_a_live_block_is_returned() -> None:
    """Blocks freed below one still in use stay in the process until `give_back` trims them."""
    blocks = [bytes(2048) + bytes([n % 256]) for n in range(80_000)]  # ~160 MiB, glibc's heap
    last = blocks[-1]  # keeps the top of the heap in use, so free() alone cannot shrink it
    del blocks
    held = _rss()
    give_back()
    assert held - _rss() > 100 * _MIB
    assert last[-1] == (80_000 - 1) % 256
