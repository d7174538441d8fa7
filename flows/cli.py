"""The ``influencers`` command line."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import multiprocessing
import os
import re
import secrets
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    import duckdb

    from flows.settings import Settings
    from schemas.programme import Campaigns
    from simulator import SimulatedWorld
    from sources.tiktok.tokens import CreatorTokens
    from warehouse.lake import LakeLocation

app = typer.Typer(
    help="Influencer analytics: nightly extraction, the DuckLake warehouse and the simulated "
    "platforms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
Item = TypeVar("Item")
Summary = TypeVar("Summary")

DateOption = Annotated[
    dt.datetime | None,
    typer.Option("--date", formats=["%Y-%m-%d"], help="UTC date to load (default: yesterday)."),
]


@app.callback()
def _prefect_defaults() -> None:
    """Prefect settings for a command-line run, set before Prefect is first imported."""
    # Offline machine: no telemetry (its write also locked Prefect's SQLite in test runs).
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # With no Prefect server configured, Prefect starts a temporary one, which takes ~10 s on a
    # small machine: its 20 s default timeout is too tight there.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


def _quiet_prefect() -> None:
    """Keep Prefect's per-task INFO lines off a person's terminal (they stay in the UI/API)."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@app.command()
def nightly(
    date: DateOption = None,
    mode: Annotated[
        str, typer.Option(help="auto: replay the date if it landed, else extract; extract; replay")
    ] = "auto",
) -> None:
    """Run the nightly flow for one date."""
    from flows.nightly import ExtractMode
    from flows.nightly import nightly as nightly_flow

    summary = nightly_flow(date=date.date() if date else None, mode=ExtractMode(mode))
    _print_run(summary)


