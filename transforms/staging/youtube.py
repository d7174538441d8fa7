"""YouTube's validated raw frames -> the platform-neutral staged frames.

``channels`` -> :class:`~schemas.staging.StagedProfile`: account_id is the channel id; followers
is ``subscriberCount``, NULL when ``hiddenSubscriberCount`` is true (such a channel gets no tier,
no rate and no growth); following is NULL (YouTube has no such count); media_count is
``videoCount``; username is the channel's ``customUrl`` (its @handle) or, for a channel without
one, its title; display_name is the title.

``videos`` -> :class:`~schemas.staging.StagedPost`: post_id is the video id, account_id the
channel it was fetched for, media_type ``VIDEO``; likes are NULL when the creator hides them,
comments when comments are off, views when absent; shares and saves are NULL (the Data API
reports neither). The raw contracts have checked every field's text, so the casts here cannot
fail on data that passed them.

Subscriber counts have three significant figures
------------------------------------------------
YouTube reports ``subscriberCount`` rounded *down* to three significant figures: steps of 10
below 10,000, of 100 up to 99,999, of 1,000 up to 999,999, of 10,000 up to 9,999,999. A step is
between 0.1 % and 1 % of the count (1 % just above a power of ten: 100,000 -> 101,000). The
pipeline keeps the count as reported (REPORTS.md) and never tries to un-round it. Downstream:

- **Tiers are exact.** The default bounds (10,000, 100,000, 1,000,000) have three significant
  figures and the count is rounded down, so the reported count reaches a bound on the day the
  true count does. Custom bounds should have three significant figures too: a bound of 12,345
  would only be crossed at 12,400.
- **Growth is a staircase.** ``follower_growth_pct`` (rpt_weekly_engagement) is 0 for every week
  in which the true count grows by less than a step, then the whole step (+0.99 % from 101,000
  to 102,000) in the week it is crossed. Over several weeks it is right to within one step.
- **Engagement rates** divide by a count up to one step low: at most 1 % too high.
- **Drift.** ``daily_growth_rate`` (rpt_tier_drift) is the least-squares slope of ln(followers)
  over 56 days: it fits the staircase, not the true curve. With several steps in the window it
  is close (a channel growing 2 % in 8 weeks around 101,000, two steps in the window, fits 6.6 %
  below its true rate); with one step it depends on where the step falls (from 0 to about 1.5
  times the true rate, a step mid-window weighing most); with no step it is exactly 0, so
  ``weeks_to_next_tier`` is NULL and ``projected_followers_12w`` is today's count. Only slow
  growers are affected: a channel that could reach the next tier within 12 weeks climbs many
  steps in 8 weeks, and its rate is as good as an exact count's.
- **Spikes.** On a staircase most daily deltas are 0, so their median and MAD are 0 and the
  robust z of any step is huge (a 1,000 step: z = 1,000 / 1.4826 = 674 > 6). The other rule,
  a delta above 2 % of the previous count, then decides alone, and a rounding step (at most 1 %)
  never passes it: flat-then-step channels are not flagged. On such a channel a real jump is
  flagged when its *rounded* delta exceeds 2 %: always for a true jump above 3 %, never for one
  below 1 %, in between depending on where the rounding falls. ``spike_date`` is the day the
  true count jumped (a jump above one step shows the same day).
- ``interactions_lift`` and ``suspicious_growth`` read video counts, which YouTube does not
  round: unaffected.

``tests/transforms/test_staging_youtube.py`` shows the tier, drift and spike effects on
rpt_tier_drift.
"""

from __future__ import annotations

import polars as pl

from schemas.staging import StagedPost, StagedProfile

PLATFORM = "youtube"
MEDIA_TYPE = "VIDEO"
WATCH_URL = "https://www.youtube.com/watch?v="
RFC3339_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"
_COMMON = (
    pl.lit(PLATFORM).alias("platform"),
    pl.col("handle"),
    pl.col("channel_id").alias("account_id"),
    pl.col("as_of").str.to_date("%Y-%m-%d"),
    pl.col("landed_file"),
    pl.col("line_number").cast(pl.Int64),
)


def stage_profiles(channels: pl.LazyFrame) -> pl.LazyFrame:
    """Grain: one row per landed channel (platform, account_id, as_of, landing line)."""
    hidden = pl.col("hidden_subscriber_count") == "true"
    return channels.select(
        *_COMMON,
        username=pl.coalesce("custom_url", "title"),
        display_name="title",
        followers=pl.when(hidden.fill_null(False))
        .then(pl.lit(None, dtype=pl.Int64))
        .otherwise(pl.col("subscriber_count").cast(pl.Int64)),
        following=pl.lit(None, dtype=pl.Int64),
        media_count=pl.col("video_count").cast(pl.Int64),
    ).select(list(StagedProfile.to_schema().columns))


def stage_posts(videos: pl.LazyFrame) -> pl.LazyFrame:
    """Grain: one row per landed video (platform, post_id, as_of, landing line)."""
    return videos.select(
        *_COMMON,
        post_id="video_id",
        published_at=pl.col("published_at")
        .str.replace(r"Z$", "+00:00")
        .str.to_datetime(RFC3339_FORMAT, time_zone="UTC")
        .dt.replace_time_zone(None)
        .cast(pl.Datetime("us")),
        media_type=pl.lit(MEDIA_TYPE),
        likes=pl.col("like_count").cast(pl.Int64),
        comments=pl.col("comment_count").cast(pl.Int64),
        shares=pl.lit(None, dtype=pl.Int64),
        saves=pl.lit(None, dtype=pl.Int64),
        views=pl.col("view_count").cast(pl.Int64),
        # A video's text is its title and its description (where creators put codes and tags).
        caption=pl.concat_str(
            pl.col("title").fill_null(""), pl.col("description").fill_null(""), separator="\n"
        )
        .str.strip_chars()
        .replace("", None),
        permalink=pl.lit(WATCH_URL) + pl.col("video_id"),
    ).select(list(StagedPost.to_schema().columns))
