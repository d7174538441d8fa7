"""The simulated YouTube Data API v3, served by uvicorn on loopback and called with requests."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import uvicorn
from fastapi import FastAPI

from simulator.world import SimulatedWorld
from simulator.youtube import (
    YouTubeChannel,
    three_significant_figures,
    youtube_roster_rows,
    youtube_router,
    youtube_truth_rows,
    youtube_view,
)

KEY = "AIzaSy-test-key-0123456789abcdefghijk"
AS_OF = dt.date(2026, 10, 18)
CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass(frozen=True)
class Faults:
    account_faults: Mapping[str, str] = field(default_factory=dict)


Serve = Callable[..., str]


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return SimulatedWorld()


@pytest.fixture
def serve(world: SimulatedWorld) -> Iterator[Serve]:
    """Start the dialect on a free loopback port; returns its base URL (…/youtube/v3)."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(faults: Mapping[str, str] | None = None, daily_quota: int = 10_000) -> str:
        app = FastAPI()
        router = youtube_router(
            world, api_key=KEY, faults=Faults(dict(faults or {})), daily_quota=daily_quota
        )
        app.include_router(router, prefix="/youtube/v3")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the simulated YouTube API did not start")
            time.sleep(0.01)
        servers.append((server, thread))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/youtube/v3"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def call(base: str, resource: str, **params: Any) -> requests.Response:
    params = {"key": KEY, "as_of": AS_OF.isoformat(), **params}
    return requests.get(f"{base}/{resource}", params=params, timeout=10)


def error_of(response: requests.Response) -> tuple[int, str, str, str]:
    """(status, reason, domain, message) of a Google error answer, checking its shape."""
    error = response.json()["error"]
    assert error["code"] == response.status_code
    (detail,) = error["errors"]
    assert detail["message"] == error["message"]
    return response.status_code, detail["reason"], detail["domain"], error["message"]


def channels_where(world: SimulatedWorld, **traits: Any) -> list[YouTubeChannel]:
    return [
        channel
        for channel in youtube_view(world).channels
        if all(getattr(channel, name) == value for name, value in traits.items())
    ]


def steady_with_videos(world: SimulatedWorld) -> list[YouTubeChannel]:
    return channels_where(
        world, archetype="steady", has_uploads=True, hidden_subscribers=False, plateau=False
    )


@pytest.mark.parametrize(
    ("count", "reported"),
    [
        (7, 7),
        (999, 999),
        (1_234, 1_230),
        (12_345, 12_300),
        (99_999, 99_900),
        (100_999, 100_000),
        (123_456, 123_000),
        (1_234_567, 1_230_000),
    ],
    ids=[
        "single-digit",
        "below-1000",
        "4-digits",
        "5-digits",
        "just-below-100k",
        "just-above-100k",
        "6-digits",
        "7-digits",
    ],
)
def test_subscriber_counts_are_rounded_down_to_three_significant_figures(
    count: int, reported: int
) -> None:
    assert three_significant_figures(count) == reported


def test_the_youtube_view_is_deterministic_and_about_40_percent_of_creators(
    world: SimulatedWorld,
) -> None:
    again = youtube_view(SimulatedWorld())
    channels = youtube_view(world).channels

    assert [c.channel_id for c in again.channels] == [c.channel_id for c in channels]
    assert 0.3 <= len(channels) / len(world.creators) <= 0.5
    assert all(CHANNEL_ID.match(channel.channel_id) for channel in channels)
    assert len({channel.channel_id for channel in channels}) == len(channels)


def test_roster_rows_address_channels_by_id_or_handle_some_non_latin(
    world: SimulatedWorld,
) -> None:
    rows = youtube_roster_rows(world)
    handles = [row["handle"] for row in rows]

    assert list(rows[0]) == ["platform", "handle", "connected", "country", "category"]
    assert {row["platform"] for row in rows} == {"youtube"}
    assert {row["connected"] for row in rows} == {"false"}
    assert all(CHANNEL_ID.match(h) or h.startswith("@") for h in handles)
    assert sum(h.startswith("@") for h in handles) >= 5
    assert any(h.startswith("@") and not h.isascii() for h in handles)