@app.command()
def demo(
    days: Annotated[
        int,
        typer.Option(
            min=1, help="Days of history to load (70: every report column needs 9 weeks)."
        ),
    ] = 70,
    end: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last date to load (default: yesterday)."),
    ] = None,
) -> None:
    """Load the last DAYS days from the simulated platforms and print what landed where."""
    _quiet_prefect()
    from flows.settings import load_settings
    from flows.weekly import iso_week_label, weekly_reports
    from warehouse.reports import default_as_of

    settings = load_settings()
    last = end.date() if end else dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    dates = [last - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    sources = ", ".join(
        f"{source} (simulated, in-process)" if settings.uses_simulator(source) else source
        for source in settings.sources
    )
    console.print(f"Loading {dates[0]} .. {dates[-1]} from {sources}")
    # Nights at once only on the simulated platforms the nights start for themselves: another
    # API would see the same creator's TikTok token refreshed by two nights at once.
    at_once = DEMO_NIGHTS_AT_ONCE if all(map(settings.uses_simulator, settings.sources)) else 1
    with _without_heartbeats():
        _reach_prefect_api()
        with _night_processes(at_once) as workers:
            _run_nights(_demo_night, dates, at_once, workers)
        weeks = _full_weeks(dates[0], dates[-1])
        campaign_files = None
        configured_campaigns = os.environ.get(CAMPAIGNS_DIR_VARIABLE)
        if settings.uses_embedded_simulator:
            campaign_files = _demo_shop(settings.data_dir / "demo", dates[0], dates[-1])
        reports = []
        try:
            for week_start in _with_progress(weeks, "weekly reports", iso_week_label):
                if campaign_files is not None:
                    # The brands edit their files as campaigns go: each week reads them as they
                    # were.
                    campaign_files(default_as_of(week_start))
                reports.append(weekly_reports(week=iso_week_label(week_start)))
        finally:
            os.environ.pop(CAMPAIGNS_DIR_VARIABLE, None)
            if configured_campaigns is not None:
                os.environ[CAMPAIGNS_DIR_VARIABLE] = configured_campaigns
    _print_warehouse_summary(settings.lake)
    if reports:
        _print_reports(reports[-1])
        _print_campaigns(settings.lake)


def _demo_night(date: dt.date) -> None:
    """One night of the demo, in a worker process (``_night_processes``): the nightly flow,
    followed on Saturdays by the lake's maintenance, as deployed: the nightly run at 02:00 loads
    the day before, and the maintenance runs on Sundays at 04:00 (``prefect.yaml``). Without it the
    demo's small files pile up night after night, and each load reads more of them (a night's
    three loads took 1.22 s after 14 nights, 0.82 s once maintained)."""
    from flows.maintenance import maintenance
    from flows.nightly import nightly

    with _without_heartbeats():
        try:
            nightly(date=date)
            if date.weekday() == calendar.SATURDAY:
                maintenance()
        except Exception as error:
            # Its own exception may not survive the trip to the demo's process; its words do.
            raise DemoNightFailed(
                f"the night of {date} failed: {type(error).__name__}: {error}"
            ) from None


class DemoNightFailed(RuntimeError):
    """A night of the demo failed (in a worker process: its message says how)."""


@contextmanager
def _night_processes(at_once: int) -> Iterator[Executor]:
    """AT_ONCE worker processes for the demo's nights, on this process's Prefect API.

    A night is mostly Python: the client, the simulated platforms it starts, the Pandera checks,
    the DuckDB statements of its loads. In threads of one process they take turns on Python's
    lock and the demo used little more than one core of two; in processes of their own, two
    nights use both. The workers start afresh (``spawn``: no copy of this process's threads) and
    inherit its environment, where the API's address is set for them: the temporary server this
    process started when none is configured. Their commits take turns through the lake's writer
    lock (``flows.nightly.warehouse_writer``).
    """
    api_url = _prefect_api_url()
    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = api_url
    try:
        pool = ProcessPoolExecutor(at_once, mp_context=multiprocessing.get_context("spawn"))
        try:
            # One call per worker starts them all now (the pool starts one per call while none is
            # idle): the second imports what a night needs while the first night runs alone.
            for _ in range(at_once):
                pool.submit(_import_a_nights_modules)
            yield pool
        except BaseException:
            # A failed night or Ctrl-C: the nights running finish, none waiting starts.
            pool.shutdown(cancel_futures=True)
            raise
        pool.shutdown()
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous


def _import_a_nights_modules() -> None:
    import flows.maintenance
    import flows.nightly  # noqa: F401


def _prefect_api_url() -> str:
    """The Prefect API this process uses: the configured one, or the temporary server it
    started (``_reach_prefect_api``)."""
    from prefect.settings import get_current_settings

    configured = get_current_settings().api.url
    if configured:
        return str(configured)
    from prefect.server.api.server import SubprocessASGIServer

    return str(SubprocessASGIServer().api_url)


def _run_nights(
    run_night: Callable[..., Summary], dates: list[dt.date], at_once: int, workers: Executor
) -> list[Summary]:
    """Each date's night on WORKERS, AT_ONCE at a time after the first, their results in date
    order.

    The first night runs alone: it creates the lake and connects the simulated TikTok creators,
    whose tokens the next nights reuse. A night starts once every night AT_ONCE before it has
    succeeded: after a failed night, those already running finish, no later one starts, and the
    failure is raised.
    """
    summaries: list[Summary] = []
    waiting = iter(dates)

    def start(date: dt.date) -> Future[Summary]:
        return workers.submit(run_night, date)

    running = deque(map(start, itertools.islice(waiting, 1)))  # the first night alone
    for _ in _with_progress(dates, "nightly", str):
        summaries.append(running.popleft().result())
        running.extend(map(start, itertools.islice(waiting, at_once - len(running))))
    return summaries


def _reach_prefect_api() -> None:
    """Reach the Prefect API, starting Prefect's temporary server when none is
    configured, before the night workers start: they are given its address
    (``_prefect_api_url``), or each would start a server of its own on the same database."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.hello()


@contextmanager
def _without_heartbeats() -> Iterator[None]:
    """Flow runs started inside send no heartbeats.

    Prefect 3.9 ends every flow run by joining its heartbeat thread, which sleeps in one-second
    steps: each run ends up to a second late (measured: an empty flow took 1.2 s with them,
    0.23 s without). Heartbeats let a server mark a crashed run; the demo's ~80 runs are watched
    by nobody while they run, so they would only cost it a minute or more.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _demo_shop(directory: Path, first: dt.date, last: dt.date) -> Callable[[dt.date], None]:
    """The simulated brands' shop: its orders of FIRST..LAST and the EUR rates imported (the
    import-orders flow); returns what writes the brands' campaign files as of a day, in a folder
    the weekly runs read (INFLUENCERS_CAMPAIGNS_DIR)."""
    from flows.orders import OrderImportSummary, import_orders
    from simulator.campaigns import write_campaign_files, write_fx_rates, write_shopify_orders

    world = _simulated_world()
    directory.mkdir(parents=True, exist_ok=True)
    orders, rates = directory / "shop_orders.csv", directory / "fx_rates.csv"
    written = write_shopify_orders(orders, world, first, last)
    write_fx_rates(rates, first, last)
    state = import_orders(str(orders), DEMO_SHOP, fx_rates=str(rates), return_state=True)
    summary = state.result(raise_on_failure=False) if not state.is_failed() else None
    if isinstance(summary, OrderImportSummary):
        console.print(
            f"Imported {written:,} simulated shop orders ({first} .. {last}): "
            f"{summary.counts.loaded:,} loaded, {summary.counts.quarantined:,} quarantined"
        )
    else:
        console.print(f"[yellow]The shop's orders did not import[/]: {state.message}")
    campaigns_dir = directory / "campaigns"
    os.environ[CAMPAIGNS_DIR_VARIABLE] = str(campaigns_dir)

    def write_as_of(day: dt.date) -> None:
        for stale in campaigns_dir.glob("*.*"):
            stale.unlink()
        write_campaign_files(campaigns_dir, world, day)

    return write_as_of


DEMO_SHOP = "demo-shop"
DEMO_NIGHTS_AT_ONCE = 2
CAMPAIGNS_DIR_VARIABLE = "INFLUENCERS_CAMPAIGNS_DIR"
# The micro-versus-macro answer, on the last as-of date's campaigns: every campaign's tiers summed.
CAMPAIGN_TIERS = """
select
    tiers.tier,
    sum(creators)::integer,
    sum(fee),
    sum(revenue),
    sum(revenue) / nullif(sum(followers_at_start), 0) * 1000,
    sum(revenue) / nullif(sum(fee), 0)
from rpt_campaign_tiers as tiers
join dim_tier using (tier)
where as_of_date = (select max(as_of_date) from rpt_campaign_tiers)
group by tiers.tier, dim_tier.tier_order
order by dim_tier.tier_order
"""


def _print_campaigns(lake: LakeLocation) -> None:
    from warehouse.lake import open_lake

    connection = open_lake(lake, read_only=True)
    try:
        rows = connection.execute(CAMPAIGN_TIERS).fetchall()
    finally:
        connection.close()
    if not rows:
        console.print("No campaign report yet: no collaboration was active in these weeks.")
        return
    table = Table(
        "tier",
        "creators",
        "fees",
        "revenue",
        "revenue per 1k followers",
        "ROAS",
        title="Campaigns by tier (rpt_campaign_tiers, every brand and platform)",
    )
    per_1k: dict[str, float] = {}
    for tier, creators, fee, revenue, revenue_per_1k, roas in rows:
        table.add_row(
            tier,
            str(creators),
            f"{fee:,.2f}",
            f"{revenue:,.2f}",
            "-" if revenue_per_1k is None else f"{revenue_per_1k:,.2f}",
            "-" if roas is None else f"{roas:.2f}",
        )
        if revenue_per_1k is not None:
            per_1k[tier] = float(revenue_per_1k)
    console.print(table)
    if "micro" in per_1k and "macro" in per_1k:
        micro, macro = per_1k["micro"], per_1k["macro"]
        verdict = "more" if micro > macro else "less"
        console.print(
            f"Do micro creators sell more per follower than macro ones? "
            f"[bold]{'Yes' if micro > macro else 'No'}[/]: micro creators sold {micro:,.2f} per "
            f"1,000 followers, macro ones {macro:,.2f} ({micro / macro:.1f}x, {verdict})."
            if macro
            else f"Micro creators sold {micro:,.2f} per 1,000 followers; macro ones nothing."
        )


@app.command()
def sql(
    query: Annotated[
        str | None, typer.Argument(help='One read-only query, e.g. "select * from roster".')
    ] = None,
    output_format: Annotated[
        str | None, typer.Option("--format", help="csv or parquet: write the whole result.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="File to write with --format.")] = None,
    max_rows: Annotated[int, typer.Option(min=1, help="Rows shown in the terminal.")] = 50,
    print_attach: Annotated[
        bool,
        typer.Option(
            "--print-attach",
            help="Print the ATTACH statement that reads the lake read-only from your own DuckDB "
            "(CLI, Python, DBeaver) and exit; `make sql` runs it.",
        ),
    ] = False,
) -> None:
    """Run one query against the lake, read-only (it never blocks or waits for a run)."""
    import duckdb

    from flows.settings import load_settings
    from warehouse.analyst import QueryRefused, export, preview
    from warehouse.lake import LakeNotFound

    lake = load_settings().lake
    if print_attach:
        _print_attach_statement(lake)
        return
    if query is None:
        _fail('give a query, e.g. influencers sql "select * from roster limit 10"')
    if (output_format is None) != (output is None):
        _fail("give --format and --output together (e.g. --format csv --output top.csv)")
    try:
        if output_format is not None and output is not None:
            rows = export(lake, query, output, output_format)
            console.print(f"{rows:,} rows written to {output}")
            return
        result = preview(lake, query, max_rows)
    except (QueryRefused, LakeNotFound) as error:
        _fail(str(error))
    except duckdb.Error as error:
        _fail(f"the query failed: {error}")
    table = Table(*result.columns)
    for row in result.rows:
        table.add_row(*("NULL" if value is None else str(value) for value in row))
    console.print(table)
    if result.truncated:
        console.print(
            f"(first {max_rows} rows; --max-rows N shows more, --format csv --output FILE "
            "writes them all)"
        )


def _print_attach_statement(lake: LakeLocation) -> None:
    """Print the read-only ATTACH, once the lake is known to open (and the extensions that
    the DuckDB CLI loads are installed)."""
    _open_or_fail(lake).close()
    # Plain print: rich would wrap a long statement at the terminal's width.
    typer.echo(lake.attach_statement(read_only=True))


@app.command()
def snapshots(
    limit: Annotated[int, typer.Option(min=1, help="Newest snapshots shown.")] = 30,
) -> None:
    """List the lake's snapshots, newest first, each labelled with the run that committed it."""
    from flows.settings import load_settings
    from warehouse.snapshots import list_snapshots

    connection = _open_or_fail(load_settings().lake)
    try:
        listing = list_snapshots(connection, limit)
    finally:
        connection.close()
    table = Table("snapshot", "committed (UTC)", "message", "run", "changes")
    for row in listing.iter_rows():
        table.add_row(*(str(value) for value in row))
    console.print(table)
    console.print(
        'Read a table as of a snapshot: influencers sql "select * from rpt_tier_drift '
        'at (version => N)"'
    )


@app.command()
def maintenance(
    retention_days: Annotated[
        int | None, typer.Option(min=1, help="Snapshots kept (default: the setting, 90).")
    ] = None,
) -> None:
    """Compact the lake's small files, expire old snapshots, delete files no snapshot needs."""
    _quiet_prefect()
    from flows.maintenance import maintenance as maintenance_flow

    report = maintenance_flow(retention_days=retention_days)
    console.print(f"Maintenance: {report.summary()}")


@app.command("import-duckdb")
def import_duckdb(
    path: Annotated[
        Path, typer.Argument(help="The old warehouse file, e.g. data/warehouse.duckdb.")
    ],
) -> None:
    """Import a warehouse of the DuckDB-file era into a new lake, in one commit."""
    from flows.settings import load_settings
    from warehouse.lake import open_lake
    from warehouse.upgrade import ImportRefused, import_duckdb_warehouse

    lake = load_settings().lake
    connection = open_lake(lake)
    try:
        imported = import_duckdb_warehouse(connection, path)
    except ImportRefused as error:
        _fail(str(error))
    finally:
        connection.close()
    for table, rows in imported.items():
        console.print(f"{table}: {rows:,} rows")
    console.print(f"Imported {path} into the lake ({lake.describe()}).")


def _open_or_fail(lake: LakeLocation) -> duckdb.DuckDBPyConnection:
    """The lake opened read-only, or a message saying why not and what to do."""
    import duckdb

    from warehouse.lake import LakeNotFound, open_lake

    try:
        return open_lake(lake, read_only=True)
    except LakeNotFound as error:
        _fail(str(error))
    except duckdb.Error as error:
        _fail(f"cannot open the lake ({lake.describe()}): {error}")


@app.command("import")
def import_command(
    path: Annotated[str, typer.Argument(help="The export: CSV, JSON (array or NDJSON), Parquet.")],
    source: Annotated[
        str,
        typer.Option(
            help="The tool or export it comes from, a plain name (e.g. kaggle_top_instagram)."
        ),
    ],
    mapping: Annotated[
        str | None,
        typer.Option(
            help="Mapping TOML file, or a shipped mapping's name (default: the one named like "
            "--source)."
        ),
    ] = None,
    date: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Date the file's counts are as of, when it has no date column.",
        ),
    ] = None,
) -> None:
    """Import another tool's export of creator stats: land it, validate every row, load it."""
    _quiet_prefect()
    from sources.files.errors import ImportRefused
    from sources.files.request import prepare_import

    as_of = date.date() if date else None
    try:
        prepare_import(path, source, mapping, as_of)
    except ImportRefused as refusal:
        _fail(str(refusal))
    from flows.imports import ImportSummary, describe, import_file

    state = import_file(path, source, mapping, as_of, return_state=True)
    if state.is_failed():
        _fail(state.message or "the import failed; see the Prefect logs")
    summary = state.result()
    assert isinstance(summary, ImportSummary)
    console.print(describe(summary))
    table = Table("as of", "landed", "loaded", "quarantined", "deduplicated")
    for as_of_date, counts in sorted(summary.counts.items()):
        table.add_row(
            str(as_of_date),
            str(counts.landed),
            str(counts.loaded),
            str(counts.quarantined),
            str(counts.deduplicated),
        )
    console.print(table)
    for note in summary.notes:
        console.print(f"[yellow]note[/]: {note}")
    console.print(f"Committed to the lake: {summary.lake}")


orders_app = typer.Typer(
    help="The shop's orders: import an orders export, or the FX rates that convert them.",
    no_args_is_help=True,
)
app.add_typer(orders_app, name="orders")


@orders_app.command("import")
def orders_import(
    path: Annotated[str, typer.Argument(help="The orders export: Shopify's orders CSV.")],
    shop: Annotated[str, typer.Option(help="The shop, a plain name (e.g. glowco).")],
    mapping: Annotated[
        str | None,
        typer.Option(help="Order mapping TOML file for another CSV layout (default: shopify)."),
    ] = None,
    fx_rates: Annotated[
        str | None,
        typer.Option(help="FX rates CSV (currency,rate_date,base_currency,rate) to load first."),
    ] = None,
) -> None:
    """Import a shop's orders: no shopper's personal data lands; every order loads or is
    quarantined with its reasons."""
    _quiet_prefect()
    from sources.files.errors import ImportRefused
    from sources.orders.request import prepare_order_import

    try:
        if fx_rates is not None:
            from sources.orders.request import prepare_fx_rates

            prepare_fx_rates(fx_rates)
        prepare_order_import(path, shop, mapping)
    except ImportRefused as refusal:
        _fail(str(refusal))
    from flows.orders import OrderImportSummary, describe_orders, import_orders

    state = import_orders(path, shop, mapping, fx_rates, return_state=True)
    if state.is_failed():
        _fail(state.message or "the order import failed; see the Prefect logs")
    summary = state.result()
    assert isinstance(summary, OrderImportSummary)
    console.print(describe_orders(summary))
    console.print(f"Committed to the lake: {summary.lake}")


@orders_app.command("fx-rates")
def orders_fx_rates(
    path: Annotated[str, typer.Argument(help="CSV: currency,rate_date,base_currency,rate.")],
) -> None:
    """Load exchange rates into fx_rate (a rate already there for the same currency, date and
    base is replaced)."""
    _quiet_prefect()
    from flows.orders import FxImportSummary, import_fx_rates, prepare_fx_rates
    from sources.files.errors import ImportRefused

    try:
        prepare_fx_rates(path)
    except ImportRefused as refusal:
        _fail(str(refusal))
    state = import_fx_rates(path, return_state=True)
    if state.is_failed():
        _fail(state.message or "the FX rates import failed; see the Prefect logs")
    summary = state.result()
    assert isinstance(summary, FxImportSummary)
    counts, outcome = summary.counts, summary.outcome
    console.print(
        f"FX rates of {summary.original_name}: {counts.landed} rows, {counts.loaded} loaded into "
        f"fx_rate ({outcome.inserted} new, {outcome.updated} changed, {outcome.unchanged} "
        f"unchanged), {counts.quarantined} quarantined"
    )


def _fail(message: str) -> NoReturn:
    console.print(f"[red]error:[/] {message}")
    raise typer.Exit(code=2)


def _with_progress(items: list[Item], what: str, describe: Callable[[Item], str]) -> Iterator[Item]:
    """Yield ``items`` while a progress bar shows which one is being worked on."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task(what, total=len(items))
        for item in items:
            progress.update(bar, description=f"{what} {describe(item)}")
            yield item
            progress.advance(bar)


def _full_weeks(first: dt.date, last: dt.date) -> list[dt.date]:
    """Mondays of the ISO weeks lying wholly inside [first, last]."""
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    weeks = []
    while monday + dt.timedelta(days=6) <= last:
        weeks.append(monday)
        monday += dt.timedelta(days=7)
    return weeks


@app.command()
def report(
    week: Annotated[
        str | None, typer.Option(help="ISO week, e.g. 2026-W47 (default: last full week).")
    ] = None,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="As-of date (default: the Monday after)."),
    ] = None,
) -> None:
    """Build the weekly engagement, audience-match and tier-drift reports of one ISO week."""
    from flows.weekly import weekly_reports

    _print_reports(weekly_reports(week=week, as_of=as_of.date() if as_of else None))


simulator_app = typer.Typer(
    help="The simulated platforms: serve them (the default), or write their ground truth.",
    invoke_without_command=True,
)
app.add_typer(simulator_app, name="simulator")


@simulator_app.callback()
def simulator(
    context: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    token: Annotated[
        str | None, typer.Option(help="Access token to accept (default: a random one).")
    ] = None,
    youtube_api_key: Annotated[
        str | None, typer.Option(help="YouTube API key to accept (default: a random one).")
    ] = None,
    tiktok_access_token_seconds: Annotated[
        int, typer.Option(min=1, help="Lifetime (expires_in) of the TikTok access tokens issued.")
    ] = 86_400,
    error_rate: Annotated[float, typer.Option(help="Share of answers that are 429/5xx.")] = 0.0,
    malformed_rate: Annotated[float, typer.Option(help="Share of malformed records.")] = 0.0,
    slow_rate: Annotated[float, typer.Option(help="Share of slow answers.")] = 0.0,
    down_date: Annotated[
        list[dt.datetime] | None,
        typer.Option(formats=["%Y-%m-%d"], help="A date the platforms are down for (repeatable)."),
    ] = None,
) -> None:
    """Serve the simulated platforms (every API dialect) until Ctrl-C."""
    if context.invoked_subcommand is not None:
        return
    from flows.settings import load_settings
    from simulator import FaultConfig, SimulatedWorld, SimulatorServer, TikTokAccess

    settings = load_settings()
    world = SimulatedWorld(
        seed=settings.simulator_seed, size=settings.simulator_size, anchor=settings.simulator_anchor
    )
    faults = FaultConfig(
        error_rate=error_rate,
        malformed_rate=malformed_rate,
        slow_rate=slow_rate,
        down_dates=frozenset(d.date() for d in down_date or ()),
    )
    accepted_token = token or secrets.token_urlsafe(24)
    youtube_key = youtube_api_key or secrets.token_urlsafe(24)
    tiktok = TikTokAccess(
        client_key=secrets.token_urlsafe(12),
        client_secret=secrets.token_urlsafe(24),
        access_token_seconds=tiktok_access_token_seconds,
    )
    server = SimulatorServer(
        world,
        access_token=accepted_token,
        youtube_api_key=youtube_key,
        tiktok=tiktok,
        host=host,
        port=port,
        faults=faults,
    )
    server.start()
    console.print(
        f"Simulated platforms on [bold]{server.url}[/] ({len(world.creators)} creators): the "
        "Instagram Graph API at its root, YouTube Data API v3 at /youtube/v3, TikTok API v2 at "
        "/tiktok. Point the pipeline at them with:"
    )
    # The simulator's credentials guard nothing real; a person must know them to call it.
    for line in (
        f"INFLUENCERS_INSTAGRAM__API_URL={server.url}",
        f"INFLUENCERS_INSTAGRAM__ACCESS_TOKEN={accepted_token}",
        "INFLUENCERS_INSTAGRAM__SUPPORTS_AS_OF=true",
        f"INFLUENCERS_YOUTUBE__API_URL={server.url}/youtube/v3",
        f"INFLUENCERS_YOUTUBE__API_KEY={youtube_key}",
        "INFLUENCERS_YOUTUBE__SUPPORTS_AS_OF=true",
        f"INFLUENCERS_TIKTOK__API_URL={server.url}/tiktok",
        f"INFLUENCERS_TIKTOK__CLIENT_KEY={tiktok.client_key}",
        f"INFLUENCERS_TIKTOK__CLIENT_SECRET={tiktok.client_secret}",
        "INFLUENCERS_TIKTOK__SUPPORTS_AS_OF=true",
    ):
        console.print(f"  export {line}")
    from flows.source_plans import seed_simulated_tiktok_tokens

    seeded = seed_simulated_tiktok_tokens(settings.tiktok_token_file, world)
    console.print(
        f"The simulated TikTok creators are connected in {settings.tiktok_token_file}"
        + (f" ({seeded} added)." if seeded else ".")
    )
    console.print("Ctrl-C stops it.")
    server.serve_forever()


@simulator_app.command("truth")
def simulator_truth(
    path: Annotated[Path, typer.Argument(help="Where to write the CSV.")],
    collaborations: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the collaborations' truth (default: PATH's name with "
            ".collaborations.csv)."
        ),
    ] = None,
    start: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="First day of orders (default: as the demo)."),
    ] = None,
    end: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day of orders (default: yesterday)."),
    ] = None,
) -> None:
    """Write the simulated world's ground truth as CSV, to score the detectors against.

    Columns: platform, handle, archetype, event_date (the day of a bought or viral jump, or of
    a riser's or decliner's tier crossing; empty for steady creators). The collaborations' file:
    campaign_id, platform, handle, true_orders, true_revenue (attributed by REPORTS.md's rules
    among the orders of START..END), deliverables, disclosed.
    """
    from simulator import write_truth
    from simulator.truth import write_collaboration_truth

    world = _simulated_world()
    rows = write_truth(world, path)
    console.print(f"Wrote the ground truth of {rows} accounts to {path}")
    first, last = _orders_period(start, end)
    target = collaborations or path.with_name(f"{path.stem}.collaborations.csv")
    try:
        rows = write_collaboration_truth(world, target, first, last)
    except ValueError as error:
        _fail(f"No collaborations' truth written to {target}: {error}")
    console.print(f"Wrote the true sales of {rows} collaborations ({first} .. {last}) to {target}")


@simulator_app.command("campaigns")
def simulator_campaigns(
    directory: Annotated[Path, typer.Argument(help="Directory to write the brands' files into.")],
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"], help="The files as they stood on this day (default: yesterday)."
        ),
    ] = None,
) -> None:
    """Write the sample brands' campaign files (<brand>.campaigns.toml and
    <brand>.collaborations.csv) as they stood on AS_OF: the campaigns planned by then, each
    collaboration's stage that day."""
    from simulator.campaigns import write_campaign_files

    day = as_of.date() if as_of else _yesterday()
    written = write_campaign_files(directory, _simulated_world(), day)
    console.print(f"Wrote {len(written)} campaign files as of {day} to {directory}")


