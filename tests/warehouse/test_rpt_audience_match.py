"""rpt_audience_match against hand-computed values, on tiny hand-made facts and brands.

Shares and weights are binary fractions (0.875, 0.0625, ...) so that the arithmetic in the
comments is exact in floating point too, ties included.
"""

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from warehouse.lake import LakeLocation, open_lake
from warehouse.reports import build_weekly_reports

WEEK = dt.date(2026, 11, 16)
AS_OF = dt.date(2026, 11, 23)  # WEEK's default as-of date
AGE_TARGET = {"18-24": 3.0, "25-34": 1.0, "35-44": 0.0}  # q = 0.75, 0.25, 0
GENDER_TARGET = {"F": 1.0}  # q(F) = 1
# p of account "a", read with the targets above: overlap_age = min(0.875, 0.75) +
# min(0.0625, 0.25) + min(0.0625, 0) = 0.8125, share in target 0.875 + 0.0625 = 0.9375 (35-44 has
# q = 0); overlap_gender = min(0.5, 1) = 0.5, share in target 0.5.
AGE_OF_A = {"18-24": 0.875, "25-34": 0.0625, "35-44": 0.0625}
GENDER_OF_A = {"F": 0.5, "M": 0.5}


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return open_lake(LakeLocation.in_directory(tmp_path))


def add_followers(
    connection: duckdb.DuckDBPyConnection,
    account_id: str,
    followers: int,
    snapshot_date: dt.date = AS_OF - dt.timedelta(days=1),
) -> None:
    connection.execute(
        "insert into fact_profile_daily (platform, account_id, snapshot_date, followers)"
        " values ('instagram', ?, ?, ?)",
        [account_id, snapshot_date, followers],
    )


def add_audience(
    connection: duckdb.DuckDBPyConnection,
    account_id: str,
    as_of_date: dt.date,
    dimension: str,
    shares: dict[str, float],
) -> None:
    connection.executemany(
        "insert into fact_audience_share values ('instagram', ?, ?, ?, ?, ?)",
        [[account_id, as_of_date, dimension, bucket, share] for bucket, share in shares.items()],
    )


def add_brand(
    connection: duckdb.DuckDBPyConnection,
    brand_id: str,
    targets: dict[str, dict[str, float]],
    dimension_weights: dict[str, float] | None = None,
    recruit_tiers: tuple[str, ...] = ("micro",),
) -> None:
    connection.execute(
        "insert into dim_brand values (?, ?, ?)", [brand_id, brand_id.title(), recruit_tiers]
    )
    connection.executemany(
        "insert into brand_target values (?, ?, ?, ?)",
        [
            [brand_id, dimension, bucket, weight]
            for dimension, buckets in targets.items()
            for bucket, weight in buckets.items()
        ],
    )
    for dimension, weight in (dimension_weights or {}).items():
        connection.execute(
            "insert into brand_dimension_weight values (?, ?, ?)", [brand_id, dimension, weight]
        )


def add_account_a(connection: duckdb.DuckDBPyConnection, followers: int = 20_016) -> None:
    # The latest snapshot up to AS_OF counts: not the older nano one, not the later macro one.
    add_followers(connection, "a", 5_000, AS_OF - dt.timedelta(days=13))
    add_followers(connection, "a", followers)
    add_followers(connection, "a", 150_000, AS_OF + dt.timedelta(days=1))
    add_audience(connection, "a", dt.date(2026, 10, 15), "age", AGE_OF_A)
    # the latest gender breakdown up to AS_OF wins: not the older one, not the one after AS_OF
    add_audience(connection, "a", dt.date(2026, 11, 1), "gender", {"F": 0.25, "M": 0.75})
    add_audience(connection, "a", dt.date(2026, 11, 20), "gender", GENDER_OF_A)
    add_audience(connection, "a", AS_OF + dt.timedelta(days=1), "gender", {"F": 1.0})


