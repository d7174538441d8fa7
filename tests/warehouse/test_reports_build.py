"""build_weekly_reports: parameters, tiers, one transaction, idempotent weeks, bounded scans."""

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from warehouse import reports
from warehouse.lake import LakeLocation, open_lake
from warehouse.reports import (
    DEFAULT_TIERS,
    REPORT_TABLES,
    Tier,
    build_weekly_reports,
    default_as_of,
    iso_week_start,
)

WEEK = dt.date(2026, 11, 16)  # 2026-W47
PREVIOUS_WEEK = WEEK - dt.timedelta(weeks=1)
HISTORY_START = WEEK - dt.timedelta(weeks=9)


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """Nine weeks of daily history up to WEEK's Sunday for three accounts, and one brand."""
    connection = open_lake(LakeLocation.in_directory(tmp_path))
    connection.execute(
        "insert into dim_influencer values"
        " ('instagram', 'a', 'maya.bakes', null, null, null, ?, ?),"
        " ('instagram', 'b', 'tom.runs', null, null, null, ?, ?),"
        " ('instagram', 'fresh', 'new.face', null, null, null, ?, ?)",
        [HISTORY_START, WEEK + dt.timedelta(days=6)] * 3,
    )
    # a: micro, growing 1 % a day; b: nano, flat
    connection.execute(
        "insert into fact_profile_daily (platform, account_id, snapshot_date, followers)"
        " select 'instagram', 'a', day::date, round(40000 * exp(0.01 * (day::date - $start)))"
        " from generate_series($start, $end, interval 1 day) as days (day)"
        " union all"
        " select 'instagram', 'b', day::date, 5000"
        " from generate_series($start, $end, interval 1 day) as days (day)",
        {"start": HISTORY_START, "end": WEEK + dt.timedelta(days=6)},
    )
    # fresh: first seen on WEEK's Wednesday, so its Monday post is measured by a later count
    connection.execute(
        "insert into fact_profile_daily (platform, account_id, snapshot_date, followers)"
        " values ('instagram', 'fresh', ?, 20000), ('instagram', 'fresh', ?, 21000)",
        [WEEK + dt.timedelta(days=2), WEEK + dt.timedelta(days=6)],
    )
    # a post every Tuesday and Friday, observed the next two days with growing counts
    connection.execute(
        "insert into fact_post_metrics (platform, post_id, observed_date, account_id,"
        " published_at, media_type, likes, comments, shares, saves)"
        " select 'instagram', account_id || '-' || published::date, published::date + seen::int,"
        "  account_id, published + interval 10 hour, 'IMAGE',"
        "  case when account_id = 'b' and day(published) % 2 = 0 then null"
        "   else 500 * seen + day(published) end, 20 * seen, null, seen"
        " from generate_series($start, $end, interval 1 day) as days (published),"
        "  (values ('a'), ('b')) as accounts (account_id), range(1, 3) as views (seen)"
        " where dayofweek(published) in (2, 5)",
        {"start": HISTORY_START, "end": WEEK + dt.timedelta(days=6)},
    )
    connection.execute(
        "insert into fact_post_metrics (platform, post_id, observed_date, account_id,"
        " published_at, media_type, likes, comments) values"
        " ('instagram', 'fresh-1', ?, 'fresh', ?, 'VIDEO', 800, 12)",
        [WEEK + dt.timedelta(days=1), dt.datetime.combine(WEEK, dt.time(8))],
    )
    connection.execute(
        "insert into fact_audience_share values"
        " ('instagram', 'a', ?, 'age', '18-24', 0.75), ('instagram', 'a', ?, 'age', '25-34', 0.25),"
        " ('instagram', 'fresh', ?, 'age', '18-24', 0.5),"
        " ('instagram', 'fresh', ?, 'age', '65+', 0.5)",
        [WEEK] * 4,
    )
    connection.execute(
        "insert into dim_brand values ('glow', 'GlowCo', ['micro']);"
        "insert into brand_target values ('glow', 'age', '18-24', 1.0);"
    )
    return connection


