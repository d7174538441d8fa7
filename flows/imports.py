"""The file import flow: an export of creator stats from another tool, landed, validated and
loaded as one commit (``influencers import FILE --source NAME``, or the ``import-file``
deployment from the Prefect UI with a path on the worker's machine).

land (the file byte for byte) -> read in batches (format, charset) -> repair mis-decoded text ->
judge each row and its metrics by their contracts (``schemas.raw.files``) -> quarantine what
fails, with reasons and lines -> type what passed -> resolve account ids -> load, replacing the
import's (source, as_of_date) partitions (``warehouse.imports``). Every row is loaded or
quarantined, and per date landed = loaded + quarantined + deduplicated.

Refusals of the command itself (a path-like source, a missing file, an unknown format, a bad
mapping) are checked before anything lands and end the run as Failed with the message alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed, State

from flows.accounting import (
    RUN_LOG_SCHEMA,
    EntityCounts,
    failed_run_row,
    quarantine_frame,
    quarantine_verdict,
)
from flows.nightly import current_flow_run_id, record_failed_run, utc_now, warehouse_writer
from flows.settings import Settings, load_settings
from schemas.contract import FAILED_CHECKS, ContractSplit, split_by_contract
from schemas.raw.files import RawImportedMetric, RawImportedRow
from schemas.roster import HANDLE_RULES
from sources.files.errors import ImportRefused
from sources.files.landing import ImportLanding, land_file, verify_landing
from sources.files.reading import detect_charset, read_cells
from sources.files.request import ImportRequest, prepare_import
from sources.landing import new_run_id
from transforms.imports import (
    PROFILE_COUNTS,
    TEXT_FIELDS,
    MetricColumn,
    imported_metric_cells,
    imported_rows,
    repair_mojibake,
    resolve_account_ids,
    staged_metrics,
    staged_profiles,
)
from transforms.quarantine import quarantine_conflicting_duplicates
from transforms.raw_records import keep_last_landed
from warehouse.imports import ImportLoad, known_accounts, load_import
from warehouse.lake import open_lake

ENTITY = "rows"
METRIC_PREFIX = "metrics."
# The row's mapped cells as one text, to tell an exact repeat from a conflicting one.
MAPPED_VALUES = "mapped_values"
REPAIR_NOTES_SHOWN = 20


@dataclass
class StagedImport:
    """The rows of one landed file, judged: typed profiles and metrics of the rows that passed,
    the rows to quarantine, counts per date, and what the import noted."""

    charset: str
    fallback_date: dt.date  # the date of quarantined rows (and of an import with no valid row)
    profiles: pl.DataFrame
    metrics: pl.DataFrame
    rejected: pl.DataFrame
    counts: dict[dt.date, EntityCounts]
    notes: list[str] = field(default_factory=list)

    @property
    def dates(self) -> tuple[dt.date, ...]:
        return tuple(sorted(self.counts))


@dataclass
class ImportSummary:
    """What one import did, for the command line and the flow's return value."""

    source: str
    import_id: str
    run_id: str
    original_name: str
    landed_file: str
    file_format: str
    charset: str
    mapping: str
    counts: dict[dt.date, EntityCounts]
    metrics_loaded: int
    superseded: int
    notes: list[str]
    top_reasons: list[tuple[str, int]]
    lake: str = ""

    @property
    def totals(self) -> EntityCounts:
        total = EntityCounts()
        for counts in self.counts.values():
            total.landed += counts.landed
            total.valid += counts.valid
            total.quarantined += counts.quarantined
            total.deduplicated += counts.deduplicated
            total.loaded += counts.loaded
        return total


class ImportIncomplete(RuntimeError):
    """Too large a share of the file's rows was quarantined (the valid ones were loaded)."""


def import_id_of(request: ImportRequest, file_sha256: str) -> str:
    """The same source, file, mapping and date always give the same id."""
    key = "|".join(
        (
            request.source,
            file_sha256,
            request.mapping.sha256,
            request.default_as_of.isoformat() if request.default_as_of else "",
        )
    )
    return "import-" + hashlib.sha256(key.encode()).hexdigest()[:16]


