"""TikTok's validated raw frames -> the platform-neutral staged frames.

``users`` -> :class:`~schemas.staging.StagedProfile`: account_id is the ``open_id`` (TikTok scopes
it to the app, and it never changes with a rename); username is the roster handle (the Display
API's ``username`` needs the user.info.profile scope, which the pipeline does not ask for: the
handle the creator connected with is the one the roster tracks); followers is ``follower_count``,
following ``following_count``, media_count ``video_count``.

``videos`` -> :class:`~schemas.staging.StagedPost`: post_id is the video id, account_id the
``open_id`` of the creator it was read for, published_at ``create_time`` (Unix seconds, UTC),
media_type ``VIDEO`` (every TikTok post is a video; the word the other platforms use for one);
likes, comments, shares and views as reported (NULL when absent: unknown, not 0); saves NULL
(the Display API does not report them). The raw contracts have checked every field's text, so
the casts here cannot fail on data that passed them.
"""

from __future__ import annotations

import polars as pl

from schemas.staging import StagedPost, StagedProfile

PLATFORM = "tiktok"
MEDIA_TYPE = "VIDEO"
_COMMON = (
    pl.lit(PLATFORM).alias("platform"),
    pl.col("handle"),
    pl.col("open_id").alias("account_id"),
    pl.col("as_of").str.to_date("%Y-%m-%d"),
    pl.col("landed_file"),
    pl.col("line_number").cast(pl.Int64),
)


def stage_profiles(users: pl.LazyFrame) -> pl.LazyFrame:
    """Grain: one row per landed user (platform, account_id, as_of, landing line)."""
    return users.select(
        *_COMMON,
        username="handle",
        display_name="display_name",
        followers=pl.col("follower_count").cast(pl.Int64),
        following=pl.col("following_count").cast(pl.Int64),
        media_count=pl.col("video_count").cast(pl.Int64),
    ).select(list(StagedProfile.to_schema().columns))


def stage_posts(videos: pl.LazyFrame) -> pl.LazyFrame:
    """Grain: one row per landed video (platform, post_id, as_of, landing line)."""
    return videos.select(
        *_COMMON,
        post_id="video_id",
        published_at=pl.from_epoch(pl.col("create_time").cast(pl.Int64), time_unit="s").cast(
            pl.Datetime("us")
        ),
        media_type=pl.lit(MEDIA_TYPE),
        likes=pl.col("like_count").cast(pl.Int64),
        comments=pl.col("comment_count").cast(pl.Int64),
        shares=pl.col("share_count").cast(pl.Int64),
        saves=pl.lit(None, dtype=pl.Int64),
        views=pl.col("view_count").cast(pl.Int64),
        # The description is the caption as written (hashtags, mentions, codes); the title a cut.
        caption=pl.coalesce("video_description", "title"),
        permalink="share_url",
    ).select(list(StagedPost.to_schema().columns))
