"""The nightly cost on day 1 and on day 365 of history, and the weekly build after a year.

Targets: the night of ``DAY`` (2026-11-01) costs within 1.1 times as much on a lake holding the
364 days before it as on an empty lake, and its peak memory does not grow with the history.

**The history lake.** Its accounts, posts and audiences are those of the generated landing of
``DAY`` at scale factor SF (``bench/scale.py``), loaded by the nightly's own code into a template
lake (``python -m bench.loaders ours SF``), so every column has the values and types the nightly
load writes. The history is the ``days`` nights before ``DAY``, generated in SQL from that
template and committed the way the nightly and the weekly flows commit:

- one commit per night (``nightly instagram <date>``, the real label), holding that night's
  ``fact_profile_daily`` (every account; followers drawn back from the template's at a fixed
  daily rate per account of -0.05 % to +0.15 %, media counts back by the account's posting
  rate), ``fact_post_metrics`` (every post published in the 14 days up to the night, as the
  landing observes them: about 4 posts a week per account; likes and comments grown with the
  post's age), ``fact_audience_share`` (one account in seven each night, so each account weekly,
  with the buckets and shares of a template audience), ``dim_post`` (the posts the night saw
  first, with their caption and link, as the load's ``MERGE`` inserts them: one new file a
  night; a post seen again unchanged is not rewritten) and the night's ``pipeline_runs`` rows.
  Posts further back are the template's 14 days of posts again, every 14 days (after the first
  15), with new ids, all below the template's as real ids are;
- ``dim_influencer`` and ``roster`` as the last night leaves them (one file each: every night's
  ``MERGE`` updates every account, and DuckLake then replaces the whole file);
- the default campaign files and brand file, loaded as the weekly flow loads them, and the
  reports of the last complete week before ``DAY`` built by ``build_weekly_reports`` itself; the
  earlier weeks' rows (``rpt_weekly_engagement``, ``rpt_tier_drift``, ``rpt_audience_match`` and
  the campaign reports) are that week's, moved back a week at a time, one commit per week
  (``weekly <week>``);
- then ``warehouse.maintenance.maintain``, as the weekly maintenance leaves the lake: the
  nightly fact files merged into about one file per month and table, the inlined rows flushed.
  Nothing is expired: the snapshots were all committed minutes ago, so the catalog keeps a
  year of them (about 420), where the real one, with 90 days of retention, keeps about 100.

The lake is kept under ``bench/.data/history/sf-SF/days-N`` and reused (``--regenerate`` builds
it again). Every measured run starts from a copy of it: DuckLake never rewrites a data file, so
hard links of the data files (``cp -al``) and a copy of the SQLite catalog (its data path set
to the copy's) make an independent lake at no cost.

**Measured**, each run in a process of its own (``bench.measure.run_measured``: wall time and
the peak resident memory of the process tree), three runs of each (one in quick mode):

1. the night of ``DAY`` (``python -m bench.loaders ours SF LAKE --existing``: validation,
   transforms, the load and its commit) into an empty lake (day 1), and into a copy of the
   history lake (day 365);
2. ``maintain`` right after the night, on a copy of the day-365 lake;
3. ``build_weekly_reports`` for the week ending ``DAY`` (with the default brand file) on a copy
   of the day-365 lake, and on a lake holding only that week: the 6 nights before ``DAY``
   generated the same way, then ``DAY`` loaded.

    .venv/bin/python -m bench.history --sf 1 --write
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from bench.measure import load_average, machine, run_measured, write_section
from bench.scale import DAY, DEFAULT_DATA_DIR, LOOKBACK_DAYS, landing
from sources.programme import (
    DEFAULT_BRANDS_PATH,
    DEFAULT_CAMPAIGNS_DIR,
    read_brand_file,
    read_campaigns,
)
from warehouse.lake import LakeLocation, open_lake
from warehouse.maintenance import disk_usage, maintain
from warehouse.programme import load_programme
from warehouse.reports import build_weekly_reports, default_as_of
from warehouse.snapshots import LAKE, commit

HISTORY_DIR = DEFAULT_DATA_DIR / "history"
DEFAULT_SF = 1.0
DEFAULT_DAYS = 364
QUICK_SF = 0.01
QUICK_DAYS = 21
REPEATS = 3
# The Monday of the week ending DAY (a Sunday), and of the last week complete before DAY.
WEEK_START = DAY - dt.timedelta(days=6)
LAST_HISTORY_WEEK = WEEK_START - dt.timedelta(days=7)
# The lake holding only the measured week: its 6 nights before DAY.
WEEK_ONLY_DAYS = 6
# What the weekly maintenance flow passes by default (flows/settings.py).
RETENTION = dt.timedelta(days=90)
ORPHAN_MIN_AGE = dt.timedelta(hours=6)
TIMEOUT_SECONDS = 4 * 3600
FACT_DATES = {
    "fact_profile_daily": "snapshot_date",
    "fact_post_metrics": "observed_date",
    "fact_audience_share": "as_of_date",
}
COUNTED_TABLES = (
    *FACT_DATES,
    "dim_post",
    "dim_influencer",
    "roster",
    "pipeline_runs",
    "rpt_weekly_engagement",
    "rpt_tier_drift",
    "rpt_audience_match",
)
# Report rows a week's copy moves back, and the column that says which week they belong to.
WEEKLY_ROWS = {
    "rpt_weekly_engagement": "week_start",
    "rpt_tier_drift": "week_start",
    "rpt_audience_match": "as_of_date",
    "rpt_campaign_performance": "as_of_date",
    "rpt_campaign_tiers": "as_of_date",
}
MARKER = "history.json"

# -- the template: the night of DAY as the nightly load leaves it ------------------------------

# grain: one row per (platform, account_id): the accounts as the night of DAY saw them.
TEMPLATE_ACCOUNTS = """
create or replace temp table history_accounts as
with posts as (
    select platform, account_id, count(*) as posts
    from template.fact_post_metrics
    where observed_date = $day
    group by platform, account_id
)
select
    profile.platform,
    profile.account_id,
    profile.followers,
    profile.following,
    profile.media_count,
    ((hash(profile.account_id, 'growth') % 2001)::double - 500) / 1e6 as daily_growth,
    coalesce(posts.posts, 0) / ($lookback + 1.0) as posts_per_day
