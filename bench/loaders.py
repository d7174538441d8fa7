"""Three ways to validate, transform and load one day's landing into the lake's tables.

- ``ours``: the nightly flow's own steps, called as its tasks call them
  (``validate_and_transform`` then ``load_source_night``, without Prefect's bookkeeping):
  contracts, quarantine, staging, facts in bounded batches, one commit.
- ``floor``: DuckDB alone, ``insert ... select`` from ``read_json`` of the same gzipped files into
  the same tables, in one transaction: the casts and renames the tables need, no validation, no
  quarantine, no deduplication. Nothing can load these files faster on this machine.
- ``alternative``: what a hand-written pipeline usually does: ``json.loads`` every line into a
  pandas DataFrame, Pandera's pandas backend to split valid rows from failures, pandas to
  transform, and row inserts (``executemany``) in one transaction.

Each runs in a process of its own (``python -m bench.loaders LOADER SF LAKE_DIR``) on a new lake,
so its peak memory is its own; it prints one JSON line: the seconds from the first read of the
landing to the commit, and the rows each table holds afterwards. With ``--existing`` it loads
into the lake already at LAKE_DIR (``bench/history.py``: a year of history) and prints the rows
of the night only.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from bench.scale import SOURCE, Landing, landing
from flows.accounting import SourceNight
from flows.nightly import load_source_night, validate_and_transform
from flows.settings import Settings
from flows.source_plans import SOURCE_PLANS
from schemas.roster import split_roster
from sources.roster import read_roster_rows
from warehouse.lake import LakeLocation, open_lake

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

TABLES = (
    "fact_profile_daily",
    "fact_post_metrics",
    "fact_audience_share",
    "dim_post",
    "dim_influencer",
    "quarantine",
)


def load_ours(landed: Landing, lake: LakeLocation, work_dir: Path) -> None:
    plan = SOURCE_PLANS[SOURCE]
    batch_rows = Settings().validation_batch_rows
    roster = split_roster(read_roster_rows(landed.roster_path)).valid
    staged = validate_and_transform.fn(
        SOURCE, landed.raw_dir, landed.manifest, roster, work_dir, batch_rows
    )
    night = SourceNight(
        source=SOURCE,
        partition_date=landed.day,
        landing_run_id=landed.manifest.run_id,
        replayed=True,
        extract=landed.manifest.extract,
        tables={entity: plan.table_of(entity) for entity in plan.staging},
    )
    night.counts = staged.counts
    load_source_night.fn(
        SOURCE,
        landed.day,
        staged,
        pl.DataFrame(),
        night,
        roster,
        lake,
        "bench",
        dt.datetime.now(dt.UTC).replace(tzinfo=None),
        set(),
    )


FLOOR_SQL = """
insert into fact_profile_daily
    (platform, account_id, snapshot_date, followers, following, media_count)
select 'instagram', id, _as_of::date, followers_count, follows_count, media_count
from read_json($profiles, format = 'newline_delimited');

insert into dim_influencer (
    platform, account_id, handle, display_name, first_seen_date, last_seen_date)
select 'instagram', id, username, name, _as_of::date, _as_of::date
from read_json($profiles, format = 'newline_delimited');

insert into fact_post_metrics (
    platform, post_id, observed_date, account_id, published_at, media_type, likes, comments)
select 'instagram', id, _as_of::date, _account_id,
       "timestamp"::timestamp, media_type,
       like_count, comments_count
from read_json($media, format = 'newline_delimited');

insert into dim_post (
    platform, post_id, account_id, published_at, caption, permalink, first_seen_date)
select 'instagram', id, _account_id, "timestamp"::timestamp,
       caption, permalink, _as_of::date
from read_json($media, format = 'newline_delimited');

insert into fact_audience_share (platform, account_id, as_of_date, dimension, bucket, share)
select 'instagram', _account_id, _as_of::date, _breakdown, dimension_values[1],
       value / sum(value) over (partition by _account_id, _breakdown)
