"""Keeping the lake small and fast: what the weekly ``maintenance`` flow runs.

Every nightly commit adds a few small Parquet files (one per table and source) and a snapshot.
Maintenance, in this order:

1. flushes rows small enough to have been inlined in the catalog into Parquet files;
2. merges each partition's adjacent small files into few (one commit: the data is unchanged);
3. expires the snapshots older than the retention (default 90 days): time travel reaches back
   that far, no further;
4. deletes the files no remaining snapshot needs (those the merge replaced, those of expired
   snapshots);
5. deletes orphaned files: files under the data path that the catalog never recorded, left by a
   load killed before its commit. Only files older than ``orphan_min_age`` go, so that a load
   still writing on another worker (a PostgreSQL catalog takes concurrent writers) keeps its
   files.

Re-running it right away finds nothing more to do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.crashpoints import crash_point
from warehouse.snapshots import LAKE, commit


@dataclass(frozen=True)
class MaintenanceReport:
    """What one maintenance run changed; files and bytes are those on disk under the data path."""

    rows_flushed: int
    files_merged: int
    files_written: int
    snapshots_expired: int
    old_files_deleted: int
    orphans_deleted: int
    files_before: int
    files_after: int
    bytes_before: int
    bytes_after: int

    def summary(self) -> str:
        return (
            f"flushed {self.rows_flushed} inlined rows; merged {self.files_merged} files into "
            f"{self.files_written}; expired {self.snapshots_expired} snapshots; deleted "
            f"{self.old_files_deleted} files no snapshot needs and {self.orphans_deleted} "
            f"orphaned files; data files {self.files_before} -> {self.files_after}, "
            f"{self.bytes_before:,} -> {self.bytes_after:,} bytes"
        )


def maintain(
    connection: duckdb.DuckDBPyConnection,
    data_path: Path,
    *,
    retention: dt.timedelta,
    orphan_min_age: dt.timedelta,
    now: dt.datetime | None = None,
) -> MaintenanceReport:
    """Run the five steps above on the lake attached to ``connection``; report what went."""
    moment = now or dt.datetime.now(dt.UTC)
    files_before, bytes_before = disk_usage(data_path)
    # DuckLake commits a compaction apart from any change.
    with commit(connection, "maintenance: flush inlined rows"):
        flushed = connection.execute(f"call ducklake_flush_inlined_data('{LAKE}')").fetchall()
    with commit(connection, "maintenance: merge small files"):
        merged = connection.execute(f"call ducklake_merge_adjacent_files('{LAKE}')").fetchall()
    crash_point("maintenance.after_merge")
    expired = connection.execute(
        f"call ducklake_expire_snapshots('{LAKE}', older_than => ?)", [moment - retention]
    ).fetchall()
    crash_point("maintenance.after_expire")
    old_files = connection.execute(
        f"call ducklake_cleanup_old_files('{LAKE}', cleanup_all => true)"
    ).fetchall()
    crash_point("maintenance.before_orphans")
    orphans = connection.execute(
        f"call ducklake_delete_orphaned_files('{LAKE}', older_than => ?)",
        [moment - orphan_min_age],
    ).fetchall()
    files_after, bytes_after = disk_usage(data_path)
    return MaintenanceReport(
        rows_flushed=sum(int(row[2]) for row in flushed),
        files_merged=sum(int(row[2]) for row in merged),
        files_written=sum(int(row[3]) for row in merged),
        snapshots_expired=len(expired),
        old_files_deleted=len(old_files),
        orphans_deleted=len(orphans),
        files_before=files_before,
        files_after=files_after,
        bytes_before=bytes_before,
        bytes_after=bytes_after,
    )


def disk_usage(data_path: Path) -> tuple[int, int]:
    """Files and bytes under the lake's data path."""
    files = [path for path in data_path.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)