def audience_match(
    connection: duckdb.DuckDBPyConnection,
) -> dict[tuple[str, str], dict[str, object]]:
    """Build the week (default as-of date) and return the rows by (brand_id, account_id)."""
    build_weekly_reports(connection, WEEK)
    cursor = connection.execute(
        "select * from rpt_audience_match where as_of_date = ? order by all", [AS_OF]
    )
    columns = [description[0] for description in cursor.description]
    return {(row[0], row[2]): dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


def test_every_formula_on_one_account(warehouse: duckdb.DuckDBPyConnection) -> None:
    add_brand(warehouse, "glow", {"age": AGE_TARGET, "gender": GENDER_TARGET}, {"age": 3.0})
    add_account_a(warehouse)

    row = audience_match(warehouse)[("glow", "a")]

    assert row == {
        "brand_id": "glow",
        "platform": "instagram",
        "account_id": "a",
        "handle": None,  # no dim_influencer row in this test
        "as_of_date": AS_OF,
        "overlap_age": 0.8125,
        "overlap_gender": 0.5,
        # untargeted dimensions
        "overlap_country": None,
        "overlap_city": None,
        "overlap_interest": None,
        # λ: age 3, gender 1 (no weight row) -> 0.75, 0.25; 100 * (0.75 * 0.8125 + 0.25 * 0.5)
        "match_score": 73.4375,
        "missing_dimensions": [],
        "in_target_share": 0.46875,  # 0.9375 * 0.5
        # 20 016 * 0.46875 = 9382.5, rounded half away from zero
        "reachable_target_audience": 9_383,
        "rank": 1,
    }


@pytest.mark.parametrize(
    ("dimension_weights", "expected_score"),
    [
        (None, 65.625),  # λ 0.5, 0.5: 100 * (0.5 * 0.8125 + 0.5 * 0.5)
        ({"age": 3.0}, 73.4375),  # gender defaults to 1: λ 0.75, 0.25
        ({"age": 3.0, "gender": 1.0}, 73.4375),
        ({"age": 6.0, "gender": 2.0}, 73.4375),  # only the ratio matters
        ({"age": 1.0, "gender": 3.0}, 57.8125),  # 100 * (0.25 * 0.8125 + 0.75 * 0.5)
    ],
    ids=[
        "no-weights-counts-dimensions-equally",
        "a-dimension-without-weight-weighs-1",
        "explicit-weights",
        "weights-are-normalised",
        "weights-the-other-way",
    ],
)
def test_dimension_weights(
    warehouse: duckdb.DuckDBPyConnection,
    dimension_weights: dict[str, float] | None,
    expected_score: float,
) -> None:
    add_brand(warehouse, "glow", {"age": AGE_TARGET, "gender": GENDER_TARGET}, dimension_weights)
    add_account_a(warehouse)

    assert audience_match(warehouse)[("glow", "a")]["match_score"] == expected_score


def test_bucket_weights_are_normalised_within_their_dimension(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # Unnormalised, min(0.875, 3) + min(0.0625, 1) would give 0.9375 instead of 0.8125.
    add_brand(warehouse, "glow", {"age": AGE_TARGET})
    add_account_a(warehouse)

    row = audience_match(warehouse)[("glow", "a")]

    assert (row["overlap_age"], row["match_score"]) == (0.8125, 81.25)


def test_an_audience_more_than_90_days_old_is_ignored(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    add_brand(warehouse, "glow", {"age": AGE_TARGET, "gender": GENDER_TARGET}, {"age": 3.0})
    add_followers(warehouse, "b", 20_000)
    add_audience(warehouse, "b", AS_OF - dt.timedelta(days=90), "gender", GENDER_OF_A)
    add_audience(warehouse, "b", AS_OF - dt.timedelta(days=91), "age", AGE_OF_A)

    row = audience_match(warehouse)[("glow", "b")]

    # gender, 90 days old, still counts; age, 91 days old, is missing and counts 0:
    # 100 * (0.75 * 0 + 0.25 * 0.5) = 12.5, and in_target_share 0 * 0.5 = 0
    assert row["missing_dimensions"] == ["age"]
    assert (row["overlap_age"], row["overlap_gender"]) == (0.0, 0.5)
    assert row["match_score"] == 12.5
    assert (row["in_target_share"], row["reachable_target_audience"]) == (0.0, 0)


def test_missing_dimensions_are_listed_sorted_and_count_zero(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    add_brand(
        warehouse,
        "wide",
        {"gender": GENDER_TARGET, "country": {"US": 1.0}, "age": AGE_TARGET},
    )
    add_followers(warehouse, "none", 20_000)
    add_followers(warehouse, "men", 20_000)
    # gender known but without a single target bucket: overlap 0, yet not missing
    add_audience(warehouse, "men", AS_OF, "gender", {"M": 1.0})

    rows = audience_match(warehouse)

    assert rows[("wide", "none")]["missing_dimensions"] == ["age", "country", "gender"]
    assert rows[("wide", "men")]["missing_dimensions"] == ["age", "country"]
    for account_id in ("none", "men"):
        row = rows[("wide", account_id)]
        assert (row["overlap_age"], row["overlap_gender"], row["overlap_country"]) == (0, 0, 0)
        assert (row["match_score"], row["in_target_share"]) == (0.0, 0.0)
        assert row["reachable_target_audience"] == 0


def test_only_accounts_of_the_tiers_a_brand_recruits_from(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    add_brand(warehouse, "glow", {"age": AGE_TARGET})
    add_brand(warehouse, "wide", {"country": {"US": 1.0, "GB": 1.0}}, None, ("nano", "macro"))
    add_account_a(warehouse)  # micro
    add_followers(warehouse, "n", 5_000)  # nano
    add_audience(warehouse, "n", AS_OF, "country", {"US": 0.625, "GB": 0.125, "DE": 0.25})
    add_followers(warehouse, "m", 200_000)  # macro, no audience
    # a follower count stands in for 28 days at most: "recent" counts, "old" is not tracked
    add_followers(warehouse, "recent", 20_000, AS_OF - dt.timedelta(days=28))
    add_followers(warehouse, "old", 20_000, AS_OF - dt.timedelta(days=29))

    rows = audience_match(warehouse)

    assert sorted(rows) == [("glow", "a"), ("glow", "recent"), ("wide", "m"), ("wide", "n")]
    # n: q = 0.5, 0.5; min(0.625, 0.5) + min(0.125, 0.5) = 0.625; in target 0.625 + 0.125
    assert rows[("wide", "n")]["match_score"] == 62.5
    assert rows[("wide", "n")]["in_target_share"] == 0.75
    assert rows[("wide", "n")]["reachable_target_audience"] == 3_750  # 5 000 * 0.75
    assert (rows[("wide", "n")]["rank"], rows[("wide", "m")]["rank"]) == (1, 2)
    assert rows[("wide", "m")]["missing_dimensions"] == ["country"]


def test_rank_by_score_then_reachable_audience_then_account_id(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    add_brand(warehouse, "glow", {"age": AGE_TARGET, "gender": GENDER_TARGET}, {"age": 3.0})
    add_account_a(warehouse)  # 73.4375, reaches 9 383
    add_followers(warehouse, "d", 40_000)  # a's audience: 73.4375, reaches 40 000 * 0.46875
    add_audience(warehouse, "d", AS_OF, "age", AGE_OF_A)
    add_audience(warehouse, "d", AS_OF, "gender", GENDER_OF_A)
    add_followers(warehouse, "b", 20_000)  # gender only: 12.5
    add_audience(warehouse, "b", AS_OF, "gender", GENDER_OF_A)
    add_followers(warehouse, "z", 30_000)  # no audience: 0, reaches 0
    add_followers(warehouse, "c", 30_000)  # the same as z

    rows = audience_match(warehouse)

    assert rows[("glow", "d")]["reachable_target_audience"] == 18_750
    assert {account: rows[("glow", account)]["rank"] for account in "abcdz"} == {
        "d": 1,
        "a": 2,
        "b": 3,
        "c": 4,
        "z": 5,
    }
