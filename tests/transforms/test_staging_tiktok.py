"""TikTok: the raw contracts of users and videos (good rows pass, each bad one is quarantined with
its reason) and the staging transform from validated rows to staged profiles and posts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from schemas.contract import split_by_contract
from schemas.raw import RAW_CONTRACTS, json_paths
from schemas.raw.tiktok import RawTikTokUser, RawTikTokVideo
from schemas.staging import StagedPost, StagedProfile
from transforms.raw_records import parse_landed_records
from transforms.staging.tiktok import stage_posts, stage_profiles

OPEN_ID = "723f24d7-e717-40f8-a2b6-cb8464cd23b4"
AS_OF = "2026-10-18"
# 2026-10-18T14:05:00Z
CREATED = 1_792_332_300
GOOD_USER = {
    "open_id": OPEN_ID,
    "union_id": "c9c60f44-a68e-4f5d-84dd-ce22faeb0ba1",
    "display_name": "Zoë Chen",
    "follower_count": 48_210,
    "following_count": 412,
    "likes_count": 1_204_331,
    "video_count": 318,
    "_handle": "zoe_chen_tt",
    "_as_of": AS_OF,
}
GOOD_VIDEO = {
    "id": "7000000000000900313",
    "create_time": CREATED,
    "title": "leg day done",
    "view_count": 19_286,
    "like_count": 1_465,
    "comment_count": 39,
    "share_count": 83,
    "video_description": "leg day done #fitness @peakform code ZOE15 #ad",
    "share_url": "https://www.tiktok.com/@zoe_chen_tt/video/7000000000000900313",
    "_handle": "zoe_chen_tt",
    "_as_of": AS_OF,
    "_open_id": OPEN_ID,
}


def parsed(model: type, *records: Any) -> pl.DataFrame:
    lines = pl.LazyFrame(
        {
            "landed_file": ["tiktok/x.jsonl.gz"] * len(records),
            "line_number": list(range(1, len(records) + 1)),
            "raw_record": [r if isinstance(r, str) else json.dumps(r) for r in records],
        }
    )
    return parse_landed_records(lines, json_paths(model)).collect()


def with_(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``record`` with fields changed; a value of ... removes the field."""
    copy = {**record, **changes}
    return {name: value for name, value in copy.items() if value is not ...}


def reasons(model: type, record: Any) -> list[str]:
    split = split_by_contract(
        parsed(model, GOOD_USER if model is RawTikTokUser else GOOD_VIDEO, record), model
    )
    assert split.valid.height == 1, "the good row passes beside the bad one"
    (failed,) = split.rejected["failed_checks"].to_list()
    return sorted(failed)


def test_the_contracts_are_registered_for_the_source() -> None:
    assert RAW_CONTRACTS["tiktok"] == {"users": RawTikTokUser, "videos": RawTikTokVideo}


def test_good_records_pass() -> None:
    users = split_by_contract(parsed(RawTikTokUser, GOOD_USER), RawTikTokUser)
    videos = split_by_contract(parsed(RawTikTokVideo, GOOD_VIDEO), RawTikTokVideo)

    assert (users.valid.height, users.rejected.height) == (1, 0)
    assert (videos.valid.height, videos.rejected.height) == (1, 0)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"follower_count": ...}, ["follower_count: not_nullable (got nothing)"]),
        (
            {"follower_count": 10**15},
            ["follower_count: implausible count (1000000000000000 > 10^10)"],
        ),
        ({"follower_count": -3}, ["follower_count: negative count (-3)"]),
        (
            {"video_count": {"value": 318}},
            ['video_count: non_negative_integer (got {"value":318})'],
        ),
        ({"open_id": "has spaces in it"}, ["open_id: open_id (got has spaces in it)"]),
        ({"following_count": ...}, []),
    ],
    ids=["no-followers", "absurd", "negative", "count-an-object", "bad-open-id", "optional-absent"],
)
def test_bad_users_are_quarantined_with_their_reason(
    changes: dict[str, Any], expected: list[str]
) -> None:
    record = with_(GOOD_USER, **changes)
    if not expected:
        split = split_by_contract(parsed(RawTikTokUser, record), RawTikTokUser)
        assert split.rejected.height == 0
        return
    assert reasons(RawTikTokUser, record) == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"create_time": CREATED + 2 * 365 * 86_400},
            ["create_time: created after the night's date (1855404300 > end of 2026-10-18)"],
        ),
        (
            {"create_time": CREATED * 1000},
            ["create_time: created after the night's date (1792332300000 > end of 2026-10-18)"],
        ),
        ({"create_time": 0}, ["create_time: created before TikTok existed (0 < 2016-09-01)"]),
        ({"create_time": "yesterday"}, ["create_time: unix_seconds (got yesterday)"]),
        ({"view_count": float("nan")}, ["view_count: not a number (NaN)"]),
        ({"share_count": -1}, ["share_count: negative count (-1)"]),
        ({"id": "v123"}, ["video_id: digits_id (got v123)"]),
        ({"like_count": ...}, []),
    ],
    ids=[
        "future",
        "milliseconds",
        "epoch-zero",
        "not-a-time",
        "nan-views",
        "negative-shares",
        "id-not-digits",
        "likes-absent",
    ],
)
def test_bad_videos_are_quarantined_with_their_reason(
    changes: dict[str, Any], expected: list[str]
) -> None:
    record = with_(GOOD_VIDEO, **changes)
    if not expected:
        split = split_by_contract(parsed(RawTikTokVideo, record), RawTikTokVideo)
        assert split.rejected.height == 0
        return
    assert reasons(RawTikTokVideo, record) == expected


