"""rpt_weekly_engagement against hand-computed values, on tiny hand-made facts."""

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from warehouse.lake import LakeLocation, open_lake
from warehouse.reports import build_weekly_reports

WEEK = dt.date(2026, 11, 16)  # Monday of 2026-W47; its default as-of date is Monday 2026-11-23


def day(offset: int) -> dt.date:
    return WEEK + dt.timedelta(days=offset)


def at(offset: int, time: str = "12:00") -> dt.datetime:
    return dt.datetime.combine(day(offset), dt.time.fromisoformat(time))


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return open_lake(LakeLocation.in_directory(tmp_path))


def add_snapshots(
    connection: duckdb.DuckDBPyConnection,
    account_id: str,
    followers_by_day: dict[int, int],
    platform: str = "instagram",
) -> None:
    connection.executemany(
        "insert into fact_profile_daily (platform, account_id, snapshot_date, followers)"
        " values (?, ?, ?, ?)",
        [[platform, account_id, day(offset), n] for offset, n in followers_by_day.items()],
    )


def add_post(
    connection: duckdb.DuckDBPyConnection,
    post_id: str,
    account_id: str,
    published_at: dt.datetime,
    *,
    observed: dt.date,
    likes: int | None,
    comments: int | None = None,
    shares: int | None = None,
    saves: int | None = None,
    platform: str = "instagram",
) -> None:
    connection.execute(
        "insert into fact_post_metrics (platform, post_id, observed_date, account_id,"
        " published_at, media_type, likes, comments, shares, saves)"
        " values (?, ?, ?, ?, ?, 'IMAGE', ?, ?, ?, ?)",
        [platform, post_id, observed, account_id, published_at, likes, comments, shares, saves],
    )


