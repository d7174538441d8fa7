"""Loading the brand tables ``dim_brand``, ``brand_dimension_weight`` and ``brand_target``.

The brand file is small and edited by hand, so it is validated whole (``flows.brands``) and
loaded whole: the three tables are replaced together in one transaction.
"""

from __future__ import annotations

from typing import NamedTuple

import duckdb
import polars as pl

# Parents first on insert, children first on delete, in case the tables gain foreign keys.
BRAND_TABLES = ("dim_brand", "brand_dimension_weight", "brand_target")


class BrandFrames(NamedTuple):
    """The three brand tables, with exactly their warehouse columns."""

    dim_brand: pl.DataFrame
    brand_dimension_weight: pl.DataFrame
    brand_target: pl.DataFrame


def load_brands(connection: duckdb.DuckDBPyConnection, frames: BrandFrames) -> None:
    """Replace the three brand tables with ``frames``, in one transaction."""
    # Registered outside the transaction: DuckDB refuses to unregister a view inside an aborted
    # one, and that error would hide the one that aborted it.
    for table in BRAND_TABLES:
        connection.register(f"incoming_{table}", getattr(frames, table))
    try:
        connection.execute("begin transaction")
        try:
            for table in reversed(BRAND_TABLES):
                connection.execute(f"delete from {table}")
            for table in BRAND_TABLES:
                columns = ", ".join(getattr(frames, table).columns)
                connection.execute(
                    f"insert into {table} ({columns}) select {columns} from incoming_{table}"
                )
            connection.execute("commit")
        except BaseException:
            connection.execute("rollback")
            raise
    finally:
        for table in BRAND_TABLES:
            connection.unregister(f"incoming_{table}")
