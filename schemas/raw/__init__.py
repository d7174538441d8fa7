"""Contracts of the raw Instagram entities, as landed.

Every column is the JSON text of one field of the landed record (``json_path`` in its metadata),
so a wrong type is a failed check rather than a parse error that would lose the record. Context
fields added at extraction start with ``_``. ``landed_file``, ``line_number`` and ``raw_record``
travel along so a failing row can be quarantined with its provenance.
"""

from __future__ import annotations

from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.checks import DIGITS_ID, GRAPH_TIMESTAMP, ISO_DATE, NON_NEGATIVE_INTEGER, matches

MEDIA_TYPES = ["IMAGE", "VIDEO", "CAROUSEL_ALBUM"]
AUDIENCE_DIMENSIONS_FROM_INSIGHTS = ["age", "gender", "country", "city"]


def _json(path: str, description: str, *, nullable: bool = False, **checks: Any) -> Any:
    return pa.Field(
        nullable=nullable, description=description, metadata={"json_path": path}, **checks
    )


class LandedRecord(pa.DataFrameModel):
    """Provenance columns every raw frame carries."""

    landed_file: str = pa.Field(description="Landed file, relative to the raw directory.")
    line_number: int = pa.Field(ge=1, description="1-based line of the record in that file.")
    raw_record: str = pa.Field(description="The landed record as JSON text.")


class RawInstagramProfile(LandedRecord):
    """One landed business_discovery profile: grain (handle, as-of date, landing line)."""

    handle: str = _json("$._handle", "Roster handle the profile was requested for.")
    as_of: str = _json(
        "$._as_of", "UTC date the counts are as of (end of day).", str_matches=ISO_DATE
    )
    account_id: str = _json("$.id", "Instagram user id (IG-scoped, digits).")
    username: str = _json("$.username", "Handle as the platform reports it.")
    name: str = _json("$.name", "Display name.", nullable=True)
    followers_count: str = _json("$.followers_count", "Followers at the time of the call.")
    follows_count: str = _json("$.follows_count", "Accounts followed.", nullable=True)
    media_count: str = _json("$.media_count", "Posts on the account.", nullable=True)

    @pa.check("account_id", name="digits_id")
    def _digits_id(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, DIGITS_ID)

    @pa.check("followers_count", "follows_count", "media_count", name="non_negative_integer")
    def _non_negative_integer(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, NON_NEGATIVE_INTEGER)


class RawInstagramMedia(LandedRecord):
    """One landed media object: grain (post id, as-of date, landing line)."""

    handle: str = _json("$._handle", "Roster handle whose media this is.")
    as_of: str = _json("$._as_of", "UTC date the counts are as of.", str_matches=ISO_DATE)
    account_id: str = _json("$._account_id", "Instagram user id of the owner.")
    post_id: str = _json("$.id", "Media id (digits).")
    timestamp: str = _json("$.timestamp", "Publication time, Graph format (+0000 offset).")
    media_type: str = _json("$.media_type", "IMAGE, VIDEO or CAROUSEL_ALBUM.", isin=MEDIA_TYPES)
    like_count: str = _json(
        "$.like_count",
        "Likes; absent when the owner hides them (unknown, not 0).",
        nullable=True,
    )
    comments_count: str = _json("$.comments_count", "Comments.")
    permalink: str = _json("$.permalink", "Public URL of the post.", nullable=True)

    @pa.check("account_id", "post_id", name="digits_id")
    def _digits_id(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, DIGITS_ID)

    @pa.check("timestamp", name="graph_timestamp")
    def _graph_timestamp(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, GRAPH_TIMESTAMP)

    @pa.check("like_count", "comments_count", name="non_negative_integer")
    def _non_negative_integer(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, NON_NEGATIVE_INTEGER)


class RawInstagramAudience(LandedRecord):
    """One landed follower_demographics result: grain (account, breakdown, bucket, landing line)."""

    handle: str = _json("$._handle", "Roster handle of the creator.")
    as_of: str = _json("$._as_of", "UTC date the breakdown is as of.", str_matches=ISO_DATE)
    account_id: str = _json("$._account_id", "Instagram user id of the creator.")
    breakdown: str = _json(
        "$._breakdown",
        "Insights breakdown: age, gender, country or city.",
        isin=AUDIENCE_DIMENSIONS_FROM_INSIGHTS,
    )
    bucket: str = _json("$.dimension_values[0]", "Bucket within the breakdown, e.g. 18-24.")
    follower_count: str = _json("$.value", "Followers in the bucket.")

    @pa.check("account_id", name="digits_id")
    def _digits_id(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, DIGITS_ID)

    @pa.check("follower_count", name="non_negative_integer")
    def _non_negative_integer(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, NON_NEGATIVE_INTEGER)


RAW_CONTRACTS: dict[str, type[LandedRecord]] = {
    "profiles": RawInstagramProfile,
    "media": RawInstagramMedia,
    "audience": RawInstagramAudience,
}


def json_paths(model: type[pa.DataFrameModel]) -> dict[str, str]:
    """Column name -> JSON path of the landed record, from the model's field metadata."""
    return {
        name: column.metadata["json_path"]
        for name, column in model.to_schema().columns.items()
        if column.metadata and "json_path" in column.metadata
    }
