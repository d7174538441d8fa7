"""The TikTok source against the simulated TikTok API v2, over real loopback HTTP: paging, the
creators' tokens (refresh, rotation, revocation), the 429 answer and the request budget, each
error shape, and tokens kept out of everything the night leaves behind."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from landed import Landed

from simulator.tiktok import (
    TikTokAccess,
    TikTokAccount,
    TikTokView,
    connected_refresh_tokens,
    tiktok_router,
    tiktok_view,
)
from simulator.world import SimulatedWorld
from sources import tiktok
from sources.extraction import ExtractResult
from sources.http import ApiError, FailureKind, HttpPolicy
from sources.roster import TrackedAccount
from sources.tiktok.client import TikTokClient, read_tiktok_error
from sources.tiktok.tokens import CreatorTokens, TokenStore

TOKEN_SHAPE = re.compile(r"\b(act|rft)\.[A-Za-z0-9_-]{8,}")
CLIENT_KEY = "aw-client-key-3f9b"
CLIENT_SECRET = "cs-tiktok-source-test-8d1e47a2b9"
AS_OF = dt.date(2026, 10, 18)
FAST_RETRIES = HttpPolicy(
    timeout_seconds=5, deadline_seconds=20, max_retries=2, backoff_seconds=0.001, concurrency=4
)


@dataclass(frozen=True)
class Faults:
    account_faults: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Platform:
    """A running simulated TikTok API and what it was asked."""

    base_url: str
    calls: list[tuple[str, str, int, str]] = field(default_factory=list)
    bodies: list[tuple[str, bytes]] = field(default_factory=list)

    def calls_to(self, endpoint: str) -> list[tuple[str, int, str]]:
        return [(m, s, q) for m, path, s, q in self.calls if path.endswith(f"/{endpoint}/")]

    def statuses(self, endpoint: str) -> list[int]:
        return [status for _, status, _ in self.calls_to(endpoint)]


StartPlatform = Callable[..., Platform]


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return SimulatedWorld()


@pytest.fixture(scope="module")
def view(world: SimulatedWorld) -> TikTokView:
    return tiktok_view(world)


@pytest.fixture
def platform(world: SimulatedWorld) -> Iterator[StartPlatform]:
    """Start the simulated TikTok API on a free loopback port, counting every request."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(faults: Mapping[str, str] | None = None, **access: Any) -> Platform:
        app = FastAPI()
        settings = {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET} | access
        app.include_router(
            tiktok_router(world, access=TikTokAccess(**settings), faults=Faults(faults or {})),
            prefix="/tiktok",
        )
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        running = Platform(f"http://127.0.0.1:{sock.getsockname()[1]}/tiktok")

        @app.middleware("http")
        async def count(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            running.bodies.append((request.url.path, await request.body()))
            response = await call_next(request)
            running.calls.append(
                (request.method, request.url.path, response.status_code, request.url.query)
            )
            return response

        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the simulated TikTok API did not start")
            time.sleep(0.01)
        servers.append((server, thread))
        return running

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def store(tmp_path: Path, world: SimulatedWorld) -> TokenStore:
    """Every simulated creator connected: a refresh token each, no access token yet."""
    tokens = TokenStore(tmp_path / "secrets" / "tiktok_tokens.json")
    tokens.put_many(
        CreatorTokens(handle=handle, refresh_token=refresh_token, open_id=open_id)
        for handle, (open_id, refresh_token) in connected_refresh_tokens(world).items()
    )
    return tokens


def config(platform: Platform, store: TokenStore, **changes: Any) -> tiktok.Config:
    settings: dict[str, Any] = {
        "base_url": platform.base_url,
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "token_file": store.path,
        "sends_as_of": True,
        "http": FAST_RETRIES,
    }
    return tiktok.Config(**(settings | changes))


def accounts(*handles: str) -> list[TrackedAccount]:
    return [TrackedAccount("tiktok", handle, connected=True) for handle in handles]


def run(
    platform: Platform,
    store: TokenStore,
    roster: list[TrackedAccount],
    as_of: dt.date = AS_OF,
    **changes: Any,
) -> tuple[ExtractResult, Landed]:
    landed = Landed()
    result = tiktok.extract(config(platform, store, **changes), roster, as_of, landed)
    return result, landed


def steady(view: TikTokView) -> list[TikTokAccount]:
    return [account for account in view.accounts if account.archetype == "steady"]


def recent_video_ids(
    view: TikTokView, account: TikTokAccount, days: int = 14, as_of: dt.date = AS_OF
) -> list[str]:
    since = dt.datetime.combine(as_of - dt.timedelta(days=days), dt.time(0), tzinfo=dt.UTC)
    return [
        video["id"]
        for video in (view.video(account, o, as_of) for o in view.video_ordinals(account, as_of))
        if video["create_time"] >= since.timestamp()
    ]


def stored(store: TokenStore, handle: str) -> CreatorTokens:
    tokens = TokenStore(store.path).get(handle)
    assert tokens is not None
    return tokens


def failures_by_handle(
    result: ExtractResult,
) -> dict[str, tuple[FailureKind, int | None, str | None]]:
    return {f.handle: (f.kind, f.http_status, f.api_error_code) for f in result.failures}


def test_the_source_has_the_one_shape(tmp_path: Path) -> None:
    cfg = tiktok.Config(
        base_url="http://x",
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        token_file=tmp_path / "t.json",
        sends_as_of=True,
    )

    assert tiktok.SOURCE == "tiktok"
    assert tiktok.ENTITIES == ("users", "videos")
    assert tiktok.answers_as_of(cfg) is True
    assert tiktok.answers_as_of(dataclasses.replace(cfg, sends_as_of=False)) is False
    assert CLIENT_SECRET not in repr(cfg) and CLIENT_KEY not in repr(cfg)
    with pytest.raises(ValueError, match="INFLUENCERS_TIKTOK__CLIENT_SECRET"):
        dataclasses.replace(cfg, client_secret="")
    with pytest.raises(ValueError, match="INFLUENCERS_TIKTOK__CLIENT_KEY"):
        dataclasses.replace(cfg, client_key="")
    with pytest.raises(ValueError, match=r"page_size must be within 1\.\.20"):
        dataclasses.replace(cfg, page_size=21)


def test_a_night_lands_each_creator_and_its_recent_videos(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    running = platform()
    creators = steady(view)[:5]

    result, landed = run(running, store, accounts(*(a.handle for a in creators)))

    assert (result.accounts, result.fetched, result.failures, result.stopped) == (5, 5, [], None)
    users = {record["_handle"]: record for record in landed.of("users")}
    for account in creators:
        user = users[account.handle]
        assert user["open_id"] == account.open_id
        assert user["follower_count"] == view.followers(account, AS_OF)
        assert set(user) == {
            "open_id",
            "union_id",
            "display_name",
            "follower_count",
            "following_count",
            "likes_count",
            "video_count",
            "_handle",
            "_as_of",
        }
        videos = [v for v in landed.of("videos") if v["_handle"] == account.handle]
        assert [v["id"] for v in videos] == recent_video_ids(view, account)
        assert {v["_open_id"] for v in videos} <= {account.open_id}
    assert landed.of("videos"), "the creators posted in the last 14 days"
    assert result.requests_made == len(running.calls)


def test_videos_land_as_the_api_sent_them(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    running = platform()
    account = steady(view)[0]

    _, landed = run(running, store, accounts(account.handle))

    video = landed.of("videos")[0]
    ordinal = next(
        o for o in view.video_ordinals(account, AS_OF) if view.video_id(account, o) == video["id"]
    )
    expected = view.video(account, ordinal, AS_OF)
    asked = ["id", "create_time", "view_count", "like_count", "comment_count", "share_count"]
    context = {"_handle": account.handle, "_as_of": "2026-10-18", "_open_id": account.open_id}
    assert video == {
        **{
            name: expected[name]
            for name in [*asked, "title", "video_description", "duration", "share_url"]
        },
        **context,
    }
    assert len(video["id"]) == 19 and video["id"].isdigit()


def test_videos_are_paged_by_cursor_until_has_more_is_false(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    running = platform()
    account = min(steady(view), key=lambda a: len(view.video_ordinals(a, AS_OF)))
    every_video = recent_video_ids(view, account, days=10_000)
    page_size = 7

    result, landed = run(
        running, store, accounts(account.handle), page_size=page_size, lookback_days=10_000
    )

    pages = [json.loads(body) for body in _video_list_bodies(running)]
    assert result.fetched == 1
    assert [v["id"] for v in landed.of("videos")] == every_video
    assert len(pages) == -(-len(every_video) // page_size) > 3
    assert "cursor" not in pages[0]
    assert {page["max_count"] for page in pages} == {page_size}
    # Each page asks for the videos created before the last one of the page before.
    videos = {v["id"]: v for v in landed.of("videos")}
    for number, page in enumerate(pages[1:], start=1):
        last_of_previous = every_video[number * page_size - 1]
        assert page["cursor"] == videos[last_of_previous]["create_time"] * 1000


def test_paging_stops_at_the_first_video_older_than_the_lookback(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    running = platform()
    account = steady(view)[0]
    expected = recent_video_ids(view, account, days=30)

    _, landed = run(running, store, accounts(account.handle), page_size=3, lookback_days=30)

    assert [v["id"] for v in landed.of("videos")] == expected
    # The last page held a video from before the lookback: no page after it.
    assert len(running.calls_to("video/list")) == len(expected) // 3 + 1


def test_a_creator_without_an_access_token_is_refreshed_and_the_new_pair_stored_first(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    running = platform()
    account = steady(view)[0]
    before = stored(store, account.handle)
    started = dt.datetime.now(dt.UTC)

    result, _ = run(running, store, accounts(account.handle))

    after = stored(store, account.handle)
    assert result.fetched == 1
    assert [method for method, _, _ in running.calls_to("oauth/token")] == ["POST"]
    # TikTok rotated the refresh token: the store holds the new one, and its new access token.
    assert after.refresh_token != before.refresh_token
    assert after.access_token.startswith("act.")
    assert after.access_token_expires_at is not None
    # expires_in was read from the answer (24 h by default), not assumed.
    lifetime = (after.access_token_expires_at - started).total_seconds()
    assert 86_400 - 60 <= lifetime <= 86_400 + 60
    assert after.refresh_token_expires_at is not None
    assert after.open_id == account.open_id
    assert after.scope == "user.info.basic,user.info.stats,video.list"
    # The calls made with the new access token succeeded.
    assert running.statuses("user/info") == [200]


def test_an_access_token_far_from_expiry_is_used_as_it_is(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    running = platform()
    account = steady(view)[0]
    run(running, store, accounts(account.handle))
    first = stored(store, account.handle)

    result, _ = run(running, store, accounts(account.handle), as_of=AS_OF + dt.timedelta(days=1))

    assert result.fetched == 1
    assert len(running.calls_to("oauth/token")) == 1  # the first night's refresh only
    assert stored(store, account.handle) == first


def test_a_rotated_refresh_token_is_stored_and_the_next_night_works_with_it(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    # Access tokens of a minute: within the refresh margin, so every night refreshes.
    running = platform(access_token_seconds=60)
    creators = steady(view)[:3]
    roster = accounts(*(a.handle for a in creators))
    seeded = {a.handle: stored(store, a.handle).refresh_token for a in creators}

    first, _ = run(running, store, roster)
    after_first = {a.handle: stored(store, a.handle).refresh_token for a in creators}
    second, landed = run(running, store, roster, as_of=AS_OF + dt.timedelta(days=1))
    after_second = {a.handle: stored(store, a.handle).refresh_token for a in creators}

    assert (first.fetched, second.fetched) == (3, 3)
    assert second.failures == []
    assert all(seeded[h] != after_first[h] != after_second[h] for h in seeded)
    assert len(running.calls_to("oauth/token")) == 6
    assert {r["_as_of"] for r in landed.of("users")} == {"2026-10-19"}
    # The refresh tokens of the first night were rotated away: TikTok refuses them now.
    with TikTokClient(config(running, store)) as client:
        for old in after_first.values():
            with pytest.raises(ApiError) as refused:
                client.refresh(old)
            assert (refused.value.code, refused.value.kind) == ("invalid_grant", "account")


def test_a_revoked_refresh_token_fails_that_creator_alone_with_the_reconnect_reason(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    revoked, *good = steady(view)[:4]
    running = platform({revoked.handle: "refresh_revoked"})
    before = stored(store, revoked.handle)

    result, landed = run(running, store, accounts(revoked.handle, *(a.handle for a in good)))

    assert result.stopped is None
    assert failures_by_handle(result) == {
        revoked.handle: (FailureKind.ACCOUNT, 400, "invalid_grant")
    }
    (failure,) = result.failures
    assert "revoked" in failure.reason
    assert "the creator must reconnect" in failure.reason
    assert f"influencers tiktok connect {revoked.handle}" in failure.reason
    assert result.fetched == 3
    assert {r["_handle"] for r in landed.of("users")} == {a.handle for a in good}
    # Nothing the creator could still use was thrown away.
    assert stored(store, revoked.handle) == before


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (None, "no TikTok tokens for this creator in the token store"),
        ({"access_token": "act.x"}, "its entry has no refresh_token"),
        ("rft.a-string-not-an-object", "its entry is a JSON str, not an object"),
        (
            {"refresh_token": "rft.z", "refresh_token_expires_at": "2025-01-01T00:00:00Z"},
            "its refresh token expired on 2025-01-01",
        ),
    ],
    ids=["not-connected", "no-refresh-token", "not-an-object", "refresh-token-expired"],
)
def test_a_creator_without_usable_tokens_fails_alone_and_is_told_to_reconnect(
    platform: StartPlatform, store: TokenStore, view: TikTokView, entry: Any, reason: str
) -> None:
    broken, *good = steady(view)[:3]
    _set_entry(store.path, broken.handle, entry)
    running = platform()

    result, _ = run(running, store, accounts(broken.handle, *(a.handle for a in good)))

    (failure,) = result.failures
    assert (failure.handle, failure.kind) == (broken.handle, FailureKind.ACCOUNT)
    assert reason in failure.reason
    assert "the creator must reconnect" in failure.reason
    assert result.fetched == 2
    assert len(running.calls_to("oauth/token")) == 2  # the broken creator's was never tried


def test_a_token_store_that_is_not_json_stops_the_night_naming_the_file(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    store.path.write_text('{"format": "influencers-tiktok-tokens/1", "creators": {"a": ')
    running = platform()
    creators = steady(view)[:3]

    result, landed = run(running, store, accounts(*(a.handle for a in creators)))

    assert result.stop_kind == FailureKind.NIGHT
    assert result.stopped is not None
    assert f"the TikTok token store {store.path} is not valid JSON" in result.stopped
    assert "restore it from a backup" in result.stopped
    assert (result.accounts, result.fetched, len(result.failures)) == (3, 0, 3)
    assert all(f.reason.startswith("not tried") for f in result.failures)
    assert running.calls == [] and landed.records == []


def test_a_refused_access_token_is_refreshed_once_and_the_call_retried(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    account = steady(view)[0]
    running = platform({account.handle: "access_token_invalid_once"})

    result, landed = run(running, store, accounts(account.handle))

    assert (result.fetched, result.failures) == (1, [])
    assert running.statuses("user/info") == [401, 200]
    # One refresh before the night's first call (no access token yet), one after the refusal.
    assert len(running.calls_to("oauth/token")) == 2
    assert [r["_handle"] for r in landed.of("users")] == [account.handle]


def test_an_access_token_refused_again_after_a_refresh_fails_that_creator(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    refused, *good = steady(view)[:4]
    running = platform({refused.handle: "access_token_invalid"})

    result, _ = run(running, store, accounts(refused.handle, *(a.handle for a in good)))

    assert result.stopped is None
    assert failures_by_handle(result) == {
        refused.handle: (FailureKind.ACCOUNT, 401, "access_token_invalid")
    }
    assert "refused a freshly refreshed access token" in result.failures[0].reason
    assert "the creator must reconnect" in result.failures[0].reason
    assert result.fetched == 3


def test_the_app_credentials_refused_stop_the_night_with_what_to_check(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    running = platform()
    creators = steady(view)[:12]
    one_at_a_time = dataclasses.replace(FAST_RETRIES, concurrency=1)

    result, landed = run(
        running,
        store,
        accounts(*(a.handle for a in creators)),
        client_secret="cs-wrong-secret-0000",
        http=one_at_a_time,
    )

    assert result.stop_kind == FailureKind.AUTH
    assert result.stopped is not None
    assert "TikTok refused the app's client key or secret" in result.stopped
    assert "INFLUENCERS_TIKTOK__CLIENT_SECRET" in result.stopped
    assert len(running.calls) == 1
    assert (result.fetched, len(result.failures)) == (0, 12)
    assert all(f.reason.startswith("not tried") for f in result.failures[1:])
    assert landed.records == []


@pytest.mark.parametrize(
    ("fault", "expected", "reason"),
    [
        (
            "scope_not_authorized",
            (FailureKind.ACCOUNT, 401, "scope_not_authorized"),
            "did not grant a scope",
        ),
        ("invalid_params", (FailureKind.ACCOUNT, 400, "invalid_params"), "invalid parameters"),
        ("internal_error", (FailureKind.UNAVAILABLE, 500, "internal_error"), "gave up after"),
        ("error_in_200", (FailureKind.UNAVAILABLE, 200, "internal_error"), "gave up after"),
        ("rate_limited", (FailureKind.UNAVAILABLE, 429, "rate_limit_exceeded"), "gave up"),
        ("html_502", (FailureKind.UNAVAILABLE, 502, None), "HTTP 502"),
        (
            "has_more_without_cursor",
            (FailureKind.ACCOUNT, None, "missing_cursor"),
            "has_more without a usable cursor",
        ),
        ("cursor_loop", (FailureKind.ACCOUNT, None, "repeated_cursor"), "came back after 2"),
        ("malformed_video", None, None),
        ("no_videos", None, None),
        ("no_rotation", None, None),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_error_shape_fails_that_creator_alone(
    platform: StartPlatform,
    store: TokenStore,
    view: TikTokView,
    fault: str,
    expected: tuple[FailureKind, int | None, str | None] | None,
    reason: str | None,
) -> None:
    faulty, *good = steady(view)[:4]
    running = platform({faulty.handle: fault})
    roster = accounts(faulty.handle, *(a.handle for a in good))

    result, landed = run(running, store, roster, page_size=3, lookback_days=30)

    assert result.stopped is None
    assert failures_by_handle(result) == ({faulty.handle: expected} if expected else {})
    if reason is not None:
        assert reason in result.failures[0].reason
    assert result.fetched == 4 - len(result.failures)
    for account in good:
        videos = [v["id"] for v in landed.of("videos") if v["_handle"] == account.handle]
        assert videos == recent_video_ids(view, account, days=30)


def test_the_429_answer_is_retried_after_the_wait_it_asks_for(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    account = steady(view)[0]
    running = platform({account.handle: "rate_limited_once"})

    result, landed = run(running, store, accounts(account.handle), page_size=5)

    assert (result.fetched, result.failures) == (1, [])
    assert running.statuses("user/info") == [429, 200]
    assert running.statuses("video/list")[:2] == [429, 200]
    assert [v["id"] for v in landed.of("videos")] == recent_video_ids(view, account)


def test_the_videos_fetched_before_the_paging_broke_off_still_land(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    account = steady(view)[0]
    running = platform({account.handle: "cursor_loop"})

    result, landed = run(running, store, accounts(account.handle), page_size=3, lookback_days=30)

    assert len(result.failures) == 1
    assert [r["_handle"] for r in landed.of("users")] == [account.handle]
    # Page 2 answered page 1 again (with page 1's cursor): both land, the loader keeps one.
    first_page = recent_video_ids(view, account, 30)[:3]
    assert [v["id"] for v in landed.of("videos")] == first_page + first_page


def test_a_video_that_is_not_an_object_lands_for_quarantine(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    account = steady(view)[0]
    running = platform({account.handle: "malformed_video"})

    _, landed = run(running, store, accounts(account.handle))

    odd = [v for v in landed.of("videos") if "_not_an_object" in v]
    assert len(odd) == 1
    assert (odd[0]["_handle"], odd[0]["_open_id"]) == (account.handle, account.open_id)
    assert isinstance(odd[0]["_not_an_object"], str)


def test_the_request_budget_keeps_every_endpoint_within_the_platform_limit(
    platform: StartPlatform, store: TokenStore, view: TikTokView
) -> None:
    # The platform allows 4 requests per endpoint in any 0.4 s; 8 creators need 8 per endpoint.
    running = platform(requests_per_window=4, window_seconds=0.4)
    roster = accounts(*(a.handle for a in steady(view)[:8]))

    patient = dataclasses.replace(FAST_RETRIES, max_retries=8)

    paced, _ = run(
        running,
        store,
        roster,
        lookback_days=0,
        requests_per_minute=4,
        rate_window_seconds=0.4,
        http=patient,
    )
    paced_statuses = [status for _, _, status, _ in running.calls]
    running.calls.clear()
    unpaced, _ = run(
        running, store, roster, lookback_days=0, as_of=AS_OF + dt.timedelta(days=1), http=patient
    )

    assert paced.fetched == unpaced.fetched == 8
    assert 429 not in paced_statuses
    assert len(paced_statuses) == 8 + 8 + 8  # refresh, user/info, video/list
    # Without the budget the platform refuses some (the shared client then waits and retries).
    assert 429 in [status for _, _, status, _ in running.calls]


def test_no_token_or_secret_appears_in_logs_errors_records_or_results(
    platform: StartPlatform,
    store: TokenStore,
    view: TikTokView,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    creators = steady(view)[:7]
    running = platform(
        {
            creators[0].handle: "refresh_revoked",
            creators[1].handle: "access_token_invalid",
            creators[2].handle: "internal_error",
            creators[3].handle: "scope_not_authorized",
            creators[4].handle: "malformed_video",
            creators[5].handle: "html_502",
        },
        access_token_seconds=60,
    )
    roster = accounts(*(a.handle for a in creators), "not.connected_yet")
    seeded = [stored(store, a.handle).refresh_token for a in creators]

    result, landed = run(running, store, roster, page_size=3)
    refused, _ = run(running, store, roster, client_secret="cs-wrong-secret-0000")

    final = [stored(store, a.handle) for a in creators]
    tokens = [*seeded, *(t.refresh_token for t in final), *(t.access_token for t in final)]
    assert len(result.failures) == 6
    assert sum(1 for t in final if t.access_token) >= 4
    texts = [
        caplog.text,
        repr(result),
        repr(refused),
        json.dumps(landed.records, default=str),
        *(str(failure) for failure in [*result.failures, *refused.failures]),
    ]
    for text in texts:
        for secret in [*tokens, CLIENT_SECRET, "cs-wrong-secret-0000"]:
            assert not secret or secret not in text
        # Every token the platform issued has this shape, the ones replaced since too.
        assert TOKEN_SHAPE.search(text) is None, TOKEN_SHAPE.search(text)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"code": "access_token_invalid"}, FailureKind.AUTH),
        (401, {"code": "scope_not_authorized"}, FailureKind.ACCOUNT),
        (400, {"code": "scope_permission_missed"}, FailureKind.ACCOUNT),
        (429, {"code": "rate_limit_exceeded"}, FailureKind.RETRY),
        (500, {"code": "internal_error"}, FailureKind.RETRY),
        (200, {"code": "internal_error"}, FailureKind.RETRY),
        (400, {"code": "invalid_params"}, FailureKind.ACCOUNT),
        (403, {"code": "something_new"}, FailureKind.ACCOUNT),
        (503, {"code": "something_new"}, FailureKind.RETRY),
    ],
    ids=lambda value: value["code"] if isinstance(value, dict) else None,
)
def test_display_api_errors_are_judged_by_their_code(
    status: int, body: dict[str, str], expected: FailureKind
) -> None:
    answer = {"data": {}, "error": {**body, "message": "m", "log_id": "2026LOG"}}

    error = read_tiktok_error(status, answer)

    assert error is not None
    assert (error.kind, error.status, error.code) == (expected, status, body["code"])
    assert "(log_id 2026LOG)" in error.message


@pytest.mark.parametrize(
    ("status", "category", "expected"),
    [
        (400, "invalid_grant", FailureKind.ACCOUNT),
        (401, "invalid_client", FailureKind.AUTH),
        (400, "unauthorized_client", FailureKind.AUTH),
        (400, "invalid_request", FailureKind.ACCOUNT),
        (500, "server_error", FailureKind.RETRY),
        (200, "temporarily_unavailable", FailureKind.RETRY),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_oauth_errors_are_judged_by_their_category(
    status: int, category: str, expected: FailureKind
) -> None:
    answer = {"error": category, "error_description": "d", "log_id": "L1"}

    error = read_tiktok_error(status, answer)

    assert error is not None
    assert (error.kind, error.code) == (expected, category)


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"user": {}}, "error": {"code": "ok", "message": "", "log_id": "x"}},
        {"access_token": "act.x", "expires_in": 86400},
        [1, 2],
        None,
    ],
    ids=["ok", "token-answer", "a-list", "not-json"],
)
def test_answers_without_an_error_are_left_to_the_client(body: Any) -> None:
    assert read_tiktok_error(200, body) is None


def _video_list_bodies(platform: Platform) -> list[bytes]:
    return [body for path, body in platform.bodies if path.endswith("/video/list/")]


def _set_entry(path: Path, handle: str, entry: Any) -> None:
    document = json.loads(path.read_text())
    if entry is None:
        del document["creators"][handle.lower()]
    else:
        document["creators"][handle.lower()] = entry
    path.write_text(json.dumps(document))
