"""The nightly flow: extract -> land -> validate -> transform -> load -> publish, for one date.

A re-run of the same date gives the same warehouse: by default it replays what already landed for
that date instead of fetching again (``mode=extract`` forces a new extraction, ``mode=replay``
refuses to fetch at all).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandera.polars as pa
import polars as pl
from prefect import State, flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.runtime import deployment, flow_run

from flows.settings import Settings, load_settings
from schemas.contract import ContractSplit, split_by_contract
from schemas.raw import RAW_CONTRACTS, json_paths
from schemas.roster import RosterEntry
from schemas.warehouse import DimInfluencer, FactAudienceShare, FactPostMetrics, FactProfileDaily
from simulator import SimulatedWorld, SimulatorServer
from sources.instagram import (
    PLATFORM,
    RETRYABLE_STATUSES,
    THROTTLING_CODES,
    TRANSIENT_CODES,
    GraphApiConfig,
    GraphApiError,
    InstagramGraphClient,
    extract_instagram,
)
from sources.landing import (
    LandingManifest,
    land_run,
    latest_manifest,
    new_run_id,
    read_landed_lines,
)
from sources.redaction import redact
from sources.roster import RosterFileError, TrackedAccount, read_roster_rows
from transforms.audience import fact_audience_share, split_incomplete_breakdowns
from transforms.posts import fact_post_metrics
from transforms.profiles import fact_profile_daily, influencer_sightings
from transforms.raw_records import parse_landed_records
from warehouse.connection import open_warehouse
from warehouse.load import PartitionLoad, load_partition, record_runs
from warehouse.publish import publish_database

SOURCE = "instagram_graph"
ENTITY_TABLES = {
    "profiles": "fact_profile_daily",
    "media": "fact_post_metrics",
    "audience": "fact_audience_share",
}
# The real API answers "now": the counts of the end of yesterday are still what it reports at
# 02:00 today, but nothing older can be extracted from it.
LIVE_EXTRACTION_MAX_AGE_DAYS = 1
WAREHOUSE_WRITER_LIMIT = "warehouse-writer"
# A load takes about a second; waiting longer than this means a writer is stuck.
WRITER_WAIT_SECONDS = 1800


class ExtractMode(StrEnum):
    """How a run gets its raw records."""

    auto = "auto"  # replay the date's landing if there is one, else extract
    extract = "extract"  # always fetch again (a new landing)
    replay = "replay"  # only replay what landed; fail if nothing did


class QuarantineThresholdExceeded(RuntimeError):
    """Too large a share of a run's records failed their contracts (the valid rest was loaded)."""


class ExtractionRefused(RuntimeError):
    """The configured source cannot answer for the requested date."""


@dataclass
class EntityCounts:
    """How one entity's records went through one run: landed = loaded + quarantined + deduped."""

    landed: int = 0
    valid: int = 0
    quarantined: int = 0
    deduplicated: int = 0
    loaded: int = 0


@dataclass
class NightlySummary:
    """What a nightly run did, for the command line and the flow's return value."""

    partition_date: dt.date
    run_id: str
    landing_run_id: str
    replayed: bool
    counts: dict[str, EntityCounts] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warehouse_path: str = ""
    published_path: str = ""


def partition_date_for(date: dt.date | None, timezone: str = "UTC") -> dt.date:
    """The date a run is for: the given one, or the day before the run was scheduled to start
    (in the schedule's timezone), so scheduled runs and backfills share one code path."""
    if date is not None:
        return date
    scheduled = flow_run.scheduled_start_time
    started = scheduled if scheduled is not None else dt.datetime.now(dt.UTC)
    return started.astimezone(ZoneInfo(timezone)).date() - dt.timedelta(days=1)


def _flow_run_name() -> str:
    requested = flow_run.parameters.get("date")
    if isinstance(requested, str):
        requested = dt.date.fromisoformat(requested)
    timezone = load_settings().schedule_timezone
    return f"nightly-{partition_date_for(requested, timezone).isoformat()}"


