"""Every example query in docs/queries runs against a small hand-made warehouse and answers."""

import datetime as dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from warehouse.lake import LakeLocation, open_lake
from warehouse.reports import build_weekly_reports

QUERIES_DIR = Path(__file__).parents[2] / "docs" / "queries"
QUERIES = sorted(QUERIES_DIR.glob("*.sql"))

# The latest full ISO week of the data, and nine weeks of daily snapshots ending on its Sunday:
# enough history for the 8-week drift window and the 4-weeks-ago tier.
WEEK_START = dt.date(2026, 11, 23)
SUNDAY = WEEK_START + dt.timedelta(days=6)
FIRST_DAY = WEEK_START - dt.timedelta(weeks=8)
DAYS = (SUNDAY - FIRST_DAY).days + 1
AS_OF = SUNDAY + dt.timedelta(days=1)
POST_EVERY_DAYS = 3


@dataclass(frozen=True)
class Account:
    account_id: str
    handle: str
    followers_on_day: Callable[[int], int]  # day 0 is FIRST_DAY
    engagement_rate: float
    hides_likes_on_even_posts: bool = False


ACCOUNTS = (
    # the best micro engager: 6 % against a micro median of 4 %
    Account("1", "maya.bakes", lambda day: 50_000 + 20 * day, 0.06),
    Account("2", "tom.runs", lambda day: 20_000 + 10 * day, 0.02),
    # grows 1.4 % a day: micro four weeks ago, macro now, so it drifted out of the tier
    Account("3", "ana.lifts", lambda day: round(50_000 * math.exp(0.014 * day)), 0.03),
    # a sudden +5 000 followers four days before the week ends: anomalous growth; hides likes
    Account(
        "4",
        "leo.cooks",
        lambda day: 30_000 + 10 * day + (5_000 if day >= DAYS - 8 else 0),
        0.04,
        hides_likes_on_even_posts=True,
    ),
    Account("5", "nina.nano", lambda day: 5_000 + 2 * day, 0.08),
)
AUDIENCES = {
    "maya.bakes": {
        "age": {"18-24": 0.5, "25-34": 0.3, "35-44": 0.2},
        "gender": {"F": 0.7, "M": 0.3},
        "country": {"GB": 0.6, "US": 0.4},
    },
    "tom.runs": {
        "age": {"18-24": 0.1, "25-34": 0.2, "35-44": 0.7},
        "gender": {"F": 0.3, "M": 0.7},
        "country": {"GB": 0.1, "US": 0.9},
    },
    # no gender breakdown: the brand's gender dimension counts 0 for this account
    "leo.cooks": {"age": {"18-24": 0.4, "25-34": 0.4, "35-44": 0.2}},
}
BRAND_TARGETS = {"age": {"18-24": 1.0, "25-34": 1.0}, "gender": {"F": 1.0}}


def day(number: int) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=number)


def profile_rows() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "platform": "instagram",
                "account_id": account.account_id,
                "snapshot_date": day(number),
                "followers": account.followers_on_day(number),
                "following": 300,
                "media_count": 100 + number // POST_EVERY_DAYS,
            }
            for account in ACCOUNTS
            for number in range(DAYS)
        ]
    )


def post_rows() -> pl.DataFrame:
    rows = []
    for account in ACCOUNTS:
        for post_number, published_day in enumerate(range(0, DAYS, POST_EVERY_DAYS)):
            interactions = account.followers_on_day(published_day) * account.engagement_rate
            hidden = account.hides_likes_on_even_posts and post_number % 2 == 0
            # seen the day after publication with 80 % of its final counts, then on AS_OF
            for observed, fraction in ((day(published_day + 1), 0.8), (AS_OF, 1.0)):
                rows.append(
                    {
                        "platform": "instagram",
                        "post_id": f"{account.account_id}-{post_number}",
                        "observed_date": observed,
                        "account_id": account.account_id,
                        "published_at": dt.datetime.combine(day(published_day), dt.time(12)),
                        "media_type": "IMAGE",
                        "likes": None if hidden else round(interactions * 0.9 * fraction),
                        "comments": round(interactions * 0.1 * fraction),
                        # Instagram's business_discovery reports neither of these
                        "shares": None,
                        "saves": None,
                        "views": None,
                    }
                )
    return pl.DataFrame(rows, infer_schema_length=None)


