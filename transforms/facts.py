"""The warehouse facts, built from the platform-neutral staged frames of every source.

Each builder states its grain; duplicates keep the record landed last (latest file, then latest
line). Nothing here knows which platform a row came from beyond its ``platform`` column.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.warehouse import DimInfluencer, FactPostMetrics, FactProfileDaily
from transforms.raw_records import keep_last_landed

PROFILE_KEY = ["platform", "account_id", "snapshot_date"]
POST_KEY = ["platform", "post_id", "observed_date"]
AUDIENCE_KEY = ["platform", "account_id", "as_of_date", "dimension", "bucket"]


def empty_schema(model: type[pa.DataFrameModel]) -> dict[str, pl.DataType]:
    """The Polars schema of a contract's table, e.g. to build its empty frame."""
    return {name: column.dtype.type for name, column in model.to_schema().columns.items()}


def fact_profile_daily(profiles: pl.LazyFrame) -> pl.LazyFrame:
    """Grain: one row per (platform, account_id, snapshot_date)."""
    dated = profiles.rename({"as_of": "snapshot_date"})
    return (
        keep_last_landed(dated, PROFILE_KEY)
        .select(list(FactProfileDaily.to_schema().columns))
        .sort(PROFILE_KEY)
    )


def influencer_sightings(profiles: pl.LazyFrame, roster: pl.LazyFrame) -> pl.LazyFrame:
    """``dim_influencer`` rows as seen on one snapshot date (first = last seen = that date).

    Country and category come from the roster, matched on platform and lower-cased handle. The
    loader merges these into the dimension (earliest first_seen, latest last_seen and attributes).
    """
    latest = keep_last_landed(profiles, ["platform", "account_id", "as_of"])
    roster_attributes = roster.select(
        "platform",
        handle_key=pl.col("handle").str.to_lowercase(),
        country="country",
        category="category",
    )
    return (
        latest.with_columns(handle_key=pl.col("handle").str.to_lowercase())
        .join(roster_attributes, on=["platform", "handle_key"], how="left")
        .select(
            "platform",
            "account_id",
            handle="username",
            display_name="display_name",
            country="country",
            category="category",
            first_seen_date="as_of",
            last_seen_date="as_of",
        )
        .sort("platform", "account_id", "first_seen_date")
    )


def merged_sightings(sightings: list[pl.DataFrame]) -> pl.DataFrame:
    """One ``dim_influencer`` sighting per (platform, account_id) from a night's batches: an
    account seen under two roster handles (renamed) keeps the one landed last."""
    if not sightings:
        return pl.DataFrame(schema=empty_schema(DimInfluencer))
    return pl.concat(sightings).unique(
        subset=["platform", "account_id"], keep="last", maintain_order=True
    )


def fact_post_metrics(posts: pl.LazyFrame) -> pl.LazyFrame:
    """Grain: one row per (platform, post_id, observed_date)."""
    dated = posts.rename({"as_of": "observed_date"})
    return (
        keep_last_landed(dated, POST_KEY)
        .select(list(FactPostMetrics.to_schema().columns))
        .sort(POST_KEY)
    )


def dim_post(posts: pl.LazyFrame) -> pl.LazyFrame:
    """Grain: one row per (platform, post_id): its text and link as seen on the latest date.

    When it was first seen is the load's business: the date of the partition it merges into
    ``dim_post`` (``warehouse/load.py``)."""
    return (
        posts.sort("as_of", "landed_file", "line_number")
        .unique(subset=["platform", "post_id"], keep="last", maintain_order=True)
        .select(
            "platform",
            "post_id",
            "account_id",
            "published_at",
            "caption",
            "permalink",
        )
        .sort("platform", "post_id")
    )


def fact_audience_share(audience: pl.LazyFrame) -> pl.LazyFrame:
    """Grain: one row per (platform, account_id, as_of_date, dimension, bucket).

    share = the bucket's followers / the breakdown's followers, so each breakdown sums to 1.
    """
    dated = audience.rename({"as_of": "as_of_date"})
    breakdown_total = (
        pl.col("follower_count").sum().over("platform", "account_id", "as_of_date", "dimension")
    )
    return (
        keep_last_landed(dated, AUDIENCE_KEY)
        .select(*AUDIENCE_KEY, share=pl.col("follower_count") / breakdown_total)
        .sort(AUDIENCE_KEY)
    )
