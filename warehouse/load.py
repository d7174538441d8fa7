"""Loading one date partition of one source as one commit to the lake, idempotently.

Re-running a date replaces that date's rows (delete + insert in one transaction) and never
duplicates them; ``dim_influencer`` is upserted with ``MERGE INTO``. The lake has no unique
constraint, so each grain is checked here before the commit. A load killed half-way leaves its
Parquet files unreferenced by any snapshot (the maintenance flow deletes them) and the last
snapshot as it was.

Loads of different dates may commit at the same time (several workers on a PostgreSQL catalog,
docs/scale-out.md). DuckLake checks a commit against those made since its transaction began: it
refuses one that deletes rows another inserted, or inserts where another deleted ("Transaction
conflict"), and retries by itself only the race for the next snapshot id
(``ducklake_max_retry_count``). Every load replaces the whole ``roster``, so two concurrent loads
always collide there, and the one refused is run again, whole, on the newer snapshot: commits of
concurrent loads take turns, and each load stays one commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from warehouse.crashpoints import crash_point
from warehouse.snapshots import commit

log = logging.getLogger(__name__)

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
# The night's posts (all of one date, $date) merged into dim_post. A new post is first seen on
# $date. A post keeps the text, link, owner and time of its latest sighting: its row is
# rewritten only when one of them changed and no later night saw the post, or when an older
# date widens first_seen_date. A night that sees the same posts again writes nothing to
# dim_post, and loading any date again, in any order, changes nothing.
# The later sightings are read from fact_post_metrics after $date (a nightly run's bound skips
# every file) and only for the night's posts, so a backfill of an old date holds no more than
# its night: 2.8 s and 0.86 GiB on a year at SF=1, against 73 s and 9.8 GiB for every post seen
# since. The night's posts are read twice rather than named once in a WITH: DuckDB 1.5.5's
# MERGE updated the wrong rows with a CTE in its USING (test_load's backfill test catches it).
MERGE_POSTS = """
merge into dim_post as current
using (
    select incoming.*, later.post_id is not null as seen_later
    from ({incoming}) as incoming
    left join (
        select distinct platform, post_id
        from fact_post_metrics
        where platform = $platform and observed_date > $date
          and post_id in (select post_id from ({incoming}))
    ) as later using (platform, post_id)
) as incoming
on current.platform = incoming.platform and current.post_id = incoming.post_id
when matched and (
    $date < current.first_seen_date
    or not incoming.seen_later and (
        incoming.account_id is distinct from current.account_id
        or incoming.published_at is distinct from current.published_at
        or incoming.caption is distinct from current.caption
        or incoming.permalink is distinct from current.permalink
    )
) then update set
    account_id = case when incoming.seen_later then current.account_id else incoming.account_id end,
    published_at = case when incoming.seen_later then current.published_at
                        else incoming.published_at end,
    caption = case when incoming.seen_later then current.caption else incoming.caption end,
    permalink = case when incoming.seen_later then current.permalink else incoming.permalink end,
    first_seen_date = least(current.first_seen_date, $date)
