"""The ``influencers`` command line."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from warehouse.lake import LakeLocation

app = typer.Typer(
    help="Influencer analytics: nightly extraction, the DuckLake warehouse and the simulated "
    "platforms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
Item = TypeVar("Item")

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
    from flows.nightly import nightly as nightly_flow
    from flows.settings import load_settings
    from flows.weekly import iso_week_label, weekly_reports

    settings = load_settings()
    last = end.date() if end else dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    dates = [last - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    source = (
        "the simulated platforms (in-process)"
        if settings.uses_embedded_simulator
        else "the configured Instagram API"
    )
    console.print(f"Loading {dates[0]} .. {dates[-1]} from {source}")
    summaries = [
        nightly_flow(date=date) for date in _with_progress(dates, "nightly", lambda date: str(date))
    ]
    labels = [iso_week_label(week_start) for week_start in _full_weeks(dates[0], dates[-1])]
    reports = [
        weekly_reports(week=label)
        for label in _with_progress(labels, "weekly reports", lambda label: label)
    ]
    del summaries
    _print_warehouse_summary(settings.lake)
    if reports:
        _print_reports(reports[-1])


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help='One read-only query, e.g. "select * from roster".')],
    output_format: Annotated[
        str | None, typer.Option("--format", help="csv or parquet: write the whole result.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="File to write with --format.")] = None,
    max_rows: Annotated[int, typer.Option(min=1, help="Rows shown in the terminal.")] = 50,
) -> None:
    """Run one query against the lake, read-only (it never blocks or waits for a run)."""
    import duckdb

    from flows.settings import load_settings
    from warehouse.analyst import QueryRefused, export, preview
    from warehouse.lake import LakeNotFound

    lake = load_settings().lake
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


@app.command()
def snapshots(
    limit: Annotated[int, typer.Option(min=1, help="Newest snapshots shown.")] = 30,
) -> None:
    """List the lake's snapshots, newest first, each labelled with the run that committed it."""
    from flows.settings import load_settings
    from warehouse.lake import LakeNotFound, open_lake
    from warehouse.snapshots import list_snapshots

    try:
        connection = open_lake(load_settings().lake, read_only=True)
    except LakeNotFound as error:
        _fail(str(error))
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
    from simulator import FaultConfig, SimulatedWorld, SimulatorServer

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
    server = SimulatorServer(
        world,
        access_token=accepted_token,
        youtube_api_key=youtube_key,
        host=host,
        port=port,
        faults=faults,
    )
    server.start()
    console.print(
        f"Simulated platforms on [bold]{server.url}[/] ({len(world.creators)} creators): the "
        "Instagram Graph API at its root, YouTube Data API v3 at /youtube/v3. Point the "
        "pipeline at them with:"
    )
    # The simulator's credentials guard nothing real; a person must know them to call it.
    for line in (
        f"INFLUENCERS_INSTAGRAM__API_URL={server.url}",
        f"INFLUENCERS_INSTAGRAM__ACCESS_TOKEN={accepted_token}",
        "INFLUENCERS_INSTAGRAM__SUPPORTS_AS_OF=true",
        f"INFLUENCERS_YOUTUBE__API_URL={server.url}/youtube/v3",
        f"INFLUENCERS_YOUTUBE__API_KEY={youtube_key}",
        "INFLUENCERS_YOUTUBE__SUPPORTS_AS_OF=true",
    ):
        console.print(f"  export {line}")
    console.print("Ctrl-C stops it.")
    server.serve_forever()


@simulator_app.command("truth")
def simulator_truth(
    path: Annotated[Path, typer.Argument(help="Where to write the CSV.")],
) -> None:
    """Write the simulated world's ground truth as CSV, to score the detectors against.

    Columns: platform, handle, archetype, event_date (the day of a bought or viral jump, or of
    a riser's or decliner's tier crossing; empty for steady creators).
    """
    from flows.settings import load_settings
    from simulator import SimulatedWorld, write_truth

    settings = load_settings()
    world = SimulatedWorld(
        seed=settings.simulator_seed, size=settings.simulator_size, anchor=settings.simulator_anchor
    )
    rows = write_truth(world, path)
    console.print(f"Wrote the ground truth of {rows} accounts to {path}")


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
    console.print(f"HTML report: [bold]{summary.html_path}[/]")
