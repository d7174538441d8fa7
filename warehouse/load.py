"""Loading one date partition of one source as one commit to the lake, idempotently.

Re-running a date replaces that date's rows (delete + insert in one transaction) and never
duplicates them; ``dim_influencer`` is upserted with ``MERGE INTO``. The lake has no unique
constraint, so each grain is checked here before the commit. A load killed half-way leaves its
Parquet files unreferenced by any snapshot (the maintenance flow deletes them) and the last
snapshot as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from warehouse.crashpoints import crash_point
from warehouse.snapshots import commit

FACT_KEYS = {
    "fact_profile_daily": ("platform", "account_id", "snapshot_date"),
    "fact_post_metrics": ("platform", "post_id", "observed_date"),
    "fact_audience_share": ("platform", "account_id", "as_of_date", "dimension", "bucket"),
}
FACT_PARTITIONS = {
    "fact_profile_daily": "snapshot_date",
    "fact_post_metrics": "observed_date",
    "fact_audience_share": "as_of_date",
}
# The latest sighting of an account wins its attributes; a replayed older date never overwrites
# them. first/last seen widen monotonically, so loading a date twice changes nothing.
MERGE_INFLUENCERS = """
merge into dim_influencer as current
using incoming
on current.platform = incoming.platform and current.account_id = incoming.account_id
when matched then update set
    handle = case when incoming.last_seen_date >= current.last_seen_date
                  then incoming.handle else current.handle end,
    display_name = case when incoming.last_seen_date >= current.last_seen_date
                        then incoming.display_name else current.display_name end,
    country = coalesce(incoming.country, current.country),
    category = coalesce(incoming.category, current.category),
    first_seen_date = least(current.first_seen_date, incoming.first_seen_date),
    last_seen_date = greatest(current.last_seen_date, incoming.last_seen_date)
when not matched then insert (
    platform, account_id, handle, display_name, country, category, first_seen_date, last_seen_date
) values (
    incoming.platform, incoming.account_id, incoming.handle, incoming.display_name,
    incoming.country, incoming.category, incoming.first_seen_date, incoming.last_seen_date
)
"""


@dataclass(frozen=True)
class PartitionLoad:
    """Everything one run loads for one (source, platform, date)."""

    source: str
    platform: str
    partition_date: dt.date
    roster: pl.DataFrame
    influencers: pl.DataFrame
    # table -> its rows: a frame, or a Parquet file DuckDB streams from (memory stays flat).
    facts: dict[str, pl.DataFrame | Path]
    quarantine: pl.DataFrame
    run_log: pl.DataFrame
    failed_accounts: pl.DataFrame | None = None
    # The run the commit is labelled with (``influencers snapshots``).
    run_id: str = ""
    flow_run_id: str | None = None

    @property
    def commit_message(self) -> str:
        return f"nightly {self.source} {self.partition_date.isoformat()}"

    @property
    def commit_run(self) -> dict[str, str | None]:
        return {
            "flow": "nightly",
            "run_id": self.run_id,
            "flow_run_id": self.flow_run_id,
            "source": self.source,
            "date": self.partition_date.isoformat(),
        }


def load_partition(connection: duckdb.DuckDBPyConnection, load: PartitionLoad) -> None:
    """Replace the partition's rows in every table, in one labelled commit."""
    unknown = set(load.facts) - set(FACT_PARTITIONS)
    if unknown:
        raise ValueError(f"not a partitioned fact table: {sorted(unknown)}")
    with commit(connection, load.commit_message, load.commit_run):
        connection.execute("delete from roster")
        insert_rows(connection, "roster", load.roster)
        for table, frame in load.facts.items():
            connection.execute(
                f"delete from {table} where platform = ? and {FACT_PARTITIONS[table]} = ?",
                [load.platform, load.partition_date],
            )
            if isinstance(frame, Path):
                insert_parquet(connection, table, frame)
                _refuse_duplicates(connection, table, load.platform, load.partition_date)
            else:
                insert_rows(connection, table, frame)
            crash_point("load.after_fact_table")
        connection.execute(
            "delete from quarantine where source = ? and partition_date = ?",
            [load.source, load.partition_date],
        )
        insert_rows(connection, "quarantine", load.quarantine)
        connection.execute(
            "delete from failed_accounts where source = ? and partition_date = ?",
            [load.source, load.partition_date],
        )
        if load.failed_accounts is not None:
            insert_rows(connection, "failed_accounts", load.failed_accounts)
        _execute_reading(connection, MERGE_INFLUENCERS, load.influencers)
        insert_rows(connection, "pipeline_runs", load.run_log)


def record_runs(
    connection: duckdb.DuckDBPyConnection, run_log: pl.DataFrame, message: str = "failed run"
) -> None:
    """Append rows to ``pipeline_runs`` on their own (a failed run has nothing else to load)."""
    with commit(connection, message, {"run_id": run_log["run_id"][0]}):
        insert_rows(connection, "pipeline_runs", run_log)


def insert_rows(connection: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Insert ``frame`` into ``table``, matching columns by name.

    The frames come checked against their table's contract, so their columns are the table's;
    one that is not fails loudly here rather than loading misplaced values.
    """
    columns = ", ".join(frame.columns)
    _execute_reading(
        connection, f"insert into {table} ({columns}) select {columns} from incoming", frame
    )


def insert_parquet(connection: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    """Insert the rows of a Parquet file (checked against the table's contract) into ``table``,
    matching columns by name; DuckDB streams it, so no frame of it is ever held."""
    columns = ", ".join(
        row[0]
        for row in connection.execute(
            "describe select * from read_parquet(?)", [str(path)]
        ).fetchall()
    )
    connection.execute(
        f"insert into {table} ({columns}) select {columns} from read_parquet(?)", [str(path)]
    )


def _refuse_duplicates(
    connection: duckdb.DuckDBPyConnection, table: str, platform: str, partition_date: dt.date
) -> None:
    """Stop the load if the partition repeats a key of its grain.

    Facts are deduplicated batch by batch, and a batch holds whole accounts, so a repeat can
    only come from one account landed under two roster handles (a renamed account listed twice).
    """
    key = ", ".join(FACT_KEYS[table])
    repeated = connection.execute(
        f"select {key}, count(*) from {table} where platform = ? and "
        f"{FACT_PARTITIONS[table]} = ? group by all having count(*) > 1 limit 3",
        [platform, partition_date],
    ).fetchall()
    if repeated:
        raise ValueError(
            f"{table} would hold {len(repeated)}+ keys twice for {platform} {partition_date}, "
            f"e.g. {repeated[0][:-1]}: the same account is listed under two handles in the "
            "roster (renamed?); keep one of them and re-run the date"
        )


def _execute_reading(
    connection: duckdb.DuckDBPyConnection, statement: str, frame: pl.DataFrame
) -> None:
    """Run ``statement``, which reads the frame as ``incoming``.

    DuckDB's replacement scan finds the local variable by name. Registering and unregistering a
    view instead would fail inside an aborted transaction and hide the error that aborted it.
    """
    if frame.is_empty():
        return
    incoming = frame  # noqa: F841  (read by name from the SQL)
    connection.execute(statement)
