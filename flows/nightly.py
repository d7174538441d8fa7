"""The nightly flow: for each configured source, extract -> land -> validate -> transform -> load,
then publish, for one date.

A re-run of the same date gives the same warehouse: by default it replays what already landed for
that date instead of fetching again (``mode=extract`` forces a new extraction, ``mode=replay``
refuses to fetch at all). An account that cannot be fetched is recorded in ``failed_accounts`` and
the night goes on; the night ends red only when the failure is not an account's (see
:func:`flows.accounting.night_verdict`), after loading everything it fetched.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandera.polars as pa
import polars as pl
import pyarrow.parquet as pq
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.runtime import deployment, flow_run

from flows.accounting import (
    EntityCounts,
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
from flows.settings import Settings, load_settings
from flows.source_plans import (
    FAILED_ACCOUNTS_ENTITY,
    SOURCE_PLANS,
    PlatformEndpoints,
    SourcePlan,
    platform_endpoints,
)
from schemas.contract import FAILED_CHECKS, ContractSplit, split_by_contract
from schemas.raw import json_paths
from schemas.roster import split_roster
from schemas.staging import STAGED_MODELS
from schemas.warehouse import DimInfluencer, FactAudienceShare, FactPostMetrics, FactProfileDaily
from sources.landing import (
    LandingManifest,
    LandingWriter,
    latest_manifest,
    new_run_id,
    read_landed_batches,
    verify_landed_file,
)
from sources.redaction import redact
from sources.roster import TrackedAccount, read_roster_rows
from transforms.facts import (
    empty_schema,
    fact_audience_share,
    fact_post_metrics,
    fact_profile_daily,
    influencer_sightings,
    merged_sightings,
)
from transforms.quarantine import quarantine_conflicting_duplicates, quarantine_dependents
from transforms.raw_records import parse_landed_records
from warehouse.connection import open_warehouse
from warehouse.load import PartitionLoad, load_partition, record_runs
from warehouse.publish import publish_database

# The real API answers "now": the counts of the end of yesterday are still what it reports at
# 02:00 today, but nothing older can be extracted from it.
LIVE_EXTRACTION_MAX_AGE_DAYS = 1
WAREHOUSE_WRITER_LIMIT = "warehouse-writer"
# A load takes about a second; waiting longer than this means a writer is stuck.
WRITER_WAIT_SECONDS = 1800
FACT_BUILDERS = {
    "profiles": (fact_profile_daily, FactProfileDaily),
    "posts": (fact_post_metrics, FactPostMetrics),
    "audience": (fact_audience_share, FactAudienceShare),
}
_QUARANTINE_COLUMNS: dict[str, Any] = {
    "source": pl.String,
    "entity": pl.String,
    "partition_date": pl.Date,
    "run_id": pl.String,
    "raw_record": pl.String,
    "failed_checks": pl.List(pl.String),
    "landed_file": pl.String,
    "line_number": pl.Int32,
}
QUARANTINE_SCHEMA = pl.Schema(_QUARANTINE_COLUMNS)


class ExtractMode(StrEnum):
    """How a run gets its raw records."""

    auto = "auto"  # replay the date's landing if there is one, else extract
    extract = "extract"  # always fetch again (a new landing)
    replay = "replay"  # only replay what landed; fail if nothing did


class NightFailed(RuntimeError):
    """The night's failure was not one account's; what was fetched was landed and loaded."""


class ExtractionRefused(RuntimeError):
    """The configured source cannot answer for the requested date."""


@dataclass
class StagedLanding:
    """One landing, validated and transformed: per entity its counts, per table the Parquet
    file of its facts, the quarantine's file, and the night's dim_influencer sightings."""

    quarantine_file: Path
    counts: dict[str, EntityCounts] = field(default_factory=dict)
    fact_files: dict[str, Path] = field(default_factory=dict)  # table -> Parquet file
    influencers: pl.DataFrame = field(default_factory=pl.DataFrame)  # dim_influencer sightings


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
        result = plan.package.extract(config, accounts, partition_date, writer.land)
        for record in failure_records(result.failures):
            writer.land(FAILED_ACCOUNTS_ENTITY, record)
        manifest = writer.finish(extract=extract_summary(result))
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
    """Validate the landing and build its facts, in bounded batches of whole accounts; write the
    facts and the quarantine to Parquet files under ``work_dir`` (memory stays flat).

    The parent entity (profiles) goes first: an account whose profile failed its contract, or
    has none, takes its other records to quarantine with it.
    """
    plan = SOURCE_PLANS[source]
    work_dir.mkdir(parents=True, exist_ok=True)
    staged = StagedLanding(quarantine_file=work_dir / "quarantine.parquet")
    writers = _ParquetWriters(work_dir)
    parents = _Parents()
    sightings: list[pl.DataFrame] = []
    tracked = roster.lazy().filter(pl.col("platform") == source)
    try:
        writers.write("quarantine", QUARANTINE_SCHEMA.to_frame())
        for entity, (kind, stage) in plan.staging.items():
            table = plan.table_of(entity)
            build, model = FACT_BUILDERS[kind]
            writers.write(table, pl.DataFrame(schema=empty_schema(model)))
            contract = plan.contracts[entity]
            counts = staged.counts[entity] = EntityCounts(landed=manifest.file_for(entity).records)
            for batch in _parsed_batches(raw_dir, manifest, entity, contract, batch_rows):
                valid, rejected = _judge_batch(batch, entity, plan, parents)
                rows = _staged(stage, valid, kind).lazy()
                facts = _checked(model, build(rows).collect())
                if kind == "profiles":
                    sightings.append(influencer_sightings(rows, tracked).collect())
                counts.valid += valid.height
                counts.quarantined += rejected.height
                counts.loaded += facts.height
                writers.write(table, facts)
                writers.write("quarantine", _quarantine_rows(rejected, source, entity, manifest))
            counts.deduplicated = counts.valid - counts.loaded
            staged.fact_files[table] = writers.path(table)
    finally:
        writers.close()
    staged.influencers = _checked(DimInfluencer, merged_sightings(sightings))
    return staged


def _judge_batch(
    batch: pl.DataFrame, entity: str, plan: SourcePlan, parents: _Parents
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(valid, rejected with ``failed_checks``) of one batch of whole accounts."""
    split = split_by_contract(batch, plan.contracts[entity])
    if entity == plan.parent:
        parents.add(split)
    else:
        split = quarantine_dependents(split, parents.split(), parent=plan.parent_noun)
    duplicates = plan.duplicates.get(entity)
    if duplicates is not None:
        split = quarantine_conflicting_duplicates(split, **duplicates)
    valid, rejected = split.valid, split.rejected
    rule = plan.group_rules.get(entity)
    if rule is not None:
        kept, newly_rejected = rule(valid.lazy(), rejected.lazy())
        valid = kept.collect()
        rejected = pl.concat([rejected, newly_rejected.collect()], how="diagonal_relaxed")
    return valid, rejected


