"""The shop's orders: ``influencers orders import FILE --shop NAME`` (or the ``import-orders``
deployment from the Prefect UI with a path on the worker's machine), and the FX rates that
convert them (``influencers orders fx-rates FILE``, the ``import-fx-rates`` flow).

Orders: read the export (Shopify's, or a CSV through a mapping), keeping only the order fields
and folding line items into orders -> land those PII-free records in the raw zone -> read them
back in batches and judge them (``schemas.raw.orders.RawOrder``) -> quarantine what fails, with
reasons -> type what passed -> merge into ``fact_order`` by (shop, order_id), one commit
(``warehouse.orders``). landed = loaded + quarantined + deduplicated, in ``order_import`` and
``pipeline_runs``.

FX rates: the file has no personal data, so it lands byte for byte (``sources.files.landing``),
then each row is judged (``RawFxRate``) and the valid ones merged into ``fx_rate``.

Refusals of the command itself (a missing file, a directory, an HTML page, an unknown mapping,
a path-like shop) are checked before anything lands and end the run as Failed, message alone.
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
from schemas.contract import FAILED_CHECKS, RECORD_PROBLEM, ContractSplit, split_by_contract
from schemas.raw.orders import UTC_TEXT_FORMAT, RawFxRate, RawOrder
from sources.files.errors import ImportRefused
from sources.files.landing import ImportLanding, land_file, verify_landing
from sources.files.reading import (
    json_cells,
    json_path_of,
)
from sources.landing import LandingManifest, new_run_id, read_landed_batches
from sources.orders import ENTITY
from sources.orders.landing import land_orders
from sources.orders.reading import LINE_ITEMS, LINE_PROBLEM, ORDER_FIELDS, ORDER_KEY, SOURCE_LINES
from sources.orders.request import (
    FX_COLUMNS,
    OrderImportRequest,
    fx_cells,
    prepare_fx_rates,
    prepare_order_import,
)
from transforms.orders import orders_to_judge, typed_fx_rates, typed_orders
from transforms.quarantine import quarantine_conflicting_duplicates
from transforms.raw_records import keep_last_landed
from warehouse.lake import open_lake
from warehouse.orders import FX_KEY, FX_SOURCE, MergeOutcome, OrderLoad, load_fx_rates, load_orders

FX_ENTITY = "fx_rate"
LANDED_FIELDS = (ORDER_KEY, *ORDER_FIELDS, LINE_ITEMS, SOURCE_LINES, LINE_PROBLEM)


# -- orders ------------------------------------------------------------------------------------
@dataclass
class StagedOrders:
    """The landed orders, judged: fact_order rows of those that passed, those to quarantine."""

    orders: pl.DataFrame
    rejected: pl.DataFrame
    counts: EntityCounts


@dataclass
class OrderImportSummary:
    """What one order import did, for the command line and the flow's return value."""

    shop: str
    source: str
    import_id: str
    run_id: str
    original_name: str
    landed_file: str
    charset: str
    mapping: str
    lines_read: int
    counts: EntityCounts
    outcome: MergeOutcome
    top_reasons: list[tuple[str, int]]
    lake: str = ""
    fx: FxImportSummary | None = None


@task(cache_policy=NO_CACHE)
def land_order_export(
    raw_dir: Path, request: OrderImportRequest, batch_rows: int
) -> LandingManifest:
    """Land the export's PII-free order records (once per file and mapping)."""
    manifest = land_orders(raw_dir, request, batch_rows)
    landed = manifest.file_for(ENTITY)
    get_run_logger().info(
        "landed %s orders of %s (%s bytes, sha256 %s) as %s",
        landed.records,
        manifest.extract["original_name"],
        manifest.extract["original_bytes"],
        manifest.extract["original_sha256"],
        landed.path,
    )
    return manifest


@task(cache_policy=NO_CACHE)
def stage_orders(
    raw_dir: Path, manifest: LandingManifest, request: OrderImportRequest, batch_rows: int
) -> StagedOrders:
    """Read the landed orders back in batches, judge them and type those that passed."""
    return judge_orders(raw_dir, manifest, request, batch_rows)


