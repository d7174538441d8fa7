"""Contracts of the raw Instagram entities, as landed from the Graph API's business_discovery and
follower_demographics insights."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.checks import (
    DIGITS_ID,
    GRAPH_TIMESTAMP,
    GRAPH_TIMESTAMP_FORMAT,
    ISO_DATE,
    PUBLISHED_AFTER_THE_NIGHT,
    UNKNOWN_BUCKET,
    bucket_is_known,
    count_checks,
    matches,
    published_by_end_of_as_of,
)
from schemas.raw.base import LandedRecord, json_field
from schemas.vocabulary import INSIGHTS_DIMENSIONS

MEDIA_TYPES = ["IMAGE", "VIDEO", "CAROUSEL_ALBUM"]


class RawInstagramProfile(LandedRecord):
    """One landed business_discovery profile: grain (handle, as-of date, landing line)."""

    handle: str = json_field("$._handle", "Roster handle the profile was requested for.")
    as_of: str = json_field(
        "$._as_of", "UTC date the counts are as of (end of day).", str_matches=ISO_DATE
    )
    account_id: str = json_field("$.id", "Instagram user id (IG-scoped, digits).")
    username: str = json_field("$.username", "Handle as the platform reports it.")
    name: str = json_field("$.name", "Display name.", nullable=True)
    followers_count: str = json_field("$.followers_count", "Followers at the time of the call.")
    follows_count: str = json_field("$.follows_count", "Accounts followed.", nullable=True)
    media_count: str = json_field("$.media_count", "Posts on the account.", nullable=True)

    @pa.check("account_id", name="digits_id")
    def _digits_id(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, DIGITS_ID)

    _finite, _not_negative, _plausible, _whole_number = count_checks(
        "followers_count", "follows_count", "media_count"
    )


class RawInstagramMedia(LandedRecord):
    """One landed media object: grain (post id, as-of date, landing line)."""

    handle: str = json_field("$._handle", "Roster handle whose media this is.")
    as_of: str = json_field("$._as_of", "UTC date the counts are as of.", str_matches=ISO_DATE)
    account_id: str = json_field("$._account_id", "Instagram user id of the owner.")
    post_id: str = json_field("$.id", "Media id (digits).")
    timestamp: str = json_field("$.timestamp", "Publication time, Graph format (+0000 offset).")
    media_type: str = json_field(
        "$.media_type", "IMAGE, VIDEO or CAROUSEL_ALBUM.", isin=MEDIA_TYPES
    )
    like_count: str = json_field(
        "$.like_count",
        "Likes; absent when the owner hides them (unknown, not 0).",
        nullable=True,
    )
    comments_count: str = json_field("$.comments_count", "Comments.")
    permalink: str = json_field("$.permalink", "Public URL of the post.", nullable=True)
    caption: str = json_field(
        "$.caption", "The post's text; absent when it has none.", nullable=True
    )

    @pa.check("account_id", "post_id", name="digits_id")
    def _digits_id(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, DIGITS_ID)

    @pa.check("timestamp", name="graph_timestamp")
    def _graph_timestamp(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, GRAPH_TIMESTAMP)

    @pa.check("timestamp", name="published_by_the_night", error=PUBLISHED_AFTER_THE_NIGHT)
    def _published_by_the_night(cls, data: PolarsData) -> pl.LazyFrame:
        return published_by_end_of_as_of(data, GRAPH_TIMESTAMP_FORMAT)

    _finite, _not_negative, _plausible, _whole_number = count_checks("like_count", "comments_count")


class RawInstagramAudience(LandedRecord):
    """One landed follower_demographics result: grain (account, breakdown, bucket, landing line)."""

    handle: str = json_field("$._handle", "Roster handle of the creator.")
    as_of: str = json_field("$._as_of", "UTC date the breakdown is as of.", str_matches=ISO_DATE)
    account_id: str = json_field("$._account_id", "Instagram user id of the creator.")
    breakdown: str = json_field(
        "$._breakdown",
        "Insights breakdown: age, gender, country or city.",
        isin=list(INSIGHTS_DIMENSIONS),
    )
    bucket: str = json_field("$.dimension_values[0]", "Bucket within the breakdown, e.g. 18-24.")
    follower_count: str = json_field("$.value", "Followers in the bucket.")

    @pa.check("account_id", name="digits_id")
    def _digits_id(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, DIGITS_ID)

    @pa.check("bucket", name="known_bucket", error=UNKNOWN_BUCKET)
    def _known_bucket(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            bucket_is_known(pl.col("breakdown"), pl.col(data.key)).fill_null(True)
        )

    _finite, _not_negative, _plausible, _whole_number = count_checks("follower_count")


INSTAGRAM_CONTRACTS: dict[str, type[LandedRecord]] = {
    "profiles": RawInstagramProfile,
    "media": RawInstagramMedia,
    "audience": RawInstagramAudience,
}