@simulator_app.command("orders")
def simulator_orders(
    path: Annotated[Path, typer.Argument(help="Where to write the Shopify orders CSV.")],
    start: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="First day (default: as the demo)."),
    ] = None,
    end: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day (default: yesterday)."),
    ] = None,
    fx_rates: Annotated[
        Path | None, typer.Option(help="Also write the EUR -> USD rates of the days here.")
    ] = None,
    missing_rate: Annotated[
        list[dt.datetime] | None,
        typer.Option(formats=["%Y-%m-%d"], help="A day left without a rate (repeatable)."),
    ] = None,
) -> None:
    """Write the simulated shop's orders of START..END (UTC days) as Shopify exports them:
    organic orders, orders with the creators' promo codes and tracked links, refunds, EUR."""
    from simulator.campaigns import write_fx_rates, write_shopify_orders

    first, last = _orders_period(start, end)
    try:
        orders = write_shopify_orders(path, _simulated_world(), first, last)
    except ValueError as error:
        _fail(f"No orders written to {path}: {error}")
    console.print(f"Wrote {orders} orders ({first} .. {last}) to {path}")
    if fx_rates is not None:
        missing = [day.date() for day in missing_rate or ()]
        rates = write_fx_rates(fx_rates, first, last, missing=missing)
        console.print(f"Wrote {rates} EUR -> USD rates to {fx_rates}")


