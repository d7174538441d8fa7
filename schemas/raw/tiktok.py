"""Contracts of the raw TikTok entities, as landed from the TikTok API v2 (Display API).

Counts arrive as JSON numbers; each is judged on its text (a string, an object, ``NaN``, a
negative or an absurd count fails its check, with one reason per value). ``create_time`` is a Unix
time in seconds: a video created after the end of the night it was fetched for is a clock or
platform bug, and one dated before TikTok existed (a time in milliseconds read as seconds lands
far in the future; 0 lands in 1970) is no publication time. The Display API returns a field only
when it was asked for and the creator granted its scope, so a missing video count is unknown,
not 0; a profile without ``follower_count`` cannot be tiered and is quarantined.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.checks import DIGITS_ID, ISO_DATE, count_checks, matches
from schemas.raw.base import LandedRecord, json_field

# TikTok's open_id: a UUID today, an opaque token of letters, digits, "_" and "-" in older apps.
OPEN_ID = r"^[A-Za-z0-9_.-]{1,100}$"
# 2016-09-01T00:00:00Z: TikTok (Douyin) launched that month; no video is older.
FIRST_POSSIBLE_CREATE_TIME = 1_472_688_000
CREATED_AFTER_THE_NIGHT = "{column}: created after the night's date ({value} > end of {as_of})"
CREATED_BEFORE_TIKTOK = "{column}: created before TikTok existed ({value} < 2016-09-01)"


def _create_time(data: PolarsData) -> pl.Expr:
    # As a float: a time beyond 64 bits still compares; text that is no number passes here and
    # fails the digits check instead (one reason per value).
    return pl.col(data.key).cast(pl.Float64, strict=False)


def _end_of_night_epoch(as_of: pl.Expr) -> pl.Expr:
    return (
        as_of.str.to_date("%Y-%m-%d", strict=False)
        .dt.offset_by("1d")
        .cast(pl.Datetime("us"))
        .dt.epoch("s")
    )


class RawTikTokUser(LandedRecord):
    """One landed /v2/user/info/ user: grain (roster handle, as-of date, landing line)."""

    handle: str = json_field("$._handle", "Roster handle (TikTok username) the user was read for.")
    as_of: str = json_field(
        "$._as_of", "UTC date the counts are as of (end of day).", str_matches=ISO_DATE
    )
    open_id: str = json_field("$.open_id", "The user's id, scoped to the app (open_id).")
    union_id: str = json_field(
        "$.union_id", "The user's id across the developer's apps.", nullable=True
    )
    display_name: str = json_field("$.display_name", "Display name.", nullable=True)
    follower_count: str = json_field("$.follower_count", "Followers at the time of the call.")
    following_count: str = json_field("$.following_count", "Accounts followed.", nullable=True)
    likes_count: str = json_field("$.likes_count", "Likes received on all videos.", nullable=True)
    video_count: str = json_field("$.video_count", "Public videos on the account.", nullable=True)

    @pa.check("open_id", name="open_id")
    def _open_id(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, OPEN_ID)

    _finite, _not_negative, _plausible, _whole_number = count_checks(
        "follower_count", "following_count", "likes_count", "video_count"
    )


class RawTikTokVideo(LandedRecord):
    """One landed /v2/video/list/ video: grain (video id, as-of date, landing line)."""

    handle: str = json_field("$._handle", "Roster handle of the creator the video was read for.")
    as_of: str = json_field("$._as_of", "UTC date the counts are as of.", str_matches=ISO_DATE)
    open_id: str = json_field("$._open_id", "open_id of the creator the video was read for.")
    video_id: str = json_field("$.id", "TikTok video id (digits).")
    create_time: str = json_field("$.create_time", "Publication time, Unix seconds (UTC).")
    title: str = json_field("$.title", "Video title.", nullable=True)
    video_description: str = json_field(
        "$.video_description", "The video's caption as the creator wrote it.", nullable=True
    )
    share_url: str = json_field("$.share_url", "Public URL of the video.", nullable=True)
    view_count: str = json_field("$.view_count", "Views.", nullable=True)
    like_count: str = json_field("$.like_count", "Likes.", nullable=True)
    comment_count: str = json_field("$.comment_count", "Comments.", nullable=True)
    share_count: str = json_field("$.share_count", "Shares.", nullable=True)

    @pa.check("open_id", name="open_id")
    def _open_id(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, OPEN_ID)

    @pa.check("video_id", name="digits_id")
    def _digits_id(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, DIGITS_ID)

    @pa.check("create_time", name="unix_seconds")
    def _unix_seconds(cls, data: PolarsData) -> pl.LazyFrame:
        return matches(data, DIGITS_ID)

    @pa.check("create_time", name="created_by_the_night", error=CREATED_AFTER_THE_NIGHT)
    def _created_by_the_night(cls, data: PolarsData) -> pl.LazyFrame:
        end_of_night = _end_of_night_epoch(pl.col("as_of"))
        return data.lazyframe.select((_create_time(data) < end_of_night).fill_null(True))

    @pa.check("create_time", name="created_since_tiktok", error=CREATED_BEFORE_TIKTOK)
    def _created_since_tiktok(cls, data: PolarsData) -> pl.LazyFrame:
        created = _create_time(data)
        return data.lazyframe.select((created >= FIRST_POSSIBLE_CREATE_TIME).fill_null(True))

    _finite, _not_negative, _plausible, _whole_number = count_checks(
        "view_count", "like_count", "comment_count", "share_count"
    )


TIKTOK_CONTRACTS: dict[str, type[LandedRecord]] = {
    "users": RawTikTokUser,
    "videos": RawTikTokVideo,
}
