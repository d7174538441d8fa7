"""Records that cannot load without another: they follow it to quarantine, with its reason.

Both functions take and return a ``ContractSplit`` (the valid rows and the quarantined ones with
``failed_checks``), so they compose after ``split_by_contract``:

    media = quarantine_dependents(splits["media"], splits["profiles"], parent="profile")
    media = quarantine_conflicting_duplicates(media, key=["post_id", "as_of"],
                                              counts=["like_count", "comments_count"], noun="post")
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from schemas.contract import FAILED_CHECKS, ContractSplit
from transforms.raw_records import keep_last_landed

# A child belongs to the parent landed for the same roster handle and date.
ACCOUNT_AND_DATE = ("handle", "as_of")
_ROW = "__row"
_KEPT = "kept."


def quarantine_dependents(
    children: ContractSplit,
    parents: ContractSplit,
    *,
    parent: str,
    on: Sequence[str] = ACCOUNT_AND_DATE,
) -> ContractSplit:
    """``children`` with the valid rows whose parent is not valid moved to quarantine.

    A post or an audience bucket of an account whose profile was quarantined would load for an
    account the warehouse does not know, so it goes with the profile, naming the profile's
    failure: ``profile: quarantined (followers_count: implausible count (...))``. One with no
    profile at all that day goes too: ``profile: none landed for this account and date``.
    """
    keys = list(on)
    # Only the parents of this batch's children: the parents may be the whole night's accounts.
    children_keys = children.valid.select(keys).unique()
    valid_parents = parents.valid.select(keys).join(children_keys, on=keys, how="semi").unique()
    parent_failures = (
        parents.rejected.join(valid_parents, on=keys, how="anti")
        .select(*keys, pl.col(FAILED_CHECKS).alias("parent_failures"))
        .explode("parent_failures")
        .group_by(keys)
        .agg(pl.col("parent_failures").unique().sort().str.join("; "))
    )
    orphans = (
        children.valid.join(valid_parents, on=keys, how="anti")
        .join(parent_failures, on=keys, how="left")
        .with_columns(
            pl.concat_list(
                pl.when(pl.col("parent_failures").is_not_null())
                .then(pl.format("{}: quarantined ({})", pl.lit(parent), pl.col("parent_failures")))
                .otherwise(pl.lit(f"{parent}: none landed for this account and date"))
            ).alias(FAILED_CHECKS)
        )
        .select(children.rejected.columns)
    )
    return ContractSplit(
        valid=children.valid.join(valid_parents, on=keys, how="semi", maintain_order="left"),
        rejected=pl.concat([children.rejected, orphans]),
    )


def quarantine_conflicting_duplicates(
    records: ContractSplit, *, key: Sequence[str], counts: Sequence[str], noun: str
) -> ContractSplit:
    """``records`` with the valid rows that repeat a key with other counts moved to quarantine.

    Of the rows sharing ``key`` (its first column names the record), the one landed last stays,
    as the loader keeps it; those whose ``counts`` differ from it are quarantined, naming it:
    ``duplicate: post 123 landed again with other counts; kept line 57``. Exact repeats stay valid:
    the loader drops them and counts them as duplicates removed.
    """
    keys, compared = list(key), list(counts)
    if not records.valid.select(pl.struct(keys).is_duplicated().any()).item():
        return records  # the usual batch: no key repeats (a hash pass, not a sort and a join)
    indexed = records.valid.with_row_index(_ROW)
    kept = keep_last_landed(indexed, keys).select(
        *keys,
        *(pl.col(column).alias(_KEPT + column) for column in [*compared, _ROW]),
        pl.col("landed_file").alias(_KEPT + "landed_file"),
        pl.col("line_number").alias(_KEPT + "line_number"),
    )
    differs = pl.any_horizontal(
        ~pl.col(column).eq_missing(pl.col(_KEPT + column)) for column in compared
    )
    conflicting = (pl.col(_ROW) != pl.col(_KEPT + _ROW)) & differs
    in_other_file = pl.col("landed_file") != pl.col(_KEPT + "landed_file")
    reason = pl.format(
        "duplicate: {} {} landed again with other counts; kept line {}{}",
        pl.lit(noun),
        pl.col(keys[0]),
        pl.col(_KEPT + "line_number"),
        pl.when(in_other_file)
        .then(pl.format(" of {}", pl.col(_KEPT + "landed_file")))
        .otherwise(pl.lit("")),
    )
    judged = indexed.join(kept, on=keys, how="left", maintain_order="left")
    conflicts = judged.filter(conflicting).with_columns(pl.concat_list(reason).alias(FAILED_CHECKS))
    return ContractSplit(
        valid=judged.filter(~conflicting).select(records.valid.columns),
        rejected=pl.concat([records.rejected, conflicts.select(records.rejected.columns)]),
    )
