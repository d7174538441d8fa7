"""Contracts of the warehouse tables the nightly run loads (REPORTS.md names them).

Each transformed frame is validated against its model before it is loaded: a failure here is a bug
in a transform, not bad input, so it stops the run instead of quarantining.
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.vocabulary import AUDIENCE_DIMENSIONS, PLATFORMS

# REPORTS.md: the shares of one (account, date, dimension) sum to 1 (± 0.01).
SHARE_SUM_TOLERANCE = 0.01


class DimInfluencer(pa.DataFrameModel):
    """One row per (platform, account_id)."""

    platform: str = pa.Field(isin=list(PLATFORMS), description="Platform, e.g. instagram.")
    account_id: str = pa.Field(description="Platform-scoped account id.")
    handle: str = pa.Field(description="Latest known handle.")
    display_name: str = pa.Field(nullable=True, description="Latest known display name.")
    country: str = pa.Field(nullable=True, description="Creator's country (roster), ISO-2.")
    category: str = pa.Field(nullable=True, description="Content category (roster).")
    first_seen_date: dt.date = pa.Field(description="First snapshot date loaded.")
    last_seen_date: dt.date = pa.Field(description="Latest snapshot date loaded.")

    class Config:
        unique = ["platform", "account_id"]


class FactProfileDaily(pa.DataFrameModel):
    """One row per (platform, account_id, snapshot_date): counts as of the end of that UTC day."""

    platform: str = pa.Field(isin=list(PLATFORMS), description="Platform.")
    account_id: str = pa.Field(description="Account id.")
    snapshot_date: dt.date = pa.Field(description="UTC date the counts are as of (end of day).")
    followers: int = pa.Field(
        ge=0, nullable=True, description="Followers; NULL when the platform hides them."
    )
    following: int = pa.Field(ge=0, nullable=True, description="Accounts followed.")
    media_count: int = pa.Field(ge=0, nullable=True, description="Posts on the account.")

    class Config:
        unique = ["platform", "account_id", "snapshot_date"]


class FactPostMetrics(pa.DataFrameModel):
    """One row per (platform, post_id, observed_date): a post's counts seen at the end of a day."""

    platform: str = pa.Field(isin=list(PLATFORMS), description="Platform.")
    post_id: str = pa.Field(description="Platform media id.")
    observed_date: dt.date = pa.Field(description="UTC date the counts were observed (end of day).")
    account_id: str = pa.Field(description="Owner's account id.")
    published_at: dt.datetime = pa.Field(description="Publication time, UTC.")
    media_type: str = pa.Field(description="IMAGE, VIDEO, CAROUSEL_ALBUM, ...")
    likes: int = pa.Field(ge=0, nullable=True, description="Likes; NULL when hidden.")
    comments: int = pa.Field(ge=0, nullable=True, description="Comments.")
    shares: int = pa.Field(ge=0, nullable=True, description="Shares; NULL if not reported.")
    saves: int = pa.Field(ge=0, nullable=True, description="Saves; NULL if not reported.")
    views: int = pa.Field(ge=0, nullable=True, description="Views; NULL if not reported.")

    class Config:
        unique = ["platform", "post_id", "observed_date"]


class DimPost(pa.DataFrameModel):
    """One row per (platform, post_id): what a post says and where it is, as last seen (the load
    adds ``first_seen_date``, the partition's date)."""

    platform: str = pa.Field(isin=list(PLATFORMS), description="Platform.")
    post_id: str = pa.Field(description="Platform media id.")
    account_id: str = pa.Field(description="Owner's account id.")
    published_at: dt.datetime = pa.Field(description="Publication time, UTC.")
    caption: str = pa.Field(nullable=True, description="Text of the post as last seen.")
    permalink: str = pa.Field(nullable=True, description="Public URL of the post.")

    class Config:
        unique = ["platform", "post_id"]


class FactAudienceShare(pa.DataFrameModel):
    """One row per (platform, account_id, as_of_date, dimension, bucket)."""

    platform: str = pa.Field(isin=list(PLATFORMS), description="Platform.")
    account_id: str = pa.Field(description="Account id.")
    as_of_date: dt.date = pa.Field(description="UTC date the breakdown is as of.")
    dimension: str = pa.Field(isin=list(AUDIENCE_DIMENSIONS), description="Audience dimension.")
    bucket: str = pa.Field(description="Bucket within the dimension, e.g. 18-24, US.")
    share: float = pa.Field(ge=0.0, le=1.0, description="Share of the audience in the bucket.")

    class Config:
        unique = ["platform", "account_id", "as_of_date", "dimension", "bucket"]

    @pa.dataframe_check(name="shares_sum_to_one")
    def _shares_sum_to_one(cls, data: PolarsData) -> pl.LazyFrame:
        total = pl.col("share").sum().over("platform", "account_id", "as_of_date", "dimension")
        return data.lazyframe.select((total - 1.0).abs() <= SHARE_SUM_TOLERANCE)
