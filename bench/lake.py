"""The lake's figures: a night's commit, a weekly build, maintenance, and the old file copy.

Two sizes:

- ``demo``: the lake ``influencers demo`` builds (200 Instagram and 77 YouTube accounts, 70 days,
  10 weekly builds), run as a person runs it, into a temporary data directory. One maintenance
  then merges its 70 nights of small files, as the weekly maintenance flow would have.
- ``large``: two years of 12,000 creators generated in SQL, shaped like the real facts (every
  account's profile every night; its newest 25 Instagram posts, or its YouTube videos of the last
  15 days, observed every night; Sunday audiences of the connected accounts), inserted a month at
  a time so that each month of each table is one file, as in a maintained lake.

On each lake a week of nights (Monday to Sunday, both sources) is generated into Parquet files,
as the nightly flow stages them, and each (source, night) is committed through
``warehouse.load.load_partition`` on a connection of its own with one thread, as the flow does.
Then the week's reports are built (``build_weekly_reports`` with the default brand file, three
times), maintenance runs after the week (and once more, with nothing left to do), and the same
history is written into one DuckDB file to time what the old publish step did after every run:
copy the whole file and rename the copy into place.

Prints the figures; ``--write`` also puts them into docs/performance.md between its markers (a
size not measured in this run keeps the figures it had). Everything generated goes under one
temporary directory, deleted at the end.

    .venv/bin/python bench/lake.py --size demo --size large --write
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform as host_platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.world import _COUNTRIES  # noqa: E402
from sources.programme import DEFAULT_BRANDS_PATH, read_brand_file  # noqa: E402
from warehouse.lake import LakeLocation, open_lake  # noqa: E402
from warehouse.load import PartitionLoad, load_partition  # noqa: E402
from warehouse.maintenance import disk_usage, maintain  # noqa: E402
from warehouse.reports import build_weekly_reports  # noqa: E402
from warehouse.snapshots import commit  # noqa: E402

PERFORMANCE_DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- lake-figures:begin -->", "<!-- lake-figures:end -->"
RESULTS_BEGIN, RESULTS_END = "<!-- lake-results ", " -->"
# The history ends on a Sunday; the measured week is the Monday to Sunday after it.
HISTORY_END = dt.date(2026, 11, 15)
WEEK_START = HISTORY_END + dt.timedelta(days=1)
DEMO_DAYS = 70
RETENTION = dt.timedelta(days=90)
ORPHAN_MIN_AGE = dt.timedelta(hours=6)
PLATFORMS = ("instagram", "youtube")
FACT_TABLES = ("fact_profile_daily", "fact_post_metrics", "fact_audience_share")
FACT_KEYS = {
    "fact_profile_daily": "platform, account_id, snapshot_date",
    "fact_post_metrics": "platform, post_id, observed_date",
    "fact_audience_share": "platform, account_id, as_of_date, dimension, bucket",
}
REPEATS = 3


@dataclass(frozen=True)
class Size:
    name: str
    creators: int
    days: int


SIZES = {
    "demo": Size("demo", 200, DEMO_DAYS),
    # Every creator on Instagram, about 40 % also on YouTube, like the simulated world.
    "large": Size("large", 12_000, 730),
    # For the smoke test: seconds, not minutes.
    "tiny": Size("tiny", 50, 40),
}

# What the nightly flow observes (sources/*/extract.py and the post lookback setting): Instagram's
# first media page holds the newest 25 posts; YouTube lists the videos of the last 15 days (we
# look at the newest 8, more than any channel posts in 15 days); audiences come on Sundays
# (DuckDB's dayofweek 0) for the Instagram accounts that connected.
POSTS_SCANNED = {"instagram": 25, "youtube": 8}
MAX_POST_AGE_DAYS = {"instagram": 10_000, "youtube": 15}
AUDIENCE_WEEKDAY = 0
# An audience reports about 12 countries and 10 cities, as the simulated platform's do.
BUCKETS = {
    "age": (("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"), 7),
    "gender": (("F", "M", "U"), 3),
    "country": (tuple(_COUNTRIES), 12),
    "city": (tuple(city for _, _, cities in _COUNTRIES.values() for city, _ in cities), 10),
}
CATEGORIES = ("food", "fitness", "beauty", "fashion", "gaming", "travel", "tech", "parenting")


def _sql_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


# -- the accounts the generated facts belong to --------------------------------------------------

# grain: one row per (platform, account_id) of a generated lake; every draw is a hash of the
# creator number, so a size always generates the same lake.
GENERATED_ACCOUNTS = f"""
create or replace temp table bench_base as
with creators as (
    select creator, hash(creator, 'followers') as draw from range($creators) as c (creator)
)
select
    creator,
    platform,
    case platform
        when 'instagram' then (17841400000000000 + creator * 7919)::varchar
        else 'UC' || substr(md5(creator::varchar), 1, 22)
    end as account_id,
    case platform when 'instagram' then 'creator_' else '@creator_' end || creator as handle,
    'Creator ' || creator as display_name,
    {_sql_list(tuple(_COUNTRIES))}[(1 + hash(creator, 'country') % {len(_COUNTRIES)})::bigint]
        as country,
    {_sql_list(CATEGORIES)}[(1 + hash(creator, 'category') % {len(CATEGORIES)})::bigint]
        as category,
    platform = 'instagram' and hash(creator, 'connected') % 100 < 60 as connected,
    -- log-uniform from 1,000 to 3 million followers
    exp(ln(1000) + (draw % 1000000) / 1e6 * ln(3000)) as followers0,
    50 + hash(creator, platform, 'media') % 400 as media_base,
    case platform when 'instagram' then 100 + hash(creator, 'following') % 2000 end as following