def _simulated_world() -> SimulatedWorld:
    from flows.settings import load_settings
    from flows.source_plans import simulated_world

    settings = load_settings()
    return simulated_world(
        settings.simulator_seed, settings.simulator_size, settings.simulator_anchor
    )


def _yesterday() -> dt.date:
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def _orders_period(start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.date, dt.date]:
    """The days asked for; by default the demo's: the 70 days ending yesterday."""
    last = end.date() if end else _yesterday()
    first = start.date() if start else last - dt.timedelta(days=69)
    if last < first:
        _fail(f"--end {last} is before --start {first}")
    return first, last


campaigns_app = typer.Typer(
    help="The brands' campaign files: check them, load them into the lake.",
    no_args_is_help=True,
)
app.add_typer(campaigns_app, name="campaigns")
CampaignsDir = Annotated[
    Path | None,
    typer.Argument(help="Folder of <brand>.campaigns.toml files (default: the setting)."),
]


def _read_campaign_files(directory: Path | None) -> Campaigns:
    """The brand file and the campaign files, read and judged; exit 2 listing every problem."""
    from flows.settings import load_settings
    from sources.programme import ProgrammeFileError, read_brand_file, read_campaigns

    settings = load_settings()
    try:
        brands = read_brand_file(settings.brands_path)
        return read_campaigns(directory or settings.campaigns_dir, brands)
    except ProgrammeFileError as refusal:
        _fail(str(refusal))


