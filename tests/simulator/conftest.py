"""Fixtures for the simulator's tests."""

from __future__ import annotations

import pytest
from soapkit import fixed_clock


@pytest.fixture
def rules_simulator(fresh_simulator):
    """A simulator whose clock stands still at FIXED_NOW, so ages and 280 never drift."""
    return fresh_simulator(now=fixed_clock)