def test_truth_rows_date_every_jump_and_crossing(world: SimulatedWorld) -> None:
    rows = youtube_truth_rows(world)
    view = youtube_view(world)

    assert list(rows[0]) == ["platform", "handle", "archetype", "event_date"]
    assert len(rows) == len(view.channels)
    for row in rows:
        if row["archetype"] == "steady":
            assert row["event_date"] == ""
        if row["archetype"] in ("bought", "viral", "riser"):
            assert row["event_date"], row
    riser = next(row for row in rows if row["archetype"] == "riser")
    channel = view.channel_for_roster_handle(riser["handle"])
    assert channel is not None
    crossing = dt.date.fromisoformat(riser["event_date"])
    assert view.subscribers(channel, crossing - dt.timedelta(days=1)) < 100_000
    assert view.subscribers(channel, crossing) >= 100_000


def test_channels_list_answers_up_to_50_ids_with_counts_as_strings(
    serve: Serve, world: SimulatedWorld
) -> None:
    base = serve()
    view = youtube_view(world)
    channels = view.channels[:50]

    answer = call(
        base,
        "channels",
        part="snippet,statistics,contentDetails",
        id=",".join(c.channel_id for c in channels),
    )

    assert answer.status_code == 200
    body = answer.json()
    assert body["kind"] == "youtube#channelListResponse"
    items = {item["id"]: item for item in body["items"]}
    assert set(items) == {c.channel_id for c in channels}
    sample = next(c for c in channels if not c.hidden_subscribers)
    statistics = items[sample.channel_id]["statistics"]
    assert statistics["subscriberCount"] == str(view.subscribers(sample, AS_OF))
    assert statistics["hiddenSubscriberCount"] is False
    assert statistics["videoCount"] == str(len(view.video_ordinals(sample, AS_OF)))
    assert items[sample.channel_id]["contentDetails"]["relatedPlaylists"]["uploads"] == (
        "UU" + sample.channel_id[2:]
    )
    assert items[sample.channel_id]["snippet"]["title"] == sample.title


def test_reported_subscribers_are_the_exact_count_rounded_down(
    serve: Serve, world: SimulatedWorld
) -> None:
    base = serve()
    view = youtube_view(world)
    channels = [c for c in view.channels if not c.hidden_subscribers][:20]

    body = call(base, "channels", part="statistics", id=",".join(c.channel_id for c in channels))

    reported = {
        item["id"]: int(item["statistics"]["subscriberCount"]) for item in body.json()["items"]
    }
    exact = {c.channel_id: view.exact_subscribers(c, AS_OF) for c in channels}
    for channel_id, count in reported.items():
        assert count == three_significant_figures(exact[channel_id])
        digits = str(count).rstrip("0")
        assert len(digits) <= 3
    assert any(reported[i] != exact[i] for i in reported), "some counts must lose digits"


def test_more_than_50_ids_is_invalid_filters(serve: Serve, world: SimulatedWorld) -> None:
    base = serve()
    ids = [c.channel_id for c in youtube_view(world).channels[:51]]

    answer = call(base, "channels", part="statistics", id=",".join(ids))

    status, reason, domain, _ = error_of(answer)
    assert (status, reason, domain) == (400, "invalidFilters", "youtube.parameter")


def test_hidden_subscribers_have_no_subscriber_count(serve: Serve, world: SimulatedWorld) -> None:
    base = serve()
    hidden = channels_where(world, hidden_subscribers=True)

    body = call(base, "channels", part="statistics", id=",".join(c.channel_id for c in hidden))

    assert hidden
    for item in body.json()["items"]:
        assert item["statistics"]["hiddenSubscriberCount"] is True
        assert "subscriberCount" not in item["statistics"]


@pytest.mark.parametrize(
    "spelling",
    [lambda h: h, lambda h: h.removeprefix("@"), lambda h: h.upper()],
    ids=["with-at", "without-at", "other-case"],
)
def test_for_handle_finds_a_non_latin_handle(
    serve: Serve, world: SimulatedWorld, spelling: Callable[[str], str]
) -> None:
    base = serve()
    channel = next(c for c in youtube_view(world).channels if not c.handle.isascii())

    body = call(base, "channels", part="snippet,statistics", forHandle=spelling(channel.handle))

    (item,) = body.json()["items"]
    assert item["id"] == channel.channel_id
    assert item["snippet"]["customUrl"] == channel.handle