@campaigns_app.command("check")
def campaigns_check(directory: CampaignsDir = None) -> None:
    """Check the campaign files: every problem listed, or the campaigns and their stages."""
    from schemas.programme import STAGES

    campaigns = _read_campaign_files(directory)
    stages = campaigns.collaboration.pivot(
        "stage", index="campaign_id", values="handle", aggregate_function="len"
    )
    table = Table("campaign", "brand", "dates", "currency", *STAGES)
    for campaign in campaigns.dim_campaign.iter_rows(named=True):
        counts = stages.filter(campaign_id=campaign["campaign_id"]).to_dicts()
        count = counts[0] if counts else {}
        table.add_row(
            campaign["campaign_id"],
            campaign["brand_id"],
            f"{campaign['start_date']}..{campaign['end_date']}",
            campaign["currency"],
            *(str(count.get(stage) or "") for stage in STAGES),
        )
    console.print(table)
    console.print(
        f"{campaigns.dim_campaign.height} campaigns, {campaigns.collaboration.height} "
        "collaborations: the files are valid."
    )


@campaigns_app.command("load")
def campaigns_load(
    directory: CampaignsDir = None,
    date: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Date the stages hold from (default: today, UTC)."),
    ] = None,
) -> None:
    """Load the campaign files into the lake as of a date, in one commit; print stage changes."""
    from flows.settings import load_settings
    from warehouse.lake import open_lake
    from warehouse.programme import ProgrammeLoadRefused, load_programme

    campaigns = _read_campaign_files(directory)
    as_of = date.date() if date else dt.datetime.now(dt.UTC).date()
    connection = open_lake(load_settings().lake)
    try:
        loaded = load_programme(connection, campaigns, as_of, {"flow": "campaigns load"})
    except ProgrammeLoadRefused as refusal:
        _fail(str(refusal))
    finally:
        connection.close()
    table = Table("campaign", "platform", "account", "from", "to")
    for change in loaded.stage_changes.iter_rows(named=True):
        table.add_row(
            change["campaign_id"],
            change["platform"],
            change["handle"] or change["account_id"],
            change["from_stage"] or "(new)",
            change["to_stage"] or "(gone)",
        )
    if loaded.stage_changes.is_empty():
        console.print(f"No stage changed as of {as_of}.")
    else:
        console.print(table)
    console.print(
        f"Loaded {loaded.campaigns} campaigns and {loaded.collaborations} collaborations as of "
        f"{as_of}: {loaded.rows_opened} stage rows opened, {loaded.rows_closed} closed."
    )