@contextmanager
def instagram_endpoint(settings: Settings, *, page_size: int = 25) -> Iterator[GraphApiConfig]:
    """The Graph API to extract from: the configured one, or simulated platforms started here."""
    common: dict[str, Any] = {
        "app_user_id": settings.instagram_account_id,
        "api_version": settings.instagram_api_version,
        "timeout_seconds": settings.http_timeout_seconds,
        "max_retries": settings.http_max_retries,
        "concurrency": settings.http_concurrency,
        "page_size": page_size,
    }
    if settings.instagram_api_url is not None:
        token = settings.instagram_access_token
        assert token is not None, "settings validation requires a token with a URL"
        yield GraphApiConfig(
            base_url=settings.instagram_api_url,
            access_token=token.get_secret_value(),
            sends_as_of=settings.instagram_supports_as_of,
            **common,
        )
        return
    world = SimulatedWorld(
        seed=settings.simulator_seed,
        size=settings.simulator_size,
        anchor=settings.simulator_anchor,
    )
    simulator_token = secrets.token_urlsafe(24)
    with SimulatorServer(world, access_token=simulator_token) as server:
        yield GraphApiConfig(
            base_url=server.url, access_token=simulator_token, sends_as_of=True, **common
        )


@contextmanager
def warehouse_writer() -> Iterator[None]:
    """Hold the one slot of the ``warehouse-writer`` global concurrency limit.

    DuckDB allows one read-write process per file: runs on several workers extract and validate
    in parallel, but take turns to write. A run started outside a deployment (the command line,
    the demo) has no server-side limit to take and writes alone; a deployed run whose server
    lacks the limit runs unguarded, and Prefect warns about it.
    """
    if not deployment.id:
        yield
        return
    with concurrency(WAREHOUSE_WRITER_LIMIT, occupy=1, timeout_seconds=WRITER_WAIT_SECONDS):
        yield


@task(cache_policy=NO_CACHE)
def read_roster(roster_path: Path) -> pl.DataFrame:
    """The tracked accounts, validated; a bad file is refused naming its lines."""
    rows = read_roster_rows(roster_path)
    frame = pl.DataFrame(
        rows,
        schema={column: pl.String for column in (*RosterEntry.to_schema().columns,)},
    ).with_columns(
        pl.col("line_number").cast(pl.Int64),
        pl.col("country", "category").replace("", None),
    )
    split = split_by_contract(frame, RosterEntry)
    if not split.rejected.is_empty():
        problems = "; ".join(
            f"line {row['line_number']} ({row['handle'] or 'no handle'}): "
            + ", ".join(row["failed_checks"])
            for row in split.rejected.iter_rows(named=True)
        )
        raise RosterFileError(f"{roster_path}: {problems}")
    return split.valid.select(
        "platform",
        "handle",
        connected=pl.col("connected").str.to_lowercase().is_in(["true", "yes", "1"]),
        country="country",
        category="category",
    )


def _worth_retrying(task: object, task_run: object, state: State[Any]) -> bool:
    """Retry the extraction task for outages, not for a bad token or a refused date."""
    try:
        state.result()
    except ExtractionRefused:
        return False
    except GraphApiError as error:
        return (
            error.status is None
            or error.status in RETRYABLE_STATUSES
            or error.code in THROTTLING_CODES | TRANSIENT_CODES
        )
    except Exception:
        return True
    return True


