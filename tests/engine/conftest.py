"""Fixtures for the engine's tests: a fresh journal per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from batch.journal import Journal


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """A fresh journal in a per-test state directory."""
    with Journal.open(tmp_path / "state") as opened:
        yield opened
