"""Contracts of the raw YouTube entities, as landed from the YouTube Data API v3.

Counts arrive as JSON strings ("12300"), so a count is judged on its text: digits only (a sign,
a decimal point, an exponent, ``NaN`` or an object fail). ``subscriberCount`` is absent, and
that is fine, when ``hiddenSubscriberCount`` is true; it is rounded down to three significant
figures by the API, which no contract can undo. ``likeCount`` is absent when the creator hides
likes, ``commentCount`` when comments are off, ``viewCount`` on some premieres: unknown, not 0.
Each check is named as the reason a quarantined row shows.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.checks import published_by_end_of_as_of
from schemas.raw.base import LandedRecord, json_field
from schemas.vocabulary import MAX_PLAUSIBLE_COUNT

ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
CHANNEL_ID = r"^UC[A-Za-z0-9_-]{22}$"
VIDEO_ID = r"^[A-Za-z0-9_-]{11}$"
# Polars' format for RFC 3339 times: fractions optional, "Z" or a numeric offset.
RFC3339_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%#z"
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
DIGITS = r"^\d+$"
HIDDEN_FLAG = ["true", "false"]

NOT_DIGITS = "count is not a string of digits"
IMPLAUSIBLE = "implausible count (above 10^10)"
PUBLISHED_AFTER_AS_OF = "published after the end of the as-of date"


def _digits(data: PolarsData) -> pl.LazyFrame:
    # Nulls are judged by the field's nullable flag (and, for subscribers, by the hidden flag).
    return data.lazyframe.select(pl.col(data.key).str.contains(DIGITS).fill_null(True))


def _plausible(data: PolarsData) -> pl.LazyFrame:
    # As a float: a count beyond 64 bits still compares; text that is no number passes here and
    # fails the digits check instead (one reason per value).
    number = pl.col(data.key).cast(pl.Float64, strict=False)
    return data.lazyframe.select((number <= MAX_PLAUSIBLE_COUNT).fill_null(True))


class RawYouTubeChannel(LandedRecord):
    """One landed channels.list item: grain (roster handle, as-of date, landing line)."""

    handle: str = json_field(
        "$._handle", "Roster handle: the channel id (UC...) or @handle asked for."
    )
    as_of: str = json_field(
        "$._as_of", "UTC date the counts are as of (end of day).", str_matches=ISO_DATE
    )
    channel_id: str = json_field("$.id", "YouTube channel id: UC and 22 characters.")
    title: str = json_field("$.snippet.title", "Channel name.")
    custom_url: str = json_field(
        "$.snippet.customUrl", "The channel's @handle, lower-cased, if it has one.", nullable=True
    )
    subscriber_count: str = json_field(
        "$.statistics.subscriberCount",
        "Subscribers, rounded down to 3 significant figures; absent when hidden.",
        nullable=True,
    )
    hidden_subscriber_count: str = json_field(
        "$.statistics.hiddenSubscriberCount",
        "true when the owner hides the subscriber count.",
        nullable=True,
        isin=HIDDEN_FLAG,
    )
    view_count: str = json_field("$.statistics.viewCount", "Views of all videos.", nullable=True)
    video_count: str = json_field("$.statistics.videoCount", "Public videos on the channel.")
    uploads_playlist_id: str = json_field(
        "$.contentDetails.relatedPlaylists.uploads", "Playlist of the uploads.", nullable=True
    )

    @pa.check("channel_id", name="not a channel id (UC and 22 characters)")
    def _channel_id(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.contains(CHANNEL_ID))

    @pa.check("subscriber_count", "view_count", "video_count", name=NOT_DIGITS)
    def _counts_are_digits(cls, data: PolarsData) -> pl.LazyFrame:
        return _digits(data)

    @pa.check("subscriber_count", "view_count", "video_count", name=IMPLAUSIBLE)
    def _counts_are_plausible(cls, data: PolarsData) -> pl.LazyFrame:
        return _plausible(data)

    @pa.check("subscriber_count", name="absent while hiddenSubscriberCount is not true")
    def _absent_only_when_hidden(cls, data: PolarsData) -> pl.LazyFrame:
        hidden = pl.col("hidden_subscriber_count") == "true"
        return data.lazyframe.select((pl.col(data.key).is_not_null() | hidden).fill_null(False))


class RawYouTubeVideo(LandedRecord):
    """One landed videos.list item: grain (video id, as-of date, landing line)."""

    handle: str = json_field("$._handle", "Roster handle of the channel the video was fetched for.")
    as_of: str = json_field("$._as_of", "UTC date the counts are as of.", str_matches=ISO_DATE)
    channel_id: str = json_field("$._channel_id", "Id of the channel the video was fetched for.")
    video_id: str = json_field("$.id", "YouTube video id: 11 characters.")
    published_at: str = json_field("$.snippet.publishedAt", "Publication time, RFC 3339.")
    video_channel_id: str = json_field(
        "$.snippet.channelId", "Channel the video belongs to, per the API.", nullable=True
    )
    title: str = json_field("$.snippet.title", "Video title.", nullable=True)
    description: str = json_field("$.snippet.description", "Video description.", nullable=True)
    view_count: str = json_field("$.statistics.viewCount", "Views; absent on some.", nullable=True)
    like_count: str = json_field(
        "$.statistics.likeCount", "Likes; absent when hidden (unknown, not 0).", nullable=True
    )
    comment_count: str = json_field(
        "$.statistics.commentCount", "Comments; absent when comments are off.", nullable=True
    )

    @pa.check("channel_id", name="not a channel id (UC and 22 characters)")
    def _channel_id(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.contains(CHANNEL_ID))

    @pa.check("video_id", name="not a video id (11 characters)")
    def _video_id(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.contains(VIDEO_ID))

    @pa.check("published_at", name="not an RFC 3339 time")
    def _rfc3339(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.contains(RFC3339))

    @pa.check("published_at", name=PUBLISHED_AFTER_AS_OF)
    def _published_by_end_of_as_of(cls, data: PolarsData) -> pl.LazyFrame:
        return published_by_end_of_as_of(data, RFC3339_FORMAT)

    @pa.check("video_channel_id", name="belongs to another channel than it was fetched for")
    def _same_channel(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col(data.key) == pl.col("channel_id")).fill_null(True))

    @pa.check("view_count", "like_count", "comment_count", name=NOT_DIGITS)
    def _counts_are_digits(cls, data: PolarsData) -> pl.LazyFrame:
        return _digits(data)

    @pa.check("view_count", "like_count", "comment_count", name=IMPLAUSIBLE)
    def _counts_are_plausible(cls, data: PolarsData) -> pl.LazyFrame:
        return _plausible(data)


YOUTUBE_CONTRACTS: dict[str, type[LandedRecord]] = {
    "channels": RawYouTubeChannel,
    "videos": RawYouTubeVideo,
}