def audience_rows() -> pl.DataFrame:
    account_ids = {account.handle: account.account_id for account in ACCOUNTS}
    return pl.DataFrame(
        [
            {
                "platform": "instagram",
                "account_id": account_ids[handle],
                "as_of_date": SUNDAY - dt.timedelta(days=3),
                "dimension": dimension,
                "bucket": bucket,
                "share": share,
            }
            for handle, dimensions in AUDIENCES.items()
            for dimension, buckets in dimensions.items()
            for bucket, share in buckets.items()
        ]
    )


def quarantine_rows() -> pl.DataFrame:
    def record(partition_date: dt.date, run_id: str, line: int, checks: list[str]) -> dict:
        return {
            "source": "instagram_graph",
            "entity": "media" if checks[0].startswith("post_id") else "profiles",
            "partition_date": partition_date,
            "run_id": run_id,
            "raw_record": f'{{"line": {line}}}',
            "failed_checks": checks,
            "landed_file": f"raw/{run_id}.jsonl.gz",
            "line_number": line,
        }

    return pl.DataFrame(
        [
            # the earlier run's rows must not be counted as the last run's
            *(
                record(
                    SUNDAY - dt.timedelta(days=1), "landing-a", n, ["post_id: digits_id (got x)"]
                )
                for n in range(1, 6)
            ),
            record(SUNDAY, "landing-b", 1, ["post_id: digits_id (got x)"]),
            record(SUNDAY, "landing-b", 2, ["post_id: digits_id (got y)"]),
            record(SUNDAY, "landing-b", 3, ["followers: ge(0) (got -1)"]),
        ],
        schema_overrides={"line_number": pl.Int32},
    )


def pipeline_run_rows() -> pl.DataFrame:
    def run(run_id: str, landing: str | None, partition_date: dt.date, status: str) -> dict:
        started = dt.datetime.combine(partition_date + dt.timedelta(days=1), dt.time(2))
        return {
            "run_id": run_id,
            "landing_run_id": landing,
            "source": "instagram_graph",
            "partition_date": partition_date,
            "step": "validate" if landing else "extract",
            "entity": "media" if landing else None,
            "status": status,
            "started_at": started,
            "finished_at": started + dt.timedelta(minutes=3),
        }

    return pl.DataFrame(
        [
            run("run-a", "landing-a", SUNDAY - dt.timedelta(days=1), "quarantine_exceeded"),
            run("run-b", "landing-b", SUNDAY, "ok"),
            # a later run failed before landing anything: it has no quarantine of its own
            run("run-c", None, AS_OF, "failed"),
        ]
    )


def dimension_rows() -> dict[str, pl.DataFrame]:
    return {
        "roster": pl.DataFrame(
            {
                "platform": ["instagram"] * len(ACCOUNTS),
                "handle": [a.handle for a in ACCOUNTS],
                "connected": [a.handle in AUDIENCES for a in ACCOUNTS],
                "country": ["GB"] * len(ACCOUNTS),
                "category": ["food"] * len(ACCOUNTS),
            }
        ),
        "dim_influencer": pl.DataFrame(
            {
                "platform": ["instagram"] * len(ACCOUNTS),
                "account_id": [a.account_id for a in ACCOUNTS],
                "handle": [a.handle for a in ACCOUNTS],
                "display_name": [a.handle.split(".")[0].title() for a in ACCOUNTS],
                "country": ["GB"] * len(ACCOUNTS),
                "category": ["food"] * len(ACCOUNTS),
                "first_seen_date": [FIRST_DAY] * len(ACCOUNTS),
                "last_seen_date": [SUNDAY] * len(ACCOUNTS),
            }
        ),
        "dim_brand": pl.DataFrame(
            {"brand_id": ["acme"], "name": ["Acme Beauty"], "recruit_tiers": [["micro"]]}
        ),
        "brand_dimension_weight": pl.DataFrame(
            {"brand_id": "acme", "dimension": list(BRAND_TARGETS), "weight": 1.0}
        ),
        "brand_target": pl.DataFrame(
            [
                {"brand_id": "acme", "dimension": dimension, "bucket": bucket, "weight": weight}
                for dimension, buckets in BRAND_TARGETS.items()
                for bucket, weight in buckets.items()
            ]
        ),
    }