@task(cache_policy=NO_CACHE)
def land_import_file(raw_dir: Path, request: ImportRequest) -> ImportLanding:
    """Copy the file into the raw zone, byte for byte, with its manifest."""
    landing = land_file(raw_dir, request.source, request.path, request.file_format)
    get_run_logger().info(
        "landed %s (%s bytes, sha256 %s) as %s",
        landing.original_name,
        landing.size,
        landing.sha256,
        landing.path,
    )
    return landing


@task(cache_policy=NO_CACHE)
def stage_import(
    raw_dir: Path, landing: ImportLanding, request: ImportRequest, batch_rows: int
) -> StagedImport:
    """Read, repair, validate and type the landed file's rows, in batches."""
    return judge_rows(raw_dir, landing, request, batch_rows)


def judge_rows(
    raw_dir: Path, landing: ImportLanding, request: ImportRequest, batch_rows: int
) -> StagedImport:
    """Every row of the landed file judged (see :class:`StagedImport`)."""
    mapping = request.mapping.mapping
    path = verify_landing(raw_dir, landing)
    charset = detect_charset(path, mapping.charset)
    metrics = {
        name: MetricColumn(spec.kind, percent=spec.percent, max_value=_decimal_text(spec.max))
        for name, spec in mapping.metrics.items()
    }
    columns = {
        **mapping.columns.named(),
        **{METRIC_PREFIX + name: spec.column for name, spec in mapping.metrics.items()},
    }
    valid_parts: list[pl.DataFrame] = []
    metric_parts: list[pl.DataFrame] = []
    rejected_parts: list[pl.DataFrame] = []
    repair_parts: list[pl.DataFrame] = []
    for cells in read_cells(
        path,
        landed_file=landing.path,
        file_format=landing.file_format,
        charset=charset,
        columns=columns,
        delimiter=mapping.delimiter,
        batch_rows=batch_rows,
    ):
        repaired, repairs = repair_mojibake(cells, TEXT_FIELDS)
        repair_parts.append(repairs)
        rows = _rows_to_judge(repaired, request, metrics).collect()
        metric_cells = imported_metric_cells(
            rows.lazy().rename({METRIC_PREFIX + name: name for name in metrics}, strict=False),
            metrics,
            mapping.decimal_separator,
        ).collect()
        valid, rejected = _judged(rows, metric_cells)
        valid_parts.append(valid)
        rejected_parts.append(rejected)
        metric_parts.append(
            metric_cells.join(valid.select("line_number"), on="line_number", how="semi")
        )
    return _staged(request, charset, valid_parts, metric_parts, rejected_parts, repair_parts)


def _rows_to_judge(
    cells: pl.DataFrame, request: ImportRequest, metrics: dict[str, MetricColumn]
) -> pl.LazyFrame:
    mapping = request.mapping.mapping
    rule = HANDLE_RULES[mapping.platform]
    rows = imported_rows(
        cells.lazy(),
        platform=mapping.platform,
        handle_rule=f"{rule.what} ({rule.says})",
        decimal_separator=mapping.decimal_separator,
        imported_on=request.imported_on.isoformat(),
        default_as_of=request.default_as_of.isoformat() if request.default_as_of else None,
        date_format=mapping.date_format,
    )
    mapped = [*TEXT_FIELDS, *PROFILE_COUNTS, "as_of", *(METRIC_PREFIX + name for name in metrics)]
    return rows.with_columns(pl.struct(*mapped).struct.json_encode().alias(MAPPED_VALUES))


