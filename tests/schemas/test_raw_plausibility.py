"""Implausible raw records: each is quarantined with one reason a person can read."""

import json

import polars as pl
import pytest

from schemas.contract import split_by_contract
from schemas.raw import LandedRecord, json_paths
from schemas.raw.instagram import RawInstagramAudience, RawInstagramMedia, RawInstagramProfile
from transforms.raw_records import parse_landed_records

PROFILE = {
    "_handle": "maya.bakes",
    "_as_of": "2026-10-18",
    "id": "178",
    "username": "maya.bakes",
    "name": "Maya",
    "followers_count": 52_000,
    "follows_count": 310,
    "media_count": 412,
}
MEDIA = {
    "_handle": "maya.bakes",
    "_as_of": "2026-10-18",
    "_account_id": "178",
    "id": "901",
    "timestamp": "2026-10-17T10:00:00+0000",
    "media_type": "IMAGE",
    "like_count": 120,
    "comments_count": 4,
}
AUDIENCE = {
    "_handle": "maya.bakes",
    "_as_of": "2026-10-18",
    "_account_id": "178",
    "_breakdown": "age",
    "dimension_values": ["18-24"],
    "value": 1500,
}


def landed(*lines: str) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "landed_file": ["x.jsonl.gz"] * len(lines),
            "line_number": list(range(1, len(lines) + 1)),
            "raw_record": list(lines),
        }
    )


def split(model: type[LandedRecord], *lines: str) -> tuple[list[int], list[list[str]]]:
    """(valid line numbers, reasons of each rejected line)."""
    parsed = parse_landed_records(landed(*lines), json_paths(model)).collect()
    result = split_by_contract(parsed, model)
    return result.valid["line_number"].to_list(), result.rejected["failed_checks"].to_list()


# json.dumps writes float("nan") and the infinities as bare NaN / Infinity / -Infinity.
@pytest.mark.parametrize(
    ("model", "record", "expected_reason"),
    [
        (
            RawInstagramMedia,
            {**MEDIA, "comments_count": float("nan")},
            "comments_count: not a number (NaN)",
        ),
        (
            RawInstagramMedia,
            {**MEDIA, "like_count": float("inf")},
            "like_count: not a number (Infinity)",
        ),
        (
            RawInstagramProfile,
            {**PROFILE, "followers_count": float("-inf")},
            "followers_count: not a number (-Infinity)",
        ),
        (
            RawInstagramProfile,
            {**PROFILE, "followers_count": 10**15},
            "followers_count: implausible count (1000000000000000 > 10^10)",
        ),
        (
            RawInstagramProfile,
            {**PROFILE, "media_count": 10**10 + 1},
            "media_count: implausible count (10000000001 > 10^10)",
        ),
        (
            RawInstagramMedia,
            {**MEDIA, "like_count": 10**30},
            # the integer as it was sent, all 31 digits
            "like_count: implausible count (1000000000000000000000000000000 > 10^10)",
        ),
        (RawInstagramMedia, {**MEDIA, "like_count": -3}, "like_count: negative count (-3)"),
        (
            RawInstagramProfile,
            {**PROFILE, "follows_count": -2.5},
            "follows_count: negative count (-2.5)",
        ),
        (
            RawInstagramAudience,
            {**AUDIENCE, "value": -40},
            "follower_count: negative count (-40)",
        ),
        (
            RawInstagramMedia,
            {**MEDIA, "timestamp": "2028-10-18T10:00:00+0000"},
            "timestamp: published after the night's date "
            "(2028-10-18T10:00:00+0000 > end of 2026-10-18)",
        ),
        (
            RawInstagramMedia,
            {**MEDIA, "timestamp": "2026-10-19T00:00:00+0000"},
            "timestamp: published after the night's date "
            "(2026-10-19T00:00:00+0000 > end of 2026-10-18)",
        ),
        (
            RawInstagramMedia,
            {**MEDIA, "timestamp": "2026-10-18T23:30:00-0100"},
            "timestamp: published after the night's date "
            "(2026-10-18T23:30:00-0100 > end of 2026-10-18)",
        ),
        (
            RawInstagramAudience,
            {**AUDIENCE, "dimension_values": ["90+"]},
            "bucket: unknown age bucket (90+)",
        ),
        (
            RawInstagramAudience,
            {**AUDIENCE, "_breakdown": "gender", "dimension_values": ["X"]},
            "bucket: unknown gender bucket (X)",
        ),
        (
            RawInstagramAudience,
            {**AUDIENCE, "_breakdown": "country", "dimension_values": ["usa"]},
            "bucket: unknown country bucket (usa)",
        ),
        (
            RawInstagramAudience,
            {**AUDIENCE, "_breakdown": "city", "dimension_values": ["London"]},
            "bucket: unknown city bucket (London)",
        ),
    ],
    ids=[
        "nan-count",
        "infinite-count",
        "minus-infinite-count",
        "implausible-followers",
        "just-above-10^10",
        "count-beyond-int64",
        "negative-likes",
        "negative-fraction",
        "negative-bucket-count",
        "published-two-years-ahead",
        "published-at-midnight-after",
        "published-after-midnight-utc-by-offset",
        "unknown-age-bucket",
        "unknown-gender-bucket",
        "country-not-iso",
        "city-without-region",
    ],
)
def test_an_implausible_record_is_rejected_with_one_precise_reason(
    model: type[LandedRecord], record: dict[str, object], expected_reason: str
) -> None:
    good = {"profiles": PROFILE, "media": MEDIA, "audience": AUDIENCE}
    good_record = next(r for r in good.values() if set(r) == set(record))

    valid, reasons = split(model, json.dumps(good_record), json.dumps(record))

    assert valid == [1]
    assert reasons == [[expected_reason]]


