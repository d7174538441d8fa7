"""The simulated Instagram platform: a deterministic creator population (`world`) served
over HTTP in the Instagram Graph API dialect (`server`), answerable as of any past date."""

from sources.simulator.server import FaultConfig, SimulatorServer
from sources.simulator.world import (
    DEFAULT_ANCHOR,
    DEFAULT_ROSTER_PATH,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    Creator,
    SimulatedWorld,
    write_roster,
)

__all__ = [
    "DEFAULT_ANCHOR",
    "DEFAULT_ROSTER_PATH",
    "DEFAULT_SEED",
    "DEFAULT_SIZE",
    "Creator",
    "FaultConfig",
    "SimulatedWorld",
    "SimulatorServer",
    "write_roster",
]