tiktok_app = typer.Typer(
    help="TikTok creators' OAuth tokens: connect a creator, list or remove the connections.",
    no_args_is_help=True,
)
app.add_typer(tiktok_app, name="tiktok")


@tiktok_app.command("connect")
def tiktok_connect(
    handle: Annotated[str, typer.Argument(help="The creator's TikTok username, as in the roster.")],
    refresh_token_stdin: Annotated[
        bool,
        typer.Option(
            "--refresh-token-stdin",
            help="Read the creator's refresh token from standard input (never from the command "
            "line, which other users of the machine can read).",
        ),
    ] = False,
    code_stdin: Annotated[
        bool,
        typer.Option(
            "--code-stdin",
            help="Read an authorization code (from TikTok's consent redirect) from standard input "
            "and exchange it for the creator's tokens.",
        ),
    ] = False,
    redirect_uri: Annotated[
        str | None,
        typer.Option(help="With --code-stdin: the redirect_uri the consent was asked with."),
    ] = None,
) -> None:
    """Put a creator's tokens in the token store (INFLUENCERS_TIKTOK__TOKEN_FILE).

    With the TikTok API configured (INFLUENCERS_TIKTOK__API_URL and the client key and secret),
    the token is checked at once: a refresh token is refreshed, a code exchanged, and the pair
    TikTok answers is what the store keeps. Without it (the simulated platforms), a refresh token
    is stored as given and the first night refreshes it.
    """
    import sys

    from flows.settings import load_settings
    from schemas.roster import HANDLE_RULES
    from sources.tiktok.tokens import CreatorTokens, TokenStore, TokenStoreError

    rule = HANDLE_RULES["tiktok"]
    if not re.match(rule.pattern, handle):
        _fail(f'"{handle}" is not {rule.what} ({rule.says})')
    if refresh_token_stdin == code_stdin:
        _fail("give exactly one of --refresh-token-stdin or --code-stdin")
    if code_stdin and not redirect_uri:
        _fail("--code-stdin needs --redirect-uri (the one the consent was asked with)")
    secret = sys.stdin.readline().strip()
    if not secret:
        _fail("nothing was read from standard input: pipe the token or code into the command")
    settings = load_settings()
    store = TokenStore(settings.tiktok_token_file)
    try:
        if settings.tiktok.api_url is None:
            if code_stdin:
                _fail(
                    "exchanging a code needs the TikTok API: set INFLUENCERS_TIKTOK__API_URL, "
                    "INFLUENCERS_TIKTOK__CLIENT_KEY and INFLUENCERS_TIKTOK__CLIENT_SECRET"
                )
            store.put(CreatorTokens(handle=handle, refresh_token=secret))
            console.print(
                f"{handle}: refresh token stored in {store.path}; the next night refreshes it."
            )
            return
        tokens = _tiktok_tokens_from_api(settings, handle, secret, redirect_uri)
        store.put(tokens)
    except TokenStoreError as error:
        _fail(str(error))
    expires = tokens.refresh_token_expires_at
    console.print(
        f"{handle}: connected (open_id {tokens.open_id}, scopes {tokens.scope}); tokens stored "
        f"in {store.path}"
        + (f"; the refresh token is good until {expires:%Y-%m-%d}" if expires else "")
    )


