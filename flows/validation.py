"""Validating a landing and building its facts, in bounded batches of whole accounts.

One landed file at a time, a batch of lines at a time: parse each line's fields as JSON text,
split the batch by its raw contract, send the records of a quarantined parent (profile, channel)
and conflicting duplicates to quarantine, stage what is valid into the platform-neutral frames and
build the facts, then append facts and quarantine to Parquet files. No step holds more than one
batch, so memory does not grow with the roster; the loader streams the files into the warehouse.
"""

from __future__ import annotations

import datetime as dt
import queue
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pandera.polars as pa
import polars as pl

from flows.accounting import QUARANTINE_SCHEMA, EntityCounts, quarantine_frame
from flows.source_plans import SourcePlan
from schemas.contract import FAILED_CHECKS, ContractSplit, split_by_contract
from schemas.raw import json_paths
from schemas.staging import STAGED_MODELS
from schemas.warehouse import (
    DimInfluencer,
    DimPost,
    FactAudienceShare,
    FactPostMetrics,
    FactProfileDaily,
)
from sources.landing import LandingManifest, verify_landed_file
from transforms.facts import (
    dim_post,
    empty_schema,
    fact_audience_share,
    fact_post_metrics,
    fact_profile_daily,
    influencer_sightings,
    merged_sightings,
)
from transforms.quarantine import quarantine_conflicting_duplicates, quarantine_dependents
from transforms.raw_records import parse_landed_records, read_landed_lines
from warehouse.crashpoints import crash_point

FACT_BUILDERS = {
    "profiles": (fact_profile_daily, FactProfileDaily),
    "posts": (fact_post_metrics, FactPostMetrics),
    "audience": (fact_audience_share, FactAudienceShare),
}
POSTS_TABLE = "dim_post"
T = TypeVar("T")


@dataclass
class StagedLanding:
    """One landing, validated and transformed: per entity its counts, per table the Parquet
    files of its facts, the quarantine's files, and the night's dim_influencer sightings."""

    quarantine_files: Path  # the glob of the quarantine's files
    counts: dict[str, EntityCounts] = field(default_factory=dict)
    fact_files: dict[str, Path] = field(default_factory=dict)  # table -> glob of its files
    post_files: Path | None = None  # glob of dim_post rows (captions, links), if posts landed
    influencers: pl.DataFrame = field(default_factory=pl.DataFrame)  # dim_influencer sightings


def validate_landing(
    plan: SourcePlan,
    raw_dir: Path,
    manifest: LandingManifest,
    roster: pl.DataFrame,
    work_dir: Path,
    batch_rows: int,
) -> StagedLanding:
    """Validate the landing and build its facts, in bounded batches of whole accounts; write the
    facts and the quarantine to Parquet files under ``work_dir`` (memory stays flat): per table a
    directory of files, named by their glob.

    The parent entity (profiles) goes first: an account whose profile failed its contract, or
    has none, takes its other records to quarantine with it.
    """
    source = plan.name
    work_dir.mkdir(parents=True, exist_ok=True)
    writers = _ParquetWriters(work_dir)
    staged = StagedLanding(quarantine_files=writers.path("quarantine"))
    parents = _Parents()
    sightings: list[pl.DataFrame] = []
    tracked = roster.lazy().filter(pl.col("platform") == source)
    writers.write("quarantine", QUARANTINE_SCHEMA.to_frame())
    for entity, (kind, stage) in plan.staging.items():
        table = plan.table_of(entity)
        build, model = FACT_BUILDERS[kind]
        writers.write(table, pl.DataFrame(schema=empty_schema(model)))
        if kind == "posts":
            writers.write(POSTS_TABLE, pl.DataFrame(schema=empty_schema(DimPost)))
        contract = plan.contracts[entity]
        counts = staged.counts[entity] = EntityCounts(landed=manifest.file_for(entity).records)
        batches = _parsed_batches(raw_dir, manifest, entity, contract, batch_rows)
        for split in read_ahead(split_by_contract(batch, contract) for batch in batches):
            valid, rejected = _judge_batch(split, entity, plan, parents)
            rows = _staged(stage, valid, kind).lazy()
            facts = _checked(model, build(rows).collect())
            if kind == "profiles":
                sightings.append(influencer_sightings(rows, tracked).collect())
            if kind == "posts":
                writers.write(POSTS_TABLE, _checked(DimPost, dim_post(rows).collect()))
            counts.valid += valid.height
            counts.quarantined += rejected.height
            counts.loaded += facts.height
            writers.write(table, facts)
            writers.write(
                "quarantine",
                quarantine_frame(
                    rejected, source, entity, manifest.partition_date, manifest.run_id
                ),
            )
            crash_point("validate.after_batch")
        counts.deduplicated = counts.valid - counts.loaded
        staged.fact_files[table] = writers.path(table)
        if kind == "posts":
            staged.post_files = writers.path(POSTS_TABLE)
        crash_point("validate.after_facts_file")
    staged.influencers = _checked(DimInfluencer, merged_sightings(sightings))
    return staged