def judge_orders(
    raw_dir: Path, manifest: LandingManifest, request: OrderImportRequest, batch_rows: int
) -> StagedOrders:
    """Every landed order judged (see :class:`StagedOrders`)."""
    mapping = request.mapping.mapping
    landed = manifest.file_for(ENTITY)
    imported_at = request.imported_at.astimezone(dt.UTC).strftime(UTC_TEXT_FORMAT)
    paths = {name: json_path_of(name) for name in LANDED_FIELDS}
    valid_parts: list[pl.DataFrame] = []
    rejected_parts: list[pl.DataFrame] = []
    for numbers, texts in read_landed_batches(raw_dir, landed, batch_rows):
        lines = pl.LazyFrame(
            {"landed_file": landed.path, "line_number": numbers, "raw_record": texts},
            schema={"landed_file": pl.String, "line_number": pl.Int64, "raw_record": pl.String},
        )
        records = (
            json_cells(lines, paths)
            .with_columns(pl.coalesce(RECORD_PROBLEM, LINE_PROBLEM).alias(RECORD_PROBLEM))
            .drop(LINE_PROBLEM)
        )
        judged = orders_to_judge(
            records,
            key_column=mapping.key_column,
            decimal_separator=mapping.decimal_separator,
            total_after_discount=mapping.total_after_discount,
            imported_at=imported_at,
            default_currency=mapping.default_currency,
            timestamp_format=mapping.timestamp_format,
            timezone=mapping.timezone,
        ).collect()
        split = split_by_contract(judged, RawOrder)
        valid_parts.append(split.valid)
        rejected_parts.append(split.rejected)
    valid = pl.concat(valid_parts)
    rejected = pl.concat(rejected_parts)
    # The same order twice in one export: an exact repeat loads once, a conflicting one is
    # quarantined naming the line kept.
    split = quarantine_conflicting_duplicates(
        ContractSplit(valid=valid, rejected=rejected),
        key=["order_id"],
        counts=list(ORDER_FIELDS),
        noun="order",
    )
    kept = keep_last_landed(split.valid, ["order_id"])
    orders = typed_orders(
        kept.lazy(),
        shop=request.shop,
        import_id=manifest.run_id,
        code_separator=mapping.code_separator,
    ).collect()
    counts = EntityCounts(
        landed=valid.height + rejected.height,
        valid=split.valid.height,
        quarantined=split.rejected.height,
        deduplicated=split.valid.height - kept.height,
        loaded=kept.height,
    )
    return StagedOrders(orders=orders, rejected=split.rejected.sort("line_number"), counts=counts)


@task(cache_policy=NO_CACHE)
def load_staged_orders(
    settings: Settings,
    request: OrderImportRequest,
    manifest: LandingManifest,
    staged: StagedOrders,
    run_id: str,
    started_at: dt.datetime,
) -> OrderImportSummary:
    """Merge the orders into fact_order and record the import, in one commit."""
    landed = manifest.file_for(ENTITY)
    extract = manifest.extract
    landed_on = dt.date.fromisoformat(manifest.partition_date)
    summary = OrderImportSummary(
        shop=request.shop,
        source=request.source,
        import_id=manifest.run_id,
        run_id=run_id,
        original_name=str(extract["original_name"]),
        landed_file=landed.path,
        charset=str(extract["charset"]),
        mapping=request.mapping.name,
        lines_read=int(extract["lines"]),
        counts=staged.counts,
        outcome=MergeOutcome(),
        top_reasons=_top_reasons(staged.rejected),
        lake=settings.lake.describe(),
    )
    quarantine = quarantine_frame(
        staged.rejected.with_columns(pl.col("raw_record").fill_null("")),
        request.source,
        ENTITY,
        landed_on.isoformat(),
        manifest.run_id,
    )
    load = OrderLoad(
        shop=request.shop,
        source=request.source,
        import_id=manifest.run_id,
        orders=staged.orders,
        quarantine=quarantine,
        landed_on=landed_on,
        run_id=run_id,
        flow_run_id=current_flow_run_id(),
    )

    def records_of(outcome: MergeOutcome) -> tuple[pl.DataFrame, pl.DataFrame]:
        summary.outcome = outcome
        return (
            _order_import_row(summary, manifest, staged),
            _order_run_log(summary, landed_on, settings, started_at),
        )

    with warehouse_writer(settings.lake):
        connection = open_lake(settings.lake, threads=1)
        try:
            load_orders(connection, load, records_of)
        finally:
            connection.close()
    return summary


