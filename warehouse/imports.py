"""Loading one file import as one commit: its (source, as_of_date) partitions replaced.

What an import owns, per (source, as_of_date): its rows of ``fact_imported_metric``,
``import_profile``, ``import_file`` and ``quarantine``, and the ``fact_profile_daily`` rows it
inserted (``import_profile.in_fact_profile_daily``). Re-importing deletes exactly those and
inserts the new ones, so the same file twice gives the same lake, and a corrected file replaces
the earlier one. A snapshot the platform's own API loaded for the same account and date is never
replaced (the API's counts are exact; an export's ``475.8m`` is rounded): the import's row then
stays out of ``fact_profile_daily`` and counts as superseded. A nightly run loading the date
afterwards keeps the imported snapshots of accounts it does not report, and replaces those of
accounts it does (their ``import_profile.in_fact_profile_daily`` turns false).

``dim_influencer`` is merged so that an import only fills what the warehouse does not know:
it never renames an account the platform reported, nor overwrites its display name, country or
category, except on accounts only imports know (``handle:...`` ids).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import polars as pl

from warehouse.load import insert_rows
from warehouse.snapshots import commit

KNOWN_ACCOUNTS = """
select platform, lower(handle) as handle_key, account_id
from dim_influencer
where platform = ? and lower(handle) in (select handle_key from handle_keys)
order by platform, handle_key, account_id like 'handle:%', last_seen_date desc, account_id
"""
# The youtube channel ids that are already account ids.
KNOWN_IDS = """
select platform, account_id as handle_key, account_id
from dim_influencer
where platform = ? and account_id in (select handle_key from handle_keys)
"""
REMOVE_EARLIER_PROFILES = """
delete from fact_profile_daily as fact
where exists (
    select 1 from import_profile as earlier
    where earlier.source = ?
      and list_contains(?::date[], earlier.as_of_date)
      and earlier.in_fact_profile_daily
      and earlier.platform = fact.platform
      and earlier.account_id = fact.account_id
      and earlier.as_of_date = fact.snapshot_date
      -- Only if still the import's row: a nightly re-run may have replaced it since.
      and earlier.followers is not distinct from fact.followers
      and earlier.following is not distinct from fact.following
      and earlier.media_count is not distinct from fact.media_count
)
"""
PRESENT_SNAPSHOTS = """
select platform, account_id, snapshot_date as as_of_date
from fact_profile_daily
where platform = ? and list_contains(?::date[], snapshot_date)
  and account_id in (select account_id from account_ids)
"""
# Imports fill gaps: an account the platform reported keeps its handle and attributes; one only
# imports know takes the latest import's.
MERGE_IMPORTED_INFLUENCERS = """
merge into dim_influencer as current
using incoming
on current.platform = incoming.platform and current.account_id = incoming.account_id
when matched then update set
    handle = case when current.account_id like 'handle:%'
                       and incoming.last_seen_date >= current.last_seen_date
                  then incoming.handle else current.handle end,
    display_name = case when current.account_id like 'handle:%'
                        then coalesce(incoming.display_name, current.display_name)
                        else coalesce(current.display_name, incoming.display_name) end,
    country = case when current.account_id like 'handle:%'
                   then coalesce(incoming.country, current.country)
                   else coalesce(current.country, incoming.country) end,
    category = case when current.account_id like 'handle:%'
                    then coalesce(incoming.category, current.category)
                    else coalesce(current.category, incoming.category) end,
    first_seen_date = least(current.first_seen_date, incoming.first_seen_date),
    last_seen_date = greatest(current.last_seen_date, incoming.last_seen_date)
