"""Maintenance compacts the lake's small files, expires old snapshots and deletes the files no
snapshot needs, orphans included, without changing what any table holds."""

import datetime as dt
import os
import time
from pathlib import Path

import duckdb
import pytest
from test_load import DAY, partition

from warehouse.lake import LakeLocation, open_lake
from warehouse.load import load_partition
from warehouse.maintenance import disk_usage, maintain

CONTENT_TABLES = ("fact_profile_daily", "dim_influencer", "quarantine", "roster")


def contents(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: connection.execute(f"select * from {table} order by all").fetchall()
        for table in CONTENT_TABLES
    }


@pytest.fixture
def busy_lake(tmp_path: Path) -> tuple[LakeLocation, duckdb.DuckDBPyConnection]:
    """Twelve nights loaded, each twice (a re-run replaces a date: more files and snapshots)."""
    lake = LakeLocation.in_directory(tmp_path)
    connection = open_lake(lake)
    # No inlining: every commit writes Parquet files, as the nights of a real roster do.
    connection.execute("call lake.set_option('data_inlining_row_limit', 0)")
    for offset in range(12):
        for followers in (1000 + offset, 2000 + offset):
            load_partition(connection, partition(DAY - dt.timedelta(days=offset), followers))
    return lake, connection


def test_maintenance_merges_expires_and_deletes_without_changing_a_table(
    busy_lake: tuple[LakeLocation, duckdb.DuckDBPyConnection],
) -> None:
    lake, connection = busy_lake
    before = contents(connection)
    orphan = lake.data_path / "main" / "fact_profile_daily" / "ducklake-crashed-load.parquet"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"PAR1 left by a load killed before its commit")
    an_hour_ago = time.time() - 3600
    os.utime(orphan, (an_hour_ago, an_hour_ago))

    report = maintain(
        connection,
        lake.data_path,
        retention=dt.timedelta(0),
        orphan_min_age=dt.timedelta(minutes=30),
    )

    assert contents(connection) == before
    assert report.files_merged > report.files_written > 0
    assert report.snapshots_expired > 24
    assert report.old_files_deleted > 0
    assert report.orphans_deleted == 1 and not orphan.exists()
    assert report.files_after < report.files_before / 4
    assert (report.files_after, report.bytes_after) == disk_usage(lake.data_path)
    reopened = open_lake(lake, read_only=True)
    assert contents(reopened) == before


def test_a_second_run_finds_nothing_to_do_and_young_orphans_are_left_alone(
    busy_lake: tuple[LakeLocation, duckdb.DuckDBPyConnection],
) -> None:
    lake, connection = busy_lake
    maintain(connection, lake.data_path, retention=dt.timedelta(0), orphan_min_age=dt.timedelta(0))
    in_flight = lake.data_path / "main" / "fact_profile_daily" / "ducklake-being-written.parquet"
    in_flight.write_bytes(b"PAR1 a load on another worker is writing")

    again = maintain(
        connection, lake.data_path, retention=dt.timedelta(0), orphan_min_age=dt.timedelta(hours=6)
    )

    assert (again.files_merged, again.old_files_deleted, again.orphans_deleted) == (0, 0, 0)
    assert in_flight.exists()


def test_snapshots_inside_the_retention_stay_readable(
    busy_lake: tuple[LakeLocation, duckdb.DuckDBPyConnection],
) -> None:
    lake, connection = busy_lake
    snapshots = connection.execute("select count(*) from ducklake_snapshots('lake')").fetchone()

    report = maintain(
        connection,
        lake.data_path,
        retention=dt.timedelta(days=90),
        orphan_min_age=dt.timedelta(hours=6),
    )

    assert report.snapshots_expired == 0
    assert snapshots is not None
    first_load = connection.execute(
        "select min(snapshot_id) from ducklake_snapshots('lake')"
        " where commit_message like 'nightly%'"
    ).fetchone()
    assert first_load is not None
    assert connection.execute(
        f"select followers from fact_profile_daily at (version => {first_load[0]})"
    ).fetchall() == [(1000,)]
