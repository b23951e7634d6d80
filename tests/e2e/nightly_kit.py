"""Helpers for the nightly tests: an inbox with exports in it, JSON log lines, mounts."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from typing import TYPE_CHECKING

import pytest

from tests.reliability.kit import good_rows, write_csv

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SETTLED = 120  # seconds in the past: older than the minute a file may still be written in


def settle(*paths: Path) -> None:
    """Date files back, as an export written last evening would be."""
    when = time.time() - SETTLED
    for path in paths:
        os.utime(path, (when, when))


def export(path: Path, count: int = 4, *, broken: int = 0, tag: str = "") -> Path:
    """A settled export of `count` valid rows and `broken` rows with a mail UDB cannot take."""
    rows = good_rows(count, tag=tag)
    for n in range(broken):
        bad = good_rows(1, tag=f"bad{tag}", first=1000 + n)[0]  # the same broken row each time
        bad[3] = f"ikke-en-mail-{n}"
        rows.append(bad)
    write_csv(path, rows)
    settle(path)
    return path


def json_lines(text: str) -> list[dict[str, object]]:
    """Every line of `text` as JSON; fails on the first line that is not."""
    events = []
    for line in text.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}")
    return events


def events(text: str, name: str) -> list[dict[str, object]]:
    """The JSON log events called `name`."""
    return [event for event in json_lines(text) if event.get("event") == name]


@contextlib.contextmanager
def tmpfs(where: Path, *options: str) -> Iterator[Path]:
    """A tmpfs mounted at `where` (root only); skips the test where mounting is not allowed."""
    where.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", "-o", ",".join(("mode=0700", *options)), "tmpfs", where]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        pytest.skip("no mount command on this machine")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", where], check=False)
