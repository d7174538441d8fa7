"""Opening the warehouse: the one read-write connection, or read-only ones for analysts."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.migrate import apply_migrations

# DuckDB 2.0's default storage format cannot be read by the 1.5.x CLI analysts install from
# PyPI; this keeps new databases readable by it.
STORAGE_COMPATIBILITY_VERSION = "v1.5.0"


def open_warehouse(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open ``path``; a read-write connection creates it if needed and applies migrations."""
    if read_only:
        if not path.exists():
            raise FileNotFoundError(
                f"warehouse {path} does not exist yet: run `influencers nightly` first"
            )
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(
        str(path), config={"storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION}
    )
    apply_migrations(connection)
    return connection