when not matched then insert (
    platform, post_id, account_id, published_at, caption, permalink, first_seen_date
) values (
    incoming.platform, incoming.post_id, incoming.account_id, incoming.published_at,
    incoming.caption, incoming.permalink, $date
)
"""
# What DuckLake says when it refuses a commit because of a concurrent one: a conflict found on
# checking the snapshots committed meanwhile, or its own retries for a snapshot id used up.
COMMIT_CONFLICT_MARKERS = ("Transaction conflict", "Exceeded the maximum retry count")
# A load commits in about a second, and each collision lets one of the loads through. Measured
# with 8 processes doing nothing but load: 8 tries left 1 load of 32 refused every time; 20
# tries, with waits growing to 30 s (a few minutes in all), outlast far busier bursts.
MAX_LOAD_ATTEMPTS = 20
FIRST_RETRY_WAIT_SECONDS = 0.5
MAX_RETRY_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class PartitionLoad:
    """Everything one run loads for one (source, platform, date)."""

    source: str
    platform: str
    partition_date: dt.date
    roster: pl.DataFrame
    influencers: pl.DataFrame
    # table -> its rows: a frame, or Parquet files (a path or a glob) DuckDB streams from, so
    # memory stays flat.
    facts: dict[str, pl.DataFrame | Path]
    quarantine: pl.DataFrame
    run_log: pl.DataFrame
    failed_accounts: pl.DataFrame | None = None
    # dim_post rows (a post's caption and link as the night saw them), merged by
    # (platform, post_id).
    posts: pl.DataFrame | Path | None = None
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


def load_partition(
    connection: duckdb.DuckDBPyConnection,
    load: PartitionLoad,
    *,
    max_attempts: int = MAX_LOAD_ATTEMPTS,
    first_retry_wait: float = FIRST_RETRY_WAIT_SECONDS,
) -> None:
    """Replace the partition's rows in every table, in one labelled commit.

    A commit refused for a concurrent one is run again from the start, up to ``max_attempts``
    times, after a random wait of up to ``first_retry_wait`` seconds, doubling each time (so that
    the losers of one collision do not collide again); each retry is logged. Any other error is
    raised at once.
    """
    unknown = set(load.facts) - set(FACT_PARTITIONS)
    if unknown:
        raise ValueError(f"not a partitioned fact table: {sorted(unknown)}")
    attempt = 1
    while True:
        try:
            _anchor_roster(connection, load)
            _replace_partition(connection, load)
            return
        except duckdb.TransactionException as error:
            if not is_commit_conflict(error):
                raise
            if attempt >= max_attempts:
                raise CommitConflict(
                    f"{load.commit_message}: the lake refused the commit {attempt} times for "
                    "concurrent commits; re-run the date (it replaces what is there), and if it "
                    "keeps happening, look for a writer that commits without pause "
                    f"({_first_line(error)})"
                ) from error
            wait = random.uniform(
                0, min(MAX_RETRY_WAIT_SECONDS, first_retry_wait * 2 ** (attempt - 1))
            )
            log.warning(
                "%s: commit refused for a concurrent commit (%s); retrying in %.1f s "
                "(attempt %d of %d)",
                load.commit_message,
                _first_line(error),
                wait,
                attempt + 1,
                max_attempts,
            )
            time.sleep(wait)
            attempt += 1


class CommitConflict(RuntimeError):
    """A load was refused for concurrent commits on every attempt."""


def is_commit_conflict(error: duckdb.Error) -> bool:
    """Whether DuckLake refused a commit because of a concurrent one (retrying may succeed)."""
    return isinstance(error, duckdb.TransactionException) and any(
        marker in str(error) for marker in COMMIT_CONFLICT_MARKERS
    )


def _anchor_roster(connection: duckdb.DuckDBPyConnection, load: PartitionLoad) -> None:
    """Commit the roster on its own if the lake has none yet.

    DuckLake sees two commits collide only where one deletes from a table the other inserts into:
    the first loads of a new lake only insert (into an empty roster and ``dim_influencer``), so
    two at once would both commit and ``dim_influencer`` would hold every account twice. With a
    roster already there, every load deletes it, so concurrent loads always collide and take
    turns.
    """
    if load.roster.is_empty() or connection.execute("select count(*) from roster").fetchall()[0][0]:
        return
    with commit(connection, f"roster for {load.commit_message}", load.commit_run):
        insert_rows(connection, "roster", load.roster)


def _replace_partition(connection: duckdb.DuckDBPyConnection, load: PartitionLoad) -> None:
    with commit(connection, load.commit_message, load.commit_run):
        connection.execute("delete from roster")
        insert_rows(connection, "roster", load.roster)
        for table, frame in load.facts.items():
            if table == "fact_profile_daily":
                _replace_profiles_keeping_imports(connection, load, frame)
            else:
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
        _merge_posts(connection, load)
        insert_rows(connection, "pipeline_runs", load.run_log)


def _replace_profiles_keeping_imports(
    connection: duckdb.DuckDBPyConnection, load: PartitionLoad, frame: pl.DataFrame | Path
) -> None:
    """Delete the date's profile snapshots, except those a file import loaded for accounts this
    load does not have.

    An import fills gaps (``warehouse/imports.py``): its snapshot of an account the platform
    reports this date gives way to the platform's exact counts, and the import's
    ``import_profile`` row says so; its snapshot of an account the platform does not report stays.
    A date with no imported snapshot (most) takes a plain delete: on a lake of small tables each
    statement costs tens of milliseconds, whatever it finds (docs/performance.md).
    """
    arguments: dict[str, object] = {"platform": load.platform, "date": load.partition_date}
    imported = connection.execute(
        """
        select count(*) from import_profile
        where platform = $platform and as_of_date = $date and in_fact_profile_daily
        """,
        arguments,
    ).fetchall()[0][0]
    if not imported:
        connection.execute(
            "delete from fact_profile_daily where platform = $platform and snapshot_date = $date",
            arguments,
        )
        return
    if isinstance(frame, Path):
        incoming = "select account_id from read_parquet($path)"
        arguments["path"] = str(frame)
    else:
        incoming_accounts = frame.select("account_id")  # noqa: F841  (read by name from the SQL)
        incoming = "select account_id from incoming_accounts"
    connection.execute(
        f"""
        update import_profile set in_fact_profile_daily = false
        where platform = $platform and as_of_date = $date and in_fact_profile_daily
          and account_id in ({incoming})
        """,
        arguments,
    )
    connection.execute(
        """
        delete from fact_profile_daily as fact
        where platform = $platform and snapshot_date = $date
          and not exists (
              select 1 from import_profile as imported
              where imported.in_fact_profile_daily
                and imported.platform = fact.platform
                and imported.account_id = fact.account_id
                and imported.as_of_date = fact.snapshot_date
          )
        """,
        {"platform": load.platform, "date": load.partition_date},
    )


def _merge_posts(connection: duckdb.DuckDBPyConnection, load: PartitionLoad) -> None:
    posts = load.posts
    arguments: dict[str, object] = {"platform": load.platform, "date": load.partition_date}
    if isinstance(posts, Path):
        arguments["path"] = str(posts)
        connection.execute(
            MERGE_POSTS.format(incoming="select * from read_parquet($path)"), arguments
        )
    elif posts is not None and not posts.is_empty():
        incoming_posts = posts  # noqa: F841  (read by name from the SQL)
        connection.execute(MERGE_POSTS.format(incoming="select * from incoming_posts"), arguments)


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
    """Insert the rows of Parquet files (a path or a glob; checked against the table's contract)
    into ``table``, matching columns by name; DuckDB streams them, so no frame is ever held."""
    columns = ", ".join(
        row[0]
        for row in connection.execute(
            "describe select * from read_parquet(?)", [str(path)]
        ).fetchall()
    )
    connection.execute(
        f"insert into {table} ({columns}) select {columns} from read_parquet(?)", [str(path)]
    )


def _first_line(error: BaseException) -> str:
    """The line of a DuckLake error that says what conflicted (its SQL can run to pages)."""
    lines = str(error).splitlines() or [type(error).__name__]
    saying = [line for line in lines if any(m in line for m in COMMIT_CONFLICT_MARKERS)]
    return (saying or lines)[0][:300]


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