def all_rows(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: connection.execute(f"select * from {table} order by all").fetchall()
        for table in (*REPORT_TABLES, "dim_tier")
    }


def week_rows(
    connection: duckdb.DuckDBPyConnection, week_start: dt.date
) -> dict[str, list[tuple[object, ...]]]:
    where = {
        "rpt_weekly_engagement": ("week_start", week_start),
        "rpt_tier_drift": ("week_start", week_start),
        "rpt_audience_match": ("as_of_date", default_as_of(week_start)),
    }
    return {
        table: connection.execute(
            f"select * from {table} where {column} = ? order by all", [value]
        ).fetchall()
        for table, (column, value) in where.items()
    }


@pytest.mark.parametrize(
    ("week", "monday"),
    [
        ("2026-W47", dt.date(2026, 11, 16)),
        ("2026-W01", dt.date(2025, 12, 29)),
        ("2026-W53", dt.date(2026, 12, 28)),
        ("2020-W53", dt.date(2020, 12, 28)),
    ],
    ids=["mid-year", "week-1-starts-in-december", "a-53-week-year", "2020-had-53-weeks"],
)
def test_iso_week_start(week: str, monday: dt.date) -> None:
    assert iso_week_start(week) == monday


@pytest.mark.parametrize(
    "week",
    ["2026-47", "2026-W7", "2026-w47", "2026-W00", "2025-W53", " 2026-W47", "", "W47"],
    ids=[
        "no-W",
        "one-digit-week",
        "lower-case-w",
        "week-0",
        "2025-has-52-weeks",
        "leading-space",
        "empty",
        "no-year",
    ],
)
def test_iso_week_start_names_a_bad_week(week: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(week))):
        iso_week_start(week)


def test_default_as_of_is_the_day_after_the_week_ends() -> None:
    assert default_as_of(WEEK) == dt.date(2026, 11, 23)


