"""A warehouse of the DuckDB-file era comes into a new lake whole, in one commit."""

from pathlib import Path

import duckdb
import pytest
from test_load import DAY, partition

from warehouse.lake import LakeLocation, open_lake
from warehouse.load import load_partition
from warehouse.upgrade import ImportRefused, import_duckdb_warehouse

TABLES = ("roster", "dim_influencer", "fact_profile_daily", "quarantine")


def old_warehouse_file(tmp_path: Path) -> Path:
    """A DuckDB file with the contract tables and one loaded night, as the pipeline wrote it."""
    lake = open_lake(LakeLocation.in_directory(tmp_path / "source"))
    load_partition(lake, partition(DAY, 1234))
    old = tmp_path / "warehouse.duckdb"
    lake.execute(f"attach '{old}' as old_file")
    for (table,) in lake.execute(
        "select table_name from duckdb_tables() where database_name = 'lake'"
    ).fetchall():
        lake.execute(f"create table old_file.{table} as select * from lake.{table}")
    lake.execute("detach old_file")
    lake.close()
    return old


def contents(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    return {t: connection.execute(f"select * from {t} order by all").fetchall() for t in TABLES}


def test_every_table_comes_over_in_one_commit(tmp_path: Path) -> None:
    old = old_warehouse_file(tmp_path)
    source = open_lake(LakeLocation.in_directory(tmp_path / "source"), read_only=True)
    lake = open_lake(LakeLocation.in_directory(tmp_path / "new"))

    imported = import_duckdb_warehouse(lake, old)

    assert imported["fact_profile_daily"] == 1
    assert contents(lake) == contents(source)
    (message,) = lake.execute(
        "select commit_message from ducklake_snapshots('lake') order by snapshot_id desc limit 1"
    ).fetchone() or ("",)
    assert message == "import"


def test_a_lake_that_already_has_facts_is_refused(tmp_path: Path) -> None:
    old = old_warehouse_file(tmp_path)
    lake = open_lake(LakeLocation.in_directory(tmp_path / "source"))

    with pytest.raises(ImportRefused, match="already holds 1 rows in fact_profile_daily"):
        import_duckdb_warehouse(lake, old)


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    not_a_database = tmp_path / "warehouse.duckdb"
    not_a_database.write_text("<html>502 Bad Gateway</html>")
    lake = open_lake(LakeLocation.in_directory(tmp_path / "new"))

    with pytest.raises(ImportRefused, match="cannot be opened as a DuckDB database"):
        import_duckdb_warehouse(lake, not_a_database)
