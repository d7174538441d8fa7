"""Splitting a batch into the rows that meet a contract and the rows to quarantine, with reasons.

Pandera's ``drop_invalid_rows`` keeps no record of what it dropped, so the split is rebuilt from
``SchemaErrors.failure_cases``: its ``index`` names the failing row, and a NULL index is a
schema-level failure that condemns the whole batch. One ``validate()`` per batch, never per row.

Reasons read ``<column>: <check> (got <value>)``, unless the check's ``error`` is a reason
template (it holds ``{value}``, see ``schemas.checks``): then the template is filled in from the
failure and its row, column-wise (one expression per distinct template, never Python per row).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

ROW_INDEX = "__row_index"
BATCH_POSITION = "__batch_position"
FAILED_CHECKS = "failed_checks"
# Set by ``transforms.raw_records`` when a landed line is no record at all: that is its only
# reason, so such rows skip the checks whose failures would only repeat it.
RECORD_PROBLEM = "record_problem"
VALUE_PLACEHOLDER = "{value}"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class ContractSplit:
    """``valid`` has the input's columns; ``rejected`` adds ``failed_checks`` (list of str)."""

    valid: pl.DataFrame
    rejected: pl.DataFrame


def split_by_contract(batch: pl.DataFrame, model: type[pa.DataFrameModel]) -> ContractSplit:
    """Validate ``batch`` (collected: lazy validation checks only columns and types)."""
    if RECORD_PROBLEM in batch.columns and batch[RECORD_PROBLEM].is_not_null().any():
        return _split_out_non_records(batch, model)
    try:
        model.validate(batch, lazy=True)
    except SchemaErrors as errors:
        return _split_on_failures(batch, errors.failure_cases)
    return ContractSplit(valid=batch, rejected=_with_reasons(batch.clear(), []))


def _split_out_non_records(batch: pl.DataFrame, model: type[pa.DataFrameModel]) -> ContractSplit:
    """Reject the lines that are no record with that one reason; validate the others."""
    positioned = batch.with_columns(pl.int_range(pl.len()).alias(BATCH_POSITION))
    is_record = pl.col(RECORD_PROBLEM).is_null()
    # The position rides through validation (raw contracts are not strict) to restore the order.
    records = split_by_contract(positioned.filter(is_record), model)
    not_records = positioned.filter(~is_record).with_columns(
        pl.concat_list(RECORD_PROBLEM).alias(FAILED_CHECKS)
    )
    rejected = pl.concat([records.rejected, not_records]).sort(BATCH_POSITION)
    return ContractSplit(
        valid=records.valid.drop(BATCH_POSITION), rejected=rejected.drop(BATCH_POSITION)
    )


def _split_on_failures(batch: pl.DataFrame, failure_cases: pl.DataFrame) -> ContractSplit:
    cases = _with_reason(failure_cases, batch)
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


def _with_reason(failure_cases: pl.DataFrame, batch: pl.DataFrame) -> pl.DataFrame:
    """``failure_cases`` plus ``reason``: the default wording, or its check's filled template."""
    cases = failure_cases.with_columns(
        pl.col("column").fill_null("<frame>"),
        pl.col("failure_case").cast(pl.String).fill_null("nothing"),
        pl.col("index").cast(pl.Int64),
    )
    templates = sorted(
        {check for check in cases["check"].drop_nulls().unique() if VALUE_PLACEHOLDER in check}
    )
    row_columns = sorted(
        {name for t in templates for name in _PLACEHOLDER.findall(t)} & set(batch.columns)
    )
    if row_columns:
        # Prefixed so a batch column never collides with failure_cases' own columns.
        row_values = batch.select(row_columns).with_row_index(ROW_INDEX)
        cases = cases.join(
            row_values.select(
                pl.col(ROW_INDEX).cast(pl.Int64),
                *(pl.col(name).cast(pl.String).alias(f"row.{name}") for name in row_columns),
            ),
            left_on="index",
            right_on=ROW_INDEX,
            how="left",
        )
    reason: pl.Expr = pl.format(
        "{}: {} (got {})", pl.col("column"), pl.col("check"), pl.col("failure_case")
    )
    for template in templates:
        reason = (
            pl.when(pl.col("check") == template)
            .then(_filled(template, set(row_columns)))
            .otherwise(reason)
        )
    return cases.with_columns(reason=reason)


def _filled(template: str, row_columns: set[str]) -> pl.Expr:
    """``template`` with its placeholders replaced by the failure's column, value and row."""
    pieces: list[pl.Expr] = []
    for position, piece in enumerate(_PLACEHOLDER.split(template)):
        if position % 2 == 0:
            pieces.append(pl.lit(piece))
        elif piece == "column":
            pieces.append(pl.col("column"))
        elif piece == "value":
            pieces.append(pl.col("failure_case"))
        elif piece in row_columns:
            pieces.append(pl.col(f"row.{piece}").fill_null("nothing"))
        else:
            pieces.append(pl.lit(f"{{{piece}}}"))
    return pl.concat_str(pieces)


def _with_reasons(rows: pl.DataFrame, reasons: list[str]) -> pl.DataFrame:
    return rows.with_columns(pl.lit(reasons, dtype=pl.List(pl.String)).alias(FAILED_CHECKS))