def _order_import_row(
    summary: OrderImportSummary, manifest: LandingManifest, staged: StagedOrders
) -> pl.DataFrame:
    extract = manifest.extract
    ordered = staged.orders.get_column("ordered_at")
    counts = summary.counts
    row = {
        "shop": summary.shop,
        "import_id": summary.import_id,
        "file_sha256": extract["original_sha256"],
        "file_bytes": int(extract["original_bytes"]),
        "original_name": summary.original_name,
        "landed_file": summary.landed_file,
        "landed_on": dt.date.fromisoformat(manifest.partition_date),
        "charset": summary.charset,
        "mapping": summary.mapping,
        "mapping_sha256": extract["mapping_sha256"],
        "lines_read": summary.lines_read,
        "first_ordered_at": ordered.min(),
        "last_ordered_at": ordered.max(),
        "orders_landed": counts.landed,
        "orders_loaded": counts.loaded,
        "orders_quarantined": counts.quarantined,
        "orders_deduplicated": counts.deduplicated,
    }
    return pl.DataFrame(
        [row],
        schema_overrides={
            "first_ordered_at": pl.Datetime("us"),
            "last_ordered_at": pl.Datetime("us"),
        },
    )


def _order_run_log(
    summary: OrderImportSummary,
    partition_date: dt.date,
    settings: Settings,
    started_at: dt.datetime,
) -> pl.DataFrame:
    counts, outcome = summary.counts, summary.outcome
    common = {
        "run_id": summary.run_id,
        "flow_run_id": current_flow_run_id(),
        "landing_run_id": summary.import_id,
        "source": summary.source,
        "partition_date": partition_date,
        "started_at": started_at,
        "finished_at": utc_now(),
    }
    over = counts.landed and counts.quarantined / counts.landed > settings.max_quarantine_share
    rows: list[dict[str, Any]] = [
        {
            **common,
            "step": "extract",
            "entity": ENTITY,
            "rows_in": counts.landed,
            "status": "ok",
            "message": (
                f"imported {summary.original_name} ({summary.lines_read} lines, "
                f"{summary.charset}, mapping {summary.mapping}) as {summary.landed_file}"
            )[:4000],
        },
        {
            **common,
            "step": "validate",
            "entity": ENTITY,
            "rows_in": counts.landed,
            "rows_valid": counts.valid,
            "rows_quarantined": counts.quarantined,
            "status": "quarantine_exceeded" if over else "ok",
        },
        {
            **common,
            "step": "load",
            "entity": "fact_order",
            "rows_in": counts.valid,
            "rows_deduplicated": counts.deduplicated,
            "rows_loaded": counts.loaded,
            "status": "ok",
            "message": (
                f"{outcome.inserted} inserted, {outcome.updated} updated, "
                f"{outcome.unchanged} unchanged"
            ),
        },
    ]
    return pl.DataFrame(rows, schema=RUN_LOG_SCHEMA)


def _top_reasons(rejected: pl.DataFrame, limit: int = 10) -> list[tuple[str, int]]:
    reasons: Counter[str] = Counter()
    for checks in rejected.get_column(FAILED_CHECKS).to_list() if not rejected.is_empty() else []:
        reasons.update(checks)
    return reasons.most_common(limit)


