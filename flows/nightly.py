"""The nightly flow: for each configured source, extract -> land -> validate -> transform -> load,
for one date; each source's load is one commit (one snapshot) of the lake.

A re-run of the same date gives the same warehouse: by default it replays what already landed for
that date instead of fetching again (``mode=extract`` forces a new extraction, ``mode=replay``
refuses to fetch at all). An account that cannot be fetched is recorded in ``failed_accounts`` and
the night goes on; the night ends red only when the failure is not an account's (see
:func:`flows.accounting.night_verdict`), after loading everything it fetched.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.context import FlowRunContext
from prefect.runtime import deployment, flow_run

from flows.accounting import (
    NightlySummary,
    SourceNight,
    entities_over_threshold,
    extract_summary,
    failed_accounts_frame,
    failed_run_row,
    failure_records,
    night_verdict,
    run_log_frame,
)
from flows.settings import Settings, SourceName, load_settings
from flows.source_plans import (
    FAILED_ACCOUNTS_ENTITY,
    SOURCE_PLANS,
    PlatformEndpoints,
    SourcePlan,
    platform_endpoints,
)
from flows.validation import StagedLanding, validate_landing
from schemas.roster import split_roster
from sources.landing import (
    LandingManifest,
    LandingWriter,
    latest_manifest,
    new_run_id,
    verify_landed_file,
)
from sources.redaction import redact
from sources.roster import TrackedAccount, read_roster_rows
from warehouse.crashpoints import crash_point
from warehouse.lake import LakeLocation, lake_connection, open_lake
from warehouse.load import PartitionLoad, load_partition, record_runs

# The real API answers "now": the counts of the end of yesterday are still what it reports at
# 02:00 today, but nothing older can be extracted from it.
LIVE_EXTRACTION_MAX_AGE_DAYS = 1
WAREHOUSE_WRITER_LIMIT = "warehouse-writer"
# A load takes about a second; waiting longer than this means a writer is stuck.
WRITER_WAIT_SECONDS = 1800
DEPLOYMENT_ID_OVERRIDE = "PREFECT__RUNTIME__DEPLOYMENT__ID"
# The writer slot of the runs that no deployment started: this lock among the threads of a process
# (re-entrant: a run holding it may record a failure), and an flock on a file beside the catalog
# among the processes of the machine (the demo's nights run in two).
_PROCESS_WRITER = threading.RLock()
# How many times the thread holding _PROCESS_WRITER holds each lake's lock file.
_lock_files_held: dict[Path, int] = {}


class ExtractMode(StrEnum):
    """How a run gets its raw records."""

    auto = "auto"  # replay the date's landing if there is one, else extract
    extract = "extract"  # always fetch again (a new landing)
    replay = "replay"  # only replay what landed; fail if nothing did


class NightFailed(RuntimeError):
    """The night's failure was not one account's; what was fetched was landed and loaded."""


class ExtractionRefused(RuntimeError):
    """The configured source cannot answer for the requested date."""


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
def warehouse_writer(lake: LakeLocation) -> Iterator[None]:
    """Hold the one slot of the ``warehouse-writer`` global concurrency limit while writing to a
    lake whose catalog is a SQLite file.

    A SQLite catalog takes one commit at a time: a second process committing at once fails with
    "database is locked" (measured, docs/scale-out.md), so deployed runs take turns to commit.
    A PostgreSQL catalog takes concurrent commits, and runs on several workers write at once. Runs
    started outside a deployment (the command line, the demo's nights, two at a time in two
    processes) take turns on the machine, through a lock file beside the catalog; a deployed run
    whose server lacks the limit runs unguarded, and Prefect warns about it.
    """
    if lake.on_postgres:
        yield
        return
    if not started_by_deployment():
        with _machine_writer(Path(f"{lake.catalog}.writer.lock")):
            yield
        return
    with concurrency(WAREHOUSE_WRITER_LIMIT, occupy=1, timeout_seconds=WRITER_WAIT_SECONDS):
        yield


@contextmanager
def _machine_writer(lock_file: Path) -> Iterator[None]:
    """Hold ``lock_file`` (``flock``) against the other processes, and the process's lock against
    its other threads; a thread already holding both takes them again at no cost."""
    with _PROCESS_WRITER:
        if lock_file in _lock_files_held:
            _lock_files_held[lock_file] += 1
            try:
                yield
            finally:
                _lock_files_held[lock_file] -= 1
            return
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            _lock_files_held[lock_file] = 1
            try:
                yield
            finally:
                del _lock_files_held[lock_file]
        finally:
            os.close(descriptor)  # releases the flock


def started_by_deployment() -> bool:
    """Whether the current flow run was started from a deployment.

    Read from the run's context when it has one: ``prefect.runtime.deployment.id`` asks the API
    for the flow run each time the context names no deployment, ~50 ms a time (a new client,
    its TLS context, a request), six times a night. Prefect's runtime override
    (``PREFECT__RUNTIME__DEPLOYMENT__ID``) still counts.
    """
    if DEPLOYMENT_ID_OVERRIDE not in os.environ:
        context = FlowRunContext.get()
        if context is not None and context.flow_run is not None:
            return context.flow_run.deployment_id is not None
    return bool(deployment.id)


@task(cache_policy=NO_CACHE)
def read_roster(roster_path: Path) -> tuple[pl.DataFrame, list[str]]:
    """The tracked accounts whose lines pass the roster's rules, and each refused line with why
    (the valid lines still run; the night then ends red naming the others)."""
    split = split_roster(read_roster_rows(roster_path))
    return split.valid, [str(problem) for problem in split.problems]


@task(cache_policy=NO_CACHE)
def extract_and_land(
    source: str,
    partition_date: dt.date,
    config: Any,
    accounts: list[TrackedAccount],
    raw_dir: Path,
) -> LandingManifest:
    """Fetch the source's accounts as of ``partition_date``, landing records as they arrive."""
    plan = SOURCE_PLANS[source]
    logger = get_run_logger()
    oldest_live_date = dt.datetime.now(dt.UTC).date() - dt.timedelta(
        days=LIVE_EXTRACTION_MAX_AGE_DAYS
    )
    if not plan.package.answers_as_of(config) and partition_date < oldest_live_date:
        raise ExtractionRefused(
            f"cannot extract {partition_date} from {source}: its API only reports today's "
            "counts. Replay what landed for that date (mode=replay) instead."
        )
    entities = (*plan.package.ENTITIES, FAILED_ACCOUNTS_ENTITY)
    with LandingWriter(raw_dir, source, partition_date, new_run_id(), entities) as writer:

        def land(entity: str, record: Mapping[str, Any]) -> None:
            writer.land(entity, record)
            if entity == plan.parent:
                crash_point("extract.after_account")

        result = plan.package.extract(config, accounts, partition_date, land)
        for record in failure_records(result.failures):
            writer.land(FAILED_ACCOUNTS_ENTITY, record)
        crash_point("landing.before_finish")
        manifest = writer.finish(
            extract=extract_summary(result),
            before_manifest=lambda: crash_point("landing.before_manifest"),
        )
    logger.info(
        "%s %s: %s of %s accounts fetched, %s failed, %s requests (landing %s)",
        source,
        partition_date,
        result.fetched,
        result.accounts,
        len(result.failures),
        result.requests_made,
        manifest.run_id,
    )
    for failure in result.failures[:20]:
        logger.warning("%s account %s failed: %s", source, failure.handle, failure.reason)
    if result.stopped:
        logger.error("%s stopped early: %s", source, result.stopped)
    return manifest