def engagement(
    connection: duckdb.DuckDBPyConnection, as_of: dt.date | None = None
) -> dict[str, dict[str, object]]:
    """Build WEEK and return its rows by account_id (ids are unique across platforms here)."""
    build_weekly_reports(connection, WEEK, as_of)
    cursor = connection.execute(
        "select * from rpt_weekly_engagement where week_start = ? order by all", [WEEK]
    )
    columns = [description[0] for description in cursor.description]
    return {row[1]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


def test_every_formula_on_one_account(warehouse: duckdb.DuckDBPyConnection) -> None:
    warehouse.execute(
        "insert into dim_influencer values"
        " ('instagram', 'a', 'maya.bakes', 'Maya', 'GB', 'food', ?, ?)",
        [day(-1), day(7)],
    )
    # Snapshots outside the week (Sunday before, Monday after) are not its start or end.
    add_snapshots(warehouse, "a", {-1: 19_000, 0: 20_000, 2: 20_500, 6: 21_000, 7: 22_000})
    # 300 + 40 + 60 (shares NULL -> 0) = 400 interactions; followers on Monday 20 000 -> 0.02
    add_post(
        warehouse, "p1", "a", at(0, "09:00"), observed=day(1), likes=300, comments=40, saves=60
    )
    # 1000 + 20 + 5 (saves NULL -> 0) = 1025; no snapshot on Thursday: Wednesday's 20 500 -> 0.05
    add_post(
        warehouse, "p2", "a", at(3, "23:30"), observed=day(4), likes=1_000, comments=20, shares=5
    )
    # hidden likes: counted in posts, left out of interactions and the rate
    add_post(warehouse, "p3", "a", at(5), observed=day(6), likes=None, comments=50)
    # published one second before the week and exactly at its end: other weeks' posts
    add_post(warehouse, "p0", "a", at(-1, "23:59:59"), observed=day(0), likes=999)
    add_post(warehouse, "p4", "a", at(7, "00:00"), observed=day(7), likes=999)

    row = engagement(warehouse)["a"]

    assert row == {
        "platform": "instagram",
        "account_id": "a",
        "handle": "maya.bakes",
        "week_start": WEEK,
        "as_of_date": day(7),
        "followers_start": 20_000,
        "followers_end": 21_000,
        "follower_growth_pct": pytest.approx(5.0),  # (21 000 - 20 000) / 20 000 * 100
        "posts": 3,
        "interactions": 1_425,  # 400 + 1025
        "engagement_rate": pytest.approx(0.035),  # (0.02 + 0.05) / 2
        "tier": "micro",  # 21 000 is in [10 000, 100 000)
        "tier_median_er": pytest.approx(0.035),  # the only micro account
        "er_index": pytest.approx(1.0),
        # p0 is the previous week's one post: 999 / 19 000 (Sunday's snapshot) = 0.052579
        "er_change_pp": pytest.approx((0.035 - 999 / 19_000) * 100),  # -1.7579
        "rank_in_tier": 1,
    }


@pytest.mark.parametrize(
    ("snapshots", "post_day", "expected_rate"),
    [
        ({2: 30_000, 3: 40_000}, 3, 1_000 / 40_000),
        ({1: 25_000, 5: 50_000}, 3, 1_000 / 25_000),
        ({5: 50_000, 6: 60_000}, 0, 1_000 / 50_000),
        ({-28: 25_000, 5: 50_000}, 0, 1_000 / 25_000),
        ({-29: 25_000, 5: 50_000}, 0, 1_000 / 50_000),
    ],
    ids=[
        "snapshot-on-the-posting-date",
        "latest-snapshot-before-the-post",
        "no-snapshot-before-earliest-within-7-days-after",
        "a-snapshot-28-days-before-still-stands-in",
        "a-snapshot-29-days-before-is-too-old",
    ],
)
def test_followers_at_a_post(
    warehouse: duckdb.DuckDBPyConnection,
    snapshots: dict[int, int],
    post_day: int,
    expected_rate: float,
) -> None:
    add_snapshots(warehouse, "a", snapshots)
    add_post(warehouse, "p", "a", at(post_day), observed=day(6), likes=1_000)

    assert engagement(warehouse)["a"]["engagement_rate"] == pytest.approx(expected_rate)


def test_a_post_with_zero_followers_at_post_time_is_left_out_of_the_rate(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # A snapshot in the week is always within 6 days of a post of the week, so a reported
    # account's post always finds a follower count; a count of 0 is the one way to have none.
    add_snapshots(warehouse, "a", {0: 0, 6: 100})
    add_post(warehouse, "p", "a", at(0), observed=day(1), likes=10)

    row = engagement(warehouse)["a"]

    assert (row["posts"], row["interactions"], row["engagement_rate"]) == (1, 0, None)
    assert (row["follower_growth_pct"], row["tier"]) == (None, "nano")  # start 0: no growth


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (None, (1, 200, 200 / 10_000)),
        (day(8), (2, 900, 900 / 10_000)),
        (day(2), (1, 100, 100 / 10_000)),
    ],
    ids=[
        "default-as-of-ignores-a-later-observation",
        "later-as-of-takes-the-later-observation",
        "mid-week-as-of-takes-the-observation-then",
    ],
)
def test_a_post_observed_several_times_is_measured_at_its_latest_observation_up_to_as_of(
    warehouse: duckdb.DuckDBPyConnection,
    as_of: dt.date | None,
    expected: tuple[int, int, float],
) -> None:
    add_snapshots(warehouse, "a", {0: 10_000, 6: 10_000})
    for observed, likes in ((day(1), 100), (day(4), 200), (day(8), 900)):
        add_post(warehouse, "p", "a", at(0), observed=observed, likes=likes)
    # first observed after the default as-of date: not yet known then, so not yet a post
    add_post(warehouse, "late", "a", at(6), observed=day(8), likes=None)

    row = engagement(warehouse, as_of)["a"]

    assert row["posts"] == expected[0]
    assert row["interactions"] == expected[1]
    assert row["engagement_rate"] == pytest.approx(expected[2])