@task(
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=_worth_retrying,
    cache_policy=NO_CACHE,
)
def extract_and_land(
    partition_date: dt.date,
    endpoint: GraphApiConfig,
    accounts: list[TrackedAccount],
    raw_dir: Path,
    lookback_days: int,
    fetch_audience: bool,
) -> LandingManifest:
    """Fetch every tracked account as of ``partition_date`` and land the records raw."""
    logger = get_run_logger()
    oldest_live_date = dt.datetime.now(dt.UTC).date() - dt.timedelta(
        days=LIVE_EXTRACTION_MAX_AGE_DAYS
    )
    if not endpoint.sends_as_of and partition_date < oldest_live_date:
        raise ExtractionRefused(
            f"cannot extract {partition_date} from {redact(endpoint.base_url)}: the live API only "
            "reports today's counts. Replay what landed for that date (mode=replay) instead."
        )
    with InstagramGraphClient(endpoint) as client:
        extract = extract_instagram(
            client,
            accounts,
            partition_date,
            lookback_days,
            endpoint.concurrency,
            fetch_audience=fetch_audience,
        )
    notes = [f"{p.handle} ({p.entity}): {p.reason}" for p in extract.problems]
    manifest = land_run(
        raw_dir,
        SOURCE,
        partition_date,
        new_run_id(),
        {"profiles": extract.profiles, "media": extract.media, "audience": extract.audience},
        notes=notes,
    )
    logger.info(
        "landed %s profiles, %s media, %s audience records for %s in %s requests (run %s)",
        len(extract.profiles),
        len(extract.media),
        len(extract.audience),
        partition_date,
        extract.requests_made,
        manifest.run_id,
    )
    for note in notes:
        logger.warning("incomplete account: %s", note)
    return manifest


@task(cache_policy=NO_CACHE)
def validate_landing(raw_dir: Path, manifest: LandingManifest) -> dict[str, ContractSplit]:
    """Split each landed entity into valid rows and rows to quarantine, with their reasons."""
    splits = {}
    for entity, contract in RAW_CONTRACTS.items():
        landed = manifest.file_for(entity)
        lines = pl.DataFrame(
            [
                {"landed_file": landed.path, "line_number": number, "raw_record": text}
                for number, text in read_landed_lines(raw_dir, landed)
            ],
            schema={"landed_file": pl.String, "line_number": pl.Int64, "raw_record": pl.String},
        )
        parsed = parse_landed_records(lines.lazy(), json_paths(contract)).collect()
        splits[entity] = split_by_contract(parsed, contract)
    audience = splits["audience"]
    kept, incomplete = split_incomplete_breakdowns(audience.valid.lazy(), audience.rejected.lazy())
    splits["audience"] = ContractSplit(
        valid=kept.collect(), rejected=pl.concat([audience.rejected, incomplete.collect()])
    )
    return splits