class _Parents:
    """The accounts whose parent record (the profile) passed or failed its contract, by
    (handle, as_of): one short row per account, so it stays small beside the records."""

    KEY = ("handle", "as_of")

    def __init__(self) -> None:
        self._valid: list[pl.DataFrame] = []
        self._rejected: list[pl.DataFrame] = []

    def add(self, split: ContractSplit) -> None:
        self._valid.append(split.valid.select(self.KEY))
        self._rejected.append(split.rejected.select(*self.KEY, FAILED_CHECKS))

    def split(self) -> ContractSplit:
        empty = pl.DataFrame(schema=dict.fromkeys(self.KEY, pl.String))
        return ContractSplit(
            valid=pl.concat([empty, *self._valid]),
            rejected=pl.concat(
                [
                    empty.with_columns(pl.lit([], pl.List(pl.String)).alias(FAILED_CHECKS)),
                    *self._rejected,
                ]
            ),
        )


@task(cache_policy=NO_CACHE)
def load_source_night(
    source: str,
    partition_date: dt.date,
    staged: StagedLanding,
    manifest: LandingManifest,
    night: SourceNight,
    roster: pl.DataFrame,
    raw_dir: Path,
    warehouse_path: Path,
    run_id: str,
    started_at: dt.datetime,
    over_threshold: set[str],
) -> SourceNight:
    """Replace the source's rows of the date in every table, in one transaction."""
    failed = failed_accounts_frame(_landed_failures(raw_dir, manifest), night, run_id)
    connection = open_warehouse(warehouse_path)
    try:
        load_partition(
            connection,
            PartitionLoad(
                source=source,
                platform=source,
                partition_date=partition_date,
                roster=roster,
                influencers=staged.influencers,
                facts=dict(staged.fact_files),
                quarantine=pl.read_parquet(staged.quarantine_file),
                failed_accounts=failed,
                run_log=run_log_frame(
                    night,
                    run_id=run_id,
                    flow_run_id=_flow_run_id(),
                    started_at=started_at,
                    finished_at=_now(),
                    over_threshold=over_threshold,
                ),
            ),
        )
        connection.execute("checkpoint")
    finally:
        connection.close()
    return night


@task(cache_policy=NO_CACHE)
def publish_warehouse(warehouse_path: Path, published_path: Path) -> Path:
    """Swap the analysts' copy for the freshly loaded warehouse."""
    return publish_database(warehouse_path, published_path)


