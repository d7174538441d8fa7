"""Instagram's validated raw frames -> the platform-neutral staged frames.

The raw contracts have checked every field's text (digits, timestamps, buckets), so the casts
here cannot fail on data that passed them. business_discovery reports neither shares, saves nor
views, so those are NULL for Instagram; a hidden like count stays NULL (unknown, never 0).
"""

from __future__ import annotations

import polars as pl

from schemas.staging import StagedAudience, StagedPost, StagedProfile

PLATFORM = "instagram"
GRAPH_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_COMMON = (
    pl.lit(PLATFORM).alias("platform"),
    pl.col("handle"),
    pl.col("account_id"),
    pl.col("as_of").str.to_date("%Y-%m-%d"),
    pl.col("landed_file"),
    pl.col("line_number").cast(pl.Int64),
)


def stage_profiles(profiles: pl.LazyFrame) -> pl.LazyFrame:
    """Grain: one row per landed profile (platform, account_id, as_of, landing line)."""
    return profiles.select(
        *_COMMON,
        username="username",
        display_name="name",
        followers=pl.col("followers_count").cast(pl.Int64),
        following=pl.col("follows_count").cast(pl.Int64),
        media_count=pl.col("media_count").cast(pl.Int64),
    ).select(list(StagedProfile.to_schema().columns))


def stage_posts(media: pl.LazyFrame) -> pl.LazyFrame:
    """Grain: one row per landed media object (platform, post_id, as_of, landing line)."""
    return media.select(
        *_COMMON,
        post_id="post_id",
        published_at=pl.col("timestamp")
        .str.to_datetime(GRAPH_TIMESTAMP_FORMAT, time_zone="UTC")
        .dt.replace_time_zone(None)
        .cast(pl.Datetime("us")),
        media_type="media_type",
        likes=pl.col("like_count").cast(pl.Int64),
        comments=pl.col("comments_count").cast(pl.Int64),
        shares=pl.lit(None, dtype=pl.Int64),
        saves=pl.lit(None, dtype=pl.Int64),
        views=pl.lit(None, dtype=pl.Int64),
        caption="caption",
        permalink="permalink",
    ).select(list(StagedPost.to_schema().columns))


def stage_audience(audience: pl.LazyFrame) -> pl.LazyFrame:
    """Grain: one row per landed bucket (platform, account_id, as_of, dimension, bucket, line)."""
    return audience.select(
        *_COMMON,
        dimension="breakdown",
        bucket="bucket",
        follower_count=pl.col("follower_count").cast(pl.Int64),
    ).select(list(StagedAudience.to_schema().columns))
