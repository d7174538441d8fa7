import json

import polars as pl
import pytest

from schemas.contract import split_by_contract
from schemas.raw import json_paths
from schemas.raw.instagram import RawInstagramAudience, RawInstagramMedia, RawInstagramProfile
from transforms.raw_records import parse_landed_records

GOOD_MEDIA = {
    "_handle": "maya.bakes",
    "_as_of": "2026-11-20",
    "_account_id": "178",
    "id": "901",
    "timestamp": "2026-11-19T10:00:00+0000",
    "media_type": "IMAGE",
    "like_count": 120,
    "comments_count": 4,
    "permalink": "https://www.instagram.com/p/abc/",
}


def parsed(model: type, *records: dict[str, object]) -> pl.DataFrame:
    lines = pl.LazyFrame(
        {
            "landed_file": ["x.jsonl.gz"] * len(records),
            "line_number": list(range(1, len(records) + 1)),
            "raw_record": [json.dumps(r) for r in records],
        }
    )
    return parse_landed_records(lines, json_paths(model)).collect()


@pytest.mark.parametrize(
    ("change", "expected_reason"),
    [
        ({"comments_count": "n/a"}, "comments_count: non_negative_integer (got n/a)"),
        ({"like_count": -3}, "like_count: negative count (-3)"),
        (
            {"comments_count": {"value": 5}},
            'comments_count: non_negative_integer (got {"value":5})',
        ),
        ({"timestamp": None}, "timestamp: not_nullable (got nothing)"),
        ({"timestamp": "yesterday"}, "timestamp: graph_timestamp (got yesterday)"),
        (
            {"media_type": "HOLOGRAM"},
            "media_type: isin(['IMAGE', 'VIDEO', 'CAROUSEL_ALBUM']) (got HOLOGRAM)",
        ),
        ({"id": None}, "post_id: not_nullable (got nothing)"),
    ],
    ids=[
        "count-as-text",
        "negative",
        "count-as-object",
        "missing-timestamp",
        "bad-timestamp",
        "unknown-media-type",
        "missing-id",
    ],
)
def test_a_bad_media_record_is_rejected_with_its_reason(
    change: dict[str, object], expected_reason: str
) -> None:
    bad = {k: v for k, v in {**GOOD_MEDIA, **change}.items() if v is not None}

    split = split_by_contract(parsed(RawInstagramMedia, GOOD_MEDIA, bad), RawInstagramMedia)

    assert split.valid["line_number"].to_list() == [1]
    assert split.rejected["line_number"].to_list() == [2]
    assert split.rejected["failed_checks"].to_list() == [[expected_reason]]
    assert json.loads(split.rejected["raw_record"][0]) == bad


def test_hidden_likes_are_valid() -> None:
    hidden = {k: v for k, v in GOOD_MEDIA.items() if k != "like_count"}

    split = split_by_contract(parsed(RawInstagramMedia, hidden), RawInstagramMedia)

    assert split.rejected.is_empty()
    assert split.valid["like_count"].to_list() == [None]


def test_every_failed_check_of_a_record_is_listed() -> None:
    profile = {
        "_handle": "a",
        "_as_of": "2026-11-20",
        "id": "x1",
        "username": "a",
        "followers_count": -5,
        "follows_count": 1,
        "media_count": 2,
    }

    split = split_by_contract(parsed(RawInstagramProfile, profile), RawInstagramProfile)

    assert split.rejected["failed_checks"].to_list() == [
        ["account_id: digits_id (got x1)", "followers_count: negative count (-5)"]
    ]


def test_audience_result_reads_the_first_dimension_value() -> None:
    record = {
        "_handle": "a",
        "_as_of": "2026-11-20",
        "_account_id": "1",
        "_breakdown": "age",
        "dimension_values": ["18-24"],
        "value": 1500,
    }

    split = split_by_contract(parsed(RawInstagramAudience, record), RawInstagramAudience)

    assert split.valid.select("bucket", "follower_count").row(0) == ("18-24", "1500")
