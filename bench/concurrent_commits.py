"""Several processes loading different dates into one lake at the same time, as the workers of a
backfill do: how many commits succeed, how many DuckLake refuses for a concurrent one (and
``load_partition`` retries), and the commits per second.

Each process opens its own connection to the lake (one DuckDB thread, as a nightly load does),
waits for the others, then loads its dates one after the other: a roster of ``--accounts``
accounts, their profiles and ``--posts`` posts each. Afterwards the lake must hold each date
exactly once and every account once in ``dim_influencer`` and ``roster``.

    # a PostgreSQL catalog in a throwaway cluster (Debian's binaries, `make postgres`)
    .venv/bin/python bench/concurrent_commits.py --catalog postgres --processes 2 4 8
    # the default SQLite catalog, two processes at once
    .venv/bin/python bench/concurrent_commits.py --catalog sqlite --processes 2
    # what DuckLake does without our retry (--attempts 1) or without its own (--ducklake-retries 0)
    .venv/bin/python bench/concurrent_commits.py --catalog postgres --attempts 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import logging
import multiprocessing
import os
import re
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from warehouse.load import MAX_LOAD_ATTEMPTS

ROOT = Path(__file__).resolve().parents[1]
FIRST_DATE = dt.date(2026, 9, 1)


@dataclass
class Outcome:
    process: int
    loads: int
    failures: Counter[str]
    retries: Counter[str]
    seconds: float


class RetryCounter(logging.Handler):
    """Counts load_partition's retries, by the table DuckLake named in the conflict."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.tables: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "retrying" in message:
            found = re.search(r'table with index "(\d+)"', message)
            self.tables[found.group(1) if found else "(no table named)"] += 1


def partition(day: dt.date, accounts: int, posts: int) -> Any:
    from warehouse.load import PartitionLoad

    ids = [str(1000 + number) for number in range(accounts)]
    handles = [f"creator_{number}" for number in range(accounts)]
    post_ids = [f"{account}_{post}" for account in ids for post in range(posts)]
    return PartitionLoad(
        source="instagram",
        platform="instagram",
        partition_date=day,
        roster=pl.DataFrame(
            {
                "platform": "instagram",
                "handle": handles,
                "connected": [number % 3 == 0 for number in range(accounts)],
                "country": "GB",
                "category": "food",
            }
        ),
        influencers=pl.DataFrame(
            {
                "platform": "instagram",
                "account_id": ids,
                "handle": handles,
                "display_name": handles,
                "country": "GB",
                "category": "food",
                "first_seen_date": day,
                "last_seen_date": day,
            }
        ),
        facts={
            "fact_profile_daily": pl.DataFrame(
                {
                    "platform": "instagram",
                    "account_id": ids,
                    "snapshot_date": day,
                    "followers": [10_000 + day.day * 10 + n for n in range(accounts)],
                    "following": 100,
                    "media_count": posts,
                }
            ),
            "fact_post_metrics": pl.DataFrame(
                {
                    "platform": "instagram",
                    "post_id": post_ids,
                    "observed_date": day,
                    "account_id": [account for account in ids for _ in range(posts)],
                    "published_at": dt.datetime(2026, 8, 1, 12),
                    "media_type": "IMAGE",
                    "likes": [day.day * 3 + n for n in range(len(post_ids))],
                }
            ),
        },
        quarantine=pl.DataFrame(),
        run_log=pl.DataFrame(
            {
                "run_id": f"bench-{day}",
                "source": "instagram",
                "partition_date": [day],
                "step": "load",
                "status": "ok",
                "started_at": dt.datetime.now(),
                "finished_at": dt.datetime.now(),
            }
        ),
        run_id=f"bench-{day}",
    )


def load_dates(
    process: int,
    catalog: str,
    data_path: str,
    dates: list[dt.date],
    options: dict[str, Any],
    start: Any,
    results: Any,
) -> None:
    """One worker: open the lake, wait for the others, load each date; report what happened."""
    import duckdb

    from warehouse.lake import LakeLocation, open_lake
    from warehouse.load import load_partition

    # DuckDB draws a progress bar on the terminal for slow statements: keep the table readable.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    counter = RetryCounter()
    logging.getLogger("warehouse.load").addHandler(counter)
    connection = open_lake(LakeLocation(catalog, Path(data_path)), threads=1)
    connection.execute("set enable_progress_bar = false")
    if options["ducklake_retries"] is not None:
        connection.execute(f"set ducklake_max_retry_count = {int(options['ducklake_retries'])}")
    loads = [partition(day, options["accounts"], options["posts"]) for day in dates]
    failures: Counter[str] = Counter()
    start.wait(120)
    began = time.perf_counter()
    done = 0
    for load in loads:
        try:
            load_partition(connection, load, max_attempts=options["attempts"])
            done += 1
        except (duckdb.Error, RuntimeError) as error:
            failures[_kind(error)] += 1
    seconds = time.perf_counter() - began
    names = dict(
        connection.execute(
            "select table_id::varchar, table_name from __ducklake_metadata_lake.ducklake_table"
        ).fetchall()
    )
    retries = Counter({names.get(table, table): n for table, n in counter.tables.items()})
    results.put(Outcome(process, done, failures, retries, seconds))
    connection.close()


