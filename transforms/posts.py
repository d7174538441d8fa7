"""Post observations: valid raw media -> ``fact_post_metrics``."""

from __future__ import annotations

import polars as pl

from schemas.warehouse import FactPostMetrics
from transforms.raw_records import keep_last_landed

POST_KEY = ["platform", "post_id", "observed_date"]
FACT_POST_METRICS_COLUMNS = list(FactPostMetrics.to_schema().columns)
GRAPH_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def fact_post_metrics(media: pl.LazyFrame, platform: str) -> pl.LazyFrame:
    """Grain: one row per (platform, post_id, observed_date).

    A hidden like count stays NULL (unknown, never 0). The Graph API's business_discovery
    reports neither shares, saves nor views, so those are NULL for Instagram.
    """
    typed = media.with_columns(
        platform=pl.lit(platform),
        observed_date=pl.col("as_of").str.to_date("%Y-%m-%d"),
        published_at=pl.col("timestamp")
        .str.to_datetime(GRAPH_TIMESTAMP_FORMAT, time_zone="UTC")
        .dt.replace_time_zone(None),
        likes=pl.col("like_count").cast(pl.Int64),
        comments=pl.col("comments_count").cast(pl.Int64),
        shares=pl.lit(None, dtype=pl.Int64),
        saves=pl.lit(None, dtype=pl.Int64),
        views=pl.lit(None, dtype=pl.Int64),
    )
    return keep_last_landed(typed, POST_KEY).select(FACT_POST_METRICS_COLUMNS).sort(POST_KEY)
