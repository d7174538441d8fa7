"""Loads of different dates committing at the same time to one lake whose catalog is PostgreSQL,
as the workers of a backfill do (docs/scale-out.md): two real connections, a real cluster.

DuckLake refuses the second of two colliding commits ("Transaction conflict"); ``load_partition``
runs the refused load again, so every load commits once, and the lake holds each date once and
every account once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from postgres_cluster import lake_catalog, postgres_cluster

from warehouse.lake import CatalogUnreachable, LakeLocation, open_lake
from warehouse.load import MAX_LOAD_ATTEMPTS, PartitionLoad, is_commit_conflict, load_partition

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]

FIRST_DAY = dt.date(2026, 11, 2)
ACCOUNTS = [("1", "maya.bakes"), ("2", "leo.lifts"), ("3", "ana.paints")]
# One PostgreSQL database (one lake) per test.
DATABASES = ("lake_conflict", "lake_concurrent", "lake_not_retried", "lake_created_at_once")
# At most this many rounds of two simultaneous loads, to see DuckLake refuse at least one commit.
MAX_ROUNDS = 6


def night(day: dt.date) -> PartitionLoad:
    """A night of the three accounts: the roster, their profiles and dimension rows."""
    ids = [account_id for account_id, _ in ACCOUNTS]
    handles = [handle for _, handle in ACCOUNTS]
    return PartitionLoad(
        source="instagram",
        platform="instagram",
        partition_date=day,
        roster=pl.DataFrame(
            {
                "platform": ["instagram"] * 3,
                "handle": [handle for _, handle in ACCOUNTS],
                "connected": [True, False, True],
                "country": ["GB", "FR", None],
                "category": ["food", "fitness", "art"],
            }
        ),
        influencers=pl.DataFrame(
            {
                "platform": ["instagram"] * 3,
                "account_id": ids,
                "handle": handles,
                "display_name": handles,
                "country": ["GB", "FR", None],
                "category": ["food", "fitness", "art"],
                "first_seen_date": [day] * 3,
                "last_seen_date": [day] * 3,
            }
        ),
        facts={
            "fact_profile_daily": pl.DataFrame(
                {
                    "platform": ["instagram"] * 3,
                    "account_id": ids,
                    "snapshot_date": [day] * 3,
                    "followers": [1000 + day.day, 2000 + day.day, 3000 + day.day],
                    "following": [10, 20, 30],
                    "media_count": [5, 6, 7],
                }
            )
        },
        quarantine=pl.DataFrame(),
        run_log=pl.DataFrame(),
        run_id=f"run-{day}",
    )


@pytest.fixture(scope="module")
def catalogs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """database -> INFLUENCERS_LAKE_CATALOG of a fresh lake in a throwaway cluster."""
    with postgres_cluster(tmp_path_factory.mktemp("postgres"), DATABASES) as (port, password):
        previous = os.environ.get("PGPASSWORD")
        # The catalog string names no password: libpq reads it from here, as a worker would.
        os.environ["PGPASSWORD"] = password
        try:
            yield {name: lake_catalog(port, name) for name in DATABASES}
        finally:
            if previous is None:
                del os.environ["PGPASSWORD"]
            else:
                os.environ["PGPASSWORD"] = previous


def lake(catalogs: dict[str, str], name: str, tmp_path: Path) -> LakeLocation:
    return LakeLocation(catalogs[name], tmp_path / "lake")


def at_once(*calls: Callable[[], None]) -> list[BaseException]:
    """Run each call in its own thread, all released together; the errors they raised."""
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], None]) -> None:
        try:
            start.wait(60)
            call()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return errors


def test_two_commits_replacing_the_roster_at_once_conflict(
    catalogs: dict[str, str], tmp_path: Path
) -> None:
    location = lake(catalogs, "lake_conflict", tmp_path)
    first, second = open_lake(location), open_lake(location)
    load_partition(first, night(FIRST_DAY))
    for connection in (first, second):
        connection.execute("begin transaction")
        connection.execute("delete from roster")
        connection.execute("insert into roster values ('instagram', 'x', true, null, null)")
    first.execute("commit")

    with pytest.raises(duckdb.TransactionException) as refused:
        second.execute("commit")

    assert is_commit_conflict(refused.value)
    assert "Transaction conflict" in str(refused.value)
    assert first.execute("select handle from roster").fetchall() == [("x",)]


def test_loads_of_different_dates_at_once_each_commit_once(
    catalogs: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    location = lake(catalogs, "lake_concurrent", tmp_path)
    workers = [open_lake(location, threads=1), open_lake(location, threads=1)]
    caplog.set_level(logging.WARNING, logger="warehouse.load")
    days: list[dt.date] = []
    retries: list[logging.LogRecord] = []
    # A new lake first: both loads find no roster, and each must still add every account once.
    for round_number in range(MAX_ROUNDS):
        pair = [FIRST_DAY + dt.timedelta(days=2 * round_number + n) for n in (0, 1)]
        days += pair

        errors = at_once(
            *(
                lambda connection=connection, day=day: load_partition(
                    connection, night(day), first_retry_wait=0.2
                )
                for connection, day in zip(workers, pair, strict=True)
            )
        )

        assert errors == []
        retries = [r for r in caplog.records if "retrying" in r.getMessage()]
        if retries and round_number >= 1:
            break

    reader = open_lake(location, read_only=True)
    per_date = reader.execute(
        "select snapshot_date, count(*), count(distinct account_id) from fact_profile_daily"
        " group by all order by 1"
    ).fetchall()
    assert per_date == [(day, 3, 3) for day in days]
    assert reader.execute(
        "select account_id, count(*), min(first_seen_date), max(last_seen_date)"
        " from dim_influencer group by all order by 1"
    ).fetchall() == [(account_id, 1, days[0], days[-1]) for account_id, _ in ACCOUNTS]
    assert reader.execute("select count(*), count(distinct handle) from roster").fetchall() == [
        (3, 3)
    ]
    loads = reader.execute(
        "select commit_message, count(*) from ducklake_snapshots('lake')"
        " where commit_message like 'nightly %' group by all"
    ).fetchall()
    assert sorted(loads) == sorted((f"nightly instagram {day}", 1) for day in days)
    # DuckLake refused a commit at least once, and the load ran again
    assert retries, "no two loads ever committed at the same moment"
    assert "Transaction conflict" in retries[0].getMessage()
    assert f"(attempt 2 of {MAX_LOAD_ATTEMPTS})" in retries[0].getMessage()


def test_an_error_that_is_not_a_conflict_is_not_retried(
    catalogs: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    connection = open_lake(lake(catalogs, "lake_not_retried", tmp_path))
    load_partition(connection, night(FIRST_DAY))
    broken = night(FIRST_DAY + dt.timedelta(days=1))
    broken.facts["fact_profile_daily"] = broken.facts["fact_profile_daily"].with_columns(
        pl.lit(None, dtype=pl.String).alias("account_id")
    )
    caplog.set_level(logging.WARNING, logger="warehouse.load")

    with pytest.raises(duckdb.ConstraintException, match="account_id") as failed:
        load_partition(connection, broken)

    assert not is_commit_conflict(failed.value)
    assert [r for r in caplog.records if "retrying" in r.getMessage()] == []
    assert connection.execute("select count(*) from fact_profile_daily").fetchall() == [(3,)]


def test_workers_creating_a_new_lake_at_once_all_open_it(
    catalogs: dict[str, str], tmp_path: Path
) -> None:
    location = lake(catalogs, "lake_created_at_once", tmp_path)
    opened: list[duckdb.DuckDBPyConnection] = []

    errors = at_once(*[lambda: opened.append(open_lake(location))] * 3)

    assert errors == []
    assert len(opened) == 3
    connection = opened[0]
    versions = connection.execute("select version, count(*) from schema_migrations group by all")
    assert {count for _, count in versions.fetchall()} == {1}
    migrations = connection.execute(
        "select count(*) from ducklake_snapshots('lake') where commit_message like 'migrations%'"
    )
    assert migrations.fetchall() == [(1,)]


def test_a_worker_with_a_wrong_password_is_told_what_to_check(
    catalogs: dict[str, str], tmp_path: Path
) -> None:
    wrong = LakeLocation(f"{catalogs['lake_conflict']} password=not-the-one", tmp_path / "lake")

    with pytest.raises(CatalogUnreachable) as refused:
        open_lake(wrong)

    message = str(refused.value)
    assert 'password authentication failed for user "prefect"' in message
    assert "PGPASSWORD or ~/.pgpass" in message
    assert "not-the-one" not in message