when not matched then insert (
    platform, account_id, handle, display_name, country, category, first_seen_date, last_seen_date
) values (
    incoming.platform, incoming.account_id, incoming.handle, incoming.display_name,
    incoming.country, incoming.category, incoming.first_seen_date, incoming.last_seen_date
)
"""
PROFILE_COLUMNS = [
    "platform",
    "account_id",
    "snapshot_date",
    "followers",
    "following",
    "media_count",
]
IMPORT_PROFILE_COLUMNS = [
    "source",
    "platform",
    "account_id",
    "as_of_date",
    "handle",
    "followers",
    "following",
    "media_count",
    "country_as_written",
    "in_fact_profile_daily",
    "line_number",
    "import_id",
]
# (profile outcomes) -> (import_file rows, pipeline_runs rows): built by the flow, which knows
# the counts, once the load knows which profiles reached fact_profile_daily.
RecordsOf = Callable[[pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]]


@dataclass(frozen=True)
class ImportLoad:
    """Everything one import loads; ``profiles`` and ``metrics`` carry resolved account ids."""

    source: str
    platform: str
    import_id: str
    dates: tuple[dt.date, ...]
    # platform, account_id, as_of_date, handle, display_name, country, country_as_written,
    # category, followers, following, media_count, line_number: one row per account and date.
    profiles: pl.DataFrame
    metrics: pl.DataFrame  # fact_imported_metric rows
    quarantine: pl.DataFrame  # quarantine rows
    run_id: str = ""
    flow_run_id: str | None = None

    @property
    def commit_message(self) -> str:
        first, last = min(self.dates), max(self.dates)
        dates = first.isoformat() if first == last else f"{first}..{last}"
        return f"import {self.source} {dates}"

    @property
    def commit_run(self) -> dict[str, str | None]:
        return {
            "flow": "import-file",
            "run_id": self.run_id,
            "flow_run_id": self.flow_run_id,
            "source": self.source,
            "import_id": self.import_id,
            "dates": ",".join(d.isoformat() for d in sorted(self.dates)),
        }


def known_accounts(
    connection: duckdb.DuckDBPyConnection, platform: str, handle_keys: list[str]
) -> pl.DataFrame:
    """(platform, handle_key, account_id) of the handles the warehouse knows, best first: a
    platform id before a derived ``handle:`` one, then the account seen last."""
    # Read by name from the SQL (DuckDB's replacement scan): binding a list of 100,000 handles
    # as a parameter took a minute where the scan of a frame takes milliseconds.
    handle_keys_frame = pl.DataFrame({"handle_key": handle_keys}, schema={"handle_key": pl.String})
    by_handle = _reading(connection, KNOWN_ACCOUNTS, [platform], handle_keys=handle_keys_frame)
    by_id = _reading(connection, KNOWN_IDS, [platform], handle_keys=handle_keys_frame)
    return pl.concat([by_id, by_handle]).cast(pl.String)


def load_import(
    connection: duckdb.DuckDBPyConnection, load: ImportLoad, records_of: RecordsOf
) -> pl.DataFrame:
    """Replace the import's (source, as_of_date) partitions in one labelled commit; return the
    profile outcomes (``in_fact_profile_daily`` per profile)."""
    dates = sorted(load.dates)
    with commit(connection, load.commit_message, load.commit_run):
        connection.execute(REMOVE_EARLIER_PROFILES, [load.source, dates])
        for table, column in (
            ("import_profile", "as_of_date"),
            ("fact_imported_metric", "as_of_date"),
            ("import_file", "as_of_date"),
            ("quarantine", "partition_date"),
        ):
            connection.execute(
                f"delete from {table} where source = ? and list_contains(?::date[], {column})",
                [load.source, dates],
            )
        outcomes = _profile_outcomes(connection, load, dates)
        insert_rows(
            connection,
            "fact_profile_daily",
            outcomes.filter(pl.col("in_fact_profile_daily"))
            .rename({"as_of_date": "snapshot_date"})
            .select(PROFILE_COLUMNS),
        )
        insert_rows(connection, "import_profile", outcomes.select(IMPORT_PROFILE_COLUMNS))
        insert_rows(connection, "fact_imported_metric", load.metrics)
        insert_rows(connection, "quarantine", load.quarantine)
        incoming = _sightings(load.profiles)
        if not incoming.is_empty():
            connection.execute(MERGE_IMPORTED_INFLUENCERS)
        files, run_log = records_of(outcomes)
        insert_rows(connection, "import_file", files)
        insert_rows(connection, "pipeline_runs", run_log)
    return outcomes


def _profile_outcomes(
    connection: duckdb.DuckDBPyConnection, load: ImportLoad, dates: list[dt.date]
) -> pl.DataFrame:
    """The import's profiles, each marked with whether it goes into fact_profile_daily (no
    snapshot of that account and date is there already)."""
    profiles = load.profiles
    present = _reading(
        connection,
        PRESENT_SNAPSHOTS,
        [load.platform, dates],
        account_ids=profiles.select(pl.col("account_id").unique()),
    )
    present = present.cast({"platform": pl.String, "account_id": pl.String, "as_of_date": pl.Date})
    return (
        profiles.join(
            present.with_columns(present=pl.lit(True)),
            on=["platform", "account_id", "as_of_date"],
            how="left",
            maintain_order="left",
        )
        .with_columns(
            source=pl.lit(load.source),
            import_id=pl.lit(load.import_id),
            in_fact_profile_daily=pl.col("present").is_null(),
        )
        .drop("present")
    )


def _sightings(profiles: pl.DataFrame) -> pl.DataFrame:
    """One dim_influencer sighting per account: attributes of its latest date in the import."""
    ordered = profiles.sort("platform", "account_id", "as_of_date", "line_number")
    return ordered.group_by("platform", "account_id", maintain_order=True).agg(
        pl.col("handle").last(),
        pl.col("display_name").drop_nulls().last(),
        pl.col("country").drop_nulls().last(),
        pl.col("category").drop_nulls().last(),
        pl.col("as_of_date").min().alias("first_seen_date"),
        pl.col("as_of_date").max().alias("last_seen_date"),
    )


def _reading(
    connection: duckdb.DuckDBPyConnection,
    statement: str,
    parameters: list[object],
    **frames: pl.DataFrame,
) -> pl.DataFrame:
    """The result of ``statement``, which reads each of ``frames`` by its name."""
    for name, frame in frames.items():
        connection.register(name, frame)
    try:
        return connection.execute(statement, parameters).pl()
    finally:
        for name in frames:
            # Inside a transaction that the statement aborted this fails too: keep its error.
            with contextlib.suppress(duckdb.Error):
                connection.unregister(name)
