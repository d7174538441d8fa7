"""Bringing a warehouse of the DuckDB-file era (``data/warehouse.duckdb``) into the lake.

Before the lake, the pipeline wrote one DuckDB file. Its tables have the lake's names and columns
(migrations 001 to 006), so importing it is one commit that copies every table the lake has, by
column name. It refuses a lake that already holds facts, so that nothing is counted twice; import
into a new lake, then let the nightly runs go on from there.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.snapshots import LAKE, commit

OLD = "old_warehouse"
# Rows the lake creates itself (the migrations' records and default tiers) are not imported.
NOT_IMPORTED = ("schema_migrations", "dim_tier")
FACT_TABLES = ("fact_profile_daily", "fact_post_metrics", "fact_audience_share")


class ImportRefused(RuntimeError):
    """The old warehouse cannot be imported as asked."""


def import_duckdb_warehouse(connection: duckdb.DuckDBPyConnection, path: Path) -> dict[str, int]:
    """Copy every table of the DuckDB file at ``path`` into the lake, in one commit; return the
    rows imported per table."""
    if not path.is_file():
        raise ImportRefused(f"{path} is not a file: give the old data/warehouse.duckdb")
    for table in FACT_TABLES:
        row = connection.execute(f"select count(*) from {LAKE}.{table}").fetchone()
        if row and row[0]:
            raise ImportRefused(
                f"the lake already holds {row[0]:,} rows in {table}: import into a new lake "
                "(point INFLUENCERS_DATA_DIR or INFLUENCERS_LAKE_CATALOG elsewhere) so that no "
                "row is counted twice"
            )
    try:
        connection.execute(f"attach '{_escaped(path)}' as {OLD} (read_only)")
    except duckdb.Error as error:
        raise ImportRefused(f"{path} cannot be opened as a DuckDB database: {error}") from None
    try:
        old_tables = _tables(connection, OLD)
        tables = [
            table
            for table in _tables(connection, LAKE)
            if table in old_tables and table not in NOT_IMPORTED
        ]
        imported: dict[str, int] = {}
        with commit(connection, "import", {"from": str(path), "tables": tables}):
            for table in tables:
                lake_columns = set(_columns(connection, LAKE, table))
                columns = ", ".join(
                    f'"{name}"' for name in _columns(connection, OLD, table) if name in lake_columns
                )
                connection.execute(f"delete from {LAKE}.{table}")
                inserted = connection.execute(
                    f"insert into {LAKE}.{table} ({columns}) select {columns} from {OLD}.{table}"
                ).fetchone()
                imported[table] = int(inserted[0]) if inserted else 0
        return imported
    finally:
        connection.execute(f"detach {OLD}")


def _tables(connection: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    return [
        row[0]
        for row in connection.execute(
            "select table_name from duckdb_tables() where database_name = ? and schema_name = "
            "'main' order by table_name",
            [database],
        ).fetchall()
    ]


def _columns(connection: duckdb.DuckDBPyConnection, database: str, table: str) -> list[str]:
    return [
        row[0]
        for row in connection.execute(
            "select column_name from duckdb_columns() where database_name = ? and "
            "schema_name = 'main' and table_name = ? order by column_index",
            [database, table],
        ).fetchall()
    ]


def _escaped(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")
