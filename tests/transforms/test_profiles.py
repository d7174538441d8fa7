import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from transforms.facts import fact_profile_daily, influencer_sightings
from transforms.staging.instagram import stage_profiles


def raw_profiles(rows: list[dict[str, object]]) -> pl.LazyFrame:
    defaults = {
        "landed_file": "p.jsonl.gz",
        "handle": "maya.bakes",
        "as_of": "2026-11-20",
        "account_id": "1",
        "username": "maya.bakes",
        "name": "Maya",
        "followers_count": "1000",
        "follows_count": "10",
        "media_count": "5",
    }
    return pl.LazyFrame([{**defaults, "line_number": i + 1, **row} for i, row in enumerate(rows)])


def test_counts_are_typed_and_duplicates_keep_the_last_landed() -> None:
    profiles = raw_profiles(
        [
            {"followers_count": "1000"},
            {"account_id": "2", "followers_count": "52000", "follows_count": None},
            {"followers_count": "1001"},
        ]
    )

    fact = fact_profile_daily(stage_profiles(profiles)).collect()

    assert_frame_equal(
        fact,
        pl.DataFrame(
            {
                "platform": ["instagram", "instagram"],
                "account_id": ["1", "2"],
                "snapshot_date": [dt.date(2026, 11, 20)] * 2,
                "followers": [1001, 52000],
                "following": [10, None],
                "media_count": [5, 5],
            }
        ),
    )


def test_sightings_take_country_and_category_from_the_roster_by_handle() -> None:
    profiles = raw_profiles([{"handle": "Maya.Bakes"}, {"account_id": "2", "handle": "nobody"}])
    roster = pl.LazyFrame(
        {
            "platform": ["instagram"],
            "handle": ["maya.bakes"],
            "connected": [True],
            "country": ["GB"],
            "category": ["food"],
        }
    )

    sightings = influencer_sightings(stage_profiles(profiles), roster).collect()

    assert sightings.to_dicts() == [
        {
            "platform": "instagram",
            "account_id": "1",
            "handle": "maya.bakes",
            "display_name": "Maya",
            "country": "GB",
            "category": "food",
            "first_seen_date": dt.date(2026, 11, 20),
            "last_seen_date": dt.date(2026, 11, 20),
        },
        {
            "platform": "instagram",
            "account_id": "2",
            "handle": "maya.bakes",
            "display_name": "Maya",
            "country": None,
            "category": None,
            "first_seen_date": dt.date(2026, 11, 20),
            "last_seen_date": dt.date(2026, 11, 20),
        },
    ]