@flow(name="nightly", flow_run_name=_flow_run_name, log_prints=True)
def nightly(date: dt.date | None = None, mode: ExtractMode = ExtractMode.auto) -> NightlySummary:
    """Extract, land, validate, transform, load and publish one UTC date, for every source.

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
    summary = NightlySummary(
        partition_date=partition_date,
        run_id=run_id,
        warehouse_path=str(settings.warehouse_path),
        published_path=str(settings.published_path),
    )
    failed_handles: dict[str, list[str]] = {}
    source, step = "roster", "extract"
    try:
        roster, summary.roster_problems = read_roster(settings.roster_path)
        with platform_endpoints(settings) as endpoints:
            for source in settings.sources:
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
                work_dir = settings.data_dir / "work" / run_id / source
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
                with warehouse_writer():
                    load_source_night(
                        source,
                        partition_date,
                        staged,
                        manifest,
                        night,
                        roster,
                        settings.raw_dir,
                        settings.warehouse_path,
                        run_id,
                        started_at,
                        entities_over_threshold(night, settings.max_quarantine_share),
                    )
                shutil.rmtree(work_dir, ignore_errors=True)
                summary.sources[source] = night
                failed_handles[source] = _failed_handles(settings.raw_dir, manifest)
        step = "publish"
        with warehouse_writer():
            publish_warehouse(settings.warehouse_path, settings.published_path)
    except Exception as error:
        _record_failure(settings, partition_date, run_id, source, step, started_at, error)
        raise
    finally:
        shutil.rmtree(settings.data_dir / "work" / run_id, ignore_errors=True)
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


def _parsed_batches(
    raw_dir: Path,
    manifest: LandingManifest,
    entity: str,
    contract: type[pa.DataFrameModel],
    batch_rows: int,
) -> Iterator[pl.DataFrame]:
    """The entity's landed records parsed into their contract's text columns, in batches that
    never split an account (its records land together), so rules over an account's records see
    all of them."""
    landed = manifest.file_for(entity)
    paths = json_paths(contract)
    carried: pl.DataFrame | None = None
    for numbers, texts in read_landed_batches(raw_dir, landed, batch_rows):
        lines = pl.DataFrame(
            {"landed_file": landed.path, "line_number": numbers, "raw_record": texts},
            schema={"landed_file": pl.String, "line_number": pl.Int64, "raw_record": pl.String},
        )
        parsed = parse_landed_records(lines.lazy(), paths).collect()
        if carried is not None:
            parsed = pl.concat([carried, parsed])
        last_handle = parsed["handle"][-1]
        tail = parsed["handle"] == last_handle if last_handle is not None else None
        if tail is None or tail.all():
            carried = parsed
            continue
        carried = parsed.filter(tail)
        yield parsed.filter(~tail)
    if carried is not None and not carried.is_empty():
        yield carried


def _staged(stage: Any, valid: pl.DataFrame, kind: str) -> pl.DataFrame:
    model = STAGED_MODELS[kind]
    frame = stage(valid.lazy()).collect()
    return frame.cast({name: dtype for name, dtype in empty_schema(model).items()})


def _quarantine_rows(
    rejected: pl.DataFrame, source: str, entity: str, manifest: LandingManifest
) -> pl.DataFrame:
    return rejected.select(
        source=pl.lit(source),
        entity=pl.lit(entity),
        partition_date=pl.lit(dt.date.fromisoformat(manifest.partition_date)),
        run_id=pl.lit(manifest.run_id),
        raw_record="raw_record",
        failed_checks=pl.col("failed_checks").cast(pl.List(pl.String)),
        landed_file="landed_file",
        line_number=pl.col("line_number").cast(pl.Int32),
    )


class _ParquetWriters:
    """One Parquet file per staged frame (and the quarantine), appended to batch by batch."""

    def __init__(self, work_dir: Path) -> None:
        self._work_dir = work_dir
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._schemas: dict[str, pl.Schema] = {}

    def path(self, name: str) -> Path:
        return self._work_dir / f"{name}.parquet"

    def write(self, name: str, frame: pl.DataFrame) -> None:
        if name not in self._writers:
            self._schemas[name] = frame.schema
            table = frame.to_arrow()
            self._writers[name] = pq.ParquetWriter(self.path(name), table.schema)
        frame = frame.select(list(self._schemas[name])).cast(self._schemas[name])
        if not frame.is_empty():
            self._writers[name].write_table(frame.to_arrow())

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()


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


def _failed_handles(raw_dir: Path, manifest: LandingManifest) -> list[str]:
    failures = _landed_failures(raw_dir, manifest)
    return failures["handle"].to_list() if not failures.is_empty() else []


def _checked(model: type[pa.DataFrameModel], frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` after checking it meets its table's contract (a failure is a transform bug)."""
    model.validate(frame)
    return frame


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
        flow_run_id=_flow_run_id(),
        source=source,
        partition_date=partition_date,
        step=step,
        started_at=started_at,
        finished_at=_now(),
        message=redact(f"{type(error).__name__}: {error}"),
    )
    try:
        with warehouse_writer():
            connection = open_warehouse(settings.warehouse_path)
            try:
                record_runs(connection, row)
            finally:
                connection.close()
    except Exception as recording_error:  # the run's own error matters more
        get_run_logger().error("could not record the failed run: %s", recording_error)


def _flow_run_id() -> str | None:
    run_id = flow_run.id
    return str(run_id) if run_id else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
