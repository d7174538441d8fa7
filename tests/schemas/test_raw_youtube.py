"""The raw YouTube contracts: good rows pass, each bad row is quarantined with a clear reason."""

import json

import polars as pl
import pytest

from schemas.contract import split_by_contract
from schemas.raw import json_paths
from schemas.raw.youtube import YOUTUBE_CONTRACTS, RawYouTubeChannel, RawYouTubeVideo
from transforms.raw_records import parse_landed_records

CHANNEL_ID = "UCVlEgdIfZ-_p7Hgj3fE0nug"
GOOD_CHANNEL = {
    "kind": "youtube#channel",
    "id": CHANNEL_ID,
    "snippet": {"title": "Noah Foster", "customUrl": "@the.noah.moves", "country": "US"},
    "contentDetails": {"relatedPlaylists": {"uploads": "UUVlEgdIfZ-_p7Hgj3fE0nug"}},
    "statistics": {
        "viewCount": "12253111",
        "subscriberCount": "103000",
        "hiddenSubscriberCount": False,
        "videoCount": "131",
    },
    "_handle": CHANNEL_ID,
    "_as_of": "2026-10-18",
}
GOOD_VIDEO = {
    "kind": "youtube#video",
    "id": "V2_57nMdzSw",
    "snippet": {
        "publishedAt": "2026-10-18T18:05:00Z",
        "channelId": CHANNEL_ID,
        "title": "new deadlift PR",
    },
    "statistics": {"viewCount": "15054", "likeCount": "621", "commentCount": "36"},
    "_handle": CHANNEL_ID,
    "_as_of": "2026-10-18",
    "_channel_id": CHANNEL_ID,
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


def changed(record: dict, section: str | None, **changes: object) -> dict:
    """``record`` with fields of ``section`` (or top-level ones) changed; None removes one."""
    copy = json.loads(json.dumps(record))
    target = copy[section] if section else copy
    for name, value in changes.items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    return copy


def test_the_contracts_are_exposed_by_entity() -> None:
    assert set(YOUTUBE_CONTRACTS) == {"channels", "videos"}
    assert YOUTUBE_CONTRACTS["channels"] is RawYouTubeChannel
    assert YOUTUBE_CONTRACTS["videos"] is RawYouTubeVideo


def test_good_channels_pass_hidden_subscribers_included() -> None:
    hidden = changed(GOOD_CHANNEL, "statistics", subscriberCount=None, hiddenSubscriberCount=True)

    split = split_by_contract(parsed(RawYouTubeChannel, GOOD_CHANNEL, hidden), RawYouTubeChannel)

    assert split.rejected.is_empty()
    assert split.valid["subscriber_count"].to_list() == ["103000", None]
    assert split.valid["hidden_subscriber_count"].to_list() == ["false", "true"]
    assert split.valid["channel_id"].to_list() == [CHANNEL_ID, CHANNEL_ID]


@pytest.mark.parametrize(
    ("bad", "expected_reason"),
    [
        (
            changed(GOOD_CHANNEL, "statistics", subscriberCount="12.5"),
            "subscriber_count: count is not a string of digits (got 12.5)",
        ),
        (
            changed(GOOD_CHANNEL, "statistics", videoCount="-3"),
            "video_count: count is not a string of digits (got -3)",
        ),
        (
            changed(GOOD_CHANNEL, "statistics", viewCount={"value": 5}),
            'view_count: count is not a string of digits (got {"value":5})',
        ),
        (
            changed(GOOD_CHANNEL, "statistics", subscriberCount=str(10**15)),
            "subscriber_count: implausible count (above 10^10) (got 1000000000000000)",
        ),
        (
            changed(GOOD_CHANNEL, "statistics", subscriberCount=None),
            "subscriber_count: absent while hiddenSubscriberCount is not true (got nothing)",
        ),
        (
            changed(GOOD_CHANNEL, "statistics", hiddenSubscriberCount="maybe"),
            "hidden_subscriber_count: isin(['true', 'false']) (got maybe)",
        ),
        (
            changed(GOOD_CHANNEL, None, id="UC-too-short"),
            "channel_id: not a channel id (UC and 22 characters) (got UC-too-short)",
        ),
        (
            changed(GOOD_CHANNEL, None, _as_of="18/10/2026"),
            "as_of: str_matches('^\\d{4}-\\d{2}-\\d{2}$') (got 18/10/2026)",
        ),
    ],
    ids=[
        "decimal-count",
        "negative-count",
        "count-as-object",
        "implausible-subscribers",
        "subscribers-missing-while-not-hidden",
        "hidden-flag-not-a-boolean",
        "bad-channel-id",
        "bad-as-of",
    ],
)
def test_a_bad_channel_is_rejected_with_its_reason(bad: dict, expected_reason: str) -> None:
    split = split_by_contract(parsed(RawYouTubeChannel, GOOD_CHANNEL, bad), RawYouTubeChannel)

    assert split.valid["line_number"].to_list() == [1]
    assert split.rejected["failed_checks"].to_list() == [[expected_reason]]
    assert json.loads(split.rejected["raw_record"][0]) == bad


def test_good_videos_pass_hidden_likes_and_comments_off_included() -> None:
    hidden = changed(GOOD_VIDEO, "statistics", likeCount=None, commentCount=None)
    fractional = changed(GOOD_VIDEO, "snippet", publishedAt="2026-10-18T23:59:59.999Z")

    split = split_by_contract(
        parsed(RawYouTubeVideo, GOOD_VIDEO, hidden, fractional), RawYouTubeVideo
    )

    assert split.rejected.is_empty()
    assert split.valid["like_count"].to_list() == ["621", None, "621"]
    assert split.valid["comment_count"].to_list() == ["36", None, "36"]


@pytest.mark.parametrize(
    ("bad", "expected_reason"),
    [
        (
            changed(GOOD_VIDEO, "snippet", publishedAt="2026-10-19T00:00:00Z"),
            "published_at: published after the end of the as-of date (got 2026-10-19T00:00:00Z)",
        ),
        (
            changed(GOOD_VIDEO, "snippet", publishedAt="2028-10-18T09:00:00+02:00"),
            "published_at: published after the end of the as-of date "
            "(got 2028-10-18T09:00:00+02:00)",
        ),
        (
            changed(GOOD_VIDEO, "snippet", publishedAt="2026-10-18 18:05"),
            "published_at: not an RFC 3339 time (got 2026-10-18 18:05)",
        ),
        (
            changed(GOOD_VIDEO, "statistics", likeCount="1e5"),
            "like_count: count is not a string of digits (got 1e5)",
        ),
        (
            changed(GOOD_VIDEO, "statistics", viewCount=str(2 * 10**10)),
            "view_count: implausible count (above 10^10) (got 20000000000)",
        ),
        (
            changed(GOOD_VIDEO, "snippet", channelId="UCxxxxxxxxxxxxxxxxxxxxxx"),
            "video_channel_id: belongs to another channel than it was fetched for "
            "(got UCxxxxxxxxxxxxxxxxxxxxxx)",
        ),
        (
            changed(GOOD_VIDEO, None, id="short"),
            "video_id: not a video id (11 characters) (got short)",
        ),
        (
            changed(GOOD_VIDEO, "snippet", publishedAt=None),
            "published_at: not_nullable (got nothing)",
        ),
    ],
    ids=[
        "published-the-day-after",
        "published-two-years-ahead",
        "not-rfc3339",
        "count-with-exponent",
        "implausible-views",
        "another-channel",
        "bad-video-id",
        "no-publication-time",
    ],
)
def test_a_bad_video_is_rejected_with_its_reason(bad: dict, expected_reason: str) -> None:
    split = split_by_contract(parsed(RawYouTubeVideo, GOOD_VIDEO, bad), RawYouTubeVideo)

    assert split.valid["line_number"].to_list() == [1]
    assert split.rejected["failed_checks"].to_list() == [[expected_reason]]


def test_an_item_that_was_not_an_object_is_rejected() -> None:
    item = {
        "_handle": CHANNEL_ID,
        "_as_of": "2026-10-18",
        "_channel_id": CHANNEL_ID,
        "_not_an_object": "video V2_57nMdzSw",
    }

    split = split_by_contract(parsed(RawYouTubeVideo, GOOD_VIDEO, item), RawYouTubeVideo)

    assert split.valid["line_number"].to_list() == [1]
    assert split.rejected["line_number"].to_list() == [2]
