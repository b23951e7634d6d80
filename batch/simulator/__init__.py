"""A UDB stand-in behind a simulated IPL: real SOAP over real HTTP(S), on this machine.

Used by the tests (in a thread, on an ephemeral port), as `batch run`'s embedded default, and
by municipalities to rehearse (`batch simulator`). See `SimulatorConfig` and `FaultConfig`.
"""

from __future__ import annotations

from batch.simulator.config import FaultConfig, SimulatorConfig
from batch.simulator.recorder import ReceivedRequest
from batch.simulator.server import ENDPOINT_PATH, RunningSimulator, serve_forever, start_simulator

__all__ = [
    "ENDPOINT_PATH",
    "FaultConfig",
    "ReceivedRequest",
    "RunningSimulator",
    "SimulatorConfig",
    "serve_forever",
    "start_simulator",
]