from creators
cross join (values ('instagram'), ('youtube')) as p (platform)
where platform = 'instagram' or hash(creator, 'youtube') % 100 < 40
"""

# grain: one row per (platform, account_id) of the demo lake, as its last night saw it.
DEMO_ACCOUNTS = """
create or replace temp table bench_base as
select
    row_number() over (order by profile.platform, profile.account_id) - 1 as creator,
    profile.platform,
    profile.account_id,
    influencer.handle,
    influencer.display_name,
    influencer.country,
    influencer.category,
    coalesce(roster.connected, false) as connected,
    profile.followers::double as followers0,
    coalesce(profile.media_count, 0) as media_base,
    profile.following
from fact_profile_daily as profile
join dim_influencer as influencer using (platform, account_id)
left join roster
    on roster.platform = profile.platform and lower(roster.handle) = lower(influencer.handle)
where profile.snapshot_date = $origin
"""

# The draws every fact is computed from, added to either base.
ACCOUNT_DRAWS = """
create or replace temp table bench_accounts as
select
    base.*,
    -- followers change by -0.05 % .. +0.1 % a day
    (hash(creator, platform, 'growth') % 1000) / 1000.0 * 0.0015 - 0.0005 as growth,
    -- days between two posts: Instagram 3-5 a week, YouTube 1-3 a week
    case platform
        when 'instagram' then 7.0 / (3 + (hash(creator, 'rate') % 1000) / 500.0)
        else 7.0 / (1 + (hash(creator, 'rate') % 1000) / 500.0)
    end as spacing,
    (hash(creator, platform, 'phase') % 1000) / 1000.0 as phase_share,
    -- interactions of a post, as a share of the followers: 0.3 % to 2 %
    0.003 + (hash(creator, platform, 'engagement') % 1000) / 1000.0 * 0.017 as engagement
from bench_base as base
"""

BUCKET_TABLE = """
create or replace temp table bench_buckets (dimension varchar, bucket varchar, candidates
    integer, kept integer)
"""

NIGHTS = """
nights as (
    select night::date as night, night::date - $origin::date as day
    from generate_series($first::date, $last::date, interval 1 day) as g (night)
)
"""

# grain: one row per (platform, account_id, snapshot_date).
PROFILES = f"""
with {NIGHTS}
select
    account.platform,
    account.account_id,
    nights.night as snapshot_date,
    -- YouTube rounds subscriber counts to 3 significant digits
    case account.platform
        when 'youtube' then round(
            account.followers0 * exp(account.growth * nights.day),
            2 - floor(log10(account.followers0 * exp(account.growth * nights.day)))::integer
        )
        else round(account.followers0 * exp(account.growth * nights.day))
    end::bigint as followers,
    account.following,
    account.media_base
        + floor((nights.day + 1 - account.phase_share * account.spacing) / account.spacing)::bigint
        as media_count