@pytest.mark.parametrize(
    ("model", "record"),
    [
        (RawInstagramProfile, {**PROFILE, "followers_count": 10**10}),
        (RawInstagramProfile, {**PROFILE, "followers_count": 0, "media_count": 0}),
        (RawInstagramMedia, {**MEDIA, "timestamp": "2026-10-18T23:59:59+0000"}),
        (RawInstagramMedia, {**MEDIA, "timestamp": "2026-10-19T00:30:00+0100"}),
        (RawInstagramMedia, {**MEDIA, "caption": "NaN bread, Infinity likes: -Infinity"}),
        (RawInstagramAudience, {**AUDIENCE, "dimension_values": ["65+"]}),
        (RawInstagramAudience, {**AUDIENCE, "_breakdown": "gender", "dimension_values": ["U"]}),
        (
            RawInstagramAudience,
            {**AUDIENCE, "_breakdown": "city", "dimension_values": ["São Paulo, São Paulo"]},
        ),
    ],
    ids=[
        "exactly-10^10",
        "zero-counts",
        "last-second-of-the-night",
        "before-midnight-utc-by-offset",
        "nan-words-in-a-caption",
        "oldest-age-bucket",
        "unknown-gender-is-a-bucket",
        "non-ascii-city",
    ],
)
def test_a_plausible_record_is_valid(model: type[LandedRecord], record: dict[str, object]) -> None:
    valid, reasons = split(model, json.dumps(record, ensure_ascii=False))

    assert (valid, reasons) == ([1], [])


@pytest.mark.parametrize(
    ("item", "expected_reason"),
    [
        ("abc", 'item: not a JSON object (got "abc")'),
        (42, "item: not a JSON object (got 42)"),
        (["a", 1], 'item: not a JSON object (got ["a",1])'),
        (None, "item: not a JSON object (got null)"),
        ("x" * 100, 'item: not a JSON object (got "' + "x" * 59 + "…)"),
    ],
    ids=["string", "number", "list", "null", "long-string-cut"],
)
def test_an_item_that_was_not_an_object_has_that_one_reason(
    item: object, expected_reason: str
) -> None:
    context = {k: v for k, v in MEDIA.items() if k.startswith("_")}
    wrapped = json.dumps({**context, "_not_an_object": item})

    valid, reasons = split(RawInstagramMedia, json.dumps(MEDIA), wrapped)

    assert valid == [1]
    assert reasons == [[expected_reason]]


@pytest.mark.parametrize(
    ("line", "expected_reason"),
    [
        (
            '{"id": "901", "timestamp": "2026-10',
            'record: not valid JSON ({"id": "901", "timestamp": "2026-10)',
        ),
        ("<html>502 Bad Gateway</html>", "record: not valid JSON (<html>502 Bad Gateway</html>)"),
        ('"abc"', 'record: not a JSON object (got "abc")'),
        ("[1, 2]", "record: not a JSON object (got [1, 2])"),
        ("null", "record: not a JSON object (got null)"),
    ],
    ids=["truncated", "html", "bare-string", "array", "null"],
)
def test_a_line_that_is_no_record_has_one_reason(line: str, expected_reason: str) -> None:
    valid, reasons = split(RawInstagramMedia, line, json.dumps(MEDIA))

    assert valid == [2]
    assert reasons == [[expected_reason]]


def test_rejected_rows_keep_the_batch_order_around_lines_that_are_no_record() -> None:
    lines = [
        json.dumps({**MEDIA, "like_count": -1}),
        "not json",
        json.dumps(MEDIA),
        json.dumps({**MEDIA, "comments_count": float("nan")}),
    ]

    parsed = parse_landed_records(landed(*lines), json_paths(RawInstagramMedia)).collect()
    result = split_by_contract(parsed, RawInstagramMedia)

    assert result.valid["line_number"].to_list() == [3]
    assert result.rejected["line_number"].to_list() == [1, 2, 4]
    assert result.rejected["raw_record"].to_list() == [lines[0], lines[1], lines[3]]
    assert list(result.valid.columns) == list(parsed.columns)
    assert list(result.rejected.columns) == [*parsed.columns, "failed_checks"]


def test_a_nan_line_fails_only_its_nan_field() -> None:
    record = {**MEDIA, "comments_count": float("nan"), "like_count": -3}

    assert split(RawInstagramMedia, json.dumps(record)) == (
        [],
        [["comments_count: not a number (NaN)", "like_count: negative count (-3)"]],
    )