def test_an_unknown_channel_is_left_out_and_an_empty_answer_has_no_items(serve: Serve) -> None:
    base = serve()

    by_id = call(base, "channels", part="statistics", id="UC" + "x" * 22)
    by_handle = call(base, "channels", part="statistics", forHandle="@nobody.here")

    for answer in (by_id, by_handle):
        assert answer.status_code == 200
        assert "items" not in answer.json()
        assert answer.json()["pageInfo"]["totalResults"] == 0


def test_the_uploads_playlist_pages_by_page_token(serve: Serve, world: SimulatedWorld) -> None:
    base = serve()
    view = youtube_view(world)
    channel = steady_with_videos(world)[0]
    expected = [view.video_id(channel, ordinal) for ordinal in view.video_ordinals(channel, AS_OF)]

    pages: list[list[str]] = []
    token: str | None = None
    while True:
        params = {"part": "contentDetails", "playlistId": channel.uploads_playlist_id}
        params |= {"maxResults": "50"} | ({"pageToken": token} if token else {})
        body = call(base, "playlistItems", **params).json()
        pages.append([item["contentDetails"]["videoId"] for item in body["items"]])
        token = body.get("nextPageToken")
        if token is None:
            break

    assert len(expected) > 50
    assert len(pages) == math.ceil(len(expected) / 50)
    assert [video for page in pages for video in page] == expected
    assert body["pageInfo"]["totalResults"] == len(expected)


def test_uploads_come_newest_first_with_rfc3339_times(serve: Serve, world: SimulatedWorld) -> None:
    base = serve()
    channel = steady_with_videos(world)[0]

    body = call(
        base, "playlistItems", part="contentDetails", playlistId=channel.uploads_playlist_id
    ).json()

    times = [item["contentDetails"]["videoPublishedAt"] for item in body["items"]]
    assert len(times) == 5  # the API's default page size
    assert all(RFC3339_UTC.match(t) for t in times)
    assert times == sorted(times, reverse=True)
    assert times[0] <= f"{AS_OF.isoformat()}T23:59:59Z"


@pytest.mark.parametrize("token", ["nonsense", "EAAaBUFQOjE", "EAAaB!!"], ids=str)
def test_a_bad_page_token_is_invalid_page_token(
    serve: Serve, world: SimulatedWorld, token: str
) -> None:
    base = serve()
    channel = steady_with_videos(world)[0]

    answer = call(
        base,
        "playlistItems",
        part="contentDetails",
        playlistId=channel.uploads_playlist_id,
        pageToken=token,
    )

    status, reason, domain, message = error_of(answer)
    assert (status, reason, domain) == (400, "invalidPageToken", "youtube.parameter")
    assert message == "The request specifies an invalid page token."


def test_a_channel_without_uploads_answers_playlist_not_found(
    serve: Serve, world: SimulatedWorld
) -> None:
    base = serve()
    (channel,) = channels_where(world, has_uploads=False)

    channel_answer = call(base, "channels", part="statistics", id=channel.channel_id).json()
    playlist = call(
        base, "playlistItems", part="contentDetails", playlistId=channel.uploads_playlist_id
    )

    assert channel_answer["items"][0]["statistics"]["videoCount"] == "0"
    status, reason, domain, _ = error_of(playlist)
    assert (status, reason, domain) == (404, "playlistNotFound", "youtube.playlistItem")


def test_videos_list_gives_statistics_as_strings(serve: Serve, world: SimulatedWorld) -> None:
    base = serve()
    view = youtube_view(world)
    channel = steady_with_videos(world)[0]
    ids = [view.video_id(channel, o) for o in view.video_ordinals(channel, AS_OF)[:49]]

    body = call(base, "videos", part="statistics,snippet", id=",".join([*ids, "AAAAAAAAAAA"]))

    items = body.json()["items"]
    assert [item["id"] for item in items] == ids  # the unknown id is left out
    for item in items:
        statistics = item["statistics"]
        assert all(isinstance(statistics[name], str) for name in ("viewCount", "commentCount"))
        assert int(statistics["viewCount"]) >= int(statistics.get("likeCount", "0"))
        assert RFC3339_UTC.match(item["snippet"]["publishedAt"])
        assert item["snippet"]["channelId"] == channel.channel_id


