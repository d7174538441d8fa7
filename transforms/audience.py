"""Audience breakdowns load whole or not at all (``transforms/facts.py`` builds the shares)."""

from __future__ import annotations

import polars as pl

BREAKDOWN_KEY = ["handle", "as_of", "breakdown"]
FAILED_CHECKS = "failed_checks"
INCOMPLETE_BREAKDOWN = "breakdown: another bucket of this breakdown failed its contract"
EMPTY_BREAKDOWN = "breakdown: its buckets count no followers, so no share can be computed"


def split_incomplete_breakdowns(
    valid: pl.LazyFrame, rejected: pl.LazyFrame
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Move the valid buckets of broken breakdowns to quarantine, with the reason.

    Shares are a bucket's count over its breakdown's total: with one bucket missing, every other
    share would be wrong. So a breakdown loads whole or not at all; and one whose total is zero
    has no shares to compute. Returns (kept, newly rejected with ``failed_checks``).
    """
    broken = rejected.select(BREAKDOWN_KEY).unique()
    empty = (
        valid.group_by(BREAKDOWN_KEY)
        .agg(total=pl.col("follower_count").cast(pl.Int64).sum())
        .filter(pl.col("total") == 0)
        .select(BREAKDOWN_KEY)
    )
    newly_rejected = pl.concat(
        [
            valid.join(broken, on=BREAKDOWN_KEY, how="semi").with_columns(
                pl.lit([INCOMPLETE_BREAKDOWN], dtype=pl.List(pl.String)).alias(FAILED_CHECKS)
            ),
            valid.join(broken, on=BREAKDOWN_KEY, how="anti")
            .join(empty, on=BREAKDOWN_KEY, how="semi")
            .with_columns(pl.lit([EMPTY_BREAKDOWN], dtype=pl.List(pl.String)).alias(FAILED_CHECKS)),
        ]
    )
    kept = valid.join(broken, on=BREAKDOWN_KEY, how="anti").join(
        empty, on=BREAKDOWN_KEY, how="anti"
    )
    return kept, newly_rejected