def test_hidden_likes_leave_a_post_out_of_the_rate_but_not_out_of_posts(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    add_snapshots(warehouse, "a", {0: 10_000})
    add_snapshots(warehouse, "b", {0: 10_000})
    add_post(warehouse, "a1", "a", at(1), observed=day(2), likes=None, comments=500)
    add_post(warehouse, "a2", "a", at(2), observed=day(3), likes=100)
    add_post(warehouse, "b1", "b", at(1), observed=day(2), likes=None, comments=500)

    rows = engagement(warehouse)

    # a: only a2 is in the rate: 100 / 10 000
    assert (rows["a"]["posts"], rows["a"]["interactions"]) == (2, 100)
    assert rows["a"]["engagement_rate"] == pytest.approx(0.01)
    # b: no post in the rate, so no rate and no place in the ranking
    assert (rows["b"]["posts"], rows["b"]["interactions"]) == (1, 0)
    assert (rows["b"]["engagement_rate"], rows["b"]["rank_in_tier"]) == (None, None)
    assert rows["b"]["tier_median_er"] == pytest.approx(0.01)  # the median of a's rate alone


def test_peers_median_index_and_rank_within_platform_and_tier(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    interactions = {"d": 1_000, "c": 1_000, "b": 400, "a": 200}  # d and c tie at 0.05
    for account_id, count in interactions.items():
        add_snapshots(warehouse, account_id, {0: 20_000})
        add_post(warehouse, f"{account_id}1", account_id, at(1), observed=day(2), likes=count)
    add_snapshots(warehouse, "e", {0: 20_000})  # micro, no posts: no rate
    add_snapshots(warehouse, "m", {0: 200_000})  # macro
    add_post(warehouse, "m1", "m", at(1), observed=day(2), likes=400)
    add_snapshots(warehouse, "t", {0: 20_000}, platform="tiktok")  # micro, another platform
    add_post(warehouse, "t1", "t", at(1), observed=day(2), likes=10_000, platform="tiktok")

    rows = engagement(warehouse)

    # instagram micro rates 0.01, 0.02, 0.05, 0.05: an even count, median (0.02 + 0.05) / 2
    assert {a: rows[a]["tier_median_er"] for a in "abcde"} == pytest.approx(
        dict.fromkeys("abcde", 0.035)
    )
    assert rows["a"]["er_index"] == pytest.approx(0.01 / 0.035)
    assert rows["c"]["er_index"] == pytest.approx(0.05 / 0.035)
    # the tie at 0.05 goes to the smaller account_id
    assert {a: rows[a]["rank_in_tier"] for a in "abcde"} == {
        "c": 1,
        "d": 2,
        "b": 3,
        "a": 4,
        "e": None,
    }
    # the macro and the tiktok accounts are their own peer groups: 400 / 200 000, 10 000 / 20 000
    assert (rows["m"]["tier"], rows["m"]["rank_in_tier"]) == ("macro", 1)
    assert rows["m"]["tier_median_er"] == pytest.approx(0.002)
    assert (rows["t"]["tier"], rows["t"]["rank_in_tier"]) == ("micro", 1)
    assert rows["t"]["tier_median_er"] == pytest.approx(0.5)


def test_er_change_against_the_previous_week_measured_as_of_its_own_default(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    add_snapshots(warehouse, "a", {offset: 10_000 for offset in range(-7, 7)})
    # previous week: 100 likes as of its default as-of date (this Monday, day 0) -> 0.01; the
    # 5 000 likes seen on Wednesday are after that date, so they do not count even though this
    # week's as-of date is later
    add_post(warehouse, "old", "a", at(-5), observed=day(-4), likes=100)
    add_post(warehouse, "old", "a", at(-5), observed=day(2), likes=5_000)
    add_post(warehouse, "new", "a", at(1), observed=day(2), likes=350)  # 350 / 10 000 = 0.035
    add_snapshots(warehouse, "b", {0: 10_000})  # no snapshot in the previous week
    add_post(warehouse, "b1", "b", at(1), observed=day(2), likes=100)
    add_snapshots(warehouse, "c", {-7: 10_000, 0: 10_000})  # no post in the previous week
    add_post(warehouse, "c1", "c", at(1), observed=day(2), likes=100)

    rows = engagement(warehouse)

    assert rows["a"]["er_change_pp"] == pytest.approx(2.5)  # (0.035 - 0.01) * 100
    assert rows["b"]["er_change_pp"] is None
    assert rows["c"]["er_change_pp"] is None


def test_every_account_with_a_snapshot_in_the_week_gets_a_row(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    add_snapshots(warehouse, "sunday_only", {6: 50_000})
    add_snapshots(warehouse, "gone", {-1: 50_000, 7: 50_000})  # around the week, not in it
    add_post(warehouse, "g1", "gone", at(2), observed=day(3), likes=100)

    rows = engagement(warehouse)

    assert set(rows) == {"sunday_only"}
    assert rows["sunday_only"]["followers_start"] == rows["sunday_only"]["followers_end"] == 50_000
    assert (rows["sunday_only"]["posts"], rows["sunday_only"]["engagement_rate"]) == (0, None)