@flow(name="import-orders", log_prints=True)
def import_orders(
    path: str, shop: str, mapping: str | None = None, fx_rates: str | None = None
) -> OrderImportSummary | State[Any]:
    """Import a shop's orders export (Shopify's orders CSV, or a CSV with a mapping).

    Args:
        path: the export, on the machine that runs the flow.
        shop: the shop it comes from, a plain name (e.g. glowco): it names the shop's folder in
            the raw zone and its rows of fact_order.
        mapping: an order mapping TOML file, or the name of a shipped one (default: shopify).
        fx_rates: an FX rates CSV (currency,rate_date,base_currency,rate) to load first.
    """
    settings = load_settings()
    fx_summary: FxImportSummary | None = None
    if fx_rates is not None:
        fx_state = import_fx_rates(fx_rates, return_state=True)
        if fx_state.is_failed():
            return Failed(message=f"FX rates not imported: {fx_state.message}")
        fx_result = fx_state.result()
        assert isinstance(fx_result, FxImportSummary)
        fx_summary = fx_result
    try:
        request = prepare_order_import(path, shop, mapping)
    except ImportRefused as refusal:
        return Failed(message=str(refusal))
    run_id = new_run_id()
    started_at = utc_now()
    step = "extract"
    try:
        manifest = land_order_export(settings.raw_dir, request, settings.validation_batch_rows)
        step = "validate"
        staged = stage_orders(settings.raw_dir, manifest, request, settings.validation_batch_rows)
        step = "load"
        summary = load_staged_orders(settings, request, manifest, staged, run_id, started_at)
    except ImportRefused as refusal:
        _record_failure(settings, request.source, run_id, step, started_at, str(refusal))
        return Failed(message=str(refusal))
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        _record_failure(settings, request.source, run_id, step, started_at, message)
        raise
    summary.fx = fx_summary
    get_run_logger().info("%s", describe_orders(summary))
    verdict = orders_verdict(summary, settings.max_quarantine_share)
    if verdict is not None:
        return Failed(message=verdict)
    return summary


def describe_orders(summary: OrderImportSummary) -> str:
    """One paragraph of what the order import did."""
    counts, outcome = summary.counts, summary.outcome
    text = (
        f"orders import {summary.import_id} of {summary.original_name} ({summary.shop}): "
        f"{summary.lines_read} lines, {counts.landed} orders landed, {counts.loaded} loaded into "
        f"fact_order ({outcome.inserted} new, {outcome.updated} updated, {outcome.unchanged} "
        f"unchanged), {counts.quarantined} quarantined, {counts.deduplicated} deduplicated"
    )
    if summary.top_reasons:
        text += "; quarantined for: " + "; ".join(
            f"{reason} ({count})" for reason, count in summary.top_reasons
        )
    return text


def orders_verdict(summary: OrderImportSummary, max_quarantine_share: float) -> str | None:
    """Why the import is red (after loading what was valid), or None."""
    counts = summary.counts
    return quarantine_verdict(
        what="orders",
        landed=counts.landed,
        loaded=counts.loaded,
        quarantined=counts.quarantined,
        original_name=summary.original_name,
        source=summary.source,
        top_reasons=summary.top_reasons,
        max_quarantine_share=max_quarantine_share,
    )


def _record_failure(
    settings: Settings,
    source: str,
    run_id: str,
    step: str,
    started_at: dt.datetime,
    message: str,
) -> None:
    """Leave a failed row in ``pipeline_runs``; never mask the original error."""
    row = failed_run_row(
        run_id=run_id,
        flow_run_id=current_flow_run_id(),
        source=source,
        partition_date=started_at.date(),
        step=step,
        started_at=started_at,
        finished_at=utc_now(),
        message=message,
    )
    record_failed_run(settings.lake, row, f"failed import {source}")


# -- FX rates ------------------------------------------------------------------------------------
@dataclass
class FxImportSummary:
    """What one FX rates import did."""

    import_id: str
    original_name: str
    landed_file: str
    counts: EntityCounts
    outcome: MergeOutcome
    top_reasons: list[tuple[str, int]] = field(default_factory=list)