@task(cache_policy=NO_CACHE)
def validate_and_transform(
    source: str,
    raw_dir: Path,
    manifest: LandingManifest,
    roster: pl.DataFrame,
    work_dir: Path,
    batch_rows: int,
) -> StagedLanding:
    """Validate the landing and build its facts in bounded batches (``flows.validation``)."""
    return validate_landing(SOURCE_PLANS[source], raw_dir, manifest, roster, work_dir, batch_rows)


@task(cache_policy=NO_CACHE)
def load_source_night(
    source: str,
    partition_date: dt.date,
    staged: StagedLanding,
    landed_failures: pl.DataFrame,
    night: SourceNight,
    roster: pl.DataFrame,
    lake: LakeLocation,
    run_id: str,
    started_at: dt.datetime,
    over_threshold: set[str],
) -> SourceNight:
    """Replace the source's rows of the date in every table, in one commit."""
    failed = failed_accounts_frame(landed_failures, night, run_id)
    # Each DuckDB thread buffers its own share of the uncommitted rows: on this machine one
    # thread loaded a 1.25M-row partition in 45 MB less memory, for a load that takes seconds.
    with lake_connection(lake, threads=1) as connection:
        load_partition(
            connection,
            PartitionLoad(
                source=source,
                platform=source,
                partition_date=partition_date,
                roster=roster,
                influencers=staged.influencers,
                facts=dict(staged.fact_files),
                posts=staged.post_files,
                quarantine=pl.read_parquet(staged.quarantine_files),
                failed_accounts=failed,
                run_log=run_log_frame(
                    night,
                    run_id=run_id,
                    flow_run_id=current_flow_run_id(),
                    started_at=started_at,
                    finished_at=utc_now(),
                    over_threshold=over_threshold,
                ),
                run_id=run_id,
                flow_run_id=current_flow_run_id(),
            ),
        )
    return night