def test_counts_grow_with_the_as_of_date(serve: Serve, world: SimulatedWorld) -> None:
    base = serve()
    view = youtube_view(world)
    channel = steady_with_videos(world)[0]
    newest = view.video_id(channel, view.video_ordinals(channel, AS_OF)[0])

    counts = [
        int(
            call(base, "videos", part="statistics", id=newest, as_of=day.isoformat()).json()[
                "items"
            ][0]["statistics"]["viewCount"]
        )
        for day in (AS_OF, AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=7))
    ]
    before = call(
        base,
        "videos",
        part="statistics",
        id=newest,
        as_of=(AS_OF - dt.timedelta(days=30)).isoformat(),
    ).json()

    assert counts == sorted(counts) and counts[0] < counts[-1]
    assert "items" not in before  # not yet published then


def test_more_than_50_video_ids_is_invalid_filters(serve: Serve, world: SimulatedWorld) -> None:
    base = serve()
    view = youtube_view(world)
    channel = steady_with_videos(world)[0]
    ids = [view.video_id(channel, o) for o in view.video_ordinals(channel, AS_OF)[:51]]

    answer = call(base, "videos", part="statistics", id=",".join(ids))

    assert error_of(answer)[:2] == (400, "invalidFilters")


def test_a_wrong_key_is_bad_request_and_a_missing_key_forbidden(serve: Serve) -> None:
    base = serve()

    wrong = call(base, "channels", part="statistics", id="UCx", key="not-the-key")
    missing = requests.get(
        f"{base}/channels", params={"part": "statistics", "id": "UCx"}, timeout=10
    )

    assert error_of(wrong) == (
        400,
        "badRequest",
        "global",
        "API key not valid. Please pass a valid API key.",
    )
    assert error_of(missing)[:2] == (403, "forbidden")


def test_a_bad_as_of_is_a_bad_parameter(serve: Serve) -> None:
    answer = call(serve(), "channels", part="statistics", id="UCx", as_of="2026-13-01")

    assert error_of(answer)[:2] == (400, "invalidParameter")


def test_the_daily_quota_counts_every_call_failed_ones_too(
    serve: Serve, world: SimulatedWorld
) -> None:
    base = serve(daily_quota=3)
    channel = steady_with_videos(world)[0]

    answers = [
        call(base, "channels", part="statistics", id=channel.channel_id),
        call(base, "playlistItems", part="contentDetails", playlistId="UUnone"),  # 404, costs 1
        call(base, "channels", part="statistics", id="UCx", key="wrong"),  # no project: free
        call(base, "videos", part="statistics", id="AAAAAAAAAAA"),
        call(base, "channels", part="statistics", id=channel.channel_id),
    ]
    next_day = call(
        base,
        "channels",
        part="statistics",
        id=channel.channel_id,
        as_of=(AS_OF + dt.timedelta(days=1)).isoformat(),
    )

    assert [a.status_code for a in answers] == [200, 404, 400, 200, 403]
    status, reason, domain, message = error_of(answers[-1])
    assert (status, reason, domain) == (403, "quotaExceeded", "youtube.quota")
    assert "exceeded your" in message
    assert next_day.status_code == 200  # each simulated day has its own quota


def playlist(base: str, channel: YouTubeChannel, **params: Any) -> requests.Response:
    return call(
        base,
        "playlistItems",
        part="contentDetails",
        playlistId=channel.uploads_playlist_id,
        **params,
    )


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("rate_limited", (403, "rateLimitExceeded", "usageLimits")),
        ("server_error", (500, "backendError", "global")),
        ("playlist_not_found", (404, "playlistNotFound", "youtube.playlistItem")),
        ("quota_exceeded_now", (403, "quotaExceeded", "youtube.quota")),
        ("access_not_configured", (403, "accessNotConfigured", "usageLimits")),
    ],
    ids=lambda value: value if isinstance(value, str) else value[1],
)
def test_a_channel_fault_fails_the_calls_about_that_channel(
    serve: Serve, world: SimulatedWorld, fault: str, expected: tuple[int, str, str]
) -> None:
    faulty, good = steady_with_videos(world)[:2]
    base = serve({faulty.channel_id: fault})

    batch = call(base, "channels", part="statistics", id=f"{faulty.channel_id},{good.channel_id}")
    answer = playlist(base, faulty)

    assert batch.status_code == 200  # a batch of ids is never failed for one channel
    assert error_of(answer)[:3] == expected