from bench_accounts as account
cross join nights
where account.platform = $platform and account.creator < $creators_below
"""

# grain: one row per (platform, post_id, observed_date): the posts a night observes, each
# measured as it has grown since it was published.
POSTS = f"""
with {NIGHTS},
observed as (
    select
        account.*,
        nights.night,
        nights.day,
        floor((nights.day + 1 - account.phase_share * account.spacing) / account.spacing)::bigint
            - newer.posts as post_number
    from bench_accounts as account
    cross join nights
    cross join range(0, $posts_scanned) as newer (posts)
    where account.platform = $platform and account.creator < $creators_below
),
measured as (
    select
        *,
        (phase_share + post_number) * spacing as published_day,
        hash(creator, post_number) as draw,
        followers0 * exp(growth * day) * engagement * (0.5 + (hash(creator, post_number) % 1000)
            / 1000.0) * (1 - exp(-(day + 1 - (phase_share + post_number) * spacing) / 1.5))
            as reach
    from observed
)
select
    platform,
    case platform
        when 'instagram'
            then (17900000000000000 + creator * 1000000 + post_number + 500000)::varchar
        else substr(md5(account_id || ':' || post_number), 1, 11)
    end as post_id,
    night as observed_date,
    account_id,
    $origin::date::timestamp + to_minutes((published_day * 1440)::bigint) as published_at,
    case
        when platform = 'youtube' then 'VIDEO'
        when draw % 10 < 5 then 'IMAGE'
        when draw % 10 < 8 then 'CAROUSEL_ALBUM'
        else 'VIDEO'
    end as media_type,
    -- a few accounts hide their likes
    case when draw % 100 >= 3 then round(reach)::bigint end as likes,
    round(reach * (0.01 + (draw // 1000 % 1000) / 20000.0))::bigint as comments,
    null::bigint as shares,
    null::bigint as saves,
    case platform when 'youtube' then round(reach * 25)::bigint end as views
from measured
where day + 1 - published_day <= $max_post_age_days
"""

# grain: one row per (platform, account_id, as_of_date, dimension, bucket), on Sundays.
AUDIENCES = f"""
with {NIGHTS},
chosen as (
    select
        account.platform,
        account.account_id,
        nights.night,
        bucket.dimension,
        bucket.bucket,
        (1 + hash(account.creator, bucket.bucket) % 1000)
            * (1.05 + 0.05 * sin(nights.day / 7.0 + hash(account.creator, bucket.bucket) % 7))
            as weight
    from bench_accounts as account
    cross join (select * from nights where dayofweek(night) = {AUDIENCE_WEEKDAY}) as nights
    cross join bench_buckets as bucket
    where account.platform = $platform and account.creator < $creators_below
      and account.connected
      and hash(account.creator, bucket.bucket, 'kept') % bucket.candidates < bucket.kept
)
select
    platform,
    account_id,
    night as as_of_date,
    dimension,
    bucket,
    weight / sum(weight) over (partition by account_id, night, dimension) as share
from chosen
"""

FACT_SQL = {
    "fact_profile_daily": PROFILES,
    "fact_post_metrics": POSTS,
    "fact_audience_share": AUDIENCES,
}


def prepare_accounts(
    connection: duckdb.DuckDBPyConnection, size: Size, origin: dt.date, generated: bool
) -> None:
    """The temporary tables the facts are generated from: accounts, their draws, the buckets."""
    if generated:
        connection.execute(GENERATED_ACCOUNTS, {"creators": size.creators})
    else:
        connection.execute(DEMO_ACCOUNTS, {"origin": origin})
    connection.execute(ACCOUNT_DRAWS)
    connection.execute(BUCKET_TABLE)
    connection.executemany(
        "insert into bench_buckets values (?, ?, ?, ?)",
        [
            [dimension, bucket, len(buckets), kept]
            for dimension, (buckets, kept) in BUCKETS.items()
            for bucket in buckets
        ],
    )


def fact_parameters(
    table: str,
    platform: str,
    first: dt.date,
    last: dt.date,
    origin: dt.date,
    creators: int | None = None,
) -> dict[str, Any]:
    """The named parameters of a fact query; ``creators`` keeps only that many creators."""
    parameters: dict[str, Any] = {
        "platform": platform,
        "first": first,
        "last": last,
        "origin": origin,
        "creators_below": 2**62 if creators is None else creators,
    }
    if table == "fact_post_metrics":
        parameters["posts_scanned"] = POSTS_SCANNED[platform]
        parameters["max_post_age_days"] = MAX_POST_AGE_DAYS[platform]
    return parameters


def tables_of(platform: str) -> tuple[str, ...]:
    """YouTube reports no audience demographics."""
    return FACT_TABLES if platform == "instagram" else FACT_TABLES[:2]


# -- building the history ------------------------------------------------------------------------


def months(first: dt.date, last: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    """(first, last) day of each calendar month between ``first`` and ``last``, clipped."""
    start = first
    while start <= last:
        following = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        end = min(following - dt.timedelta(days=1), last)
        yield start, end
        start = end + dt.timedelta(days=1)


def generate_history(
    connection: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date, log: bool = True
) -> None:
    """Insert the accounts and every fact from ``first`` to ``last``, one commit per month; each
    insert covers a month of one (table, platform), so it lands as one file, like a maintained
    lake's. Rows go in the order they are generated: keeping it costs twice the time."""
    connection.execute("set preserve_insertion_order = false")
    with commit(connection, "bench: accounts", {"flow": "bench"}):
        connection.execute(
            "insert into roster select platform, handle, connected, country, category "
            "from bench_accounts"
        )
        connection.execute(
            "insert into dim_influencer select platform, account_id, handle, display_name, "
            "country, category, ?, ? from bench_accounts",
            [first, last],
        )
    for month_start, month_end in months(first, last):
        started = time.perf_counter()
        with commit(connection, f"bench: history {month_start:%Y-%m}", {"flow": "bench"}):
            for platform in PLATFORMS:
                for table in tables_of(platform):
                    # Materialising first is twice as fast as inserting from the query itself.
                    connection.execute(
                        f"create or replace temp table bench_month as {FACT_SQL[table]}",
                        fact_parameters(table, platform, month_start, month_end, first),
                    )
                    connection.execute(f"insert into {table} select * from bench_month")
            connection.execute("drop table bench_month")
        if log:
            print(
                f"  history {month_start:%Y-%m}: {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )


def run_demo(work: Path, data_dir: Path) -> None:
    """``influencers demo`` as a person runs it, into ``data_dir``."""
    influencers = str(Path(sys.executable).with_name("influencers"))
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "INFLUENCERS_DATA_DIR": str(data_dir),
    }
    result = subprocess.run(
        [influencers, "demo", "--days", str(DEMO_DAYS), "--end", HISTORY_END.isoformat()],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr.decode(errors="replace")[-3000:])
        raise SystemExit(f"influencers demo failed (exit {result.returncode})")


# -- a night, as the nightly flow commits it -----------------------------------------------------


@dataclass
class Night:
    platform: str
    date: str
    rows: int
    open_seconds: float
    commit_seconds: float
    files_added: int
    bytes_added: int
    catalog_bytes_added: int


def stage_night(
    connection: duckdb.DuckDBPyConnection,
    platform: str,
    night: dt.date,
    origin: dt.date,
    to: Path,
    creators: int | None = None,
) -> dict[str, Path]:
    """The night's fact files of one source, sorted by their grain as transforms/facts.py does
    (of the first ``creators`` creators only, when given)."""
    files = {}
    for table in tables_of(platform):
        if table == "fact_audience_share" and (night.isoweekday() % 7) != AUDIENCE_WEEKDAY:
            continue
        path = to / f"{platform}-{night}-{table}.parquet"
        connection.sql(
            f"{FACT_SQL[table]} order by {FACT_KEYS[table]}",
            params=fact_parameters(table, platform, night, night, origin, creators),
        ).write_parquet(str(path))
        files[table] = path
    return files


def night_load(
    connection: duckdb.DuckDBPyConnection,
    platform: str,
    night: dt.date,
    files: dict[str, Path],
    creators: int | None = None,
) -> tuple[PartitionLoad, int]:
    """The PartitionLoad the flow would build for the night, and its fact rows (a roster of the
    first ``creators`` creators only, when given)."""
    rows = {
        table: scalar(connection, "select count(*) from read_parquet(?)", [str(path)])
        for table, path in files.items()
    }
    below = 2**62 if creators is None else creators
    roster = connection.sql(
        "select platform, handle, connected, country, category from bench_accounts "
        "where creator < $below",
        params={"below": below},
    ).pl()
    influencers = connection.sql(
        "select platform, account_id, handle, display_name, country, category, "
        "$night as first_seen_date, $night as last_seen_date from bench_accounts "
        "where platform = $platform and creator < $below",
        params={"night": night, "platform": platform, "below": below},
    ).pl()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    steps = [("extract", None, len(influencers))] + [
        (step, table, count) for table, count in rows.items() for step in ("validate", "load")
    ]
    run_id = f"bench-{platform}-{night}"
    run_log = pl.DataFrame(
        {
            "run_id": [run_id] * len(steps),
            "source": [platform] * len(steps),
            "partition_date": [night] * len(steps),
            "step": [step for step, _, _ in steps],
            "entity": [entity for _, entity, _ in steps],
            "rows_in": [count for _, _, count in steps],
            "rows_loaded": [count if step == "load" else None for step, _, count in steps],
            "status": ["ok"] * len(steps),
            "started_at": [now] * len(steps),
            "finished_at": [now] * len(steps),
        }
    )
    load = PartitionLoad(
        source=platform,
        platform=platform,
        partition_date=night,
        roster=roster,
        influencers=influencers,
        facts=dict(files),
        quarantine=pl.DataFrame(),
        run_log=run_log,
        run_id=run_id,
    )
    return load, sum(rows.values())


def catalog_bytes(location: LakeLocation) -> int:
    """The bytes of the SQLite catalog's pages in use (its file keeps freed pages)."""
    catalog = sqlite3.connect(f"file:{location.catalog}?mode=ro", uri=True)
    try:
        pages = catalog.execute("pragma page_count").fetchone()[0]
        free = catalog.execute("pragma freelist_count").fetchone()[0]
        page_size = catalog.execute("pragma page_size").fetchone()[0]
    finally:
        catalog.close()
    return int((pages - free) * page_size)


def commit_night(location: LakeLocation, load: PartitionLoad, rows: int) -> Night:
    files_before, bytes_before = disk_usage(location.data_path)
    catalog_before = catalog_bytes(location)
    started = time.perf_counter()
    connection = open_lake(location, threads=1)
    opened = time.perf_counter()
    try:
        load_partition(connection, load)
        committed = time.perf_counter()
    finally:
        connection.close()
    files_after, bytes_after = disk_usage(location.data_path)
    return Night(
        platform=load.platform,
        date=load.partition_date.isoformat(),
        rows=rows,
        open_seconds=opened - started,
        commit_seconds=committed - opened,
        files_added=files_after - files_before,
        bytes_added=bytes_after - bytes_before,
        catalog_bytes_added=catalog_bytes(location) - catalog_before,
    )


# -- the figures of one size ---------------------------------------------------------------------


@dataclass
class Figures:
    size: str
    measured: str
    accounts: dict[str, int]
    history_days: int
    history_seconds: float
    fact_rows: int
    lake_files: int
    lake_bytes: int
    catalog_bytes: int
    snapshots: int
    first_maintenance: str = ""
    first_maintenance_seconds: float = 0.0
    nights: list[Night] = field(default_factory=list)
    weekly_seconds: list[float] = field(default_factory=list)
    weekly_rows: dict[str, int] = field(default_factory=dict)
    weekly_files_added: int = 0
    weekly_bytes_added: int = 0
    maintenance_seconds: float = 0.0
    maintenance: str = ""
    maintenance_idle_seconds: float = 0.0
    old_file_bytes: int = 0
    old_write_seconds: float = 0.0
    old_copy_seconds: list[float] = field(default_factory=list)
    old_copy_synced_seconds: list[float] = field(default_factory=list)
    # Nights of the first 200 Instagram accounts only, committed into this lake: the demo's
    # night, whatever the history under it.
    small_nights: list[Night] = field(default_factory=list)
    machine: dict[str, str] = field(default_factory=dict)
    # The machine's 1-minute load average at the start of each step: other work on it slows
    # every figure down.
    load_averages: list[float] = field(default_factory=list)

    def note_load(self) -> None:
        self.load_averages.append(round(os.getloadavg()[0], 1))


def scalar(connection: duckdb.DuckDBPyConnection, query: str, parameters: Any = None) -> int:
    row = connection.execute(query, parameters).fetchone()
    assert row is not None
    return int(row[0])


def lake_state(connection: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(fact rows, snapshots) of the lake."""
    rows = sum(scalar(connection, f"select count(*) from {table}") for table in FACT_TABLES)
    snapshots = scalar(connection, "select count(*) from ducklake_snapshots('lake')")
    return rows, snapshots


def wait_for_quiet(below: float | None, max_wait: float) -> None:
    """Wait, at most ``max_wait`` seconds, until the machine's 1-minute load average is below
    ``below``: on a shared machine, other work slows every figure down."""
    if below is None:
        return
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] >= below and time.monotonic() < deadline:
        time.sleep(10)


DEMO_SIZED_CREATORS = 200


def measure(
    size: Size, work: Path, quiet_below: float | None = None, max_wait: float = 0.0
) -> Figures:
    """Build the lake of ``size`` under ``work`` and measure it; before each measured step, wait
    (at most ``max_wait`` seconds) for the machine's load average to fall below ``quiet_below``."""
    location = LakeLocation.in_directory(work / "data")
    # Holds the generated accounts (temporary tables) until the end.
    generator, figures, origin = build_lake(size, work, location)
    try:

        def step(name: str) -> None:
            wait_for_quiet(quiet_below, max_wait)
            print(f"{size.name}: {name}", file=sys.stderr)
            figures.note_load()

        staging = work / "staging"
        staging.mkdir()
        step("a week of nights")
        for offset in range(7):
            night = WEEK_START + dt.timedelta(days=offset)
            for platform in PLATFORMS:
                figures.nights.append(
                    stage_and_commit(generator, location, platform, night, origin, staging)
                )
        step("weekly builds")
        measure_weekly_builds(location, figures)
        step("maintenance")
        measure_maintenance(location, figures)
        step("the old way (one DuckDB file, copied)")
        measure_old_copy(location, work / "old", figures)
        step(f"nights of {DEMO_SIZED_CREATORS} Instagram accounts")
        # After the week, so that they change none of the figures above.
        for offset in range(7, 7 + REPEATS):
            night = WEEK_START + dt.timedelta(days=offset)
            figures.small_nights.append(
                stage_and_commit(
                    generator, location, "instagram", night, origin, staging, DEMO_SIZED_CREATORS
                )
            )
        figures.note_load()
    finally:
        generator.close()
    return figures


def build_lake(
    size: Size, work: Path, location: LakeLocation
) -> tuple[duckdb.DuckDBPyConnection, Figures, dt.date]:
    """The lake's history, a connection holding its accounts, its figures so far, and the date
    the generated facts count their days from."""
    started = time.perf_counter()
    first_maintenance, first_maintenance_seconds = "", 0.0
    if size.name == "demo":
        print(f"demo: influencers demo --end {HISTORY_END}", file=sys.stderr)
        run_demo(work, location.data_path.parent)
        history_seconds = time.perf_counter() - started
        connection = open_lake(location)
        maintained = time.perf_counter()
        report = maintain(
            connection, location.data_path, retention=RETENTION, orphan_min_age=ORPHAN_MIN_AGE
        )
        first_maintenance_seconds = time.perf_counter() - maintained
        first_maintenance = report.summary()
        origin = HISTORY_END
        prepare_accounts(connection, size, origin, generated=False)
    else:
        print(f"{size.name}: generating {size.days} days of {size.creators:,}", file=sys.stderr)
        connection = open_lake(location)
        origin = HISTORY_END - dt.timedelta(days=size.days - 1)
        prepare_accounts(connection, size, origin, generated=True)
        generate_history(connection, origin, HISTORY_END, log=size.name != "tiny")
        history_seconds = time.perf_counter() - started
    accounts = dict(
        connection.execute(
            "select platform, count(*) from bench_accounts group by platform order by platform"
        ).fetchall()
    )
    fact_rows, snapshots = lake_state(connection)
    lake_files, lake_bytes = disk_usage(location.data_path)
    figures = Figures(
        size=size.name,
        measured=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        accounts=accounts,
        history_days=size.days,
        history_seconds=history_seconds,
        fact_rows=fact_rows,
        lake_files=lake_files,
        lake_bytes=lake_bytes,
        catalog_bytes=catalog_bytes(location),
        snapshots=snapshots,
        first_maintenance=first_maintenance,
        first_maintenance_seconds=first_maintenance_seconds,
        machine=machine_facts(work),
    )
    return connection, figures, origin


def stage_and_commit(
    generator: duckdb.DuckDBPyConnection,
    location: LakeLocation,
    platform: str,
    night: dt.date,
    origin: dt.date,
    staging: Path,
    creators: int | None = None,
) -> Night:
    files = stage_night(generator, platform, night, origin, staging, creators)
    load, rows = night_load(generator, platform, night, files, creators)
    measured = commit_night(location, load, rows)
    for path in files.values():
        path.unlink()
    return measured


def measure_weekly_builds(location: LakeLocation, figures: Figures) -> None:
    """The week's reports, built as the weekly flow builds them, three times."""
    brands = read_brand_file(DEFAULT_BRANDS_PATH)
    for attempt in range(REPEATS):
        files_before, bytes_before = disk_usage(location.data_path)
        connection = open_lake(location)
        started = time.perf_counter()
        try:
            figures.weekly_rows = build_weekly_reports(
                connection, WEEK_START, brands=brands, run={"flow": "bench"}
            )
        finally:
            connection.close()
        figures.weekly_seconds.append(time.perf_counter() - started)
        if attempt == 0:
            files_after, bytes_after = disk_usage(location.data_path)
            figures.weekly_files_added = files_after - files_before
            figures.weekly_bytes_added = bytes_after - bytes_before


def measure_maintenance(location: LakeLocation, figures: Figures) -> None:
    """Maintenance after the week, then again at once (nothing left to do)."""
    connection = open_lake(location)
    try:
        started = time.perf_counter()
        report = maintain(
            connection, location.data_path, retention=RETENTION, orphan_min_age=ORPHAN_MIN_AGE
        )
        figures.maintenance_seconds = time.perf_counter() - started
        figures.maintenance = report.summary()
        started = time.perf_counter()
        maintain(connection, location.data_path, retention=RETENTION, orphan_min_age=ORPHAN_MIN_AGE)
        figures.maintenance_idle_seconds = time.perf_counter() - started
    finally:
        connection.close()


def measure_old_copy(location: LakeLocation, directory: Path, figures: Figures) -> None:
    """Write the lake's tables into one DuckDB file, then copy it as the old publish step did
    after every run: ``shutil.copyfile`` to a temporary file, renamed over the published copy."""
    directory.mkdir()
    warehouse = directory / "warehouse.duckdb"
    published = directory / "analytics.duckdb"
    connection = open_lake(location, read_only=True)
    try:
        started = time.perf_counter()
        connection.execute(f"attach '{warehouse}' as old_warehouse")
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from duckdb_tables() where database_name = 'lake' "
                "order by table_name"
            ).fetchall()
        ]
        for table in tables:
            connection.execute(
                f"create table old_warehouse.main.{table} as select * from lake.main.{table}"
            )
        connection.execute("detach old_warehouse")
        figures.old_write_seconds = time.perf_counter() - started
    finally:
        connection.close()
    figures.old_file_bytes = warehouse.stat().st_size
    for _ in range(REPEATS):
        temporary = directory / f".analytics.duckdb.{os.getpid()}.tmp"
        started = time.perf_counter()
        shutil.copyfile(warehouse, temporary)
        copied = time.perf_counter()
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        synced = time.perf_counter()
        os.replace(temporary, published)
        figures.old_copy_seconds.append(copied - started)
        figures.old_copy_synced_seconds.append(synced - started)


def machine_facts(work: Path) -> dict[str, str]:
    memory = "?"
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 2**20:.0f} GiB"
    cpu = "?"
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    disk = shutil.disk_usage(work)
    device, filesystem = "?", "?"
    with open("/proc/mounts", encoding="ascii", errors="replace") as mounts:
        best = ""
        for line in mounts:
            source, mount_point, kind = line.split()[:3]
            if str(work).startswith(mount_point) and len(mount_point) > len(best):
                best, device, filesystem = mount_point, source, kind
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "disk": f"{device} ({filesystem}), {disk.total / 2**30:.0f} GiB",
        "python": host_platform.python_version(),
        "duckdb": duckdb.__version__,
    }