from template.fact_profile_daily as profile
left join posts
    on posts.platform = profile.platform and posts.account_id = profile.account_id
where profile.snapshot_date = $day
"""

# grain: one row per (platform, post_id): the posts the night of DAY observed (published in the
# 14 days up to it), with their caption and link.
TEMPLATE_POSTS = """
create or replace temp table history_template_posts as
select
    metric.platform,
    metric.post_id::hugeint as post_number,
    metric.account_id,
    metric.published_at,
    metric.published_at::date as published_date,
    metric.media_type,
    metric.likes,
    metric.comments,
    metric.shares,
    metric.saves,
    metric.views,
    post.caption,
    post.permalink,
    -- the share of its final reach a post has when observed on DAY
    1 - exp(-($day - metric.published_at::date + 1) / 2.0) as reach_on_day
from template.fact_post_metrics as metric
join template.dim_post as post
    on post.platform = metric.platform and post.post_id = metric.post_id
where metric.observed_date = $day
"""

# grain: one row per (platform, account_id, dimension, bucket) of the accounts whose audience
# the night of DAY fetched.
TEMPLATE_AUDIENCES = """
create or replace temp table history_template_audiences as
select platform, account_id, dimension, bucket, share
from template.fact_audience_share
where as_of_date = $day
"""

# grain: one row per (platform, account_id): on which nights (days before DAY, modulo 7) the
# account's audience comes, and whose template audience it gets. The template's own accounts
# come on DAY's weekday; the others share the six other weekdays.
AUDIENCE_PLAN = """
create or replace temp table history_audience_plan as
with sources as (
    select
        platform,
        account_id,
        row_number() over (order by platform, account_id) - 1 as source_index
    from (select distinct platform, account_id from history_template_audiences)
),
others as (
    select
        account.platform,
        account.account_id,
        row_number() over (order by account.platform, account.account_id) - 1 as other_index
    from history_accounts as account
    anti join sources
        on sources.platform = account.platform and sources.account_id = account.account_id
)
select platform, account_id, 0 as weekday_group, account_id as source_account_id
from sources
union all
select
    other.platform,
    other.account_id,
    1 + other.other_index % 6 as weekday_group,
    source.account_id as source_account_id
from others as other
join sources as source
    on source.source_index = other.other_index % (select count(*) from sources)