@task(cache_policy=NO_CACHE)
def transform_partition(
    splits: dict[str, ContractSplit], roster: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """The warehouse rows of one date, each frame checked against its table's contract."""
    profiles = splits["profiles"].valid.lazy()
    influencers = _checked(
        DimInfluencer, influencer_sightings(profiles, roster.lazy(), PLATFORM).collect()
    )
    facts = {
        "fact_profile_daily": _checked(
            FactProfileDaily, fact_profile_daily(profiles, PLATFORM).collect()
        ),
        "fact_post_metrics": _checked(
            FactPostMetrics, fact_post_metrics(splits["media"].valid.lazy(), PLATFORM).collect()
        ),
        "fact_audience_share": _checked(
            FactAudienceShare,
            fact_audience_share(splits["audience"].valid.lazy(), PLATFORM).collect(),
        ),
    }
    return influencers, facts


def _checked(model: type[pa.DataFrameModel], frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` after checking it meets its table's contract (a failure is a transform bug)."""
    model.validate(frame)
    return frame


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def load_warehouse(warehouse_path: Path, load: PartitionLoad) -> None:
    """Replace the date's rows in one transaction, then close (and so checkpoint) the file."""
    connection = open_warehouse(warehouse_path)
    try:
        load_partition(connection, load)
        connection.execute("checkpoint")
    finally:
        connection.close()


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def publish_warehouse(warehouse_path: Path, published_path: Path) -> Path:
    """Swap the analysts' copy for the freshly loaded warehouse."""
    return publish_database(warehouse_path, published_path)


@flow(name="nightly", flow_run_name=_flow_run_name, log_prints=True)
def nightly(date: dt.date | None = None, mode: ExtractMode = ExtractMode.auto) -> NightlySummary:
    """Extract, land, validate, transform, load and publish one UTC date.

    Args:
        date: the UTC date to load (counts as of the end of that day); default: the day before
            the run's scheduled start.
        mode: auto (replay a landing of that date if one exists, else extract), extract (always
            fetch again) or replay (only what already landed).
    """
    settings = load_settings()
    partition_date = partition_date_for(date, settings.schedule_timezone)
    run_id = new_run_id()
    started_at = _now()
    logger = get_run_logger()
    step = "extract"
    try:
        roster = read_roster(settings.roster_path)
        manifest = (
            None
            if mode is ExtractMode.extract
            else latest_manifest(settings.raw_dir, SOURCE, partition_date)
        )
        replayed = manifest is not None
        if manifest is None:
            if mode is ExtractMode.replay:
                raise ExtractionRefused(
                    f"nothing has landed for {partition_date} under {settings.raw_dir}: run with "
                    "mode=extract (or auto) to fetch it"
                )
            accounts = [TrackedAccount(**row) for row in roster.iter_rows(named=True)]
            with instagram_endpoint(settings) as endpoint:
                manifest = extract_and_land(
                    partition_date,
                    endpoint,
                    accounts,
                    settings.raw_dir,
                    settings.post_lookback_days,
                    partition_date.weekday() in settings.audience_weekdays,
                )
        else:
            logger.info("replaying landing %s of %s", manifest.run_id, partition_date)
        step = "validate"
        splits = validate_landing(settings.raw_dir, manifest)
        step = "transform"
        influencers, facts = transform_partition(splits, roster)
        summary = NightlySummary(
            partition_date=partition_date,
            run_id=run_id,
            landing_run_id=manifest.run_id,
            replayed=replayed,
            problems=list(manifest.notes),
            warehouse_path=str(settings.warehouse_path),
            published_path=str(settings.published_path),
        )
        for entity, split in splits.items():
            landed = manifest.file_for(entity).records
            loaded = facts[ENTITY_TABLES[entity]].height
            summary.counts[entity] = EntityCounts(
                landed=landed,
                valid=split.valid.height,
                quarantined=split.rejected.height,
                deduplicated=split.valid.height - loaded,
                loaded=loaded,
            )
        over_threshold = _entities_over_threshold(summary, settings.max_quarantine_share)
        step = "load"
        with warehouse_writer():
            load_warehouse(
                settings.warehouse_path,
                PartitionLoad(
                    source=SOURCE,
                    platform=PLATFORM,
                    partition_date=partition_date,
                    roster=roster,
                    influencers=influencers,
                    facts=facts,
                    quarantine=_quarantine_rows(splits, manifest),
                    run_log=_run_log(summary, manifest, started_at, _flow_run_id(), over_threshold),
                ),
            )
            step = "publish"
            publish_warehouse(settings.warehouse_path, settings.published_path)
    except Exception as error:
        _record_failure(settings, partition_date, run_id, step, started_at, error)
        raise
    if over_threshold:
        raise QuarantineThresholdExceeded(
            _threshold_message(summary, over_threshold, settings.max_quarantine_share)
        )
    return summary


def _quarantine_rows(splits: dict[str, ContractSplit], manifest: LandingManifest) -> pl.DataFrame:
    frames = [
        split.rejected.select(
            source=pl.lit(manifest.source),
            entity=pl.lit(entity),
            partition_date=pl.lit(dt.date.fromisoformat(manifest.partition_date)),
            run_id=pl.lit(manifest.run_id),
            raw_record="raw_record",
            failed_checks="failed_checks",
            landed_file="landed_file",
            line_number=pl.col("line_number").cast(pl.Int32),
        )
        for entity, split in splits.items()
    ]
    return pl.concat(frames)


def _run_log(
    summary: NightlySummary,
    manifest: LandingManifest,
    started_at: dt.datetime,
    flow_run_id: str | None,
    over_threshold: set[str],
) -> pl.DataFrame:
    finished_at = _now()
    rows = []
    for entity, counts in summary.counts.items():
        common = {
            "run_id": summary.run_id,
            "flow_run_id": flow_run_id,
            "landing_run_id": manifest.run_id,
            "source": SOURCE,
            "partition_date": summary.partition_date,
            "entity": entity,
            "status": "ok",
            "started_at": started_at,
            "finished_at": finished_at,
        }
        rows.append(
            {
                **common,
                "step": "extract",
                "rows_in": counts.landed,
                "status": "replayed" if summary.replayed else "ok",
                "message": "; ".join(n for n in manifest.notes if f"({entity})" in n) or None,
            }
        )
        rows.append(
            {
                **common,
                "step": "validate",
                "rows_in": counts.landed,
                "rows_valid": counts.valid,
                "rows_quarantined": counts.quarantined,
                "status": "quarantine_exceeded" if entity in over_threshold else "ok",
            }
        )
        rows.append(
            {
                **common,
                "step": "load",
                "entity": ENTITY_TABLES[entity],
                "rows_in": counts.valid,
                "rows_deduplicated": counts.deduplicated,
                "rows_loaded": counts.loaded,
            }
        )
    return pl.DataFrame(rows, schema=_RUN_LOG_SCHEMA)


_RUN_LOG_COLUMNS: dict[str, Any] = {
    "run_id": pl.String,
    "flow_run_id": pl.String,
    "landing_run_id": pl.String,
    "source": pl.String,
    "partition_date": pl.Date,
    "step": pl.String,
    "entity": pl.String,
    "rows_in": pl.Int64,
    "rows_valid": pl.Int64,
    "rows_quarantined": pl.Int64,
    "rows_deduplicated": pl.Int64,
    "rows_loaded": pl.Int64,
    "status": pl.String,
    "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"),
    "message": pl.String,
}
_RUN_LOG_SCHEMA = pl.Schema(_RUN_LOG_COLUMNS)


def _record_failure(
    settings: Settings,
    partition_date: dt.date,
    run_id: str,
    step: str,
    started_at: dt.datetime,
    error: Exception,
) -> None:
    """Leave a failed row in ``pipeline_runs``; never mask the original error."""
    row = {
        "run_id": run_id,
        "flow_run_id": _flow_run_id(),
        "source": SOURCE,
        "partition_date": partition_date,
        "step": step,
        "status": "failed",
        "started_at": started_at,
        "finished_at": _now(),
        "message": redact(f"{type(error).__name__}: {error}")[:2000],
    }
    try:
        with warehouse_writer():
            connection = open_warehouse(settings.warehouse_path)
            try:
                record_runs(connection, pl.DataFrame([row], schema=_RUN_LOG_SCHEMA))
            finally:
                connection.close()
    except Exception as recording_error:  # the run's own error matters more
        get_run_logger().error("could not record the failed run: %s", recording_error)


def _entities_over_threshold(summary: NightlySummary, max_share: float) -> set[str]:
    return {
        entity
        for entity, counts in summary.counts.items()
        if counts.landed and counts.quarantined / counts.landed > max_share
    }


def _threshold_message(summary: NightlySummary, entities: set[str], max_share: float) -> str:
    detail = "; ".join(
        f"{entity}: {c.quarantined} of {c.landed} ({c.quarantined / c.landed:.1%})"
        for entity, c in summary.counts.items()
        if entity in entities
    )
    return (
        f"{summary.partition_date}: quarantined share above {max_share:.1%} ({detail}). "
        "The valid records were loaded; inspect the rest with: select entity, failed_checks, "
        f"raw_record from quarantine where partition_date = '{summary.partition_date}'"
    )


def _flow_run_id() -> str | None:
    run_id = flow_run.id
    return str(run_id) if run_id else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
