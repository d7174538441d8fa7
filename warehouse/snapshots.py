"""Labelled snapshots: every commit to the lake says which run made it and for what.

A commit's label is a message such as ``nightly instagram 2026-11-27`` and its run as JSON (the
pipeline run, the Prefect flow run, the source and date or the week), so that
``influencers snapshots`` can say which snapshot holds last Monday's report and an analyst can
read a table ``AT (VERSION => n)``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import duckdb
import polars as pl

from warehouse.crashpoints import crash_point

# The name every connection attaches the lake as.
LAKE = "lake"
# Who wrote a snapshot, as ``ducklake_snapshots`` shows it.
AUTHOR = "influencers"


def label_commit(
    connection: duckdb.DuckDBPyConnection, message: str, run: dict[str, Any] | None = None
) -> None:
    """Label the snapshot that the open transaction will commit."""
    connection.execute(
        "call ducklake_set_commit_message(?, ?, ?, extra_info => ?)",
        [LAKE, AUTHOR, message, json.dumps(run or {}, sort_keys=True, default=str)],
    )


@contextlib.contextmanager
def commit(
    connection: duckdb.DuckDBPyConnection, message: str, run: dict[str, Any] | None = None
) -> Iterator[None]:
    """One transaction, committed as one labelled snapshot; rolled back if the block raises."""
    connection.execute("begin transaction")
    try:
        yield
        label_commit(connection, message, run)
        crash_point("commit.before")
        connection.execute("commit")
    except BaseException:
        rollback(connection)
        raise
    crash_point("commit.after")


def rollback(connection: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if any: a commit that failed has already ended it."""
    with contextlib.suppress(duckdb.TransactionException):
        connection.execute("rollback")


def list_snapshots(connection: duckdb.DuckDBPyConnection, limit: int | None = None) -> pl.DataFrame:
    """The lake's snapshots, newest first: id, UTC time, message, run and what changed."""
    return connection.sql(
        f"""
        select snapshot_id,
               snapshot_time at time zone 'UTC' as committed_at_utc,
               coalesce(commit_message, '') as message,
               coalesce(commit_extra_info, '') as run,
               array_to_string(map_keys(changes), ', ') as changes
        from ducklake_snapshots('{LAKE}')
        order by snapshot_id desc
        {"" if limit is None else f"limit {int(limit)}"}
        """
    ).pl()