def _tiktok_tokens_from_api(
    settings: Settings, handle: str, secret: str, redirect_uri: str | None
) -> CreatorTokens:
    """The tokens TikTok grants for a refresh token (or, with a redirect URI, a code)."""
    import datetime as dt

    from flows.source_plans import SOURCE_PLANS, platform_endpoints
    from sources.http import ApiError
    from sources.tiktok.client import TikTokClient
    from sources.tiktok.extract import renewed, utc_now
    from sources.tiktok.tokens import CreatorTokens

    with platform_endpoints(settings) as endpoints:
        config = endpoints.config_for(SOURCE_PLANS["tiktok"], dt.date.today())
    granted_at = utc_now()
    try:
        with TikTokClient(config) as client:
            grant = (
                client.exchange_code(secret, redirect_uri)
                if redirect_uri is not None
                else client.refresh(secret)
            )
    except ApiError as error:
        _fail(f"TikTok refused it: {error}")
    return renewed(CreatorTokens(handle=handle, refresh_token=secret), grant, granted_at)


@tiktok_app.command("connections")
def tiktok_connections() -> None:
    """List the connected creators and when their tokens expire (never the tokens)."""
    from flows.settings import load_settings
    from sources.tiktok.tokens import TokenEntryError, TokenStore, TokenStoreError

    store = TokenStore(load_settings().tiktok_token_file)
    try:
        handles = store.handles()
    except TokenStoreError as error:
        _fail(str(error))
    table = Table("handle", "open_id", "access token expires", "refresh token expires", "scopes")
    for handle in handles:
        try:
            tokens = store.get(handle)
        except TokenEntryError as error:
            table.add_row(handle, f"[red]unusable: {error}[/]", "", "", "")
            continue
        assert tokens is not None
        table.add_row(
            handle,
            tokens.open_id or "",
            _when(tokens.access_token_expires_at) if tokens.access_token else "none yet",
            _when(tokens.refresh_token_expires_at),
            tokens.scope or "",
        )
    console.print(table)
    console.print(f"{len(handles)} creators connected in {store.path}")


@tiktok_app.command("disconnect")
def tiktok_disconnect(
    handle: Annotated[str, typer.Argument(help="The creator's TikTok username.")],
) -> None:
    """Remove a creator's tokens from the token store."""
    from flows.settings import load_settings
    from sources.tiktok.tokens import TokenStore, TokenStoreError

    store = TokenStore(load_settings().tiktok_token_file)
    try:
        removed = store.remove(handle)
    except TokenStoreError as error:
        _fail(str(error))
    console.print(f"{handle}: " + ("tokens removed" if removed else f"not in {store.path}"))