@flow(name="nightly", flow_run_name=_flow_run_name, log_prints=True)
def nightly(
    date: dt.date | None = None,
    mode: ExtractMode = ExtractMode.auto,
    sources: list[SourceName] | None = None,
) -> NightlySummary:
    """Extract, land, validate, transform and load one UTC date, for every source.

    Args:
        date: the UTC date to load (counts as of the end of that day); default: the day before
            the run's scheduled start.
        mode: auto (replay a landing of that date if one exists, else extract), extract (always
            fetch again) or replay (only what already landed).
        sources: the sources to load (default: INFLUENCERS_SOURCES); the others' rows of the
            date are left as they are.
    """
    settings = load_settings()
    partition_date = partition_date_for(date, settings.schedule_timezone)
    run_id = new_run_id()
    started_at = utc_now()
    summary = NightlySummary(
        partition_date=partition_date,
        run_id=run_id,
        lake=settings.lake.describe(),
    )
    failed_handles: dict[str, list[str]] = {}
    source, step = "roster", "extract"
    try:
        roster, summary.roster_problems = read_roster(settings.roster_path)
        with platform_endpoints(settings) as endpoints:
            for source in sources or settings.sources:
                plan = SOURCE_PLANS[source]
                step = "extract"
                manifest, replayed = _landing_for(
                    settings, plan, partition_date, mode, roster, endpoints
                )
                night = SourceNight(
                    source=source,
                    partition_date=partition_date,
                    landing_run_id=manifest.run_id,
                    replayed=replayed,
                    extract=manifest.extract,
                    tables={entity: plan.table_of(entity) for entity in plan.staging},
                )
                step = "validate"
                work_dir = settings.work_dir / run_id / source
                staged = validate_and_transform(
                    source,
                    settings.raw_dir,
                    manifest,
                    roster,
                    work_dir,
                    settings.validation_batch_rows,
                )
                night.counts = staged.counts
                step = "load"
                landed_failures = _landed_failures(settings.raw_dir, manifest)
                with warehouse_writer(settings.lake):
                    load_source_night(
                        source,
                        partition_date,
                        staged,
                        landed_failures,
                        night,
                        roster,
                        settings.lake,
                        run_id,
                        started_at,
                        entities_over_threshold(night, settings.max_quarantine_share),
                    )
                shutil.rmtree(work_dir, ignore_errors=True)
                summary.sources[source] = night
                failed_handles[source] = (
                    landed_failures["handle"].to_list() if not landed_failures.is_empty() else []
                )
                crash_point("nightly.between_sources")
    except Exception as error:
        _record_failure(settings, partition_date, run_id, source, step, started_at, error)
        raise
    finally:
        shutil.rmtree(settings.work_dir / run_id, ignore_errors=True)
    verdict = night_verdict(
        summary,
        max_failed_account_share=settings.max_failed_account_share,
        max_quarantine_share=settings.max_quarantine_share,
        failed_handles=failed_handles,
    )
    if verdict is not None:
        raise NightFailed(verdict)
    return summary


