"""The simulated world's ground truth, to score the detectors against: a CSV of platform,
handle, archetype and event date (the day of a bought or viral jump, or of a riser's or a
decliner's tier crossing; empty for steady creators and for those that never cross).

Each platform contributes its rows through one producer in `TRUTH_SOURCES`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from simulator.tiktok import tiktok_truth_rows
from simulator.world import SimulatedWorld
from simulator.youtube import youtube_truth_rows

TRUTH_COLUMNS = ("platform", "handle", "archetype", "event_date")


@dataclass(frozen=True)
class TruthRow:
    """One account of one platform and what really happened to it."""

    platform: str
    handle: str
    archetype: str
    event_date: date | None


TruthSource = Callable[[SimulatedWorld], Iterable[TruthRow]]


def instagram_truth(world: SimulatedWorld) -> Iterator[TruthRow]:
    """One row per Instagram creator, in the world's order."""
    for creator in world.creators:
        yield TruthRow(
            platform="instagram",
            handle=creator.handle,
            archetype=creator.archetype,
            event_date=world.event_date(creator.handle),
        )


def youtube_truth(world: SimulatedWorld) -> Iterator[TruthRow]:
    """One row per YouTube channel, as the roster names it."""
    yield from _truth_rows(youtube_truth_rows(world))


def tiktok_truth(world: SimulatedWorld) -> Iterator[TruthRow]:
    """One row per TikTok account, as the roster names it."""
    yield from _truth_rows(tiktok_truth_rows(world))


def _truth_rows(rows: Iterable[dict[str, str]]) -> Iterator[TruthRow]:
    for row in rows:
        yield TruthRow(
            platform=row["platform"],
            handle=row["handle"],
            archetype=row["archetype"],
            event_date=date.fromisoformat(row["event_date"]) if row["event_date"] else None,
        )


TRUTH_SOURCES: tuple[TruthSource, ...] = (instagram_truth, youtube_truth, tiktok_truth)


def write_truth(
    world: SimulatedWorld, path: Path | str, sources: Iterable[TruthSource] = TRUTH_SOURCES
) -> int:
    """Write the rows of every source as CSV (TRUTH_COLUMNS; dates YYYY-MM-DD, empty when
    there is none); returns the number of rows written."""
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as truth:
        writer = csv.writer(truth, lineterminator="\n")
        writer.writerow(TRUTH_COLUMNS)
        for source in sources:
            for row in source(world):
                event = row.event_date.isoformat() if row.event_date else ""
                writer.writerow((row.platform, row.handle, row.archetype, event))
                written += 1
    return written
