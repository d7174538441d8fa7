"""The simulated world's roster: every account a brand would track, on every platform."""

from __future__ import annotations

import csv
from pathlib import Path

from simulator.tiktok import tiktok_roster_rows
from simulator.world import ROSTER_COLUMNS, SimulatedWorld
from simulator.youtube import youtube_roster_rows


def roster_rows(world: SimulatedWorld) -> list[dict[str, str]]:
    """Instagram creators first, then the YouTube channels and the TikTok accounts of the same
    world."""
    return [*world.roster_rows(), *youtube_roster_rows(world), *tiktok_roster_rows(world)]


def write_roster(path: Path | str, world: SimulatedWorld) -> None:
    """Write the world's roster as CSV: platform,handle,connected,country,category."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=ROSTER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(roster_rows(world))
