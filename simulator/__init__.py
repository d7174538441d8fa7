"""The simulated platforms: one deterministic creator population (`world`), served by
FastAPI on uvicorn (`server`, `app`) in each platform's API dialect (`graph`: the
Instagram Graph API; `youtube`: the YouTube Data API v3; `tiktok`: the TikTok API v2),
answerable as of any past date, with faults on demand (`faults`),
and its ground truth for scoring the detectors (`truth`)."""

from simulator.app import DIALECTS, Dialect, PlatformAccess, create_app
from simulator.faults import FaultConfig
from simulator.graph import GRAPH_ACCOUNT_FAULTS, graph_router
from simulator.roster import roster_rows, write_roster
from simulator.server import SimulatorServer
from simulator.tiktok import TIKTOK_ACCOUNT_FAULTS, TikTokAccess
from simulator.truth import TRUTH_SOURCES, TruthRow, write_truth
from simulator.world import (
    DEFAULT_ANCHOR,
    DEFAULT_ROSTER_PATH,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    Creator,
    SimulatedWorld,
)

__all__ = [
    "DEFAULT_ANCHOR",
    "DEFAULT_ROSTER_PATH",
    "DEFAULT_SEED",
    "DEFAULT_SIZE",
    "DIALECTS",
    "GRAPH_ACCOUNT_FAULTS",
    "TIKTOK_ACCOUNT_FAULTS",
    "TRUTH_SOURCES",
    "Creator",
    "Dialect",
    "FaultConfig",
    "PlatformAccess",
    "SimulatedWorld",
    "SimulatorServer",
    "TikTokAccess",
    "TruthRow",
    "create_app",
    "graph_router",
    "roster_rows",
    "write_roster",
    "write_truth",
]