def test_quota_exceeded_now_spends_the_day_for_every_channel(
    serve: Serve, world: SimulatedWorld
) -> None:
    faulty, good = steady_with_videos(world)[:2]
    base = serve({faulty.channel_id: "quota_exceeded_now"})

    before = playlist(base, good)
    at_fault = playlist(base, faulty)
    after = playlist(base, good)

    assert before.status_code == 200
    assert error_of(at_fault)[:2] == error_of(after)[:2] == (403, "quotaExceeded")


def test_a_fault_can_name_the_channel_by_its_roster_handle(
    serve: Serve, world: SimulatedWorld
) -> None:
    channel = next(c for c in steady_with_videos(world) if c.roster_handle.startswith("@"))
    base = serve({channel.roster_handle: "server_error"})

    assert error_of(playlist(base, channel))[:2] == (500, "backendError")


def test_rate_limited_once_answers_the_second_try(serve: Serve, world: SimulatedWorld) -> None:
    channel = steady_with_videos(world)[0]
    base = serve({channel.channel_id: "rate_limited_once"})

    first, second = playlist(base, channel), playlist(base, channel)

    assert error_of(first)[:2] == (403, "rateLimitExceeded")
    assert second.status_code == 200


def test_access_not_configured_for_every_channel_fails_every_call(serve: Serve) -> None:
    base = serve({"*": "access_not_configured"})

    answer = call(base, "channels", part="statistics", id="UCx")

    status, reason, domain, message = error_of(answer)
    assert (status, reason, domain) == (403, "accessNotConfigured", "usageLimits")
    assert "has not been used in project" in message


def test_invalid_page_token_fault_offers_a_next_page_it_then_refuses(
    serve: Serve, world: SimulatedWorld
) -> None:
    channel = steady_with_videos(world)[0]
    base = serve({channel.channel_id: "invalid_page_token"})

    first = playlist(base, channel, maxResults="50").json()
    second = playlist(base, channel, maxResults="50", pageToken=first["nextPageToken"])

    assert len(first["items"]) == 50
    assert error_of(second)[:2] == (400, "invalidPageToken")


def test_repeated_page_token_fault_leads_back_to_the_first_page(
    serve: Serve, world: SimulatedWorld
) -> None:
    channel = steady_with_videos(world)[0]
    base = serve({channel.channel_id: "repeated_page_token"})

    first = playlist(base, channel, maxResults="3").json()
    second = playlist(base, channel, maxResults="3", pageToken=first["nextPageToken"]).json()

    assert second["items"] == first["items"]
    assert second["nextPageToken"] == first["nextPageToken"]


def test_malformed_video_fault_answers_one_video_as_a_bare_string(
    serve: Serve, world: SimulatedWorld
) -> None:
    view = youtube_view(world)
    channel = steady_with_videos(world)[0]
    base = serve({channel.channel_id: "malformed_video"})
    ids = [view.video_id(channel, o) for o in view.video_ordinals(channel, AS_OF)[:3]]

    items = call(base, "videos", part="statistics", id=",".join(ids)).json()["items"]

    assert [type(item).__name__ for item in items] == ["str", "dict", "dict"]


def test_the_plateau_channel_reports_a_flat_count_for_weeks_then_steps(
    world: SimulatedWorld,
) -> None:
    view = youtube_view(world)
    (channel,) = channels_where(world, plateau=True)
    days = [world.anchor - dt.timedelta(days=back) for back in range(56, -1, -1)]

    reported = [view.subscribers(channel, day) for day in days]
    exact = [view.exact_subscribers(channel, day) for day in days]

    longest_flat = max(
        len(run)
        for run in re.findall(
            r"(0+)", "".join("0" if a == b else "1" for a, b in itertools.pairwise(reported))
        )
    )
    assert longest_flat >= 21  # three weeks and more without a change
    assert reported[-1] > reported[0]  # ... and yet it steps
    assert set(reported) <= {100_000, 101_000, 102_000, 103_000}
    assert len(set(exact)) > 50  # the exact count moved almost every day
