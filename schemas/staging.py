"""Platform-neutral staging frames: what every source's staging transform produces.

A source's raw records, once they pass their raw contract, are typed and renamed into these
frames by ``transforms/staging/<source>.py``; the fact builders (``transforms/facts.py``) read only
these, so they are shared by every platform. ``landed_file`` and ``line_number`` keep each row's
provenance, and decide which duplicate wins (the one landed last).
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa

from schemas.vocabulary import AUDIENCE_DIMENSIONS, PLATFORMS


class Staged(pa.DataFrameModel):
    """Columns every staged frame carries."""

    platform: str = pa.Field(isin=list(PLATFORMS), description="Platform of the account.")
    handle: str = pa.Field(description="Roster handle the record was requested for.")
    account_id: str = pa.Field(description="Platform-scoped account id.")
    as_of: dt.date = pa.Field(description="UTC date the counts are as of (end of day).")
    landed_file: str = pa.Field(description="Landed file, relative to the raw directory.")
    line_number: int = pa.Field(ge=1, description="1-based line of the record in that file.")


class StagedProfile(Staged):
    """One profile snapshot: grain (platform, account_id, as_of, landing line)."""

    username: str = pa.Field(description="Handle as the platform reports it now.")
    display_name: str = pa.Field(nullable=True, description="Display name.")
    followers: int = pa.Field(
        ge=0, nullable=True, description="Followers (YouTube: subscribers; NULL when hidden)."
    )
    following: int = pa.Field(ge=0, nullable=True, description="Accounts followed.")
    media_count: int = pa.Field(ge=0, nullable=True, description="Posts or videos published.")


class StagedPost(Staged):
    """One post observation: grain (platform, post_id, as_of, landing line)."""

    post_id: str = pa.Field(description="Platform media id.")
    published_at: dt.datetime = pa.Field(description="Publication time, UTC (naive).")
    media_type: str = pa.Field(description="IMAGE, VIDEO, CAROUSEL_ALBUM, SHORT, ...")
    likes: int = pa.Field(ge=0, nullable=True, description="Likes; NULL when hidden.")
    comments: int = pa.Field(ge=0, nullable=True, description="Comments; NULL if not reported.")
    shares: int = pa.Field(ge=0, nullable=True, description="Shares; NULL if not reported.")
    saves: int = pa.Field(ge=0, nullable=True, description="Saves; NULL if not reported.")
    views: int = pa.Field(ge=0, nullable=True, description="Views; NULL if not reported.")
    caption: str = pa.Field(
        nullable=True, description="The post's text as published; NULL if none."
    )
    permalink: str = pa.Field(nullable=True, description="Public URL of the post; NULL if unknown.")


class StagedAudience(Staged):
    """One audience bucket: grain (platform, account_id, as_of, dimension, bucket, landing line)."""

    dimension: str = pa.Field(isin=list(AUDIENCE_DIMENSIONS), description="Audience dimension.")
    bucket: str = pa.Field(description="Bucket within the dimension, e.g. 18-24, US.")
    follower_count: int = pa.Field(ge=0, description="Followers in the bucket.")


STAGED_MODELS: dict[str, type[Staged]] = {
    "profiles": StagedProfile,
    "posts": StagedPost,
    "audience": StagedAudience,
}
