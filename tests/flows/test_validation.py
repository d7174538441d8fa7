"""Validation in batches: whatever the batch size, the same facts, quarantine and counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.source_plans import SOURCE_PLANS
from flows.validation import validate_landing
from sources.landing import land_run

DAY = dt.date(2026, 10, 18)


def profile(handle: str, account_id: str, followers: object = 12_000) -> dict[str, object]:
    return {
        "_handle": handle,
        "_as_of": DAY.isoformat(),
        "id": account_id,
        "username": handle,
        "name": handle.title(),
        "followers_count": followers,
        "follows_count": 10,
        "media_count": 3,
    }


def post(handle: str, account_id: str, post_id: str, comments: object = 2) -> dict[str, object]:
    return {
        "_handle": handle,
        "_as_of": DAY.isoformat(),
        "_account_id": account_id,
        "id": post_id,
        "timestamp": "2026-10-17T10:00:00+0000",
        "media_type": "IMAGE",
        "like_count": 40,
        "comments_count": comments,
    }


@pytest.fixture
def landing(tmp_path: Path) -> tuple[Path, object]:
    raw = tmp_path / "raw"
    manifest = land_run(
        raw,
        "instagram",
        DAY,
        "r1",
        {
            "profiles": [
                profile("ann", "1"),
                profile("bob", "2", followers=10**15),  # implausible: its posts go with it
                profile("cat", "3"),
            ],
            "media": [
                post("ann", "1", "11"),
                post("ann", "1", "12"),
                post("ann", "1", "12"),  # an exact repeat: removed, not quarantined
                post("bob", "2", "21"),
                post("bob", "2", "22"),
                post("cat", "3", "31", comments=-1),
                post("cat", "3", "32"),
                post("dan", "4", "41"),  # no profile landed for dan
            ],
            "audience": [],
            "failed_accounts": [],
        },
    )
    return raw, manifest


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 100])
def test_any_batch_size_gives_the_same_facts_quarantine_and_counts(
    landing: tuple[Path, object], tmp_path: Path, batch_rows: int
) -> None:
    raw, manifest = landing
    roster = pl.DataFrame(
        {"platform": ["instagram"], "handle": ["ann"], "country": ["GB"], "category": ["food"]}
    )

    staged = validate_landing(
        SOURCE_PLANS["instagram"], raw, manifest, roster, tmp_path / f"w{batch_rows}", batch_rows
    )

    posts = pl.read_parquet(staged.fact_files["fact_post_metrics"]).sort("post_id")
    quarantine = pl.read_parquet(staged.quarantine_files).sort("entity", "line_number")
    assert posts["post_id"].to_list() == ["11", "12", "32"]
    assert pl.read_parquet(staged.fact_files["fact_profile_daily"])[
        "account_id"
    ].sort().to_list() == [
        "1",
        "3",
    ]
    assert [(row["entity"], row["line_number"]) for row in quarantine.iter_rows(named=True)] == [
        ("media", 4),
        ("media", 5),
        ("media", 6),
        ("media", 8),
        ("profiles", 2),
    ]
    reasons = dict(
        zip(quarantine["line_number"], quarantine["failed_checks"].to_list(), strict=True)
    )
    assert reasons[4][0].startswith("profile: quarantined (followers_count: implausible count")
    assert reasons[6] == ["comments_count: negative count (-1)"]
    assert reasons[8] == ["profile: none landed for this account and date"]
    media = staged.counts["media"]
    assert (media.landed, media.valid, media.quarantined, media.loaded, media.deduplicated) == (
        8,
        4,
        4,
        3,
        1,
    )
    assert all(counts.reconciles for counts in staged.counts.values())
    assert staged.influencers.select("account_id", "country").sort("account_id").rows() == [
        ("1", "GB"),
        ("3", None),
    ]
