"""rpt_tier_drift against hand-computed values, on tiny hand-made follower histories.

Days are counted from e, the reported week's Sunday: t = -28 is e - 28 days. A history runs
from t = -56 (the snapshot before the 56-day window, whose change is the window's first delta)
to t = 0.
"""

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from warehouse.lake import LakeLocation, open_lake
from warehouse.reports import build_weekly_reports

WEEK = dt.date(2026, 11, 16)
SUNDAY = WEEK + dt.timedelta(days=6)  # e
HISTORY = range(-56, 1)


def on(t: int) -> dt.date:
    return SUNDAY + dt.timedelta(days=t)


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return open_lake(LakeLocation.in_directory(tmp_path))


def add_history(
    connection: duckdb.DuckDBPyConnection,
    account_id: str,
    followers: Callable[[int], int] | dict[int, int],
    days: range = HISTORY,
) -> None:
    counts = followers if isinstance(followers, dict) else {t: followers(t) for t in days}
    connection.executemany(
        "insert into fact_profile_daily (platform, account_id, snapshot_date, followers)"
        " values ('instagram', ?, ?, ?)",
        [[account_id, on(t), n] for t, n in counts.items()],
    )


def growing(start_followers: int, daily_rate: float, start: int = 0) -> Callable[[int], int]:
    """Followers growing by daily_rate (continuously compounded) from start_followers at t=start."""
    return lambda t: round(start_followers * math.exp(daily_rate * (t - start)))


def from_deltas(first_followers: int, delta: Callable[[int], int]) -> dict[int, int]:
    """A history starting at first_followers on t = -56 and changing by delta(t) on each day t."""
    counts = {HISTORY[0]: first_followers}
    for t in HISTORY[1:]:
        counts[t] = counts[t - 1] + delta(t)
    return counts


