"""The simulated world's ground truth: one row per account, the day its archetype shows."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from simulator import TRUTH_SOURCES, SimulatedWorld, TruthRow, write_truth
from simulator.tiktok import tiktok_truth_rows
from simulator.world import tier_of
from simulator.youtube import youtube_truth_rows


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return SimulatedWorld()


@pytest.fixture(scope="module")
def every_row(world: SimulatedWorld, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    path = tmp_path_factory.mktemp("truth") / "truth.csv"
    written_rows = write_truth(world, path)
    with path.open(newline="", encoding="utf-8") as written:
        reader = csv.DictReader(written)
        assert reader.fieldnames == ["platform", "handle", "archetype", "event_date"]
        rows = list(reader)
    others = len(youtube_truth_rows(world)) + len(tiktok_truth_rows(world))
    assert written_rows == len(rows) == len(world.creators) + others
    return rows


@pytest.fixture(scope="module")
def truth(every_row: list[dict]) -> list[dict]:
    """The Instagram rows: one per creator of the world."""
    return [row for row in every_row if row["platform"] == "instagram"]


def test_youtube_channels_follow_the_instagram_creators(
    world: SimulatedWorld, every_row: list[dict]
) -> None:
    youtube = [row for row in every_row if row["platform"] == "youtube"]
    assert youtube == youtube_truth_rows(world)
    assert every_row[: len(world.creators)] == [
        row for row in every_row if row["platform"] == "instagram"
    ]


def rows_of(truth: list[dict], archetype: str) -> list[dict]:
    return [row for row in truth if row["archetype"] == archetype]


def test_one_row_per_creator_in_the_world_order(world: SimulatedWorld, truth: list[dict]) -> None:
    assert [(row["platform"], row["handle"], row["archetype"]) for row in truth] == [
        ("instagram", creator.handle, creator.archetype) for creator in world.creators
    ]


def test_steady_creators_have_no_event(truth: list[dict]) -> None:
    assert rows_of(truth, "steady") and all(
        row["event_date"] == "" for row in rows_of(truth, "steady")
    )


@pytest.mark.parametrize(("archetype", "least_jump"), [("bought", 1.15), ("viral", 1.09)])
def test_jumps_are_dated_on_the_day_the_followers_jump(
    world: SimulatedWorld, truth: list[dict], archetype: str, least_jump: float
) -> None:
    rows = rows_of(truth, archetype)
    assert rows
    for row in rows:
        day = date.fromisoformat(row["event_date"])
        ratio = world.followers(row["handle"], day) / world.followers(
            row["handle"], day - timedelta(days=1)
        )
        assert ratio > least_jump, row


@pytest.mark.parametrize(
    ("archetype", "before", "after"),
    [("riser", "micro", "macro"), ("decliner", None, None)],
    ids=["riser", "decliner"],
)
def test_crossings_are_dated_on_the_first_day_in_the_new_tier(
    world: SimulatedWorld, truth: list[dict], archetype: str, before: str | None, after: str | None
) -> None:
    dated = [row for row in rows_of(truth, archetype) if row["event_date"]]
    assert dated
    for row in dated:
        day = date.fromisoformat(row["event_date"])
        week = [tier_of(world.followers(row["handle"], day + timedelta(days=n))) for n in range(7)]
        previous = tier_of(world.followers(row["handle"], day - timedelta(days=1)))
        assert len(set(week)) == 1 and previous != week[0], row
        if before and after:
            assert (previous, week[0]) == (before, after), row
    assert all(
        abs((date.fromisoformat(r["event_date"]) - world.anchor).days) <= 30
        for r in rows_of(truth, "riser")
    )


def test_other_platforms_add_their_rows(world: SimulatedWorld, tmp_path: Path) -> None:
    def youtube_truth(_: SimulatedWorld) -> Iterator[TruthRow]:
        yield TruthRow("youtube", "UCabcdefghijklmnopqrstuv", "viral", date(2026, 10, 2))

    path = tmp_path / "truth.csv"
    written = write_truth(SimulatedWorld(size=3), path, sources=(*TRUTH_SOURCES, youtube_truth))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert written == 4 == len(lines) - 1
    assert lines[-1] == "youtube,UCabcdefghijklmnopqrstuv,viral,2026-10-02"


def test_python_m_simulator_truth_writes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "truth.csv"
    subprocess.run(
        [sys.executable, "-m", "simulator", "truth", str(path), "--size", "12"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with path.open(newline="", encoding="utf-8") as written:
        rows = list(csv.DictReader(written))
    instagram = [row["handle"] for row in rows if row["platform"] == "instagram"]
    assert instagram == [c.handle for c in SimulatedWorld(size=12).creators]