def _landing_for(
    settings: Settings,
    plan: SourcePlan,
    partition_date: dt.date,
    mode: ExtractMode,
    roster: pl.DataFrame,
    endpoints: PlatformEndpoints,
) -> tuple[LandingManifest, bool]:
    """The landing this run validates, and whether it is a replay: the date's latest landing,
    or a new extraction."""
    if mode is not ExtractMode.extract:
        manifest = latest_manifest(settings.raw_dir, plan.name, partition_date)
        if manifest is not None:
            get_run_logger().info("replaying landing %s of %s", manifest.run_id, plan.name)
            return manifest, True
        if mode is ExtractMode.replay:
            raise ExtractionRefused(
                f"nothing has landed from {plan.name} for {partition_date} under "
                f"{settings.raw_dir}: run with mode=extract (or auto) to fetch it"
            )
    accounts = [
        TrackedAccount(**row)
        for row in roster.filter(pl.col("platform") == plan.name).iter_rows(named=True)
    ]
    manifest = extract_and_land(
        plan.name,
        partition_date,
        endpoints.config_for(plan, partition_date),
        accounts,
        settings.raw_dir,
    )
    return manifest, False


def _landed_failures(raw_dir: Path, manifest: LandingManifest) -> pl.DataFrame:
    if not manifest.has(FAILED_ACCOUNTS_ENTITY):
        return pl.DataFrame()
    landed = manifest.file_for(FAILED_ACCOUNTS_ENTITY)
    if landed.records == 0:
        return pl.DataFrame()
    return pl.read_ndjson(
        verify_landed_file(raw_dir, landed),
        schema={
            "handle": pl.String,
            "reason": pl.String,
            "failure_kind": pl.String,
            "http_status": pl.Int64,
            "api_error_code": pl.String,
        },
    )


def _record_failure(
    settings: Settings,
    partition_date: dt.date,
    run_id: str,
    source: str,
    step: str,
    started_at: dt.datetime,
    error: Exception,
) -> None:
    """Leave a failed row in ``pipeline_runs``; never mask the original error."""
    row = failed_run_row(
        run_id=run_id,
        flow_run_id=current_flow_run_id(),
        source=source,
        partition_date=partition_date,
        step=step,
        started_at=started_at,
        finished_at=utc_now(),
        message=redact(f"{type(error).__name__}: {error}"),
    )
    record_failed_run(settings.lake, row)


def record_failed_run(lake: LakeLocation, row: pl.DataFrame, message: str = "failed run") -> None:
    """Commit a failed run's ``pipeline_runs`` row; log, never raise, if even that fails (the
    run's own error matters more)."""
    try:
        with warehouse_writer(lake):
            connection = open_lake(lake)
            try:
                record_runs(connection, row, message)
            finally:
                connection.close()
    except Exception as recording_error:
        get_run_logger().error("could not record the %s: %s", message, recording_error)


def current_flow_run_id() -> str | None:
    run_id = flow_run.id
    return str(run_id) if run_id else None


def utc_now() -> dt.datetime:
    """Now in UTC, naive: the run log's timestamps."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