def discard_abandoned_work(work_dir: Path, older_than: dt.datetime) -> list[Path]:
    """Delete the directories of runs under ``work_dir`` with nothing written since
    ``older_than``; return them.

    A run removes its own directory when it ends, even on an error; one killed outright (power
    lost, out of memory) leaves it, with the Parquet files of the facts it had validated. The age
    spares a run still validating on another worker.
    """
    if not work_dir.is_dir():
        return []
    cutoff = older_than.timestamp()
    discarded = []
    for run_dir in sorted(path for path in work_dir.iterdir() if path.is_dir()):
        written = [path.stat().st_mtime for path in (run_dir, *run_dir.rglob("*"))]
        if max(written) < cutoff:
            shutil.rmtree(run_dir)
            discarded.append(run_dir)
    return discarded


def _judge_batch(
    split: ContractSplit, entity: str, plan: SourcePlan, parents: _Parents
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(valid, rejected with ``failed_checks``) of one batch of whole accounts, already split by
    its raw contract: its records' own checks need nothing outside the batch, so they run in the
    read-ahead thread; what needs the night's parents or the batch's other rows runs here."""
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
        self._split: ContractSplit | None = None

    def add(self, split: ContractSplit) -> None:
        self._valid.append(split.valid.select(self.KEY))
        self._rejected.append(split.rejected.select(*self.KEY, FAILED_CHECKS))
        self._split = None

    def split(self) -> ContractSplit:
        """Every parent added so far (gathered once, then reused by each batch of children)."""
        if self._split is None:
            self._split = self._gathered()
        return self._split

    def _gathered(self) -> ContractSplit:
        empty = pl.DataFrame(schema=dict.fromkeys(self.KEY, pl.String))
        return ContractSplit(
            valid=pl.concat([empty, *self._valid]).unique(maintain_order=True),
            rejected=pl.concat(
                [
                    empty.with_columns(pl.lit([], pl.List(pl.String)).alias(FAILED_CHECKS)),
                    *self._rejected,
                ]
            ),
        )


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
    for lines in read_landed_lines(verify_landed_file(raw_dir, landed), batch_rows):
        lines = lines.select(pl.lit(landed.path).alias("landed_file"), "line_number", "raw_record")
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


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """``items``, each computed in a thread while the caller works on the one before.

    Reading, parsing and checking a batch against its raw contract (DuckDB, Polars under Pandera)
    runs beside judging, staging and writing the previous one (Polars): both release the GIL in
    their native code, so the two cores share the work. One batch waits at most, so memory grows
    by one batch. An error in the thread is raised here; leaving early stops the thread.
    """
    ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(kind: str, value: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over("item", item):
                    return
            hand_over("done", None)
        except BaseException as error:  # handed to the caller, who raises it
            hand_over("error", error)

    producer = threading.Thread(target=produce, name="read-ahead", daemon=True)
    producer.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        producer.join()


def _staged(stage: Any, valid: pl.DataFrame, kind: str) -> pl.DataFrame:
    model = STAGED_MODELS[kind]
    frame = stage(valid.lazy()).collect()
    return frame.cast({name: dtype for name, dtype in empty_schema(model).items()})


class _ParquetWriters:
    """Per staged frame (and the quarantine), a directory of Parquet files, one a batch.

    Polars writes each batch's file (LZ4, twice as fast as appending to one file through
    pyarrow); the loader reads the directory's files as one table, in batch order.
    """

    def __init__(self, work_dir: Path) -> None:
        self._work_dir = work_dir
        self._schemas: dict[str, pl.Schema] = {}
        self._files: dict[str, int] = {}

    def path(self, name: str) -> Path:
        """The glob of the frame's files, as DuckDB's ``read_parquet`` and Polars read it."""
        return self._work_dir / name / "*.parquet"

    def write(self, name: str, frame: pl.DataFrame) -> None:
        if name not in self._schemas:
            self._schemas[name] = frame.schema
            (self._work_dir / name).mkdir(parents=True, exist_ok=True)
        elif frame.is_empty():
            return  # the first file, empty or not, already holds the schema
        frame = frame.select(list(self._schemas[name])).cast(self._schemas[name])
        number = self._files[name] = self._files.get(name, -1) + 1
        frame.write_parquet(self._work_dir / name / f"{number:06d}.parquet", compression="lz4")


def _checked(model: type[pa.DataFrameModel], frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` after checking it meets its table's contract (a failure is a transform bug)."""
    model.validate(frame)
    return frame