def test_a_video_that_is_not_an_object_is_quarantined_alone() -> None:
    odd = json.dumps({"_handle": "zoe_chen_tt", "_as_of": AS_OF, "_not_an_object": "7000"})

    assert reasons(RawTikTokVideo, odd) == ['item: not a JSON object (got "7000")']


def validated(model: type, *records: dict[str, Any]) -> pl.LazyFrame:
    split = split_by_contract(parsed(model, *records), model)
    assert split.rejected.height == 0
    return split.valid.lazy()


def test_users_stage_as_profiles() -> None:
    second = with_(
        GOOD_USER,
        _handle="maya.cooks",
        open_id="5d94b65c-fc8f-585d-15e7-534d9606b895",
        display_name=...,
        following_count=...,
        video_count=...,
    )

    staged = stage_profiles(validated(RawTikTokUser, GOOD_USER, second)).collect()

    expected = pl.DataFrame(
        {
            "platform": ["tiktok", "tiktok"],
            "handle": ["zoe_chen_tt", "maya.cooks"],
            "account_id": [OPEN_ID, "5d94b65c-fc8f-585d-15e7-534d9606b895"],
            "as_of": [dt.date(2026, 10, 18)] * 2,
            "landed_file": ["tiktok/x.jsonl.gz"] * 2,
            "line_number": [1, 2],
            "username": ["zoe_chen_tt", "maya.cooks"],
            "display_name": ["Zoë Chen", None],
            "followers": [48_210, 48_210],
            "following": [412, None],
            "media_count": [318, None],
        }
    )
    assert_frame_equal(staged, expected, check_dtypes=False)
    assert list(staged.columns) == list(StagedProfile.to_schema().columns)
    StagedProfile.validate(staged)


def test_videos_stage_as_posts_with_shares_and_views_and_no_saves() -> None:
    second = with_(
        GOOD_VIDEO,
        id="7000000000000900298",
        create_time=1_792_000_000,
        like_count=...,
        video_description=...,
        share_url=...,
    )

    staged = stage_posts(validated(RawTikTokVideo, GOOD_VIDEO, second)).collect()

    expected = pl.DataFrame(
        {
            "platform": ["tiktok", "tiktok"],
            "handle": ["zoe_chen_tt"] * 2,
            "account_id": [OPEN_ID] * 2,
            "as_of": [dt.date(2026, 10, 18)] * 2,
            "landed_file": ["tiktok/x.jsonl.gz"] * 2,
            "line_number": [1, 2],
            "post_id": ["7000000000000900313", "7000000000000900298"],
            "published_at": [
                dt.datetime(2026, 10, 18, 14, 5),
                dt.datetime(2026, 10, 14, 17, 46, 40),
            ],
            "media_type": ["VIDEO", "VIDEO"],
            "likes": [1_465, None],
            "comments": [39, 39],
            "shares": [83, 83],
            "saves": [None, None],
            "views": [19_286, 19_286],
            # the description is the caption; without one, the title stands in
            "caption": ["leg day done #fitness @peakform code ZOE15 #ad", "leg day done"],
            "permalink": ["https://www.tiktok.com/@zoe_chen_tt/video/7000000000000900313", None],
        },
        schema_overrides={"published_at": pl.Datetime("us"), "saves": pl.Int64},
    )
    assert_frame_equal(staged, expected, check_dtypes=False)
    assert staged.schema["published_at"] == pl.Datetime("us")
    assert list(staged.columns) == list(StagedPost.to_schema().columns)
    StagedPost.validate(staged)