@flow(name="import-fx-rates", log_prints=True)
def import_fx_rates(path: str) -> FxImportSummary | State[Any]:
    """Load an FX rates CSV (currency,rate_date,base_currency,rate) into fx_rate.

    Args:
        path: the file, on the machine that runs the flow.
    """
    settings = load_settings()
    try:
        file_path = prepare_fx_rates(path)
    except ImportRefused as refusal:
        return Failed(message=str(refusal))
    run_id = new_run_id()
    started_at = utc_now()
    landing = land_file(settings.raw_dir, FX_SOURCE, file_path, "csv")
    import_id = "fx-" + hashlib.sha256(landing.sha256.encode()).hexdigest()[:16]
    summary = _stage_and_load_fx(settings, landing, import_id, run_id, started_at)
    get_run_logger().info(
        "FX rates %s: %s rows landed, %s loaded (%s new, %s changed), %s quarantined",
        landing.original_name,
        summary.counts.landed,
        summary.counts.loaded,
        summary.outcome.inserted,
        summary.outcome.updated,
        summary.counts.quarantined,
    )
    counts = summary.counts
    if counts.landed and counts.quarantined / counts.landed > settings.max_quarantine_share:
        return Failed(
            message=f"{summary.counts.quarantined} of {summary.counts.landed} FX rates of "
            f"{landing.original_name} were quarantined (the {summary.counts.loaded} valid ones "
            "were loaded): "
            + "; ".join(f"{reason} ({count})" for reason, count in summary.top_reasons[:5])
        )
    return summary


def _stage_and_load_fx(
    settings: Settings,
    landing: ImportLanding,
    import_id: str,
    run_id: str,
    started_at: dt.datetime,
) -> FxImportSummary:
    path = verify_landing(settings.raw_dir, landing)
    imported_on = started_at.date().isoformat()
    valid_parts, rejected_parts = [], []
    for cells in fx_cells(path, landing.path, settings.validation_batch_rows):
        split = split_by_contract(cells.with_columns(imported_on=pl.lit(imported_on)), RawFxRate)
        valid_parts.append(split.valid)
        rejected_parts.append(split.rejected)
    valid, rejected = pl.concat(valid_parts), pl.concat(rejected_parts)
    valid = valid.with_columns(pl.col(column).str.strip_chars() for column in FX_COLUMNS)
    split = quarantine_conflicting_duplicates(
        ContractSplit(valid=valid, rejected=rejected),
        key=list(FX_KEY),
        counts=["rate"],
        noun="rate of",
    )
    kept = keep_last_landed(split.valid, list(FX_KEY))
    rates = typed_fx_rates(kept.lazy(), import_id=import_id).collect()
    counts = EntityCounts(
        landed=valid.height + rejected.height,
        valid=split.valid.height,
        quarantined=split.rejected.height,
        deduplicated=split.valid.height - kept.height,
        loaded=kept.height,
    )
    summary = FxImportSummary(
        import_id=import_id,
        original_name=landing.original_name,
        landed_file=landing.path,
        counts=counts,
        outcome=MergeOutcome(),
        top_reasons=_top_reasons(split.rejected),
    )
    quarantine = quarantine_frame(
        split.rejected.with_columns(pl.col("raw_record").fill_null("")),
        FX_SOURCE,
        FX_ENTITY,
        imported_on,
        import_id,
    )

    def run_log(outcome: MergeOutcome) -> pl.DataFrame:
        summary.outcome = outcome
        common = {
            "run_id": run_id,
            "flow_run_id": current_flow_run_id(),
            "landing_run_id": import_id,
            "source": FX_SOURCE,
            "partition_date": started_at.date(),
            "started_at": started_at,
            "finished_at": utc_now(),
            "status": "ok",
        }
        return pl.DataFrame(
            [
                {
                    **common,
                    "step": "validate",
                    "entity": FX_ENTITY,
                    "rows_in": counts.landed,
                    "rows_valid": counts.valid,
                    "rows_quarantined": counts.quarantined,
                },
                {
                    **common,
                    "step": "load",
                    "entity": "fx_rate",
                    "rows_in": counts.valid,
                    "rows_deduplicated": counts.deduplicated,
                    "rows_loaded": counts.loaded,
                    "message": f"{outcome.inserted} inserted, {outcome.updated} updated, "
                    f"{outcome.unchanged} unchanged",
                },
            ],
            schema=RUN_LOG_SCHEMA,
        )

    with warehouse_writer(settings.lake):
        connection = open_lake(settings.lake, threads=1)
        try:
            load_fx_rates(connection, rates, quarantine, import_id, run_log)
        finally:
            connection.close()
    return summary