def _judged(rows: pl.DataFrame, metric_cells: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(valid rows, rejected rows with ``failed_checks``): a row fails with its own checks and
    those of its metrics."""
    row_split = split_by_contract(rows, RawImportedRow)
    metric_split = split_by_contract(metric_cells, RawImportedMetric)
    metric_reasons = (
        metric_split.rejected.select("line_number", FAILED_CHECKS)
        .explode(FAILED_CHECKS)
        .group_by("line_number")
        .agg(pl.col(FAILED_CHECKS).alias("metric_checks"))
    )
    failing_metrics = row_split.valid.join(metric_reasons, on="line_number", how="semi")
    rejected = (
        pl.concat(
            [
                row_split.rejected,
                failing_metrics.with_columns(
                    pl.lit([], dtype=pl.List(pl.String)).alias(FAILED_CHECKS)
                ),
            ]
        )
        .join(metric_reasons, on="line_number", how="left")
        .with_columns(
            pl.concat_list(FAILED_CHECKS, pl.col("metric_checks").fill_null([]))
            .list.unique(maintain_order=True)
            .alias(FAILED_CHECKS)
        )
        .drop("metric_checks")
        .sort("line_number")
    )
    valid = row_split.valid.join(metric_reasons, on="line_number", how="anti")
    return valid, rejected


def _staged(
    request: ImportRequest,
    charset: str,
    valid_parts: list[pl.DataFrame],
    metric_parts: list[pl.DataFrame],
    rejected_parts: list[pl.DataFrame],
    repair_parts: list[pl.DataFrame],
) -> StagedImport:
    mapping = request.mapping.mapping
    valid = pl.concat(valid_parts, how="vertical_relaxed") if valid_parts else pl.DataFrame()
    rejected = pl.concat(rejected_parts, how="diagonal_relaxed") if rejected_parts else None
    if valid.is_empty() and rejected is None:
        raise ImportRefused(f"{request.path.name} has no rows: there is nothing to import")
    valid_dates = (
        valid["as_of"].str.to_date("%Y-%m-%d").unique().sort().to_list()
        if not valid.is_empty()
        else []
    )
    fallback = request.default_as_of or (valid_dates[-1] if valid_dates else request.imported_on)
    # Of the rows sharing an account and date, the last stays; conflicting ones are quarantined.
    split = quarantine_conflicting_duplicates(
        ContractSplit(valid=valid, rejected=_rejected_like(valid)),
        key=["handle_key", "as_of"],
        counts=[MAPPED_VALUES],
        noun="account",
    )
    rejected_all = pl.concat(
        [frame for frame in (rejected, split.rejected) if frame is not None],
        how="diagonal_relaxed",
    ).sort("line_number")
    kept = (
        keep_last_landed(split.valid, ["handle_key", "as_of"])
        if not split.valid.is_empty()
        else split.valid
    )
    profiles = (
        staged_profiles(kept.lazy(), mapping.countries).collect()
        if not kept.is_empty()
        else pl.DataFrame()
    )
    metrics = pl.concat(metric_parts) if metric_parts else pl.DataFrame()
    typed_metrics = (
        staged_metrics(
            metrics.lazy().join(kept.lazy().select("line_number"), on="line_number", how="semi")
        )
        .collect()
        .join(profiles.select("line_number", "handle_key", "as_of_date"), on="line_number")
        if not profiles.is_empty() and not metrics.is_empty()
        else pl.DataFrame()
    )
    counts = _counts(split.valid, kept, rejected_all, fallback)
    notes = _repair_notes(pl.concat(repair_parts)) + _country_notes(profiles)
    return StagedImport(
        charset=charset,
        fallback_date=fallback,
        profiles=profiles,
        metrics=typed_metrics,
        rejected=rejected_all,
        counts=counts,
        notes=notes,
    )


def _rejected_like(valid: pl.DataFrame) -> pl.DataFrame:
    return valid.clear().with_columns(pl.lit([], dtype=pl.List(pl.String)).alias(FAILED_CHECKS))


def _counts(
    valid: pl.DataFrame, kept: pl.DataFrame, rejected: pl.DataFrame, fallback: dt.date
) -> dict[dt.date, EntityCounts]:
    """Per date: landed, valid, quarantined and the repeats in the file (deduplicated); loaded
    is filled in by the load, which knows what was superseded."""
    counts: dict[dt.date, EntityCounts] = {fallback: EntityCounts()}
    for frame, attribute in ((valid, "valid"), (kept, "loaded")):
        if frame.is_empty():
            continue
        per_date = frame.group_by("as_of").len()
        for as_of, rows in per_date.iter_rows():
            entity = counts.setdefault(dt.date.fromisoformat(as_of), EntityCounts())
            setattr(entity, attribute, getattr(entity, attribute) + rows)
    counts[fallback].quarantined = rejected.height
    for entity in counts.values():
        entity.landed = entity.valid + entity.quarantined
        entity.deduplicated = entity.valid - entity.loaded
    return counts


def _repair_notes(repairs: pl.DataFrame) -> list[str]:
    if repairs.is_empty():
        return []
    grouped = (
        repairs.group_by("field", "original", "repaired", maintain_order=True)
        .agg(pl.col("line_number").sort())
        .sort("field", "original")
    )
    notes = [
        f"{row['field']}: {row['original']!r} repaired to {row['repaired']!r} (UTF-8 decoded "
        f"with the wrong charset; line{'s' if len(row['line_number']) > 1 else ''} "
        f"{', '.join(str(n) for n in row['line_number'][:10])})"
        for row in grouped.head(REPAIR_NOTES_SHOWN).iter_rows(named=True)
    ]
    if grouped.height > REPAIR_NOTES_SHOWN:
        notes.append(f"and {grouped.height - REPAIR_NOTES_SHOWN} more repaired texts")
    return notes


def _country_notes(profiles: pl.DataFrame) -> list[str]:
    if profiles.is_empty():
        return []
    unplaced = (
        profiles.filter(pl.col("country").is_null() & pl.col("country_as_written").is_not_null())
        .group_by("country_as_written", maintain_order=True)
        .agg(pl.col("line_number").min())
        .sort("country_as_written")
    )
    return [
        f"country {name!r} (first on line {line}) has no ISO code in the mapping's [countries]: "
        "dim_influencer.country left NULL; import_profile.country_as_written keeps it"
        for name, line in unplaced.iter_rows()
    ]


def _decimal_text(value: Any) -> str | None:
    return None if value is None else format(value, "f")


@task(cache_policy=NO_CACHE)
def load_staged_import(
    settings: Settings,
    request: ImportRequest,
    landing: ImportLanding,
    staged: StagedImport,
    import_id: str,
    run_id: str,
    started_at: dt.datetime,
) -> ImportSummary:
    """Resolve account ids and replace the import's partitions, in one commit."""
    mapping = request.mapping.mapping
    platform = mapping.platform
    summary = ImportSummary(
        source=request.source,
        import_id=import_id,
        run_id=run_id,
        original_name=landing.original_name,
        landed_file=landing.path,
        file_format=landing.file_format,
        charset=staged.charset,
        mapping=request.mapping.name,
        counts=staged.counts,
        metrics_loaded=staged.metrics.height,
        superseded=0,
        notes=staged.notes,
        top_reasons=_top_reasons(staged.rejected),
        lake=settings.lake.describe(),
    )
    quarantine = quarantine_frame(
        staged.rejected.with_columns(pl.col("raw_record").fill_null("")),
        request.source,
        ENTITY,
        staged.fallback_date.isoformat(),
        import_id,
    )
    with warehouse_writer(settings.lake):
        connection = open_lake(settings.lake, threads=1)
        try:
            profiles = _with_account_ids(connection, staged.profiles, platform)
            metrics = _metric_rows(staged.metrics, profiles, request.source, platform, import_id)

            def records_of(outcomes: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
                _count_outcomes(summary, outcomes)
                return (
                    _import_file_rows(summary, request, landing, staged, import_id, outcomes),
                    _run_log(summary, staged, settings, started_at),
                )

            load_import(
                connection,
                ImportLoad(
                    source=request.source,
                    platform=platform,
                    import_id=import_id,
                    dates=staged.dates,
                    profiles=profiles,
                    metrics=metrics,
                    quarantine=quarantine,
                    run_id=run_id,
                    flow_run_id=current_flow_run_id(),
                ),
                records_of,
            )
        finally:
            connection.close()
    return summary


def _with_account_ids(connection: Any, profiles: pl.DataFrame, platform: str) -> pl.DataFrame:
    if profiles.is_empty():
        return pl.DataFrame(schema=_PROFILE_SCHEMA)
    keys = profiles["handle_key"].unique().sort().to_list()
    known = known_accounts(connection, platform, keys)
    return (
        resolve_account_ids(profiles.lazy(), known.lazy())
        .collect()
        .select(list(_PROFILE_SCHEMA))
        .cast(_PROFILE_SCHEMA)
    )


_PROFILE_SCHEMA = pl.Schema(
    {
        "platform": pl.String,
        "account_id": pl.String,
        "as_of_date": pl.Date,
        "handle": pl.String,
        "handle_key": pl.String,
        "display_name": pl.String,
        "country": pl.String,
        "country_as_written": pl.String,
        "category": pl.String,
        "followers": pl.Int64,
        "following": pl.Int64,
        "media_count": pl.Int64,
        "line_number": pl.Int32,
    }
)


def _metric_rows(
    metrics: pl.DataFrame, profiles: pl.DataFrame, source: str, platform: str, import_id: str
) -> pl.DataFrame:
    if metrics.is_empty():
        return pl.DataFrame()
    return (
        metrics.join(
            profiles.select("handle_key", "as_of_date", "account_id"),
            on=["handle_key", "as_of_date"],
        )
        .select(
            source=pl.lit(source),
            platform=pl.lit(platform),
            account_id="account_id",
            as_of_date="as_of_date",
            metric="metric",
            value="value",
            import_id=pl.lit(import_id),
        )
        .sort("account_id", "as_of_date", "metric")
    )


def _count_outcomes(summary: ImportSummary, outcomes: pl.DataFrame) -> None:
    """Loaded = profiles that reached fact_profile_daily; the superseded ones join the
    deduplicated (an account's snapshot that date was there already)."""
    if outcomes.is_empty():
        return
    superseded = outcomes.filter(~pl.col("in_fact_profile_daily")).group_by("as_of_date").len()
    for as_of, rows in superseded.iter_rows():
        counts = summary.counts[as_of]
        counts.loaded -= rows
        counts.deduplicated += rows
        summary.superseded += rows


def _import_file_rows(
    summary: ImportSummary,
    request: ImportRequest,
    landing: ImportLanding,
    staged: StagedImport,
    import_id: str,
    outcomes: pl.DataFrame,
) -> pl.DataFrame:
    superseded = dict(
        outcomes.filter(~pl.col("in_fact_profile_daily")).group_by("as_of_date").len().iter_rows()
        if not outcomes.is_empty()
        else []
    )
    rows = [
        {
            "source": request.source,
            "as_of_date": as_of,
            "import_id": import_id,
            "platform": request.mapping.mapping.platform,
            "file_sha256": landing.sha256,
            "file_bytes": landing.size,
            "original_name": landing.original_name,
            "landed_file": landing.path,
            "file_format": landing.file_format,
            "charset": staged.charset,
            "mapping": request.mapping.name,
            "mapping_sha256": request.mapping.sha256,
            "rows_landed": counts.landed,
            "rows_loaded": counts.loaded,
            "rows_quarantined": counts.quarantined,
            "rows_deduplicated": counts.deduplicated,
            "rows_superseded": superseded.get(as_of, 0),
            "notes": staged.notes,
        }
        for as_of, counts in sorted(summary.counts.items())
    ]
    return pl.DataFrame(rows, schema_overrides={"notes": pl.List(pl.String)})


def _run_log(
    summary: ImportSummary, staged: StagedImport, settings: Settings, started_at: dt.datetime
) -> pl.DataFrame:
    common = {
        "run_id": summary.run_id,
        "flow_run_id": current_flow_run_id(),
        "landing_run_id": summary.import_id,
        "source": summary.source,
        "started_at": started_at,
        "finished_at": utc_now(),
    }
    totals = summary.totals
    rows: list[dict[str, Any]] = [
        {
            **common,
            "partition_date": staged.fallback_date,
            "step": "extract",
            "entity": "file",
            "rows_in": totals.landed,
            "status": "ok",
            "message": _extract_message(summary)[:4000],
        }
    ]
    metrics_by_date = (
        dict(staged.metrics.group_by("as_of_date").len().iter_rows())
        if not staged.metrics.is_empty()
        else {}
    )
    for as_of, counts in sorted(summary.counts.items()):
        over = counts.landed and counts.quarantined / counts.landed > settings.max_quarantine_share
        rows += [
            {
                **common,
                "partition_date": as_of,
                "step": "validate",
                "entity": ENTITY,
                "rows_in": counts.landed,
                "rows_valid": counts.valid,
                "rows_quarantined": counts.quarantined,
                "status": "quarantine_exceeded" if over else "ok",
            },
            {
                **common,
                "partition_date": as_of,
                "step": "load",
                "entity": "fact_profile_daily",
                "rows_in": counts.valid,
                "rows_deduplicated": counts.deduplicated,
                "rows_loaded": counts.loaded,
                "status": "ok",
            },
            {
                **common,
                "partition_date": as_of,
                "step": "load",
                "entity": "fact_imported_metric",
                "rows_in": metrics_by_date.get(as_of, 0),
                "rows_loaded": metrics_by_date.get(as_of, 0),
                "status": "ok",
            },
        ]
    return pl.DataFrame(rows, schema=RUN_LOG_SCHEMA)


def _extract_message(summary: ImportSummary) -> str:
    parts = [
        f"imported {summary.original_name} as {summary.landed_file} ({summary.file_format}, "
        f"{summary.charset}, mapping {summary.mapping})"
    ]
    if summary.notes:
        parts.append("notes: " + "; ".join(summary.notes))
    return " | ".join(parts)


def _top_reasons(rejected: pl.DataFrame, limit: int = 10) -> list[tuple[str, int]]:
    if rejected.is_empty():
        return []
    reasons: Counter[str] = Counter()
    for checks in rejected[FAILED_CHECKS].to_list():
        reasons.update(checks)
    return reasons.most_common(limit)


@flow(name="import-file", log_prints=True)
def import_file(
    path: str, source: str, mapping: str | None = None, date: dt.date | None = None
) -> ImportSummary | State[Any]:
    """Import an export of creator stats (CSV, JSON array, NDJSON or Parquet) from another tool.

    Args:
        path: the file, on the machine that runs the flow.
        source: the tool or export it comes from, a plain name (e.g. kaggle_top_instagram): it
            names the import's folder in the raw zone and its partitions in the warehouse.
        mapping: a mapping TOML file, or the name of a shipped one (default: the shipped
            mapping named like the source).
        date: the date the file's counts are as of, when it has no date column (default: the
            mapping's as_of_date).
    """
    settings = load_settings()
    try:
        request = prepare_import(path, source, mapping, date)
    except ImportRefused as refusal:
        return Failed(message=str(refusal))
    run_id = new_run_id()
    started_at = utc_now()
    step = "extract"
    try:
        landing = land_import_file(settings.raw_dir, request)
        import_id = import_id_of(request, landing.sha256)
        step = "validate"
        staged = stage_import(settings.raw_dir, landing, request, settings.validation_batch_rows)
        step = "load"
        summary = load_staged_import(
            settings, request, landing, staged, import_id, run_id, started_at
        )
    except ImportRefused as refusal:
        _record_failure(settings, request, run_id, step, started_at, str(refusal))
        return Failed(message=str(refusal))
    except Exception as error:
        _record_failure(
            settings, request, run_id, step, started_at, f"{type(error).__name__}: {error}"
        )
        raise
    get_run_logger().info("%s", describe(summary))
    verdict = import_verdict(summary, settings.max_quarantine_share)
    if verdict is not None:
        return Failed(message=verdict)
    return summary


def describe(summary: ImportSummary) -> str:
    """One paragraph of what the import did."""
    totals = summary.totals
    text = (
        f"import {summary.import_id} of {summary.original_name} ({summary.source}): "
        f"{totals.landed} rows landed, {totals.loaded} loaded into fact_profile_daily, "
        f"{totals.quarantined} quarantined, {totals.deduplicated} deduplicated "
        f"({summary.superseded} superseded by a snapshot already there); "
        f"{summary.metrics_loaded} metric values into fact_imported_metric"
    )
    if summary.top_reasons:
        text += "; quarantined for: " + "; ".join(
            f"{reason} ({count})" for reason, count in summary.top_reasons
        )
    return text


def import_verdict(summary: ImportSummary, max_quarantine_share: float) -> str | None:
    """Why the import is red (after loading what was valid), or None."""
    totals = summary.totals
    return quarantine_verdict(
        what="rows",
        landed=totals.landed,
        loaded=totals.loaded,
        quarantined=totals.quarantined,
        original_name=summary.original_name,
        source=summary.source,
        top_reasons=summary.top_reasons,
        max_quarantine_share=max_quarantine_share,
    )


def _record_failure(
    settings: Settings,
    request: ImportRequest,
    run_id: str,
    step: str,
    started_at: dt.datetime,
    message: str,
) -> None:
    """Leave a failed row in ``pipeline_runs``; never mask the original error."""
    row = failed_run_row(
        run_id=run_id,
        flow_run_id=current_flow_run_id(),
        source=request.source,
        partition_date=request.default_as_of or request.imported_on,
        step=step,
        started_at=started_at,
        finished_at=utc_now(),
        message=message,
    )
    record_failed_run(settings.lake, row, f"failed import {request.source}")
