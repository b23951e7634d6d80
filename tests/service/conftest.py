"""Fixtures for the client's tests: a fixed-clock simulator, clients that close, a test PKI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from client_kit import fixed_now
from pki_kit import Pki, make_pki

from batch.service.client import ClientSettings, UdbClient
from batch.simulator import RunningSimulator, SimulatorConfig, start_simulator


@pytest.fixture(scope="session")
def udb() -> Iterator[RunningSimulator]:
    """One simulator for the client's tests, its clock fixed so UDB's rules never drift."""
    with start_simulator(SimulatorConfig(now=fixed_now)) as running:
        yield running


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throwaway CA, server, client and signing certificate for the whole session."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def make_client() -> Iterator[Callable[..., UdbClient]]:
    """A factory `make_client(**settings)` whose clients close when the test ends."""
    made: list[UdbClient] = []

    def factory(**settings: Any) -> UdbClient:
        client = UdbClient(ClientSettings(**settings))
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


@pytest.fixture
def sim_with(fresh_simulator) -> Callable[..., RunningSimulator]:
    """A factory for a simulator with its own faults or security, on the fixed clock."""

    def factory(**config: Any) -> RunningSimulator:
        return fresh_simulator(now=fixed_now, **config)

    return factory