"""

# -- one night of history ----------------------------------------------------------------------

# grain: one row per (platform, post_id) observed on $night: the template's posts of cycle 0
# (DAY's own, published from DAY - 14 to DAY) and of cycle k >= 1 (those published from
# DAY - 13 to DAY, moved 14 k + 1 days back, with ids k * $id_step lower), published in the
# 14 days up to the night. ``growth`` scales the template's counts to the post's age that night.
NIGHT_POSTS = """
create or replace temp table history_night_posts as
with cycles as (
    select cycle, case when cycle = 0 then 0 else 14 * cycle + 1 end as shift_days
    from unnest($cycles::bigint[]) as c (cycle)
),
copies as (
    select
        post.platform,
        cycle.cycle,
        (post.post_number - cycle.cycle * $id_step)::varchar as post_id,
        post.account_id,
        post.published_at - to_days(cycle.shift_days::integer) as published_at,
        post.published_date - cycle.shift_days::integer as published_date,
        post.media_type,
        post.likes,
        post.comments,
        post.shares,
        post.saves,
        post.views,
        post.caption,
        post.permalink,
        post.reach_on_day
    from history_template_posts as post
    join cycles as cycle
        on cycle.cycle = 0 or post.published_date > $day - $lookback
)
select
    platform,
    post_id,
    account_id,
    published_at,
    media_type,
    caption,
    case
        when cycle = 0 then permalink
        else 'https://www.instagram.com/p/' || substr(md5(post_id), 1, 11) || '/'
    end as permalink,
    (1 - exp(-($night - published_date + 1) / 2.0)) / reach_on_day as growth,
    likes,
    comments,
    shares,
    saves,
    views
from copies
where published_date between $night - $lookback and $night
"""

NIGHT_STATEMENTS = (
    """
    insert into fact_profile_daily
        (platform, account_id, snapshot_date, followers, following, media_count)
    select
        platform,
        account_id,
        $night,
        round(followers * exp(-daily_growth * ($day - $night)))::bigint,
        following,
        greatest(0, media_count - round(posts_per_day * ($day - $night)))::bigint
    from history_accounts
    """,
    """
    insert into fact_post_metrics (
        platform, post_id, observed_date, account_id, published_at, media_type,
        likes, comments, shares, saves, views
    )
    select
        platform, post_id, $night, account_id, published_at, media_type,
        round(likes * growth)::bigint,
        round(comments * growth)::bigint,
        round(shares * growth)::bigint,
        round(saves * growth)::bigint,
        round(views * growth)::bigint
    from history_night_posts
    """,
    """
    insert into fact_audience_share (platform, account_id, as_of_date, dimension, bucket, share)
    select plan.platform, plan.account_id, $night, audience.dimension, audience.bucket,
           audience.share
    from history_audience_plan as plan
    join history_template_audiences as audience
        on audience.platform = plan.platform and audience.account_id = plan.source_account_id
    where plan.weekday_group = ($day - $night) % 7
    """,
    # the posts the night sees first: those published that night, and on the first night all
    """
    insert into dim_post
        (platform, post_id, account_id, published_at, caption, permalink, first_seen_date)
    select platform, post_id, account_id, published_at, caption, permalink, $night
    from history_night_posts
    where published_at::date = $night or $night = $first
    """,
    """
    insert into pipeline_runs by name
    select * replace (
        $run_id as run_id,
        $run_id as landing_run_id,
        $night as partition_date,
        started_at - to_days(($day - $night)::integer) as started_at,
        finished_at - to_days(($day - $night)::integer) as finished_at
    )
    from template.pipeline_runs
    """,
)


def cycle_dates(cycle: int) -> tuple[dt.date, dt.date]:
    """The first and last publication date of a cycle of the template's posts."""
    if cycle == 0:
        return DAY - dt.timedelta(days=LOOKBACK_DAYS), DAY
    shift = dt.timedelta(days=14 * cycle + 1)
    return DAY - dt.timedelta(days=LOOKBACK_DAYS - 1) - shift, DAY - shift


def cycles_seen(night: dt.date, cycles: int) -> list[int]:
    """The cycles with a post published in the 14 days up to ``night``."""
    since = night - dt.timedelta(days=LOOKBACK_DAYS)
    return [
        cycle
        for cycle in range(cycles)
        if cycle_dates(cycle)[0] <= night and cycle_dates(cycle)[1] >= since
    ]


