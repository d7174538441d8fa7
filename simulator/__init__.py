"""The simulated platforms: one deterministic creator population (`world`), served by
FastAPI on uvicorn (`server`, `app`) in each platform's API dialect (`graph`: the
Instagram Graph API; `youtube`: the YouTube Data API v3; `tiktok`: the TikTok API v2),
answerable as of any past date, with faults on demand (`faults`), the sample brands' campaigns
and their shop's orders (`campaigns`), and its ground truth for scoring the detectors and the
campaign reports (`truth`)."""

from simulator.app import DIALECTS, Dialect, PlatformAccess, create_app
from simulator.campaigns import (
    campaign_plan,
    stage_on,
    write_campaign_files,
    write_fx_rates,
    write_shopify_orders,
)
from simulator.faults import FaultConfig
from simulator.graph import GRAPH_ACCOUNT_FAULTS, graph_router
from simulator.roster import roster_rows, write_roster
from simulator.server import SimulatorServer
from simulator.tiktok import TIKTOK_ACCOUNT_FAULTS, TikTokAccess
from simulator.truth import (
    TRUTH_SOURCES,
    TruthRow,
    collaboration_truth,
    write_collaboration_truth,
    write_truth,
)
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
    "campaign_plan",
    "collaboration_truth",
    "create_app",
    "graph_router",
    "roster_rows",
    "stage_on",
    "write_campaign_files",
    "write_collaboration_truth",
    "write_fx_rates",
    "write_roster",
    "write_shopify_orders",
    "write_truth",
]
