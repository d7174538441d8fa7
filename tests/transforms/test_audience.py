import datetime as dt
import json

import polars as pl
import pytest

from schemas.contract import split_by_contract
from schemas.raw import json_paths
from schemas.raw.instagram import RawInstagramAudience
from transforms.audience import (
    EMPTY_BREAKDOWN,
    INCOMPLETE_BREAKDOWN,
    split_incomplete_breakdowns,
)
from transforms.facts import fact_audience_share
from transforms.raw_records import parse_landed_records
from transforms.staging.instagram import stage_audience


def audience(rows: list[tuple[str, str, str, str]]) -> pl.LazyFrame:
    """rows: (handle, breakdown, bucket, follower_count)."""
    return pl.LazyFrame(
        [
            {
                "landed_file": "a",
                "line_number": i + 1,
                "handle": handle,
                "as_of": "2026-11-20",
                "account_id": {"ann": "1", "bob": "2"}[handle],
                "breakdown": breakdown,
                "bucket": bucket,
                "follower_count": count,
            }
            for i, (handle, breakdown, bucket, count) in enumerate(rows)
        ]
    )


def test_shares_are_counts_over_the_breakdown_total() -> None:
    shares = fact_audience_share(
        stage_audience(
            audience(
                [
                    ("ann", "gender", "F", "300"),
                    ("ann", "gender", "M", "100"),
                    ("ann", "age", "18-24", "50"),
                    ("ann", "age", "25-34", "150"),
                    ("ann", "age", "25-34", "150"),
                ]
            )
        )
    ).collect()

    assert shares.select("dimension", "bucket", "share").to_dicts() == [
        {"dimension": "age", "bucket": "18-24", "share": pytest.approx(0.25)},
        {"dimension": "age", "bucket": "25-34", "share": pytest.approx(0.75)},
        {"dimension": "gender", "bucket": "F", "share": pytest.approx(0.75)},
        {"dimension": "gender", "bucket": "M", "share": pytest.approx(0.25)},
    ]
    assert shares["as_of_date"].unique().to_list() == [dt.date(2026, 11, 20)]


def test_a_breakdown_with_a_failed_bucket_is_quarantined_whole() -> None:
    valid = audience(
        [
            ("ann", "age", "18-24", "50"),
            ("ann", "gender", "F", "10"),
            ("bob", "age", "18-24", "0"),
            ("bob", "age", "25-34", "0"),
        ]
    )
    rejected = audience([("ann", "age", "25-34", "-3")]).with_columns(
        failed_checks=pl.lit(["follower_count: non_negative_integer (got -3)"])
    )

    kept, moved = split_incomplete_breakdowns(valid, rejected)

    assert kept.collect().select("handle", "breakdown").to_dicts() == [
        {"handle": "ann", "breakdown": "gender"}
    ]
    assert moved.collect().select("handle", "breakdown", "bucket", "failed_checks").to_dicts() == [
        {
            "handle": "ann",
            "breakdown": "age",
            "bucket": "18-24",
            "failed_checks": [INCOMPLETE_BREAKDOWN],
        },
        {
            "handle": "bob",
            "breakdown": "age",
            "bucket": "18-24",
            "failed_checks": [EMPTY_BREAKDOWN],
        },
        {
            "handle": "bob",
            "breakdown": "age",
            "bucket": "25-34",
            "failed_checks": [EMPTY_BREAKDOWN],
        },
    ]


def test_an_unknown_bucket_fails_its_contract_and_takes_its_breakdown_along() -> None:
    context = {"_handle": "ann", "_as_of": "2026-11-20", "_account_id": "1"}
    results = [
        {**context, "_breakdown": "age", "dimension_values": ["18-24"], "value": 50},
        {**context, "_breakdown": "age", "dimension_values": ["90+"], "value": 5},
        {**context, "_breakdown": "gender", "dimension_values": ["F"], "value": 10},
    ]
    lines = pl.LazyFrame(
        {
            "landed_file": ["a"] * len(results),
            "line_number": [1, 2, 3],
            "raw_record": [json.dumps(r) for r in results],
        }
    )
    contract = split_by_contract(
        parse_landed_records(lines, json_paths(RawInstagramAudience)).collect(),
        RawInstagramAudience,
    )

    kept, moved = split_incomplete_breakdowns(contract.valid.lazy(), contract.rejected.lazy())

    assert kept.collect().select("breakdown", "bucket").rows() == [("gender", "F")]
    assert contract.rejected.select("bucket", "failed_checks").rows() == [
        ("90+", ["bucket: unknown age bucket (90+)"])
    ]
    assert moved.collect().select("bucket", "failed_checks").rows() == [
        ("18-24", [INCOMPLETE_BREAKDOWN])
    ]