# -- building the lakes ------------------------------------------------------------------------


def lake_dir(data_dir: Path, sf: float, name: str) -> Path:
    # No "key=value" directory: DuckDB would read it as a Hive partition of the staged Parquet
    # files under the lake's work directory, and the load would find a column too many.
    return data_dir / f"sf-{sf:g}" / name


def template_lake(sf: float, data_dir: Path) -> Path:
    """The directory of a lake holding only the night of DAY, loaded by the nightly's code."""
    directory = lake_dir(data_dir, sf, "template")
    if not (directory / MARKER).exists():
        shutil.rmtree(directory, ignore_errors=True)
        measured = load_night(sf, directory, existing=False)
        (directory / MARKER).write_text(json.dumps(measured), encoding="utf-8")
    return directory


def load_night(sf: float, directory: Path, *, existing: bool) -> dict[str, Any]:
    """``python -m bench.loaders ours SF DIR``: the night of DAY into the lake at ``directory``,
    in a process of its own; its seconds, wall time, peak memory and rows."""
    command = [sys.executable, "-m", "bench.loaders", "ours", f"{sf:g}", str(directory)]
    return measured_json(command + (["--existing"] if existing else []))


def measured_json(command: list[str]) -> dict[str, Any]:
    """Run a command that prints one JSON object last; that object, with the run's wall time,
    peak RSS of its process tree and the load average before it."""
    before = load_average()
    measured = run_measured(command, env=bench_environment(), timeout=TIMEOUT_SECONDS)
    if measured.exit_code != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed (exit {measured.exit_code}):\n{measured.stderr[-3000:]}"
        )
    printed = json.loads(measured.stdout.strip().splitlines()[-1])
    return {
        **printed,
        "wall_seconds": measured.seconds,
        "peak_rss_bytes": measured.peak_rss_bytes,
        "load_average": before,
    }


def bench_environment() -> dict[str, str]:
    return {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}


def history_lake(
    sf: float, days: int, data_dir: Path, *, regenerate: bool = False, log: bool = False
) -> tuple[Path, dict[str, Any]]:
    """The directory of the lake holding the ``days`` nights before DAY, and what it holds;
    generated unless a complete one is there (or ``regenerate``)."""
    directory = lake_dir(data_dir, sf, f"days-{days}")
    marker = directory / MARKER
    if regenerate or not marker.exists():
        template = template_lake(sf, data_dir)
        shutil.rmtree(directory, ignore_errors=True)
        started = time.perf_counter()
        location = LakeLocation.in_directory(directory)
        connection = open_lake(location)
        try:
            generate_history(connection, template, days, log=log)
            maintained = time.perf_counter()
            report = maintain(
                connection, location.data_path, retention=RETENTION, orphan_min_age=ORPHAN_MIN_AGE
            )
            facts = lake_facts(connection, location)
        finally:
            connection.close()
        facts.update(
            sf=sf,
            days=days,
            generated_seconds=time.perf_counter() - started,
            maintenance_seconds=time.perf_counter() - maintained,
            maintenance=report.summary(),
            generated_on=dt.date.today().isoformat(),
        )
        marker.write_text(json.dumps(facts, indent=1, default=str), encoding="utf-8")
    return directory, json.loads(marker.read_text(encoding="utf-8"))


