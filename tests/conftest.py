"""Session-wide fixtures: the network guard (loopback only) and the UDB simulator."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from batch.journal import Journal
from batch.simulator import RunningSimulator, SimulatorConfig, start_simulator


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
    else:
        return True  # AF_UNIX paths and the like never leave the machine
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name that would need DNS: not allowed in tests


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    """Fail any test that tries to reach an address outside loopback."""
    original = socket.socket.connect
    original_ex = socket.socket.connect_ex

    def guarded(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            msg = f"tests may only connect to loopback, not {address!r}"
            raise RuntimeError(msg)
        return original(self, address)

    def guarded_ex(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            msg = f"tests may only connect to loopback, not {address!r}"
            raise RuntimeError(msg)
        return original_ex(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = original  # type: ignore[method-assign]
    socket.socket.connect_ex = original_ex  # type: ignore[method-assign]


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True, scope="session")
def _no_proxy_from_the_machine() -> Iterator[None]:
    """The machine's proxy variables never reach a test (the client now honours them).

    Tests that need a proxy set the variables themselves, for themselves and the CLI runs
    they start.
    """
    names = [*_PROXY_VARIABLES, *(name.upper() for name in _PROXY_VARIABLES)]
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session")
def simulator() -> Iterator[RunningSimulator]:
    """One UDB simulator (default config) on an ephemeral loopback port for the whole session.

    Shared: tests that count `received()` should call `simulator.clear()` first, or use
    `fresh_simulator`.
    """
    with start_simulator(SimulatorConfig()) as running:
        yield running


@pytest.fixture
def fresh_simulator() -> Iterator[Callable[..., RunningSimulator]]:
    """A factory `make_simulator(**config)` whose simulators stop when the test ends.

    Keywords are `SimulatorConfig` fields; `faults=` takes a `FaultConfig`.
    """
    started: list[RunningSimulator] = []

    def make_simulator(**config: Any) -> RunningSimulator:
        running = start_simulator(SimulatorConfig(**config))
        started.append(running)
        return running

    yield make_simulator
    for running in started:
        running.stop()


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """A fresh journal in a per-test state directory."""
    with Journal.open(tmp_path / "state") as opened:
        yield opened
