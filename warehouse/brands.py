"""Loading the brand tables ``dim_brand``, ``brand_dimension_weight`` and ``brand_target``.

The brand file is small and edited by hand, so it is validated whole (``sources.programme``) and
loaded whole: the three tables are replaced together, in one commit of their own or inside
the weekly build's.
"""

from __future__ import annotations

import duckdb

from schemas.brands import Brands
from warehouse.load import insert_rows
from warehouse.snapshots import commit

# Parents first on insert, children first on delete, in case the tables gain foreign keys.
BRAND_TABLES = ("dim_brand", "brand_dimension_weight", "brand_target")


# The name the weekly build (warehouse/reports.py) knows them by.
BrandFrames = Brands


def load_brands(
    connection: duckdb.DuckDBPyConnection, frames: BrandFrames, source: str = ""
) -> None:
    """Replace the three brand tables with ``frames``, in one commit labelled with the file."""
    with commit(connection, "brands", {"file": source}):
        replace_brands(connection, frames)


def replace_brands(connection: duckdb.DuckDBPyConnection, frames: BrandFrames) -> None:
    """Replace the three brand tables with ``frames`` inside the caller's transaction."""
    for table in reversed(BRAND_TABLES):
        connection.execute(f"delete from {table}")
    for table in BRAND_TABLES:
        insert_rows(connection, table, getattr(frames, table))