def generate_history(
    connection: duckdb.DuckDBPyConnection, template: Path, days: int, *, log: bool = False
) -> None:
    """Commit the ``days`` nights before DAY into the lake of ``connection`` (the module's
    docstring says how), from the lake at ``template``."""
    source = LakeLocation.in_directory(template)
    connection.execute(
        f"attach '{source.attach_target}' as template "
        f"(data_path '{source.data_path.resolve()}/', read_only)"
    )
    connection.execute("set enable_progress_bar = false")
    shapes = {"day": DAY, "lookback": LOOKBACK_DAYS}
    for statement in (TEMPLATE_ACCOUNTS, TEMPLATE_POSTS, TEMPLATE_AUDIENCES, AUDIENCE_PLAN):
        execute(connection, statement, shapes)
    id_step, cycles = post_id_step(connection, days)
    first = DAY - dt.timedelta(days=days)
    with commit(connection, "bench history: accounts", {"flow": "bench-history"}):
        connection.execute("insert into roster by name select * from template.roster")
        connection.execute(
            "insert into dim_influencer by name select * replace "
            "($first as first_seen_date, $last as last_seen_date) from template.dim_influencer",
            {"first": first, "last": DAY - dt.timedelta(days=1)},
        )
    started = time.perf_counter()
    for offset in range(days, 0, -1):
        night = DAY - dt.timedelta(days=offset)
        run_id = f"history-{night:%Y%m%d}"
        run = {"flow": "bench-history", "source": "instagram", "date": night.isoformat()}
        with commit(connection, f"nightly instagram {night.isoformat()}", run):
            execute(
                connection,
                NIGHT_POSTS,
                {
                    **shapes,
                    "night": night,
                    "cycles": cycles_seen(night, cycles),
                    "id_step": id_step,
                },
            )
            for statement in NIGHT_STATEMENTS:
                execute(
                    connection,
                    statement,
                    {**shapes, "night": night, "first": first, "run_id": run_id},
                )
        if log and offset % 30 == 0:
            print(
                f"  {night}: {days - offset + 1} nights in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
    connection.execute("drop table history_night_posts")
    build_history_reports(connection, first)
    connection.execute("detach template")


def execute(
    connection: duckdb.DuckDBPyConnection, statement: str, parameters: dict[str, Any]
) -> None:
    """Run ``statement`` with those of ``parameters`` it names (DuckDB refuses the others)."""
    connection.execute(
        statement, {name: value for name, value in parameters.items() if f"${name}" in statement}
    )


def post_id_step(connection: duckdb.DuckDBPyConnection, days: int) -> tuple[int, int]:
    """(id step, cycles): a power of ten above the spread of the template's post ids, so that
    the ids of different cycles never meet, and how many cycles cover ``days``."""
    row = connection.execute(
        "select min(post_number), max(post_number) from history_template_posts"
    ).fetchone()
    assert row is not None and row[0] is not None, "the template lake has no posts"
    lowest, highest = int(row[0]), int(row[1])
    step = 10 ** len(str(highest - lowest))
    cycles = days // 14 + 2
    if lowest - cycles * step <= 0:
        raise ValueError(f"post ids from {lowest} leave no room for {cycles} cycles of {step}")
    return step, cycles


def build_history_reports(connection: duckdb.DuckDBPyConnection, first: dt.date) -> None:
    """Load the default programme, build the last complete week's reports, then its rows moved
    back a week at a time, down to the first week measured as of a night in the history."""
    brands = read_brand_file(DEFAULT_BRANDS_PATH)
    as_of = default_as_of(LAST_HISTORY_WEEK)
    run = {"flow": "bench-history"}
    load_programme(connection, read_campaigns(DEFAULT_CAMPAIGNS_DIR, brands), as_of, run)
    if first > LAST_HISTORY_WEEK:
        return
    build_weekly_reports(connection, LAST_HISTORY_WEEK, brands=brands, run=run)
    back = 1
    while LAST_HISTORY_WEEK - dt.timedelta(days=7 * back) >= first:
        week = LAST_HISTORY_WEEK - dt.timedelta(days=7 * back)
        year, number, _ = week.isocalendar()
        with commit(connection, f"weekly {year}-W{number:02d}", run):
            for table, column in WEEKLY_ROWS.items():
                moved = "week_start, as_of_date" if column == "week_start" else "as_of_date"
                replaced = ", ".join(f"{name} - {7 * back} as {name}" for name in moved.split(", "))
                connection.execute(
                    f"insert into {table} by name select * replace ({replaced}) from {table} "
                    f"where {column} = ?",
                    [LAST_HISTORY_WEEK if column == "week_start" else as_of],
                )
        back += 1


def lake_facts(connection: duckdb.DuckDBPyConnection, location: LakeLocation) -> dict[str, Any]:
    """Rows per table, each fact table's dates, dim_post's rows in files against rows live,
    data files, bytes and snapshots."""
    rows = {
        table: int(connection.execute(f"select count(*) from {table}").fetchall()[0][0])
        for table in COUNTED_TABLES
    }
    dates = {}
    for table, column in FACT_DATES.items():
        row = connection.execute(
            f"select count(*), min(row_count), max(row_count), min({column}), max({column}) "
            f"from (select {column}, count(*) as row_count from {table} group by {column})"
        ).fetchone()
        assert row is not None
        dates[table] = {
            "dates": row[0],
            "min_rows": row[1],
            "max_rows": row[2],
            "first": str(row[3]),
            "last": str(row[4]),
        }
    metadata = f"__ducklake_metadata_{LAKE}"
    dim_post_files = connection.execute(
        f"""
        select count(*), sum(data.record_count), count(deletes.data_file_id)
        from {metadata}.ducklake_data_file as data
        join {metadata}.ducklake_table as t using (table_id)
        left join {metadata}.ducklake_delete_file as deletes
            on deletes.data_file_id = data.data_file_id and deletes.end_snapshot is null
        where data.end_snapshot is null and t.end_snapshot is null and t.table_name = 'dim_post'
        """
    ).fetchone()
    assert dim_post_files is not None
    files, size = disk_usage(location.data_path)
    snapshots = connection.execute(f"select count(*) from ducklake_snapshots('{LAKE}')").fetchone()
    assert snapshots is not None
    return {
        "rows": rows,
        "dates": dates,
        "dim_post_files": int(dim_post_files[0]),
        "dim_post_rows_in_files": int(dim_post_files[1] or 0),
        "dim_post_files_with_deletes": int(dim_post_files[2]),
        "data_files": files,
        "data_bytes": size,
        "catalog_bytes": Path(location.catalog).stat().st_size,
        "snapshots": int(snapshots[0]),
    }


def copy_lake(source: Path, target: Path) -> Path:
    """An independent lake at ``target`` with the content of the one at ``source``: its data
    files hard-linked (DuckLake never rewrites one), its SQLite catalog copied, with the copy's
    data path."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    subprocess.run(["cp", "-al", str(source / "lake"), str(target / "lake")], check=True)
    copied = LakeLocation.in_directory(target)
    with (
        contextlib.closing(sqlite3.connect(LakeLocation.in_directory(source).catalog)) as origin,
        contextlib.closing(sqlite3.connect(copied.catalog)) as catalog,
    ):
        origin.backup(catalog)
        catalog.execute(
            "update ducklake_metadata set value = ? where key = 'data_path'",
            [f"{copied.data_path.resolve()}/"],
        )
        catalog.commit()
    return target


# -- measuring ---------------------------------------------------------------------------------


def run(
    quick: bool,
    *,
    sf: float | None = None,
    days: int | None = None,
    data_dir: Path = HISTORY_DIR,
    regenerate: bool = False,
    log: bool = False,
) -> dict[str, Any]:
    """Build (or reuse) the lakes and measure the nights, maintenance and weekly builds.

    ``quick``: SF 0.01, 21 days of history and one run of each, for CI.
    """
    sf = sf if sf is not None else (QUICK_SF if quick else DEFAULT_SF)
    days = days if days is not None else (QUICK_DAYS if quick else DEFAULT_DAYS)
    repeats = 1 if quick else REPEATS

    def say(message: str) -> None:
        if log:
            print(f"history SF={sf:g}: {message}", file=sys.stderr)

    landed = landing(sf)
    say(f"history of {days} days")
    history, history_facts = history_lake(sf, days, data_dir, regenerate=regenerate, log=log)
    say("the week only")
    week_only, week_only_facts = history_lake(sf, WEEK_ONLY_DAYS, data_dir, regenerate=regenerate)
    runs_dir = data_dir / "runs"
    shutil.rmtree(runs_dir, ignore_errors=True)
    runs: dict[str, list[dict[str, Any]]] = {}
    try:
        say("nights on day 1 and day 365")
        runs["night_day_1"], runs["night_with_history"] = [], []
        after_night = runs_dir / "after-night"
        for attempt in range(repeats):
            empty = runs_dir / "day-1"
            shutil.rmtree(empty, ignore_errors=True)
            open_lake(LakeLocation.in_directory(empty)).close()
            runs["night_day_1"].append(load_night(sf, empty, existing=True))
            target = after_night if attempt == 0 else runs_dir / "with-history"
            copy_lake(history, target)
            runs["night_with_history"].append(load_night(sf, target, existing=True))
        say("maintenance after the night")
        runs["maintenance_after_night"] = repeated(
            repeats, lambda: step("maintain", copy_lake(after_night, runs_dir / "maintain"))
        )
        say("weekly builds")
        runs["weekly_with_history"] = repeated(
            repeats, lambda: step("weekly", copy_lake(after_night, runs_dir / "weekly"))
        )
        week_night = runs_dir / "week-only-night"
        runs["night_week_only"] = repeated(
            repeats, lambda: load_night(sf, copy_lake(week_only, week_night), existing=True)
        )
        runs["weekly_week_only"] = repeated(
            repeats, lambda: step("weekly", copy_lake(week_night, runs_dir / "weekly"))
        )
    finally:
        shutil.rmtree(runs_dir, ignore_errors=True)
    return {
        "sf": sf,
        "days": days,
        "quick": quick,
        "measured": dt.date.today().isoformat(),
        "machine": machine(),
        "landing": {
            "accounts": landed.accounts,
            "posts": landed.records("media"),
            "audience_buckets": landed.records("audience"),
        },
        "history": history_facts,
        "week_only": week_only_facts,
        "runs": runs,
        "summary": summary(runs),
    }


def repeated(times: int, measure: Callable[[], dict[str, Any]]) -> list[dict[str, Any]]:
    return [measure() for _ in range(times)]


def step(name: str, directory: Path) -> dict[str, Any]:
    """One measured step of this module on the lake at ``directory``, in a process of its own."""
    return measured_json(
        [sys.executable, "-m", "bench.history", "--step", name, "--lake", str(directory)]
    )


def median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(entry[key] for entry in runs))


def summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    day_1, day_365 = runs["night_day_1"], runs["night_with_history"]
    return {
        "night_seconds_ratio": median(day_365, "seconds") / median(day_1, "seconds"),
        "night_wall_ratio": median(day_365, "wall_seconds") / median(day_1, "wall_seconds"),
        "night_peak_rss_ratio": median(day_365, "peak_rss_bytes") / median(day_1, "peak_rss_bytes"),
        # Day 7 has seen most of the night's posts before, as every night after the first has
        # (its MERGE into dim_post finds them unchanged), where day 1 inserts them all.
        "night_versus_day_7_seconds_ratio": median(day_365, "seconds")
        / median(runs["night_week_only"], "seconds"),
        "weekly_seconds_ratio": median(runs["weekly_with_history"], "seconds")
        / median(runs["weekly_week_only"], "seconds"),
    }


def run_step(name: str, directory: Path) -> None:
    """The body of ``--step``: time ``maintain`` or the week's build on the lake at
    ``directory`` (opening the lake is not part of the time); print JSON."""
    location = LakeLocation.in_directory(directory)
    connection = open_lake(location)
    try:
        started = time.perf_counter()
        if name == "maintain":
            report = maintain(
                connection, location.data_path, retention=RETENTION, orphan_min_age=ORPHAN_MIN_AGE
            )
            printed: dict[str, Any] = {"summary": report.summary()}
        else:
            brands = read_brand_file(DEFAULT_BRANDS_PATH)
            printed = {
                "rows": build_weekly_reports(
                    connection, WEEK_START, brands=brands, run={"flow": "bench-history"}
                )
            }
        printed["seconds"] = time.perf_counter() - started
    finally:
        connection.close()
    print(json.dumps(printed))


# -- the report --------------------------------------------------------------------------------


def _mib(count: float) -> str:
    if count >= 2**30:
        return f"{count / 2**30:,.2f} GiB"
    return f"{count / 2**20:,.0f} MiB"


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def _each(runs: list[dict[str, Any]], key: str) -> str:
    if key == "peak_rss_bytes":
        return ", ".join(_mib(entry[key]) for entry in runs)
    return ", ".join(_seconds(entry[key]) for entry in runs)


def markdown(results: dict[str, Any]) -> str:
    """The figures as docs/performance.md shows them."""
    history, runs, ratios = results["history"], results["runs"], results["summary"]
    landed = results["landing"]
    rows = history["rows"]
    lines = [
        f"Measured {results['measured']} on {results['machine']}, at SF={results['sf']:g} "
        f"({landed['accounts']:,} accounts; the night of {DAY} lands {landed['posts']:,} posts "
        f"and {landed['audience_buckets']:,} audience buckets), with "
        f"`.venv/bin/python -m bench.history --sf {results['sf']:g} --days {results['days']}`"
        f"{' (quick: one run of each)' if results['quick'] else ''}.",
        "",
        f"The history lake: {results['days']} nights before {DAY} "
        f"(generated in {history['generated_seconds']:.0f} s, its final maintenance included).",
        "",
        "| table | rows | dates | rows per date |",
        "|---|---:|---:|---:|",
    ]
    for table, dates in history["dates"].items():
        lines.append(
            f"| {table} | {rows[table]:,} | {dates['dates']} ({dates['first']} to "
            f"{dates['last']}) | {dates['min_rows']:,} to {dates['max_rows']:,} |"
        )
    lines += [
        f"| dim_post | {rows['dim_post']:,} live; {history['dim_post_rows_in_files']:,} in its "
        f"{history['dim_post_files']:,} files ({history['dim_post_files_with_deletes']:,} with a "
        "delete file) | | |",
        *(
            f"| {table} | {rows[table]:,} | | |"
            for table in COUNTED_TABLES
            if table not in FACT_DATES and table != "dim_post"
        ),
        "",
        f"{history['data_files']:,} data files, {_mib(history['data_bytes'])}; catalog "
        f"{_mib(history['catalog_bytes'])}, {history['snapshots']:,} snapshots.",
        "",
        "| run | seconds in the process (median) | wall time (median) | peak RSS of the tree "
        "(median) | each run: seconds; peak RSS |",
        "|---|---:|---:|---:|---|",
    ]
    labels = {
        "night_day_1": f"night of {DAY}, empty lake (day 1)",
        "night_with_history": f"night of {DAY}, after {results['days']} nights (day "
        f"{results['days'] + 1})",
        "night_week_only": f"night of {DAY}, after {WEEK_ONLY_DAYS} nights (day "
        f"{WEEK_ONLY_DAYS + 1})",
        "maintenance_after_night": "`maintain` after that night",
        "weekly_with_history": f"weekly build, week of {WEEK_START}, after "
        f"{results['days']} nights",
        "weekly_week_only": f"weekly build, week of {WEEK_START}, lake of that week only",
    }
    for key, label in labels.items():
        measured = runs[key]
        lines.append(
            f"| {label} | {_seconds(median(measured, 'seconds'))} | "
            f"{_seconds(median(measured, 'wall_seconds'))} | "
            f"{_mib(median(measured, 'peak_rss_bytes'))} | {_each(measured, 'seconds')}; "
            f"{_each(measured, 'peak_rss_bytes')} |"
        )
    lines += [
        "",
        f"- **Night, day {results['days'] + 1} against day 1:** "
        f"{ratios['night_seconds_ratio']:.2f}x the seconds (target at most 1.1x), "
        f"{ratios['night_wall_ratio']:.2f}x the wall time, "
        f"{ratios['night_peak_rss_ratio']:.2f}x the peak memory (target: no growth).",
        f"- **Night, day {results['days'] + 1} against day {WEEK_ONLY_DAYS + 1}:** "
        f"{ratios['night_versus_day_7_seconds_ratio']:.2f}x the seconds. From the second night "
        "on, most of the night's posts were seen before: the `MERGE` into dim_post finds them "
        "unchanged and inserts only the new ones, where the first night inserts them all.",
        f"- **Weekly build** after {results['days']} nights against a lake of that week only: "
        f"{ratios['weekly_seconds_ratio']:.2f}x the seconds.",
        f"- **Maintenance after the night:** {runs['maintenance_after_night'][0]['summary']}.",
        f"- Machine load (1-minute average) before the runs: "
        f"{min(e['load_average'] for m in runs.values() for e in m):.1f} to "
        f"{max(e['load_average'] for m in runs.values() for e in m):.1f}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sf", type=float, default=DEFAULT_SF, help="Scale factor (default 1).")
    parser.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, help="Nights of history (default 364)."
    )
    parser.add_argument("--quick", action="store_true", help="SF 0.01, 21 days, one run each.")
    parser.add_argument("--regenerate", action="store_true", help="Build the lakes again.")
    parser.add_argument("--write", action="store_true", help="Update docs/performance.md.")
    parser.add_argument("--step", choices=("maintain", "weekly"), help=argparse.SUPPRESS)
    parser.add_argument("--lake", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.step:
        run_step(arguments.step, arguments.lake)
        return
    results = run(
        arguments.quick,
        sf=None if arguments.quick else arguments.sf,
        days=None if arguments.quick else arguments.days,
        regenerate=arguments.regenerate,
        log=True,
    )
    text = markdown(results)
    print(text)
    print(json.dumps(results, default=str), file=sys.stderr)
    if arguments.write:
        write_section("history", text)


if __name__ == "__main__":
    main()