def test_a_week_start_that_is_not_a_monday_is_refused(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(ValueError, match=r"2026-11-17 is a Tuesday.*\(2026-11-16\)"):
        build_weekly_reports(warehouse, dt.date(2026, 11, 17))


def test_an_as_of_date_before_the_week_is_refused(warehouse: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="as_of 2026-11-15 is before the week starting 2026-11-16"):
        build_weekly_reports(warehouse, WEEK, dt.date(2026, 11, 15))


def test_the_build_returns_the_rows_inserted_and_records_the_as_of_date(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    counts = build_weekly_reports(warehouse, WEEK)

    # a, b and fresh have snapshots in the week; glow recruits micro: a and fresh
    assert counts == {
        "rpt_weekly_engagement": 3,
        "rpt_audience_match": 2,
        "rpt_tier_drift": 3,
        # no campaign in this lake
        "fact_deliverable": 0,
        "rpt_campaign_performance": 0,
        "rpt_campaign_tiers": 0,
    }
    assert (
        warehouse.execute(
            "select distinct as_of_date from rpt_weekly_engagement"
            " union all select distinct as_of_date from rpt_tier_drift"
            " union all select distinct as_of_date from rpt_audience_match"
        ).fetchall()
        == [(dt.date(2026, 11, 23),)] * 3
    )
    assert warehouse.execute(
        "select handle from rpt_weekly_engagement order by handle"
    ).fetchall() == [("maya.bakes",), ("new.face",), ("tom.runs",)]


@pytest.mark.parametrize(
    ("tiers", "named"),
    [
        ((), "no tiers"),
        ((Tier("small", 10, 100), Tier("big", 100, None)), "'small'"),
        ((Tier("small", 0, 100), Tier("big", 200, None)), "'big'"),
        ((Tier("small", 0, 100), Tier("mid", 50, 500), Tier("big", 500, None)), "'mid'"),
        ((Tier("small", 0, 100), Tier("mid", 100, 100), Tier("big", 100, None)), "'mid'"),
        ((Tier("small", 0, 100), Tier("big", 100, 1000)), "'big'"),
        ((Tier("small", 0, None), Tier("big", 100, None)), "'small'"),
        ((Tier("small", 0, 100), Tier("small", 100, None)), "'small'"),
        ((Tier(" ", 0, None),), "position 1"),
    ],
    ids=[
        "none",
        "not-starting-at-0",
        "a-gap",
        "an-overlap",
        "empty-range",
        "last-bounded",
        "unbounded-before-the-last",
        "duplicate-name",
        "blank-name",
    ],
)
def test_invalid_tiers_are_refused_and_change_nothing(
    warehouse: duckdb.DuckDBPyConnection, tiers: tuple[Tier, ...], named: str
) -> None:
    before = all_rows(warehouse)

    with pytest.raises(ValueError, match=re.escape(named)):
        build_weekly_reports(warehouse, WEEK, tiers=tiers)

    assert all_rows(warehouse) == before


def test_configured_tiers_replace_dim_tier_and_count_by_position(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    tiers = (Tier("small", 0, 30_000), Tier("core", 30_000, 80_000), Tier("star", 80_000, None))

    build_weekly_reports(warehouse, WEEK, tiers=tiers)

    assert warehouse.execute("select * from dim_tier order by tier_order").fetchall() == [
        ("small", 0, 30_000, 1),
        ("core", 30_000, 80_000, 2),
        ("star", 80_000, None, 3),
    ]
    # a: 40 000 * e^(0.01 * 62) = 74 382 now, 40 000 * e^(0.01 * 34) = 56 200 four weeks ago;
    # "core" is second, so it plays micro: ln(80 000 / 74 382) / 0.01 / 7 = 1.04 weeks -> drifting
    assert warehouse.execute(
        "select account_id, tier, tier_4w_ago, status from rpt_tier_drift order by account_id"
    ).fetchall() == [
        ("a", "core", "core", "drifting"),
        ("b", "small", "small", "stable"),
        ("fresh", "small", None, "stable"),
    ]
    assert warehouse.execute(
        "select account_id, tier from rpt_weekly_engagement order by account_id"
    ).fetchall() == [("a", "core"), ("b", "small"), ("fresh", "small")]

    build_weekly_reports(warehouse, WEEK)

    assert warehouse.execute("select tier from dim_tier order by tier_order").fetchall() == [
        (tier.name,) for tier in DEFAULT_TIERS
    ]


def test_rerunning_a_week_leaves_every_report_table_identical(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    first = build_weekly_reports(warehouse, WEEK)
    once = all_rows(warehouse)

    assert build_weekly_reports(warehouse, WEEK) == first
    assert all_rows(warehouse) == once
    assert all(once[table] for table in REPORT_TABLES)


def test_building_a_week_leaves_the_previous_weeks_rows_alone(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    build_weekly_reports(warehouse, PREVIOUS_WEEK)
    previous = week_rows(warehouse, PREVIOUS_WEEK)
    build_weekly_reports(warehouse, WEEK)
    # a late change to this week's facts reaches this week's rows only
    warehouse.execute(
        "update fact_profile_daily set followers = followers + 1 where snapshot_date >= ?", [WEEK]
    )

    build_weekly_reports(warehouse, WEEK)

    assert week_rows(warehouse, PREVIOUS_WEEK) == previous
    assert all(previous.values())
    assert warehouse.execute(
        "select count(*) from rpt_weekly_engagement where week_start = ?", [WEEK]
    ).fetchall() == [(3,)]


def test_facts_far_in_the_past_do_not_change_a_week(warehouse: duckdb.DuckDBPyConnection) -> None:
    # Every report reads the fact tables only in date ranges derived from $week_start and $as_of
    # (at most 84 days back, for the drift report), so DuckDB's zone maps skip older row groups
    # and a week costs the same after years of history. Were any lookup unbounded ("the latest
    # snapshot up to ..."), the rows below would show: fresh, first seen this Wednesday, would
    # get a tier 4 weeks ago and a follower count for its Monday post from two years ago, and
    # ghost, not seen for two years, would be scored against the brand.
    build_weekly_reports(warehouse, WEEK)
    recent = all_rows(warehouse)
    long_ago = WEEK - dt.timedelta(weeks=104)
    warehouse.execute(
        "insert into fact_profile_daily (platform, account_id, snapshot_date, followers)"
        " select 'instagram', account_id, $day::date + days_after::int, 1000000"
        " from (values ('a'), ('b'), ('fresh'), ('ghost')) as accounts (account_id),"
        "  range(7) as days (days_after)",
        {"day": long_ago},
    )
    warehouse.execute(
        "insert into fact_post_metrics (platform, post_id, observed_date, account_id,"
        " published_at, media_type, likes)"
        " values ('instagram', 'old', $day, 'fresh', $day, 'IMAGE', 999999)",
        {"day": long_ago},
    )
    warehouse.execute(
        "insert into fact_audience_share values"
        " ('instagram', 'ghost', $day, 'age', '18-24', 1.0),"
        " ('instagram', 'a', $day, 'age', '18-24', 0.0)",
        {"day": long_ago},
    )

    build_weekly_reports(warehouse, WEEK)

    assert all_rows(warehouse) == recent


def test_a_failing_report_rolls_back_the_whole_build(
    warehouse: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_weekly_reports(warehouse, WEEK)
    before = all_rows(warehouse)
    shipped = reports.report_sql

    def drift_fails(table: str) -> str:
        if table == "rpt_tier_drift":
            return "select error('drift failed') as platform where $week_start < $as_of"
        return shipped(table)

    monkeypatch.setattr(reports, "report_sql", drift_fails)
    with pytest.raises(duckdb.Error, match="drift failed"):
        build_weekly_reports(warehouse, WEEK, tiers=(Tier("all", 0, None),))

    # dim_tier, engagement and audience match were already rewritten when drift failed
    assert all_rows(warehouse) == before


@pytest.mark.parametrize("table", REPORT_TABLES)
def test_each_report_selects_exactly_its_tables_columns(
    warehouse: duckdb.DuckDBPyConnection, table: str
) -> None:
    # The build inserts by name: a column the SELECT forgot would silently stay NULL.
    parameters = {"week_start": WEEK, "as_of": default_as_of(WEEK), "bucket": 0, "buckets": 1}
    sql = reports.report_sql(table)
    used = {name: value for name, value in parameters.items() if f"${name}" in sql}
    selected = [
        description[0]
        for description in warehouse.execute(f"select * from ({sql}) limit 0", used).description
    ]
    table_columns = [
        name
        for (name,) in warehouse.execute(
            "select column_name from duckdb_columns() where table_name = ? order by column_index",
            [table],
        ).fetchall()
    ]

    assert selected == table_columns


def test_tier_drift_built_in_buckets_of_accounts_is_the_report_built_at_once(
    warehouse: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_once = build_weekly_reports(warehouse, WEEK)
    expected = all_rows(warehouse)
    monkeypatch.setattr(reports, "ACCOUNTS_PER_BUCKET", 1)
    assert reports._account_buckets(warehouse) == 3

    in_buckets = build_weekly_reports(warehouse, WEEK)

    assert in_buckets == at_once
    assert all_rows(warehouse) == expected


def test_the_engagement_macro_s_buckets_together_give_its_whole_result(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    whole = "select * from weekly_engagement_rates($first, $last, $as_of)"
    bucket = (
        "select * from weekly_engagement_rates($first, $last, $as_of, bucket := $b, buckets := 3)"
    )
    weeks = {"first": HISTORY_START, "last": WEEK, "as_of": default_as_of(WEEK)}

    rows = warehouse.execute(f"{whole} order by all", weeks).fetchall()
    buckets = [warehouse.execute(bucket, {**weeks, "b": b}).fetchall() for b in range(3)]

    assert len(rows) == 21  # a and b: ten weeks each; fresh: its one week
    assert sorted(row for rows_of in buckets for row in rows_of) == sorted(rows)
    assert sum(1 for rows_of in buckets if rows_of) >= 2  # the accounts really are split