def insert(connection: duckdb.DuckDBPyConnection, table: str, rows: pl.DataFrame) -> None:
    columns = ", ".join(rows.columns)
    connection.register("incoming", rows)
    try:
        connection.execute(f"insert into {table} ({columns}) select {columns} from incoming")
    finally:
        connection.unregister("incoming")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_lake(LakeLocation.in_directory(tmp_path_factory.mktemp("queries")))
    for table, rows in dimension_rows().items():
        insert(connection, table, rows)
    insert(connection, "fact_profile_daily", profile_rows())
    insert(connection, "fact_post_metrics", post_rows())
    insert(connection, "fact_audience_share", audience_rows())
    insert(connection, "quarantine", quarantine_rows())
    insert(connection, "pipeline_runs", pipeline_run_rows())
    build_weekly_reports(connection, WEEK_START)
    yield connection
    connection.close()


def run_query(connection: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    return connection.sql((QUERIES_DIR / name).read_text(encoding="utf-8")).pl()


def test_there_are_example_queries() -> None:
    assert len(QUERIES) >= 5


@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_every_query_runs_and_answers(warehouse: duckdb.DuckDBPyConnection, query: Path) -> None:
    assert not run_query(warehouse, query.name).is_empty()


@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_every_query_starts_by_saying_what_it_answers(query: Path) -> None:
    assert query.read_text(encoding="utf-8").startswith("-- Question: ")


def test_the_follower_trajectory_covers_eight_weeks_up_to_the_latest_day(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    trajectory = run_query(warehouse, "follower_trajectory.sql")

    assert trajectory.height == 56
    assert trajectory["snapshot_date"].max() == SUNDAY
    assert trajectory["followers"].to_list()[-1] == 50_000 + 20 * (DAYS - 1)
    assert set(trajectory["change_since_previous_snapshot"].drop_nulls()) == {20}


def test_half_of_leo_s_posts_hide_their_likes(warehouse: duckdb.DuckDBPyConnection) -> None:
    shares = run_query(warehouse, "hidden_likes_share.sql")

    assert shares.row(0, named=True)["handle"] == "leo.cooks"
    assert shares.row(0, named=True)["hidden_likes_share"] == pytest.approx(0.5, abs=0.1)
    assert shares.filter(pl.col("handle") != "leo.cooks")["hidden_likes_share"].max() == 0


def test_quarantine_reasons_are_those_of_the_last_landing_without_the_bad_values(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    reasons = run_query(warehouse, "quarantine_by_reason_last_run.sql")

    assert reasons.select("partition_date", "entity", "reason", "records").rows() == [
        (SUNDAY, "media", "post_id: digits_id", 2),
        (SUNDAY, "profiles", "followers: ge(0)", 1),
    ]


def test_maya_tops_the_micro_tier_at_one_and_a_half_times_its_median(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # micro this week: maya 6 %, leo 4 % (his hidden-likes post left out), tom 2 %
    top = run_query(warehouse, "top_micro_engagers_vs_tier_median.sql").row(0, named=True)

    assert (top["handle"], top["week_start"], top["rank_in_tier"]) == ("maya.bakes", WEEK_START, 1)
    assert top["tier_median_er_pct"] == pytest.approx(4.0, abs=0.01)
    assert top["er_index"] == pytest.approx(1.5, abs=0.01)


def test_the_drifted_account_is_moved_on_and_the_sudden_jump_reviewed(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    actions = run_query(warehouse, "tier_drift_actions.sql")

    assert actions.select("handle", "recommendation", "tier_4w_ago", "tier").rows() == [
        ("ana.lifts", "move_on", "micro", "macro"),
        ("leo.cooks", "review", "micro", "micro"),
    ]


def test_maya_s_audience_matches_the_brand_best(warehouse: duckdb.DuckDBPyConnection) -> None:
    matches = run_query(warehouse, "brand_audience_matches.sql")
    best = matches.row(0, named=True)

    # age overlap 0.5 + 0.3 = 0.8 and gender overlap 0.7, equally weighted
    assert (best["handle"], best["rank"]) == ("maya.bakes", 1)
    assert best["match_score"] == pytest.approx(75.0, abs=0.1)
    assert best["in_target_pct"] == pytest.approx(56.0, abs=0.1)
    # ana is macro now and nina nano: the brand recruits from micro only
    assert set(matches["handle"]) <= {"maya.bakes", "tom.runs", "leo.cooks"}