from read_json($audience, format = 'newline_delimited');
"""


def load_floor(landed: Landing, lake: LakeLocation, work_dir: Path) -> None:
    connection = open_lake(lake)
    try:
        connection.execute("begin")
        files = {entity: str(landed.files(entity)) for entity in ("profiles", "media", "audience")}
        for statement in filter(str.strip, FLOOR_SQL.split(";")):
            connection.execute(statement, {k: v for k, v in files.items() if f"${k}" in statement})
        connection.execute("commit")
    finally:
        connection.close()


def load_alternative(landed: Landing, lake: LakeLocation, work_dir: Path) -> None:
    # pandas is not a dependency of the pipeline: only this loader needs it (pip install pandas).
    import pandas as pd
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

    def frame(entity: str) -> pd.DataFrame:
        with gzip.open(landed.files(entity), "rt", encoding="utf-8") as lines:
            return pd.DataFrame([json.loads(line) for line in lines])

    def valid_rows(data: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
        try:
            return schema.validate(data, lazy=True)
        except SchemaErrors as errors:
            failed = errors.failure_cases["index"].dropna().unique()
            return data.drop(index=failed)

    digits = pa.Check.str_matches(r"^\d+$")
    count = pa.Column(float, [pa.Check.ge(0), pa.Check.le(1e10)], nullable=True, coerce=True)
    profiles = valid_rows(
        frame("profiles"),
        pa.DataFrameSchema(
            {
                "id": pa.Column(str, digits),
                "username": pa.Column(str),
                "name": pa.Column(str, nullable=True),
                "_as_of": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")),
                "followers_count": count,
                "follows_count": count,
                "media_count": count,
            }
        ),
    )
    media = valid_rows(
        frame("media"),
        pa.DataFrameSchema(
            {
                "id": pa.Column(str, digits),
                "_account_id": pa.Column(str, digits),
                "timestamp": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d\d-\d\dT")),
                "media_type": pa.Column(str, pa.Check.isin(["IMAGE", "VIDEO", "CAROUSEL_ALBUM"])),
                "like_count": count,
                "comments_count": count,
            }
        ),
    )
    audience = valid_rows(
        frame("audience"),
        pa.DataFrameSchema(
            {
                "_account_id": pa.Column(str, digits),
                "_breakdown": pa.Column(str, pa.Check.isin(["age", "gender", "country", "city"])),
                "value": count,
            }
        ),
    )
    day = pd.to_datetime(profiles["_as_of"]).dt.date
    published = pd.to_datetime(media["timestamp"], format="%Y-%m-%dT%H:%M:%S%z").dt.tz_localize(
        None
    )
    observed = pd.to_datetime(media["_as_of"]).dt.date

    def nullable_ints(column: pd.Series) -> list[int | None]:
        return [None if pd.isna(value) else int(value) for value in column]

    audience_total = audience.groupby(["_account_id", "_breakdown"])["value"].transform("sum")
    rows: dict[str, tuple[str, Any]] = {
        "fact_profile_daily": (
            "platform, account_id, snapshot_date, followers, following, media_count",
            zip(
                ["instagram"] * len(profiles),
                profiles["id"],
                day,
                nullable_ints(profiles["followers_count"]),
                nullable_ints(profiles["follows_count"]),
                nullable_ints(profiles["media_count"]),
                strict=True,
            ),
        ),
        "dim_influencer": (
            "platform, account_id, handle, display_name, first_seen_date, last_seen_date",
            zip(
                ["instagram"] * len(profiles),
                profiles["id"],
                profiles["username"],
                profiles["name"],
                day,
                day,
                strict=True,
            ),
        ),
        "fact_post_metrics": (
            "platform, post_id, observed_date, account_id, published_at, media_type, likes, "
            "comments",
            zip(
                ["instagram"] * len(media),
                media["id"],
                observed,
                media["_account_id"],
                published.dt.to_pydatetime(),
                media["media_type"],
                nullable_ints(media["like_count"]),
                nullable_ints(media["comments_count"]),
                strict=True,
            ),
        ),
        "dim_post": (
            "platform, post_id, account_id, published_at, caption, permalink, first_seen_date",
            zip(
                ["instagram"] * len(media),
                media["id"],
                media["_account_id"],
                published.dt.to_pydatetime(),
                media["caption"],
                media["permalink"],
                observed,
                strict=True,
            ),
        ),
        "fact_audience_share": (
            "platform, account_id, as_of_date, dimension, bucket, share",
            zip(
                ["instagram"] * len(audience),
                audience["_account_id"],
                pd.to_datetime(audience["_as_of"]).dt.date,
                audience["_breakdown"],
                [values[0] for values in audience["dimension_values"]],
                (audience["value"] / audience_total).astype(float),
                strict=True,
            ),
        ),
    }
    connection = open_lake(lake)
    try:
        connection.execute("begin")
        for table, (columns, values) in rows.items():
            marks = ", ".join("?" * len(columns.split(",")))
            connection.executemany(
                f"insert into {table} ({columns}) values ({marks})", [list(v) for v in values]
            )
        connection.execute("commit")
    finally:
        connection.close()


LOADERS: dict[str, Callable[[Landing, LakeLocation, Path], None]] = {
    "ours": load_ours,
    "floor": load_floor,
    "alternative": load_alternative,
}


def table_rows(lake: LakeLocation) -> dict[str, int]:
    connection = open_lake(lake)
    try:
        return {
            table: connection.execute(f"select count(*) from {table}").fetchall()[0][0]
            for table in TABLES
        }
    finally:
        connection.close()


# The rows a night left, per table: each fact table's rows of the night, and the dim_post rows
# of the posts it observed (cheap on a lake with years of history, where counting whole tables
# is not). The night's posts are put in a temporary table first: DuckLake's estimate of a date's
# rows is a fifth of the table, so a join straight on the scan would hash all of dim_post.
NIGHT_ROWS = {
    "fact_profile_daily": "select count(*) from fact_profile_daily where snapshot_date = $day",
    "fact_post_metrics": "select count(*) from fact_post_metrics where observed_date = $day",
    "fact_audience_share": "select count(*) from fact_audience_share where as_of_date = $day",
    "dim_post": "select count(*) from dim_post semi join night_posts using (platform, post_id)",
}


def night_rows(lake: LakeLocation, day: dt.date) -> dict[str, int]:
    """The rows the night of ``day`` left in each table of ``NIGHT_ROWS``."""
    connection = open_lake(lake)
    try:
        connection.execute(
            "create temp table night_posts as select platform, post_id "
            "from fact_post_metrics where observed_date = $day",
            {"day": day},
        )
        counts = {}
        for table, query in NIGHT_ROWS.items():
            # DuckDB refuses a named parameter the query does not use.
            parameters = {"day": day} if "$day" in query else {}
            (counts[table],) = connection.execute(query, parameters).fetchone() or (0,)
        return counts
    finally:
        connection.close()


def main(loader: str, sf: float, lake_dir: Path, *, existing: bool = False) -> None:
    """Load SF's landing into a new lake at ``lake_dir``, or with ``existing`` into the lake
    already there (refusing a directory without one, rather than timing an empty lake); print
    the seconds and the rows of every table (of the night only, for an existing lake)."""
    landed = landing(sf)
    lake = LakeLocation.in_directory(lake_dir)
    if existing and not Path(lake.catalog).exists():
        raise SystemExit(f"no lake at {lake.catalog}: --existing loads into a lake already there")
    open_lake(lake).close()  # a new, migrated lake (or the existing one): not part of the time
    started = time.perf_counter()
    LOADERS[loader](landed, lake, lake_dir / "work")
    seconds = time.perf_counter() - started
    rows = night_rows(lake, landed.day) if existing else table_rows(lake)
    print(json.dumps({"seconds": seconds, "rows": rows}))


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if argument != "--existing"]
    main(
        arguments[0],
        float(arguments[1]),
        Path(arguments[2]),
        existing="--existing" in sys.argv[1:],
    )