def _when(moment: dt.datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "unknown"


@app.command()
def roster(
    out: Annotated[Path, typer.Argument(help="Where to write the roster CSV.")],
) -> None:
    """Write the simulated world's roster as an editable CSV (then set INFLUENCERS_ROSTER_PATH)."""
    from flows.settings import load_settings
    from simulator import SimulatedWorld, write_roster

    settings = load_settings()
    world = SimulatedWorld(
        seed=settings.simulator_seed, size=settings.simulator_size, anchor=settings.simulator_anchor
    )
    write_roster(out, world)
    console.print(f"Wrote {len(world.creators)} accounts to {out}")


def _print_run(summary: object) -> None:
    from flows.accounting import NightlySummary, quota_text

    assert isinstance(summary, NightlySummary)
    console.print(f"[bold]nightly {summary.partition_date}[/]")
    table = Table("source", "entity", "landed", "loaded", "quarantined", "duplicates removed")
    for source, night in summary.sources.items():
        for entity, counts in night.counts.items():
            table.add_row(
                source,
                entity,
                str(counts.landed),
                str(counts.loaded),
                str(counts.quarantined),
                str(counts.deduplicated),
            )
    console.print(table)
    for source, night in summary.sources.items():
        how = "replayed" if night.replayed else "extracted"
        console.print(
            f"{source}: {how} landing {night.landing_run_id}; {night.accounts_fetched} of "
            f"{night.accounts} accounts fetched, {night.accounts_failed} failed (see table "
            "failed_accounts)"
        )
        quota = quota_text(night.extract)
        if quota:
            console.print(f"  {quota}")
    for problem in summary.roster_problems:
        console.print(f"[yellow]roster line refused[/]: {problem}")
    console.print(f"Committed to the lake: {summary.lake}")


PER_PLATFORM_ROWS = """
with counts as (
    select platform, 'accounts' as what from dim_influencer
    union all select platform, 'engagement' from rpt_weekly_engagement
    union all select platform, 'audience_match' from rpt_audience_match
    union all select platform, 'drift' from rpt_tier_drift
)
select platform,
       count(*) filter (where what = 'accounts'),
       count(*) filter (where what = 'engagement'),
       count(*) filter (where what = 'audience_match'),
       count(*) filter (where what = 'drift')
from counts
group by platform
order by case platform when 'instagram' then 1 when 'youtube' then 2 when 'tiktok' then 3 end,
         platform
"""


def _print_warehouse_summary(lake: LakeLocation) -> None:
    from warehouse.lake import open_lake

    connection = open_lake(lake, read_only=True)
    try:
        table = Table("table", "rows", title="Warehouse")
        for name in (
            "roster",
            "dim_influencer",
            "fact_profile_daily",
            "fact_post_metrics",
            "fact_audience_share",
            "quarantine",
            "pipeline_runs",
        ):
            (rows,) = connection.execute(f"select count(*) from {name}").fetchall()[0]
            table.add_row(name, f"{rows:,}")
        console.print(table)
        by_platform = Table(
            "platform",
            "accounts",
            "rpt_weekly_engagement",
            "rpt_audience_match",
            "rpt_tier_drift",
            title="Per platform (report rows over all weeks)",
        )
        for row in connection.execute(PER_PLATFORM_ROWS).fetchall():
            by_platform.add_row(row[0], *(f"{count:,}" for count in row[1:]))
        console.print(by_platform)
        quarantined = connection.execute(
            "select entity, count(*) from quarantine group by entity order by entity"
        ).fetchall()
    finally:
        connection.close()
    if quarantined:
        console.print(
            "Quarantined records: "
            + ", ".join(f"{entity} {count}" for entity, count in quarantined)
        )
    else:
        console.print("Quarantined records: none")
    console.print(f"\nThe lake: [bold]{lake.describe()}[/]")
    console.print("Query it (read-only, never blocks a run):")
    console.print(
        '  .venv/bin/influencers sql "select handle, followers from fact_profile_daily join '
        "dim_influencer using (platform, account_id) where snapshot_date = (select "
        'max(snapshot_date) from fact_profile_daily) order by followers desc limit 10"'
    )
    console.print("  make sql            # the DuckDB shell, with the lake attached read-only")
    console.print("  .venv/bin/influencers snapshots   # every commit, labelled with its run")


def _print_reports(summary: object) -> None:
    from flows.weekly import WeeklyReportSummary, iso_week_label

    assert isinstance(summary, WeeklyReportSummary)
    console.print(
        f"\n[bold]Reports for {iso_week_label(summary.week_start)}[/] (as of {summary.as_of}): "
        + ", ".join(f"{rows} rows in {table}" for table, rows in summary.rows.items())
    )
    drift = Table("recommendation", "accounts", title="Tier drift")
    for recommendation, handles in summary.recommendations.items():
        shown = ", ".join(handles[:6]) + (" ..." if len(handles) > 6 else "")
        drift.add_row(recommendation, f"{len(handles)}: {shown}")
    console.print(drift)
    matches = Table("brand", "best audience matches (score)", title="Audience match")
    for brand, top in summary.top_matches.items():
        matches.add_row(brand, ", ".join(f"{handle} ({score:.0f})" for handle, score in top))
    console.print(matches)
    leaders = Table("platform and tier", "engagement leaders (rate)", title="Weekly engagement")
    for tier, top in summary.engagement_leaders.items():
        leaders.add_row(tier, ", ".join(f"{handle} ({rate:.2%})" for handle, rate in top))
    console.print(leaders)
    calls = Table("call", "collaborations", title="Campaigns: keep, chase or drop")
    for call, collaborations in summary.campaign_calls.items():
        shown = ", ".join(collaborations[:4]) + (" ..." if len(collaborations) > 4 else "")
        calls.add_row(call, f"{len(collaborations)}: {shown}")
    console.print(calls)
    console.print(f"HTML report: [bold]{summary.html_path}[/]")
