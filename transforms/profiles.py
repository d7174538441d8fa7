"""Profile snapshots: valid raw profiles -> ``fact_profile_daily`` and ``dim_influencer`` rows."""

from __future__ import annotations

import polars as pl

from schemas.warehouse import FactProfileDaily
from transforms.raw_records import keep_last_landed

PROFILE_KEY = ["platform", "account_id", "snapshot_date"]
FACT_PROFILE_DAILY_COLUMNS = list(FactProfileDaily.to_schema().columns)


def fact_profile_daily(profiles: pl.LazyFrame, platform: str) -> pl.LazyFrame:
    """Grain: one row per (platform, account_id, snapshot_date); duplicates keep the last landed."""
    typed = profiles.with_columns(
        platform=pl.lit(platform),
        snapshot_date=pl.col("as_of").str.to_date("%Y-%m-%d"),
        followers=pl.col("followers_count").cast(pl.Int64),
        following=pl.col("follows_count").cast(pl.Int64),
        media_count=pl.col("media_count").cast(pl.Int64),
    )
    return keep_last_landed(typed, PROFILE_KEY).select(FACT_PROFILE_DAILY_COLUMNS).sort(PROFILE_KEY)


def influencer_sightings(
    profiles: pl.LazyFrame, roster: pl.LazyFrame, platform: str
) -> pl.LazyFrame:
    """``dim_influencer`` rows as seen on one snapshot date (first = last seen = that date).

    Country and category come from the roster, matched on the lower-cased handle. The loader
    merges these into the dimension (earliest first_seen, latest last_seen and attributes).
    """
    latest = keep_last_landed(
        profiles.with_columns(snapshot_date=pl.col("as_of").str.to_date("%Y-%m-%d")),
        ["account_id", "snapshot_date"],
    )
    roster_attributes = roster.filter(pl.col("platform") == platform).select(
        handle_key=pl.col("handle").str.to_lowercase(), country="country", category="category"
    )
    return (
        latest.with_columns(handle_key=pl.col("handle").str.to_lowercase())
        .join(roster_attributes, on="handle_key", how="left")
        .select(
            platform=pl.lit(platform),
            account_id="account_id",
            handle="username",
            display_name="name",
            country="country",
            category="category",
            first_seen_date="snapshot_date",
            last_seen_date="snapshot_date",
        )
        .sort("account_id", "first_seen_date")
    )
