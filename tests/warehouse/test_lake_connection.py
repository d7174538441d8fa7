"""lake_connection: one process's loads reuse a connection to the lake, never a broken one, and
never one whose catalog file was replaced."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from warehouse.lake import LakeLocation, lake_connection, open_lake


def test_a_clean_connection_is_reused_and_sees_later_commits(tmp_path: Path) -> None:
    location = LakeLocation.in_directory(tmp_path)
    open_lake(location).close()
    with lake_connection(location) as first:
        first.execute("insert into roster values ('instagram', 'maya.bakes', true, 'GB', 'food')")
    other = open_lake(location)
    other.execute("insert into roster values ('instagram', 'tom.runs', true, 'GB', 'sport')")
    other.close()

    with lake_connection(location) as second:
        handles = second.execute("select handle from roster order by 1").fetchall()

    assert second is first
    assert handles == [("maya.bakes",), ("tom.runs",)]


def test_a_connection_whose_work_failed_is_closed_not_reused(tmp_path: Path) -> None:
    location = LakeLocation.in_directory(tmp_path)
    open_lake(location).close()
    with pytest.raises(duckdb.CatalogException), lake_connection(location) as broken:
        broken.execute("select * from no_such_table")

    with pytest.raises(duckdb.ConnectionException):
        broken.execute("select 1")
    with lake_connection(location) as fresh:
        assert fresh is not broken


def test_a_replaced_catalog_gets_a_new_connection(tmp_path: Path) -> None:
    location = LakeLocation.in_directory(tmp_path / "data")
    open_lake(location).close()
    with lake_connection(location) as old:
        old.execute("insert into roster values ('instagram', 'maya.bakes', true, 'GB', 'food')")
    shutil.rmtree(tmp_path / "data")
    open_lake(location).close()

    with lake_connection(location) as new:
        rows = new.execute("select count(*) from roster").fetchall()

    assert new is not old
    assert rows == [(0,)]


def test_a_catalog_put_back_from_an_earlier_copy_gets_a_new_connection(tmp_path: Path) -> None:
    # A backup put back in place: the same file (so the same inode), the same first snapshot,
    # but not the snapshots the idle connection saw since.
    location = LakeLocation.in_directory(tmp_path / "data")
    open_lake(location).close()
    backup = tmp_path / "backup.sqlite"
    shutil.copyfile(location.catalog, backup)
    with lake_connection(location) as old:
        old.execute("insert into roster values ('instagram', 'maya.bakes', true, 'GB', 'food')")
    shutil.copyfile(backup, location.catalog)

    with lake_connection(location) as new:
        rows = new.execute("select count(*) from roster").fetchall()

    assert new is not old
    assert rows == [(0,)]