# -- the report ----------------------------------------------------------------------------------


def _mib(count: int) -> str:
    if abs(count) >= 2**30:
        return f"{count / 2**30:,.2f} GiB"
    if abs(count) >= 2**20:
        return f"{count / 2**20:,.1f} MiB"
    return f"{count / 2**10:,.0f} KiB"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _seconds(value: float) -> str:
    if value < 0.1:
        return f"{value:.3f} s"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def _nights(figures: Figures, platform: str, sunday: bool | None = None) -> list[Night]:
    return [
        night
        for night in figures.nights
        if night.platform == platform
        and (sunday is None or (dt.date.fromisoformat(night.date).isoweekday() == 7) == sunday)
    ]


def _size_label(figures: Figures) -> str:
    accounts = " + ".join(f"{count:,} {name}" for name, count in figures.accounts.items())
    return f"{figures.size}: {accounts} accounts, {figures.history_days} days"


def summary_table(results: list[Figures]) -> str:
    lines = [
        "| lake | fact rows | data files, bytes | catalog | night commit (Instagram, Mon-Sat, "
        "median) | a night adds (both sources) | weekly build (median of 3) | maintenance after "
        "the week | old: copy of the DuckDB file (median of 3) | old file |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for figures in results:
        weekdays = _nights(figures, "instagram", sunday=False)
        added_files = sum(night.files_added for night in figures.nights) / 7
        added_bytes = sum(night.bytes_added for night in figures.nights) / 7
        lines.append(
            f"| {_size_label(figures)} | {figures.fact_rows:,} | {figures.lake_files:,} files, "
            f"{_mib(figures.lake_bytes)} | {_mib(figures.catalog_bytes)} | "
            f"{_seconds(_median([night.commit_seconds for night in weekdays]))} | "
            f"{added_files:.0f} files, {_mib(int(added_bytes))} | "
            f"{_seconds(_median(figures.weekly_seconds))} | "
            f"{_seconds(figures.maintenance_seconds)} | "
            f"{_seconds(_median(figures.old_copy_seconds))} "
            f"({_seconds(_median(figures.old_copy_synced_seconds))} to disk) | "
            f"{_mib(figures.old_file_bytes)} |"
        )
    return "\n".join(lines)


def nights_table(results: list[Figures]) -> str:
    lines = [
        "| lake | night | fact rows | open the lake | commit (`load_partition`) | files added | "
        "bytes added | catalog growth (mean) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for figures in results:
        for label, nights in (
            ("Instagram, Mon-Sat (median of 6)", _nights(figures, "instagram", sunday=False)),
            ("Instagram, Sunday (with audiences)", _nights(figures, "instagram", sunday=True)),
            ("YouTube (median of 7)", _nights(figures, "youtube")),
            (
                f"Instagram, its first {DEMO_SIZED_CREATORS} accounts only (median of 3)",
                figures.small_nights,
            ),
        ):
            if not nights:
                continue
            lines.append(
                f"| {figures.size} | {label} | "
                f"{_median([night.rows for night in nights]):,.0f} | "
                f"{_seconds(_median([night.open_seconds for night in nights]))} | "
                f"{_seconds(_median([night.commit_seconds for night in nights]))} | "
                f"{_median([night.files_added for night in nights]):.0f} | "
                f"{_mib(int(_median([night.bytes_added for night in nights])))} | "
                f"{statistics.mean(night.catalog_bytes_added for night in nights) / 1024:,.1f}"
                " KiB |"
            )
    return "\n".join(lines)


def details(results: list[Figures]) -> str:
    lines = []
    for figures in results:
        weekly = ", ".join(_seconds(seconds) for seconds in figures.weekly_seconds)
        copies = ", ".join(_seconds(seconds) for seconds in figures.old_copy_seconds)
        synced = ", ".join(_seconds(seconds) for seconds in figures.old_copy_synced_seconds)
        rows = ", ".join(f"{table} {count:,}" for table, count in figures.weekly_rows.items())
        loads = figures.load_averages or [0.0]
        lines.append(
            f"- **{figures.size}** (measured {figures.measured}; the machine's 1-minute load "
            f"average between the steps: {min(loads):.1f} to {max(loads):.1f}):"
        )
        build = (
            f"`influencers demo` (70 nights, 10 weekly builds) took {figures.history_seconds:.0f} s"
            if figures.size == "demo"
            else f"generated in {figures.history_seconds:.0f} s, a commit per month"
        )
        lines.append(f"  - history: {build}; {figures.snapshots:,} snapshots.")
        if figures.first_maintenance:
            lines.append(
                f"  - first maintenance of the demo lake, before the week: "
                f"{_seconds(figures.first_maintenance_seconds)}; {figures.first_maintenance}."
            )
        catalog_week = sum(night.catalog_bytes_added for night in figures.nights)
        lines.append(
            f"  - the week's 14 commits added {_mib(catalog_week)} to the catalog in use; each "
            "commit opened its own connection, as the flow does (open: attach the lake and "
            "check its migrations)."
        )
        lines.append(
            f"  - weekly build runs: {weekly} ({rows}); the first added "
            f"{figures.weekly_files_added} files, {_mib(figures.weekly_bytes_added)}."
        )
        lines.append(
            f"  - maintenance after the week: {_seconds(figures.maintenance_seconds)}; "
            f"{figures.maintenance}. Run again at once: "
            f"{_seconds(figures.maintenance_idle_seconds)}."
        )
        lines.append(
            f"  - old way: writing the tables into one DuckDB file took "
            f"{_seconds(figures.old_write_seconds)} ({_mib(figures.old_file_bytes)}); copying it: "
            f"{copies}; with an fsync: {synced}."
        )
    return "\n".join(lines)


def report(results: list[Figures]) -> str:
    machine = results[-1].machine
    return (
        f"Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory']} RAM, disk "
        f"{machine['disk']}; Python {machine['python']}, DuckDB {machine['duckdb']}, the catalog "
        "in SQLite.\n\n"
        + summary_table(results)
        + "\n\nEach night, one source's commit:\n\n"
        + nights_table(results)
        + "\n\n"
        + details(results)
        + "\n"
    )


def write_section(results: list[Figures], path: Path = PERFORMANCE_DOC) -> list[Figures]:
    """Put the figures into docs/performance.md, keeping those of sizes not measured now."""
    doc = path.read_text(encoding="utf-8") if path.exists() else ""
    kept: dict[str, Figures] = {}
    if BEGIN in doc and END in doc:
        section = doc[doc.index(BEGIN) : doc.index(END)]
        for line in section.splitlines():
            if line.startswith(RESULTS_BEGIN) and line.endswith(RESULTS_END):
                stored = json.loads(line[len(RESULTS_BEGIN) : -len(RESULTS_END)])
                for nights in ("nights", "small_nights"):
                    stored[nights] = [Night(**night) for night in stored.get(nights, [])]
                kept[stored["size"]] = Figures(**stored)
    for figures in results:
        kept[figures.size] = figures
    ordered = [kept[name] for name in SIZES if name in kept]
    stored_lines = "\n".join(
        RESULTS_BEGIN + json.dumps(asdict(figures), sort_keys=True) + RESULTS_END
        for figures in ordered
    )
    section = f"{BEGIN}\n{report(ordered)}\n{stored_lines}\n{END}"
    if BEGIN in doc and END in doc:
        doc = doc[: doc.index(BEGIN)] + section + doc[doc.index(END) + len(END) :]
    else:
        doc = doc.rstrip() + "\n\n" + section + "\n"
    path.write_text(doc, encoding="utf-8")
    return ordered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", choices=sorted(SIZES), action="append", help="Lake size (repeat)."
    )
    parser.add_argument("--write", action="store_true", help="Update docs/performance.md.")
    parser.add_argument(
        "--work-dir", type=Path, default=None, help="Where the temporary directory goes."
    )
    parser.add_argument(
        "--quiet-below",
        type=float,
        default=None,
        help="Before each measured step, wait until the 1-minute load average is below this.",
    )
    parser.add_argument(
        "--max-wait", type=float, default=1800.0, help="Seconds to wait for a quiet machine."
    )
    arguments = parser.parse_args()
    results = []
    for name in arguments.size or ["demo"]:
        with tempfile.TemporaryDirectory(
            prefix=f"bench-lake-{name}-", dir=arguments.work_dir
        ) as work:
            results.append(
                measure(SIZES[name], Path(work), arguments.quiet_below, arguments.max_wait)
            )
    print(report(results))
    if arguments.write:
        write_section(results)


if __name__ == "__main__":
    main()
