"""Splitting a batch into the rows that meet a contract and the rows to quarantine, with reasons.

Pandera's ``drop_invalid_rows`` keeps no record of what it dropped, so the split is rebuilt from
``SchemaErrors.failure_cases``: its ``index`` names the failing row, and a NULL index is a
schema-level failure that condemns the whole batch. One ``validate()`` per batch, never per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

ROW_INDEX = "__row_index"
FAILED_CHECKS = "failed_checks"


@dataclass(frozen=True)
class ContractSplit:
    """``valid`` has the input's columns; ``rejected`` adds ``failed_checks`` (list of str)."""

    valid: pl.DataFrame
    rejected: pl.DataFrame


def split_by_contract(batch: pl.DataFrame, model: type[pa.DataFrameModel]) -> ContractSplit:
    """Validate ``batch`` (collected: lazy validation checks only columns and types)."""
    try:
        model.validate(batch, lazy=True)
    except SchemaErrors as errors:
        return _split_on_failures(batch, errors.failure_cases)
    return ContractSplit(valid=batch, rejected=_with_reasons(batch.clear(), []))


def _split_on_failures(batch: pl.DataFrame, failure_cases: pl.DataFrame) -> ContractSplit:
    cases = failure_cases.with_columns(
        reason=pl.format(
            "{}: {} (got {})",
            pl.col("column").fill_null("<frame>"),
            pl.col("check"),
            pl.col("failure_case").cast(pl.String).fill_null("nothing"),
        )
    )
    batch_level = cases.filter(pl.col("index").is_null())["reason"].unique().sort().to_list()
    if batch_level:
        return ContractSplit(valid=batch.clear(), rejected=_with_reasons(batch, batch_level))
    reasons_by_row = cases.group_by("index").agg(
        pl.col("reason").unique().sort().alias(FAILED_CHECKS)
    )
    indexed = batch.with_row_index(ROW_INDEX).with_columns(pl.col(ROW_INDEX).cast(pl.Int64))
    reasons_by_row = reasons_by_row.with_columns(pl.col("index").cast(pl.Int64))
    rejected = indexed.join(reasons_by_row, left_on=ROW_INDEX, right_on="index", how="inner").sort(
        ROW_INDEX
    )
    valid = indexed.join(reasons_by_row, left_on=ROW_INDEX, right_on="index", how="anti")
    return ContractSplit(
        valid=valid.sort(ROW_INDEX).drop(ROW_INDEX), rejected=rejected.drop(ROW_INDEX)
    )


def _with_reasons(rows: pl.DataFrame, reasons: list[str]) -> pl.DataFrame:
    return rows.with_columns(pl.lit(reasons, dtype=pl.List(pl.String)).alias(FAILED_CHECKS))
