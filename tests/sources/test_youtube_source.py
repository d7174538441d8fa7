"""The YouTube source against the simulated YouTube Data API v3, over real loopback HTTP."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from landed import Landed

from simulator.world import SimulatedWorld
from simulator.youtube import YouTubeChannel, YouTubeView, youtube_router, youtube_view
from sources import youtube
from sources.extraction import ExtractResult
from sources.http import FailureKind, HttpPolicy
from sources.roster import TrackedAccount
from sources.youtube.client import read_google_error

KEY = "AIzaSyD-source-test-key-4b7e19c0a2f5d8"
AS_OF = dt.date(2026, 10, 18)
FAST_RETRIES = HttpPolicy(
    timeout_seconds=5, deadline_seconds=20, max_retries=2, backoff_seconds=0.001, concurrency=4
)


@dataclass(frozen=True)
class Faults:
    account_faults: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Platform:
    """A running simulated YouTube API and what it was asked."""

    base_url: str
    calls: list[tuple[str, dict[str, str], int]] = field(default_factory=list)

    def calls_to(self, resource: str) -> list[dict[str, str]]:
        return [params for path, params, _ in self.calls if path.endswith(f"/{resource}")]

    @property
    def statuses(self) -> list[int]:
        return [status for _, _, status in self.calls]


StartPlatform = Callable[..., Platform]


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return SimulatedWorld()


@pytest.fixture(scope="module")
def view(world: SimulatedWorld) -> YouTubeView:
    return youtube_view(world)


@pytest.fixture
def platform(world: SimulatedWorld) -> Iterator[StartPlatform]:
    """Start the simulated YouTube API on a free loopback port, counting every request."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(
        faults: Mapping[str, str] | None = None,
        daily_quota: int = 10_000,
        failing_video: str | None = None,
        deleted_video: str | None = None,
    ) -> Platform:
        app = FastAPI()
        if failing_video is not None:
            app.middleware("http")(failing_videos_calls(failing_video))
        if deleted_video is not None:
            app.middleware("http")(without_video(deleted_video))
        app.include_router(
            youtube_router(
                world, api_key=KEY, faults=Faults(dict(faults or {})), daily_quota=daily_quota
            ),
            prefix="/youtube/v3",
        )
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        running = Platform(f"http://127.0.0.1:{sock.getsockname()[1]}/youtube/v3")

        @app.middleware("http")
        async def count(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            response = await call_next(request)
            running.calls.append(
                (request.url.path, dict(request.query_params), response.status_code)
            )
            return response

        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the simulated YouTube API did not start")
            time.sleep(0.01)
        servers.append((server, thread))
        return running

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def failing_videos_calls(
    video_id: str,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """In front of the simulator: 500 backendError to every videos.list call that asks for
    ``video_id``, whatever else it asks for (the simulator's own faults strike a channel's
    uploads first, so its videos never reach videos.list)."""

    async def fail(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.endswith("/videos") and video_id in request.query_params.get("id", ""):
            reason = {"reason": "backendError", "domain": "global", "message": "Backend Error"}
            body = {"error": {"code": 500, "message": "Backend Error", "errors": [reason]}}
            return Response(json.dumps(body), status_code=500, media_type="application/json")
        return await call_next(request)

    return fail


def without_video(
    video_id: str,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """In front of the simulator: ``video_id`` is taken out of every videos.list call's ids
    before the simulator reads them, as if the video had been deleted since it was listed."""

    async def hide(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.endswith("/videos"):
            params = dict(request.query_params)
            ids = [part for part in params.get("id", "").split(",") if part != video_id]
            params["id"] = ",".join(ids)
            request.scope["query_string"] = urlencode(params).encode()
            request = Request(request.scope, request.receive)
        return await call_next(request)

    return hide


def config(platform: Platform, **changes: Any) -> youtube.Config:
    settings: dict[str, Any] = {
        "base_url": platform.base_url,
        "api_key": KEY,
        "sends_as_of": True,
        "http": FAST_RETRIES,
    }
    return youtube.Config(**(settings | changes))


def accounts(*handles: str) -> list[TrackedAccount]:
    return [TrackedAccount("youtube", handle, connected=False) for handle in handles]


def run(
    platform: Platform, roster: list[TrackedAccount], **changes: Any
) -> tuple[ExtractResult, Landed]:
    landed = Landed()
    result = youtube.extract(config(platform, **changes), roster, AS_OF, landed)
    return result, landed


def steady(view: YouTubeView) -> list[YouTubeChannel]:
    return [
        channel
        for channel in view.channels
        if channel.archetype == "steady"
        and channel.has_uploads
        and not channel.hidden_subscribers
        and not channel.plateau
    ]


def recent_video_ids(view: YouTubeView, channel: YouTubeChannel, days: int = 14) -> list[str]:
    since = f"{(AS_OF - dt.timedelta(days=days)).isoformat()}T00:00:00Z"
    items = [
        view.playlist_item(channel, ordinal, AS_OF)["contentDetails"]
        for ordinal in view.video_ordinals(channel, AS_OF)
    ]
    return [item["videoId"] for item in items if item["videoPublishedAt"] >= since]


def failures_by_handle(
    result: ExtractResult,
) -> dict[str, tuple[FailureKind, int | None, str | None]]:
    return {f.handle: (f.kind, f.http_status, f.api_error_code) for f in result.failures}


def test_the_source_has_the_one_shape() -> None:
    cfg = youtube.Config(base_url="http://x", api_key=KEY, sends_as_of=True)

    assert youtube.SOURCE == "youtube"
    assert youtube.ENTITIES == ("channels", "videos")
    assert youtube.answers_as_of(cfg) is True
    assert youtube.answers_as_of(dataclasses.replace(cfg, sends_as_of=False)) is False
    assert KEY not in repr(cfg)
    with pytest.raises(ValueError, match="INFLUENCERS_YOUTUBE__API_KEY"):
        youtube.Config(base_url="http://x", api_key="")


def test_a_night_lands_each_channel_and_its_recent_videos(
    platform: StartPlatform, view: YouTubeView
) -> None:
    running = platform()
    channels = [*steady(view)[:4], next(c for c in view.channels if not c.handle.isascii())]
    roster = accounts(*(c.roster_handle for c in channels))

    result, landed = run(running, roster)

    assert (result.accounts, result.fetched, result.failures) == (5, 5, [])
    assert result.stopped is None
    by_handle = {record["_handle"]: record for record in landed.of("channels")}
    assert set(by_handle) == {c.roster_handle for c in channels}
    for channel in channels:
        record = by_handle[channel.roster_handle]
        assert record["id"] == channel.channel_id
        assert record["_as_of"] == AS_OF.isoformat()
        assert record["statistics"]["subscriberCount"] == str(view.subscribers(channel, AS_OF))
        videos = [v for v in landed.of("videos") if v["_channel_id"] == channel.channel_id]
        assert [v["id"] for v in videos] == recent_video_ids(view, channel)
        assert all(v["_handle"] == channel.roster_handle for v in videos)
    assert landed.of("videos"), "the channels posted in the last 14 days"
    assert result.requests_made == len(running.calls) == result.quota_used
    assert result.quota_budget == 10_000


def test_videos_land_as_the_api_sent_them(platform: StartPlatform, view: YouTubeView) -> None:
    running = platform()
    channel = steady(view)[0]

    _, landed = run(running, accounts(channel.channel_id))

    video = landed.of("videos")[0]
    ordinal = next(
        o for o in view.video_ordinals(channel, AS_OF) if view.video_id(channel, o) == video["id"]
    )
    expected = view.video_resource(channel, ordinal, AS_OF)
    assert expected is not None
    context = {
        "_handle": channel.channel_id,
        "_as_of": "2026-10-18",
        "_channel_id": channel.channel_id,
    }
    assert video == {**expected, **context}


def test_uploads_are_paged_by_page_token_until_the_lookback(
    platform: StartPlatform, view: YouTubeView
) -> None:
    running = platform()
    channel = steady(view)[0]
    expected = recent_video_ids(view, channel, days=60)

    _, landed = run(running, accounts(channel.channel_id), page_size=3, lookback_days=60)

    pages = running.calls_to("playlistItems")
    assert [v["id"] for v in landed.of("videos")] == expected
    assert len(pages) == len(expected) // 3 + 1  # the last page holds an older video
    assert "pageToken" not in pages[0]
    assert len({page["pageToken"] for page in pages[1:]}) == len(pages) - 1
    assert {page["maxResults"] for page in pages} == {"3"}


def test_channels_are_asked_for_50_ids_at_a_time(
    platform: StartPlatform, view: YouTubeView
) -> None:
    running = platform()
    roster = accounts(*(c.channel_id for c in view.channels[:60]))

    result, landed = run(running, roster, lookback_days=0)

    lookups = running.calls_to("channels")
    assert [len(call["id"].split(",")) for call in lookups] == [50, 10]
    assert result.fetched == 60
    assert len(landed.of("channels")) == 60


def test_handles_are_looked_up_one_call_each(platform: StartPlatform, view: YouTubeView) -> None:
    running = platform()
    by_handle = [c for c in view.channels if c.roster_handle.startswith("@")][:3]
    by_id = steady(view)[:2]
    roster = accounts(*(c.roster_handle for c in by_handle), *(c.channel_id for c in by_id))

    result, _ = run(running, roster, lookback_days=0)

    lookups = running.calls_to("channels")
    assert sorted(call.get("forHandle", "") for call in lookups) == sorted(
        ["", *(c.roster_handle for c in by_handle)]
    )
    assert result.fetched == 5


def test_hidden_subscribers_land_without_a_count(
    platform: StartPlatform, view: YouTubeView
) -> None:
    running = platform()
    hidden = next(c for c in view.channels if c.hidden_subscribers)

    result, landed = run(running, accounts(hidden.channel_id))

    (record,) = landed.of("channels")
    assert result.fetched == 1
    assert record["statistics"]["hiddenSubscriberCount"] is True
    assert "subscriberCount" not in record["statistics"]


@pytest.mark.parametrize(
    "unknown", ["UCAAAAAAAAAAAAAAAAAAAAAA", "@nobody.at.all"], ids=["by-id", "by-handle"]
)
def test_a_channel_that_does_not_exist_fails_alone(
    platform: StartPlatform, view: YouTubeView, unknown: str
) -> None:
    running = platform()
    good = steady(view)[0]

    result, landed = run(running, accounts(unknown, good.channel_id))

    (failure,) = result.failures
    assert (failure.handle, failure.kind, failure.http_status) == (unknown, "account", 200)
    assert failure.reason.startswith("channel not found")
    assert result.fetched == 1
    assert [r["_handle"] for r in landed.of("channels")] == [good.channel_id]


def test_a_channel_without_uploads_is_fetched_with_no_videos(
    platform: StartPlatform, view: YouTubeView
) -> None:
    running = platform()
    empty = next(c for c in view.channels if not c.has_uploads)

    result, landed = run(running, accounts(empty.channel_id))

    assert (result.fetched, result.failures) == (1, [])
    assert landed.of("videos") == []
    assert landed.of("channels")[0]["statistics"]["videoCount"] == "0"
    assert any("playlistNotFound" in note for note in result.notes)
    assert [status for status in running.statuses] == [200, 404]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("rate_limited", ("unavailable", 403, "rateLimitExceeded")),
        ("server_error", ("unavailable", 500, "backendError")),
        ("invalid_page_token", ("account", 400, "invalidPageToken")),
        ("repeated_page_token", ("account", None, "repeatedPageToken")),
        ("rate_limited_once", None),
        ("playlist_not_found", None),
        ("malformed_video", None),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_channel_fault_fails_that_channel_alone(
    platform: StartPlatform,
    view: YouTubeView,
    fault: str,
    expected: tuple[str, int | None, str | None] | None,
) -> None:
    faulty, *good = steady(view)[:4]
    running = platform({faulty.channel_id: fault})
    roster = accounts(faulty.channel_id, *(c.channel_id for c in good))

    result, landed = run(running, roster, page_size=3, lookback_days=30)

    assert result.stopped is None
    assert failures_by_handle(result) == ({faulty.channel_id: expected} if expected else {})
    assert result.fetched == 4 - len(result.failures)
    assert {r["_handle"] for r in landed.of("channels")} == {c.channel_id for c in (faulty, *good)}
    for channel in good:
        videos = [v["id"] for v in landed.of("videos") if v["_handle"] == channel.channel_id]
        assert videos == recent_video_ids(view, channel, days=30)


def test_the_videos_found_before_a_refused_page_token_still_land(
    platform: StartPlatform, view: YouTubeView
) -> None:
    channel = steady(view)[0]
    running = platform({channel.channel_id: "invalid_page_token"})

    result, landed = run(running, accounts(channel.channel_id), page_size=3, lookback_days=30)

    (failure,) = result.failures
    assert "page 2" in failure.reason
    assert [v["id"] for v in landed.of("videos")] == recent_video_ids(view, channel, 30)[:3]


def test_a_repeated_page_token_is_a_problem_of_that_channel(
    platform: StartPlatform, view: YouTubeView
) -> None:
    channel = steady(view)[0]
    running = platform({channel.channel_id: "repeated_page_token"})

    result, landed = run(running, accounts(channel.channel_id), page_size=3, lookback_days=30)

    (failure,) = result.failures
    assert "came back after 2 pages" in failure.reason
    assert len(running.calls_to("playlistItems")) == 2
    assert [v["id"] for v in landed.of("videos")] == recent_video_ids(view, channel, 30)[:3]


def test_a_video_that_is_not_an_object_lands_for_quarantine(
    platform: StartPlatform, view: YouTubeView
) -> None:
    channel = steady(view)[0]
    running = platform({channel.channel_id: "malformed_video"})

    _, landed = run(running, accounts(channel.channel_id))

    odd = [v for v in landed.of("videos") if "_not_an_object" in v]
    assert len(odd) == 1
    assert odd[0]["_handle"] == channel.channel_id
    assert odd[0]["_channel_id"] == channel.channel_id
    assert isinstance(odd[0]["_not_an_object"], str)


def test_access_not_configured_stops_the_night_at_once(
    platform: StartPlatform, view: YouTubeView
) -> None:
    running = platform({"*": "access_not_configured"})
    roster = accounts(*(c.channel_id for c in view.channels[:60]))

    result, landed = run(running, roster)

    assert result.stop_kind == "night"
    assert result.stopped is not None
    assert "has not been used in project" in result.stopped
    assert "fix the API access" in result.stopped
    assert len(running.calls) == 1
    assert (result.accounts, result.fetched, len(result.failures)) == (60, 0, 60)
    # The first batch was asked for and refused; the rest was never tried.
    refused, not_tried = result.failures[:50], result.failures[50:]
    assert {(f.kind, f.http_status, f.api_error_code) for f in refused} == {
        (FailureKind.NIGHT, 403, "accessNotConfigured")
    }
    assert all(f.reason.startswith("channels.list: YouTube Data API v3") for f in refused)
    assert all(f.reason.startswith("not tried") for f in not_tried)
    assert landed.records == []


@pytest.mark.parametrize("roster", ["ids-and-handles", "handles-only"])
def test_a_refused_key_stops_the_night_with_one_message(
    platform: StartPlatform, view: YouTubeView, roster: str
) -> None:
    running = platform()
    by_handle = [c.roster_handle for c in view.channels if c.roster_handle.startswith("@")]
    by_id = [c.channel_id for c in view.channels if not c.roster_handle.startswith("@")]
    handles = [*by_handle[:8], *by_id[:8]] if roster == "ids-and-handles" else by_handle[:16]

    result, _ = run(running, accounts(*handles), api_key="AIza-wrong-key")

    assert result.stop_kind == "auth"
    assert result.stopped is not None
    assert "API key refused: API key not valid" in result.stopped
    assert "renew the credential" in result.stopped
    assert (result.accounts, result.fetched, len(result.failures)) == (16, 0, 16)
    refused = [f for f in result.failures if not f.reason.startswith("not tried")]
    assert {(f.kind, f.http_status, f.api_error_code) for f in refused} == {
        (FailureKind.AUTH, 400, "badRequest")
    }
    if roster == "ids-and-handles":
        # One channels.list call for the batch's 8 ids was refused; no handle was tried.
        assert len(running.calls) == 1
        assert len(refused) == 8
    else:
        # One call per handle: the night stops at the first refusal (the calls in flight end).
        assert 1 <= len(running.calls) == len(refused) <= FAST_RETRIES.concurrency
    assert all(status == 400 for status in running.statuses)


def test_the_quota_running_out_half_way_stops_cleanly(
    platform: StartPlatform, view: YouTubeView
) -> None:
    running = platform()
    channels = steady(view)[:10]
    roster = accounts(*(c.channel_id for c in channels))
    one_at_a_time = dataclasses.replace(FAST_RETRIES, concurrency=1)

    # 1 unit for channels.list, then 1 per channel (its uploads page) while the budget left
    # still pays for the videos.list call the channels paged so far share: 8 channels, then
    # their videos.
    result, landed = run(running, roster, quota_budget=10, http=one_at_a_time)

    assert (result.quota_used, result.quota_budget) == (10, 10)
    assert len(running.calls) == 10
    assert len(running.calls_to("videos")) == 1
    assert all(status == 200 for status in running.statuses)  # never ran into quotaExceeded
    assert result.stop_kind == "quota"
    assert (result.accounts, result.fetched, len(result.failures)) == (10, 8, 2)
    assert {f.kind for f in result.failures} == {FailureKind.QUOTA}
    assert sorted(f.handle for f in result.failures) == sorted(c.channel_id for c in channels[8:])
    assert all(f.reason.startswith("not tried") for f in result.failures)
    assert result.stopped is not None
    assert "10 of the night's 10 units used" in result.stopped
    assert "2 of 10 channels were not fetched" in result.stopped
    assert "midnight Pacific time" in result.stopped
    # Everything fetched landed: every channel of the first batch, the videos of eight.
    assert len(landed.of("channels")) == 10
    assert {v["_handle"] for v in landed.of("videos")} == {c.channel_id for c in channels[:8]}
    assert any("2 channels' counts landed without their videos" in n for n in result.notes)


def test_the_platform_answering_quota_exceeded_stops_the_night(
    platform: StartPlatform, view: YouTubeView
) -> None:
    channels = steady(view)[:6]
    running = platform({channels[2].channel_id: "quota_exceeded_now"})
    one_at_a_time = dataclasses.replace(FAST_RETRIES, concurrency=1)

    result, landed = run(running, accounts(*(c.channel_id for c in channels)), http=one_at_a_time)

    assert result.stop_kind == "quota"
    # The videos of a batch are asked for once its channels are paged: the two paged before
    # the quota ran out keep their counts, and their videos are left for tomorrow with the rest.
    assert result.fetched == 0
    by_handle = {f.handle: f for f in result.failures}
    failure = by_handle[channels[2].channel_id]
    assert (failure.http_status, failure.api_error_code) == (403, "quotaExceeded")
    assert {f.kind for f in result.failures} == {FailureKind.QUOTA}
    for channel in channels[:2]:
        assert by_handle[channel.channel_id].reason.startswith("videos not fetched: the night")
    for channel in channels[3:]:
        assert by_handle[channel.channel_id].reason.startswith("not tried")
    assert result.stopped is not None
    assert "YouTube quota exceeded" in result.stopped
    assert "6 of 6 channels were not fetched (or only in part)" in result.stopped
    assert len(running.calls_to("videos")) == 0
    assert {r["_handle"] for r in landed.of("channels")} == {c.channel_id for c in channels}
    assert landed.of("videos") == []
    assert any("5 channels' counts landed without their videos" in n for n in result.notes)


def test_a_quota_spent_before_the_night_refuses_the_first_batch(
    platform: StartPlatform, view: YouTubeView
) -> None:
    running = platform(daily_quota=0)  # spent by something else that uses the key
    roster = accounts(*(c.channel_id for c in view.channels[:60]))

    result, landed = run(running, roster)

    assert result.stop_kind == "quota"
    assert len(running.calls) == 1
    assert {(f.kind, f.http_status, f.api_error_code) for f in result.failures[:50]} == {
        (FailureKind.QUOTA, 403, "quotaExceeded")
    }
    assert all(f.reason.startswith("not tried") for f in result.failures[50:])
    assert result.stopped is not None
    assert "60 of 60 channels were not fetched" in result.stopped
    assert landed.records == []


def test_the_key_never_appears_in_logs_errors_records_or_results(
    platform: StartPlatform, view: YouTubeView, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    channels = steady(view)[:5]
    running = platform(
        {
            channels[0].channel_id: "server_error",
            channels[1].channel_id: "invalid_page_token",
            channels[2].channel_id: "rate_limited",
            channels[3].channel_id: "malformed_video",
        }
    )
    roster = accounts(*(c.channel_id for c in channels), "@nobody.at.all")

    result, landed = run(running, roster, page_size=3, lookback_days=30)
    refused, _ = run(running, roster, api_key=KEY[::-1])  # a key that is refused
    _, _ = run(running, roster, quota_budget=3)

    assert len(result.failures) == 4
    assert "key=***" in caplog.text  # urllib3 logged the URLs, redacted
    texts = [
        caplog.text,
        repr(result),
        repr(refused),
        json.dumps(landed.records, default=str),
        *(str(failure) for failure in [*result.failures, *refused.failures]),
    ]
    for text in texts:
        assert KEY not in text
        assert KEY[::-1] not in text


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, ("quotaExceeded", "youtube.quota", "You have exceeded your quota."), "quota"),
        (403, ("rateLimitExceeded", "usageLimits", "Rate Limit Exceeded"), "retry"),
        (403, ("accessNotConfigured", "usageLimits", "API not enabled"), "night"),
        (400, ("badRequest", "global", "API key not valid. Please pass a valid API key."), "auth"),
        (403, ("forbidden", "global", "Please use API Key or other form of identity"), "auth"),
        (400, ("keyInvalid", "global", "Bad key"), "auth"),
        (400, ("invalidPageToken", "youtube.parameter", "invalid page token"), "account"),
        (400, ("invalidFilters", "youtube.parameter", "too many ids"), "account"),
        (404, ("playlistNotFound", "youtube.playlistItem", "cannot be found"), "account"),
        (500, ("backendError", "global", "Backend Error"), "retry"),
        (503, ("unknownReason", "global", "Service unavailable"), "retry"),
        (200, ("quotaExceeded", "youtube.quota", "an error in a 200 answer"), "quota"),
        (400, ("badRequest", "global", "Invalid value for part"), "account"),
    ],
    ids=lambda value: value[0] if isinstance(value, tuple) else None,
)
def test_google_errors_are_judged_by_their_reason(
    status: int, body: tuple[str, str, str], expected: str
) -> None:
    reason, domain, message = body
    answer = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }

    error = read_google_error(status, answer)

    assert error is not None
    assert (error.kind, error.status, error.code) == (expected, status, reason)


@pytest.mark.parametrize(
    "body",
    [{"kind": "youtube#channelListResponse", "items": []}, [1, 2], None, {"error": "text"}],
    ids=["good-answer", "a-list", "not-json", "error-not-an-object"],
)
def test_answers_without_a_google_error_object_are_left_to_the_client(body: Any) -> None:
    assert read_google_error(200, body) is None


def test_html_in_google_messages_is_stripped() -> None:
    message = 'You have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.'
    answer = {"error": {"code": 403, "message": message, "errors": [{"reason": "quotaExceeded"}]}}

    error = read_google_error(403, answer)

    assert error is not None
    assert error.message == "YouTube quota exceeded: You have exceeded your quota."


def test_videos_are_asked_for_50_ids_a_call_across_channels(
    platform: StartPlatform, view: YouTubeView
) -> None:
    running = platform()
    channels = steady(view)[:30]
    expected = {c.channel_id: recent_video_ids(view, c, days=60) for c in channels}
    in_roster_order = [video_id for c in channels for video_id in expected[c.channel_id]]
    assert len(in_roster_order) > 50, "the test needs more than one call's worth of videos"

    result, landed = run(running, accounts(*expected), lookback_days=60)

    calls = [call["id"].split(",") for call in running.calls_to("videos")]
    assert [len(ids) for ids in calls] == [
        min(50, len(in_roster_order) - start) for start in range(0, len(in_roster_order), 50)
    ]
    assert [video_id for ids in calls for video_id in ids] == in_roster_order
    assert (result.fetched, result.failures) == (30, [])
    for channel in channels:
        videos = [v for v in landed.of("videos") if v["_handle"] == channel.channel_id]
        assert [v["id"] for v in videos] == expected[channel.channel_id]
        assert {v["_channel_id"] for v in videos} <= {channel.channel_id}


def test_a_small_world_lands_the_same_records_as_one_call_per_channel(
    platform: StartPlatform, view: YouTubeView
) -> None:
    running = platform()
    channels = [*steady(view)[:6], next(c for c in view.channels if c.hidden_subscribers)]
    roster = accounts(*(c.roster_handle for c in channels))

    batched, landed = run(running, roster, lookback_days=30)
    one_by_one = Landed()
    for account in roster:
        youtube.extract(config(running, lookback_days=30), [account], AS_OF, one_by_one)

    def key(record: Mapping[str, Any]) -> str:
        return json.dumps(record, sort_keys=True)

    assert batched.fetched == len(roster)
    for entity in youtube.ENTITIES:
        assert sorted(map(key, landed.of(entity))) == sorted(map(key, one_by_one.of(entity)))
    assert len(running.calls_to("videos")) == 1 + sum(
        1 for c in channels if recent_video_ids(view, c, days=30)
    )


def test_a_failed_shared_videos_call_fails_exactly_the_channels_in_it(
    platform: StartPlatform, view: YouTubeView
) -> None:
    channels = steady(view)[:30]
    expected = {c.channel_id: recent_video_ids(view, c, days=60) for c in channels}
    in_roster_order = [(c.channel_id, v) for c in channels for v in expected[c.channel_id]]
    first_call = in_roster_order[:50]
    poisoned = first_call[0][1]
    running = platform(failing_video=poisoned)
    in_first_call = {channel_id for channel_id, _ in first_call}
    in_second_only = {channel_id for channel_id, _ in in_roster_order[50:]} - in_first_call
    assert in_second_only, "the test needs channels whose videos all go in the second call"

    result, landed = run(running, accounts(*expected), lookback_days=60)

    failures = failures_by_handle(result)
    assert set(failures) == in_first_call
    assert set(failures.values()) == {(FailureKind.UNAVAILABLE, 500, "backendError")}
    assert all(f.reason.startswith("videos.list for 50 videos of ") for f in result.failures)
    assert result.fetched == 30 - len(in_first_call)
    landed_videos = {v["_handle"] for v in landed.of("videos")}
    # A channel whose videos straddle both calls keeps those of the second.
    assert landed_videos == {channel_id for channel_id, _ in in_roster_order[50:]}
    assert {r["_handle"] for r in landed.of("channels")} == set(expected)


def test_a_video_the_shared_call_leaves_out_is_noted_for_its_own_channel(
    platform: StartPlatform, view: YouTubeView
) -> None:
    channels = steady(view)[:4]
    owner = channels[2]
    deleted = recent_video_ids(view, owner, days=30)[0]
    running = platform(deleted_video=deleted)

    result, landed = run(running, accounts(*(c.channel_id for c in channels)), lookback_days=30)

    assert len(running.calls_to("videos")) == 1
    assert (result.fetched, result.failures) == (4, [])
    (note,) = [n for n in result.notes if "did not return" in n]
    total = len(recent_video_ids(view, owner, days=30))
    assert note.startswith(f"{owner.channel_id}: videos.list did not return 1 of {total} videos")
    assert note.endswith(deleted)
    for channel in channels:
        videos = [v["id"] for v in landed.of("videos") if v["_handle"] == channel.channel_id]
        assert videos == [v for v in recent_video_ids(view, channel, days=30) if v != deleted]