def drift(
    connection: duckdb.DuckDBPyConnection, as_of: dt.date | None = None
) -> dict[str, dict[str, object]]:
    build_weekly_reports(connection, WEEK, as_of)
    cursor = connection.execute(
        "select * from rpt_tier_drift where week_start = ? order by all", [WEEK]
    )
    columns = [description[0] for description in cursor.description]
    return {row[1]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


def weeks_to_double(weeks: float) -> float:
    """The daily rate at which 50 000 followers reach the micro bound 100 000 in ``weeks``."""
    return math.log(2) / (7 * weeks)


@pytest.mark.parametrize(
    ("followers", "expected"),
    [
        # 90 000 at t = -28, 90 000 * e^(0.012 * 28) = 125 935 now; days grow ~1.2 % (< 2 %)
        (growing(90_000, 0.012, start=-28), ("micro", "macro", False, "drifted", "move_on")),
        # a one-day jump of 30 000 (33 %) is anomalous, but drifted comes first
        (
            lambda t: 90_000 if t < -2 else 120_000,
            ("micro", "macro", True, "drifted", "move_on"),
        ),
        # 12 000 * e^(-0.336) = 8 575 now: fell to nano
        (growing(12_000, -0.012, start=-28), ("micro", "nano", False, "declining", "watch")),
        # down to 5 000, then +3 000 (60 %) in one day: review comes before watch
        (
            lambda t: 12_000 if t < -20 else (5_000 if t < -2 else 8_000),
            ("micro", "nano", True, "declining", "review"),
        ),
        # weeks_to_next_tier = ln(100 000 / 50 000) / rate / 7 = 11.5 <= 12
        (growing(50_000, weeks_to_double(11.5)), ("micro", "micro", False, "drifting", "watch")),
        # ... = 12.5 > 12
        (growing(50_000, weeks_to_double(12.5)), ("micro", "micro", False, "stable", "keep")),
        # +5 000 (10 %) in one day, otherwise flat: far from the next tier, but reviewed
        (
            lambda t: 50_000 if t < -2 else 55_000,
            ("micro", "micro", True, "stable", "review"),
        ),
        (lambda t: 50_000, ("micro", "micro", False, "stable", "keep")),
    ],
    ids=[
        "micro-to-macro-drifted",
        "drifted-and-anomalous-still-moves-on",
        "micro-to-nano-declining",
        "declining-and-anomalous-is-reviewed",
        "micro-11.5-weeks-from-macro-is-drifting",
        "micro-12.5-weeks-from-macro-is-stable",
        "stable-with-a-bought-jump-is-reviewed",
        "flat-micro-is-stable",
    ],
)
def test_status_and_recommendation(
    warehouse: duckdb.DuckDBPyConnection,
    followers: Callable[[int], int],
    expected: tuple[str, str, bool, str, str],
) -> None:
    add_history(warehouse, "x", followers)

    row = drift(warehouse)["x"]

    assert (
        row["tier_4w_ago"],
        row["tier"],
        row["anomalous_growth"],
        row["status"],
        row["recommendation"],
    ) == expected


def test_growth_rate_projection_and_weeks_to_the_next_tier(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    add_history(warehouse, "micro", growing(50_000, 0.01))
    add_history(warehouse, "mega", growing(2_000_000, 0.01))  # no tier above
    add_history(warehouse, "shrinking", growing(50_000, -0.01))
    # a snapshot after e is not the week's count
    add_history(warehouse, "micro", {1: 99_999})

    rows = drift(warehouse)

    # rounding to whole followers moves the least-squares slope of ln(followers) by < 1e-6
    assert rows["micro"]["followers"] == 50_000
    assert rows["micro"]["daily_growth_rate"] == pytest.approx(0.01, rel=1e-4)
    assert rows["micro"]["projected_followers_12w"] == pytest.approx(
        50_000 * math.exp(0.01 * 84), rel=1e-3
    )  # 115 833
    assert rows["micro"]["weeks_to_next_tier"] == pytest.approx(
        math.log(100_000 / 50_000) / 0.01 / 7, rel=1e-3
    )  # 9.90
    assert (rows["mega"]["tier"], rows["mega"]["weeks_to_next_tier"]) == ("mega", None)
    assert rows["shrinking"]["daily_growth_rate"] == pytest.approx(-0.01, rel=1e-4)
    assert rows["shrinking"]["weeks_to_next_tier"] is None


@pytest.mark.parametrize(
    ("days", "has_rate"),
    [
        (range(-13, 1), True),
        (range(-12, 1), False),
        ([-56, *range(-12, 1)], False),
    ],
    ids=["14-snapshots", "13-snapshots", "13-in-the-window-and-one-on-e-minus-56"],
)
def test_a_growth_rate_needs_14_snapshots_in_the_56_days_up_to_e(
    warehouse: duckdb.DuckDBPyConnection, days: list[int] | range, has_rate: bool
) -> None:
    add_history(warehouse, "x", {t: growing(50_000, 0.01)(t) for t in days})

    row = drift(warehouse)["x"]

    if has_rate:
        assert row["daily_growth_rate"] == pytest.approx(0.01, rel=1e-3)
        assert row["weeks_to_next_tier"] == pytest.approx(9.90, abs=0.01)
    else:
        assert (row["daily_growth_rate"], row["projected_followers_12w"]) == (None, None)
        assert (row["weeks_to_next_tier"], row["status"]) == (None, "stable")


def test_tier_4_weeks_ago_is_the_latest_snapshot_up_to_e_minus_28_no_older_than_28_days(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    add_history(warehouse, "on_the_lookback_edge", {-56: 15_000, 0: 120_000})
    add_history(warehouse, "beyond_the_lookback", {-57: 15_000, 0: 120_000})
    add_history(warehouse, "latest_counts", {-28: 5_000, -27: 15_000, 0: 120_000})

    rows = drift(warehouse)

    # e - 56 is 28 days before e - 28: the oldest snapshot that still stands in for it
    assert {account: (row["tier_4w_ago"], row["status"]) for account, row in rows.items()} == {
        "on_the_lookback_edge": ("micro", "drifted"),
        "beyond_the_lookback": (None, "stable"),
        "latest_counts": ("nano", "stable"),
    }


def alternating(spike_day: int, spike: int) -> Callable[[int], int]:
    """Deltas of 0 (even t) and 400 (odd t), one odd day's 400 replaced by ``spike``.

    Over the 56 deltas of t = -55..0: 28 zeros, 27 of 400 and the spike, so the median is
    (0 + 400) / 2 = 200, every regular delta deviates by 200 and MAD = 200;
    z(spike) = (spike - 200) / (1.4826 * 200) = (spike - 200) / 296.52.
    """
    return lambda t: spike if t == spike_day else (400 if t % 2 else 0)


@pytest.mark.parametrize(
    ("history", "anomalous"),
    [
        # deltas all 0 except one: median 0, MAD 0 -> max(MAD, 1) = 1, z = delta / 1.4826;
        # 2 % of 100 followers is 2
        (from_deltas(100, lambda t: 9 if t == -3 else 0), True),  # z = 6.07
        (from_deltas(100, lambda t: 8 if t == -3 else 0), False),  # z = 5.40
        # deltas of 100 a day: median 100, MAD 0; the day before t = -3 has
        # 50 000 + 52 * 100 = 55 200 followers, 2 % of which is 1 104
        (from_deltas(50_000, lambda t: 1_200 if t == -3 else 100), True),  # z = 742
        (from_deltas(50_000, lambda t: 1_000 if t == -3 else 100), False),  # z = 607, < 2 %
        (from_deltas(10_000, alternating(-3, 2_100)), True),  # z = 6.41; 2 % is < 440
        (from_deltas(10_000, alternating(-3, 1_900)), False),  # z = 5.73
        # the same spike before the last 28 days counts in the median, but is not looked for
        (from_deltas(10_000, alternating(-29, 2_100)), False),
    ],
    ids=[
        "mad-0-z-above-6",
        "mad-0-z-below-6",
        "z-above-6-and-over-2-percent",
        "z-above-6-but-under-2-percent",
        "noisy-z-above-6",
        "noisy-z-below-6",
        "spike-more-than-28-days-ago",
    ],
)
def test_anomalous_growth(
    warehouse: duckdb.DuckDBPyConnection, history: dict[int, int], anomalous: bool
) -> None:
    add_history(warehouse, "x", history)

    assert drift(warehouse)["x"]["anomalous_growth"] is anomalous


def add_weekly_posts(
    connection: duckdb.DuckDBPyConnection, likes_by_week: dict[int, int | None]
) -> None:
    """One post on the Tuesday of each week (0 = the reported one), seen the next day."""
    for week, likes in likes_by_week.items():
        published = dt.datetime.combine(WEEK + dt.timedelta(weeks=week, days=1), dt.time(12))
        connection.execute(
            "insert into fact_post_metrics (platform, post_id, observed_date, account_id,"
            " published_at, media_type, likes) values ('instagram', ?, ?, 'x', ?, 'IMAGE', ?)",
            [f"w{week}", published.date() + dt.timedelta(days=1), published, likes],
        )


@pytest.mark.parametrize(
    ("likes_by_week", "as_of", "expected_trend"),
    [
        # rates x 100 = likes / 10 000 * 100 = 1, 2, 2, 4 pp at weeks -3..0: mean week -1.5,
        # mean rate 2.25; slope = (1.5*1.25 + 0.5*0.25 - 0.5*0.25 + 1.5*1.75) / 5 = 0.9
        ({-8: 5_000, -3: 100, -2: 200, -1: 200, 0: 400}, None, 0.9),
        # week 0 seen later: 800 likes -> 1, 2, 2, 8 pp: (3.375 + 0.625 - 0.625 + 7.125) / 5
        ({-3: 100, -2: 200, -1: 200, 0: 400}, WEEK + dt.timedelta(days=9), 2.1),
        # hidden likes leave week -3 without a rate: 3 weeks are too few
        ({-3: None, -2: 200, -1: 200, 0: 400}, None, None),
    ],
    ids=[
        "4-weeks-with-a-rate-and-one-before-the-8-week-window",
        "the-current-week-is-measured-as-of-the-runs-as-of",
        "3-weeks-with-a-rate-is-too-few",
    ],
)
def test_engagement_trend_over_the_last_8_weeks(
    warehouse: duckdb.DuckDBPyConnection,
    likes_by_week: dict[int, int | None],
    as_of: dt.date | None,
    expected_trend: float | None,
) -> None:
    add_history(warehouse, "x", lambda t: 10_000, range(-63, 1))
    add_weekly_posts(warehouse, likes_by_week)
    # seen after their weeks' default as-of dates: the current week's count only when the run's
    # as-of date reaches it, week -1's never
    for week, likes in ((0, 800), (-1, 9_900)):
        published = dt.datetime.combine(WEEK + dt.timedelta(weeks=week, days=1), dt.time(12))
        warehouse.execute(
            "insert into fact_post_metrics (platform, post_id, observed_date, account_id,"
            " published_at, media_type, likes) values ('instagram', ?, ?, 'x', ?, 'IMAGE', ?)",
            [f"w{week}", WEEK + dt.timedelta(days=8), published, likes],
        )

    trend = drift(warehouse, as_of)["x"]["er_trend_pp_per_week"]

    assert trend == (None if expected_trend is None else pytest.approx(expected_trend))


def add_post(
    connection: duckdb.DuckDBPyConnection,
    post_id: str,
    published: int,
    observations: dict[int, int | None],
    comments: int = 0,
) -> None:
    """A post published at noon of day ``published``, seen on each day of ``observations``
    with that many likes (None: hidden)."""
    at = dt.datetime.combine(on(published), dt.time(12))
    connection.executemany(
        "insert into fact_post_metrics (platform, post_id, observed_date, account_id,"
        " published_at, media_type, likes, comments) values ('instagram', ?, ?, 'x', ?,"
        " 'IMAGE', ?, ?)",
        [[post_id, on(seen), at, likes, comments] for seen, likes in observations.items()],
    )


# One spike on t = -10 in an otherwise flat history: z far above 6, 10 % of the followers.
SPIKE = from_deltas(50_000, lambda t: 5_000 if t == -10 else 0)


@pytest.mark.parametrize(
    ("posts", "expected"),
    [
        # before [-38, -10): 100 and 300 interactions, mean 200; after [-10, -3): 500, lift 2.5
        (
            [("a", -20, {-19: 90, -5: 100}), ("b", -12, {-11: 300}), ("c", -8, {-7: 500})],
            (pytest.approx(2.5), False, "keep"),
        ),
        # a jump without a lift: bought followers
        (
            [("a", -20, {-19: 200}), ("c", -8, {-7: 220})],
            (pytest.approx(1.1), True, "review"),
        ),
        # no post after the spike yet: the lift cannot be measured, the jump stays suspicious
        ([("a", -20, {-19: 200})], (None, True, "review")),
        # hidden likes at the latest observation leave a post out: nothing measurable after
        ([("a", -20, {-19: 200}), ("c", -8, {-7: 900, -6: None})], (None, True, "review")),
        # a post before the 28 days ahead of the spike is not in the earlier window
        ([("old", -40, {-39: 200}), ("c", -8, {-7: 900})], (None, True, "review")),
        # the earlier mean is 0: no lift
        ([("a", -20, {-19: 0}), ("c", -8, {-7: 900})], (None, True, "review")),
    ],
    ids=[
        "lift-2.5-is-viral",
        "lift-1.1-is-suspicious",
        "no-post-after-the-spike-yet",
        "hidden-likes-left-out",
        "post-before-the-window",
        "earlier-mean-zero",
    ],
)
def test_spike_date_interactions_lift_and_suspicious_growth(
    warehouse: duckdb.DuckDBPyConnection,
    posts: list[tuple[str, int, dict[int, int | None]]],
    expected: tuple[object, bool, str],
) -> None:
    add_history(warehouse, "x", SPIKE)
    for post_id, published, observations in posts:
        add_post(warehouse, post_id, published, observations)

    row = drift(warehouse)["x"]

    assert row["anomalous_growth"] is True
    assert row["spike_date"] == on(-10)
    assert (row["interactions_lift"], row["suspicious_growth"], row["recommendation"]) == expected


def test_the_spike_is_the_day_with_the_largest_z_ties_the_earliest(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    add_history(
        warehouse, "bigger", from_deltas(50_000, lambda t: {-20: 3_000, -5: 4_000}.get(t, 0))
    )
    add_history(warehouse, "tied", from_deltas(50_000, lambda t: {-20: 3_000, -5: 3_000}.get(t, 0)))
    add_history(warehouse, "none", lambda t: 50_000)

    rows = drift(warehouse)

    assert rows["bigger"]["spike_date"] == on(-5)
    assert rows["tied"]["spike_date"] == on(-20)
    assert (rows["none"]["spike_date"], rows["none"]["suspicious_growth"]) == (None, False)
    assert rows["none"]["interactions_lift"] is None
