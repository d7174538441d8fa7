"""YouTube staging: validated raw frames -> staged profiles and posts; and what the reports make
of subscriber counts rounded down to three significant figures (a staircase)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from schemas.contract import split_by_contract
from schemas.raw import json_paths
from schemas.raw.youtube import RawYouTubeChannel
from schemas.staging import StagedPost, StagedProfile
from transforms.raw_records import parse_landed_records
from transforms.staging.youtube import stage_posts, stage_profiles
from warehouse.lake import LakeLocation, open_lake
from warehouse.reports import build_weekly_reports

CHANNEL = "UCVlEgdIfZ-_p7Hgj3fE0nug"
OTHER_CHANNEL = "UC8j4nRfbvVKfd4g1P9Zv9qg"
AS_OF = "2026-10-18"
PROVENANCE = {"landed_file": "youtube/x.jsonl.gz", "raw_record": "{}"}

WEEK = dt.date(2026, 11, 16)
SUNDAY = WEEK + dt.timedelta(days=6)  # e
HISTORY = range(-84, 1)  # the drift report reads snapshots in [e - 84, e]
GROWTH_WINDOW = range(-55, 1)  # (e - 56, e]


def on(t: int) -> dt.date:
    return SUNDAY + dt.timedelta(days=t)


def as_youtube_reports(count: int) -> int:
    """Rounded down to three significant figures, as YouTube reports subscribers."""
    if count < 1_000:
        return count
    step = 10 ** (len(str(count)) - 3)
    return count // step * step


def raw_channels(**columns: list[object]) -> pl.LazyFrame:
    rows = len(next(iter(columns.values())))
    provenance = {name: [value] * rows for name, value in PROVENANCE.items()}
    return pl.LazyFrame({**provenance, "line_number": list(range(1, rows + 1)), **columns})


def test_channels_stage_as_profiles_hidden_subscribers_null() -> None:
    channels = raw_channels(
        handle=[CHANNEL, "@yuki", OTHER_CHANNEL],
        as_of=[AS_OF] * 3,
        channel_id=[CHANNEL, "UCFuGHbcEAfhCbTWWruycw8w", OTHER_CHANNEL],
        title=["Noah Foster", "ゆきのキッチン", "Tom Reed"],
        custom_url=["@the.noah.moves", "@ゆきのキッチン", None],
        subscriber_count=["103000", None, "9870"],
        hidden_subscriber_count=["false", "true", None],
        view_count=["12253111", "88000", None],
        video_count=["131", "0", "12"],
        uploads_playlist_id=["UUVlEgdIfZ-_p7Hgj3fE0nug", None, None],
    )

    staged = stage_profiles(channels).collect()

    expected = pl.DataFrame(
        {
            "platform": ["youtube"] * 3,
            "handle": [CHANNEL, "@yuki", OTHER_CHANNEL],
            "account_id": [CHANNEL, "UCFuGHbcEAfhCbTWWruycw8w", OTHER_CHANNEL],
            "as_of": [dt.date(2026, 10, 18)] * 3,
            "landed_file": ["youtube/x.jsonl.gz"] * 3,
            "line_number": [1, 2, 3],
            "username": ["@the.noah.moves", "@ゆきのキッチン", "Tom Reed"],
            "display_name": ["Noah Foster", "ゆきのキッチン", "Tom Reed"],
            "followers": [103_000, None, 9_870],
            "following": [None, None, None],
            "media_count": [131, 0, 12],
        },
        schema_overrides={"following": pl.Int64},
    )
    assert_frame_equal(staged, expected)
    StagedProfile.validate(staged)


def test_a_hidden_count_stays_null_even_if_a_count_came_along() -> None:
    channels = raw_channels(
        handle=[CHANNEL],
        as_of=[AS_OF],
        channel_id=[CHANNEL],
        title=["Noah Foster"],
        custom_url=[None],
        subscriber_count=["103000"],
        hidden_subscriber_count=["true"],
        view_count=[None],
        video_count=["1"],
        uploads_playlist_id=[None],
    )

    assert stage_profiles(channels).collect()["followers"].to_list() == [None]


def test_videos_stage_as_posts_with_views_and_hidden_likes_null() -> None:
    videos = pl.LazyFrame(
        {
            **{name: [value] * 2 for name, value in PROVENANCE.items()},
            "line_number": [4, 5],
            "handle": [CHANNEL, CHANNEL],
            "as_of": [AS_OF, AS_OF],
            "channel_id": [CHANNEL, CHANNEL],
            "video_id": ["V2_57nMdzSw", "Qk3-9bTz_aA"],
            "published_at": ["2026-10-17T18:05:00Z", "2026-10-18T09:30:15.5+02:00"],
            "video_channel_id": [CHANNEL, None],
            "title": ["new deadlift PR", None],
            "description": ["Use code SAMB10 at peakform #ad", None],
            "view_count": ["15054", "880"],
            "like_count": ["621", None],
            "comment_count": ["36", None],
        }
    )

    staged = stage_posts(videos).collect()

    expected = pl.DataFrame(
        {
            "platform": ["youtube"] * 2,
            "handle": [CHANNEL] * 2,
            "account_id": [CHANNEL] * 2,
            "as_of": [dt.date(2026, 10, 18)] * 2,
            "landed_file": ["youtube/x.jsonl.gz"] * 2,
            "line_number": [4, 5],
            "post_id": ["V2_57nMdzSw", "Qk3-9bTz_aA"],
            "published_at": [
                dt.datetime(2026, 10, 17, 18, 5),
                dt.datetime(2026, 10, 18, 7, 30, 15, 500_000),
            ],
            "media_type": ["VIDEO", "VIDEO"],
            "likes": [621, None],
            "comments": [36, None],
            "shares": [None, None],
            "saves": [None, None],
            "views": [15_054, 880],
            "caption": ["new deadlift PR\nUse code SAMB10 at peakform #ad", None],
            "permalink": [
                "https://www.youtube.com/watch?v=V2_57nMdzSw",
                "https://www.youtube.com/watch?v=Qk3-9bTz_aA",
            ],
        },
        schema_overrides={
            "caption": pl.String,
            "shares": pl.Int64,
            "saves": pl.Int64,
            "published_at": pl.Datetime("us"),
        },
    )
    assert_frame_equal(staged, expected)
    StagedPost.validate(staged)


# --- A channel whose rounded count stays flat for weeks, then steps -------------------------


def staircase(base: int, growth_in_8_weeks: float, start: int = -84) -> Callable[[int], int]:
    """The true subscriber count: ``base`` on day ``start``, growing steadily."""
    daily = math.log(1 + growth_in_8_weeks) / 56
    return lambda t: round(base * math.exp(daily * (t - start)))


def landed_channel_lines(channel_id: str, counts: dict[int, int]) -> pl.LazyFrame:
    """One landed channels.list record per day, the count as YouTube reports it."""
    records = [
        {
            "kind": "youtube#channel",
            "id": channel_id,
            "snippet": {"title": "Slow Grower", "customUrl": "@slow.grower"},
            "statistics": {
                "subscriberCount": str(as_youtube_reports(count)),
                "hiddenSubscriberCount": False,
                "videoCount": "40",
            },
            "_handle": channel_id,
            "_as_of": on(t).isoformat(),
        }
        for t, count in counts.items()
    ]
    return pl.LazyFrame(
        {
            "landed_file": [f"youtube/channels/{channel_id}.jsonl.gz"] * len(records),
            "line_number": list(range(1, len(records) + 1)),
            "raw_record": [json.dumps(record) for record in records],
        }
    )


def staged_history(channel_id: str, true_count: Callable[[int], int]) -> pl.DataFrame:
    """Landed -> raw contract -> staged profiles, for every day of HISTORY."""
    lines = landed_channel_lines(channel_id, {t: true_count(t) for t in HISTORY})
    raw = parse_landed_records(lines, json_paths(RawYouTubeChannel)).collect()
    split = split_by_contract(raw, RawYouTubeChannel)
    assert split.rejected.is_empty()
    return stage_profiles(split.valid.lazy()).collect()


def least_squares_slope(days: list[int], values: list[float]) -> float:
    mean_day, mean_value = sum(days) / len(days), sum(values) / len(values)
    covariance = sum((d - mean_day) * (v - mean_value) for d, v in zip(days, values, strict=True))
    return covariance / sum((d - mean_day) ** 2 for d in days)


def true_daily_rate(true_count: Callable[[int], int]) -> float:
    days = list(GROWTH_WINDOW)
    return least_squares_slope(days, [math.log(true_count(t)) for t in days])


def test_staged_followers_reproduce_the_reported_steps_exactly() -> None:
    true_count = staircase(100_100, 0.02)

    staged = staged_history(CHANNEL, true_count)

    assert staged["followers"].to_list() == [as_youtube_reports(true_count(t)) for t in HISTORY]
    assert staged["as_of"].to_list() == [on(t) for t in HISTORY]
    runs = [(count, len(list(days))) for count, days in itertools.groupby(staged["followers"])]
    # Flat for almost four weeks at a time, then a step of 1 000 (1 %).
    assert runs == [(100_000, 26), (101_000, 28), (102_000, 27), (103_000, 4)]


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return open_lake(LakeLocation.in_directory(tmp_path))


def load_snapshots(connection: duckdb.DuckDBPyConnection, staged: pl.DataFrame) -> None:
    connection.executemany(
        "insert into fact_profile_daily (platform, account_id, snapshot_date, followers)"
        " values (?, ?, ?, ?)",
        staged.select("platform", "account_id", "as_of", "followers").rows(),
    )


def drift_row(connection: duckdb.DuckDBPyConnection, account_id: str) -> dict[str, object]:
    build_weekly_reports(connection, WEEK)
    cursor = connection.execute(
        "select * from rpt_tier_drift where week_start = ? and account_id = ?",
        [WEEK, account_id],
    )
    columns = [description[0] for description in cursor.description]
    row = cursor.fetchone()
    assert row is not None
    return dict(zip(columns, row, strict=True))


@pytest.mark.parametrize(
    ("true_count", "fitted_over_true"),
    [
        # 2 % in 8 weeks around 101 000: two steps in the window, the fit is 6.6 % low.
        (staircase(100_100, 0.02), pytest.approx(0.934, abs=0.001)),
        # 1 % in 8 weeks, the one step mid-window (t = -28): it weighs most, 1.5x the true rate.
        (staircase(101_000, 0.01, start=-28), pytest.approx(1.49, abs=0.01)),
        # ... the one step three days before e: it tilts the fit less than half as much.
        (staircase(101_000, 0.01, start=-3), pytest.approx(0.40, abs=0.01)),
    ],
    ids=["two-steps", "one-step-mid-window", "one-step-at-the-end"],
)
def test_the_drift_rate_fits_the_staircase_not_the_true_curve(
    warehouse: duckdb.DuckDBPyConnection,
    true_count: Callable[[int], int],
    fitted_over_true: object,
) -> None:
    staged = staged_history(CHANNEL, true_count)
    load_snapshots(warehouse, staged)

    row = drift_row(warehouse, CHANNEL)

    window = staged.filter(pl.col("as_of") > on(-56))
    staircase_rate = least_squares_slope(
        [(day - SUNDAY).days for day in window["as_of"]],
        [math.log(count) for count in window["followers"]],
    )
    assert row["daily_growth_rate"] == pytest.approx(staircase_rate, rel=1e-9)
    assert row["daily_growth_rate"] / true_daily_rate(true_count) == fitted_over_true
    # A 1 % step is no spike: the MAD of a staircase is 0 (every step's z is huge), but a step
    # never exceeds 2 % of the count.
    assert row["anomalous_growth"] is False
    assert (row["tier"], row["tier_4w_ago"], row["status"], row["recommendation"]) == (
        "macro",
        "macro",
        "stable",
        "keep",
    )


def test_a_channel_with_no_step_in_the_window_has_no_growth(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    true_count = staircase(100_100, 0.005)  # +0.5 % in 8 weeks: never reaches 101 000
    load_snapshots(warehouse, staged_history(CHANNEL, true_count))

    row = drift_row(warehouse, CHANNEL)

    assert true_daily_rate(true_count) > 0
    assert row["followers"] == 100_000
    assert row["daily_growth_rate"] == 0
    assert row["weeks_to_next_tier"] is None
    assert row["projected_followers_12w"] == 100_000


def test_a_real_jump_on_a_rounded_count_is_still_a_spike(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    slow = staircase(100_100, 0.02)
    load_snapshots(
        warehouse,
        staged_history(CHANNEL, lambda t: round(slow(t) * (1.25 if t >= -10 else 1.0))),
    )

    row = drift_row(warehouse, CHANNEL)

    assert row["anomalous_growth"] is True
    assert row["recommendation"] == "review"


def test_the_reported_count_reaches_a_tier_bound_on_the_day_the_true_count_does(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # Crosses 100 000 on t = -20 (true 99 999 the day before: reported 99 900).
    true_count = staircase(100_000, 0.60, start=-20)
    staged = staged_history(CHANNEL, true_count)
    load_snapshots(warehouse, staged)

    row = drift_row(warehouse, CHANNEL)

    first_macro = staged.filter(pl.col("followers") >= 100_000)["as_of"].min()
    assert first_macro == on(-20)
    assert min(t for t in HISTORY if true_count(t) >= 100_000) == -20
    assert (row["tier_4w_ago"], row["tier"], row["status"]) == ("micro", "macro", "drifted")