def _kind(error: BaseException) -> str:
    text = str(error)
    for marker in (
        "database is locked",
        "Transaction conflict",
        "Exceeded the maximum retry count",
        "refused the commit",
    ):
        if marker in text:
            return marker
    return f"{type(error).__name__}: {text.splitlines()[0][:120]}"


def check_lake(catalog: str, data_path: Path, dates: list[dt.date], accounts: int) -> str:
    """What the lake holds: 'ok' when every date is there once and every account once."""
    from warehouse.lake import LakeLocation, open_lake

    connection = open_lake(LakeLocation(catalog, data_path), read_only=True)
    connection.execute("set enable_progress_bar = false")
    try:
        per_date = dict(
            connection.execute(
                "select snapshot_date, count(*) from fact_profile_daily group by all"
            ).fetchall()
        )
        dims = connection.execute(
            "select count(*), count(distinct account_id) from dim_influencer"
        ).fetchall()[0]
        roster = connection.execute("select count(*) from roster").fetchall()[0][0]
    finally:
        connection.close()
    wrong = {day: per_date.get(day, 0) for day in dates if per_date.get(day, 0) != accounts}
    problems = []
    if wrong:
        problems.append(f"{len(wrong)} dates not loaded exactly once")
    if dims != (accounts, accounts):
        problems.append(f"dim_influencer holds {dims[0]} rows for {dims[1]} accounts")
    if roster != accounts:
        problems.append(f"roster holds {roster} rows for {accounts} accounts")
    return "; ".join(problems) or "each date once"


def run(catalog: str, data_path: Path, processes: int, options: dict[str, Any]) -> str:
    from warehouse.lake import LakeLocation, open_lake

    open_lake(LakeLocation(catalog, data_path)).close()  # the lake exists before they start
    per_process = options["dates"]
    dates = [FIRST_DATE + dt.timedelta(days=n) for n in range(processes * per_process)]
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(
            target=load_dates,
            args=(
                number,
                catalog,
                str(data_path),
                dates[number::processes],
                options,
                start,
                results,
            ),
        )
        for number in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=1800) for _ in workers]
    for worker in workers:
        worker.join()
    loads = sum(o.loads for o in outcomes)
    failures = sum((o.failures for o in outcomes), Counter())
    retries = sum((o.retries for o in outcomes), Counter())
    seconds = max(o.seconds for o in outcomes)
    verdict = check_lake(catalog, data_path, dates, options["accounts"]) if not failures else "-"
    failed = ", ".join(f"{count} {kind!r}" for kind, count in failures.items()) or "0"
    tables = ", ".join(f"{table} {n}" for table, n in retries.most_common())
    return (
        f"| {processes} | {len(dates)} | {loads} | {failed} | {retries.total()}"
        f"{f' ({tables})' if tables else ''} | {seconds:.1f} | {loads / seconds:.2f} | {verdict} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--processes", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--dates", type=int, default=5, help="dates each process loads")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=20, help="posts per account and date")
    parser.add_argument(
        "--attempts", type=int, default=MAX_LOAD_ATTEMPTS, help="load_partition's max_attempts"
    )
    parser.add_argument(
        "--ducklake-retries", type=int, default=None, help="ducklake_max_retry_count (default 10)"
    )
    parser.add_argument(
        "--no-fsync", action="store_true", help="run PostgreSQL with fsync=off, as the tests do"
    )
    args = parser.parse_args()
    options = {
        "dates": args.dates,
        "accounts": args.accounts,
        "posts": args.posts,
        "attempts": args.attempts,
        "ducklake_retries": args.ducklake_retries,
    }
    print(
        f"{args.catalog} catalog; each process loads {args.dates} dates of {args.accounts} "
        f"accounts x {args.posts} posts; load_partition attempts {args.attempts}, "
        "ducklake_max_retry_count "
        f"{'default (10)' if args.ducklake_retries is None else args.ducklake_retries}; "
        f"{'PostgreSQL fsync off; ' if args.no_fsync and args.catalog == 'postgres' else ''}"
        f"{os.cpu_count()} CPUs"
    )
    print(
        "| processes | dates | loaded | failed | retries (table in conflict) | seconds "
        "| commits/s | lake |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-commits-")))
        if args.catalog == "postgres":
            # tests/ is not a package (and holds a `warehouse` folder of its own): load the file.
            spec = importlib.util.spec_from_file_location(
                "postgres_cluster", ROOT / "tests" / "postgres_cluster.py"
            )
            assert spec is not None and spec.loader is not None
            cluster = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(cluster)
            DB_USER, postgres_cluster = cluster.DB_USER, cluster.postgres_cluster
            databases = [f"lake_{n}" for n in args.processes]
            port, password = stack.enter_context(
                postgres_cluster(root, databases, fsync=not args.no_fsync)
            )
            os.environ["PGPASSWORD"] = password
        for processes in args.processes:
            if args.catalog == "postgres":
                catalog = (
                    f"postgres:dbname=lake_{processes} host=127.0.0.1 port={port} user={DB_USER}"
                )
            else:
                catalog = str(root / f"lake_{processes}.sqlite")
            print(run(catalog, root / f"data_{processes}", processes, options), flush=True)


if __name__ == "__main__":
    main()
