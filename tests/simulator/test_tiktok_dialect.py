"""The simulated TikTok API v2, served by uvicorn on loopback and called with requests: the
world's creators on TikTok, the OAuth token endpoint (expiry, rotation, revocation, codes), the
Display API's two calls, its 429 budget and its per-account faults."""

from __future__ import annotations

import datetime as dt
import re
import socket
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import uvicorn
from fastapi import FastAPI

from schemas.roster import HANDLE_RULES
from simulator import SimulatedWorld, SimulatorServer, TikTokAccess
from simulator.tiktok import (
    TikTokAccount,
    connected_refresh_tokens,
    default_signing_key,
    tiktok_roster_rows,
    tiktok_router,
    tiktok_truth_rows,
    tiktok_view,
)
from simulator.world import tier_of
from simulator.youtube import youtube_view

CLIENT_KEY = "sim-client-key-7c2a"
CLIENT_SECRET = "sim-client-secret-91bd4e0f"
AS_OF = dt.date(2026, 10, 18)
USER_FIELDS = "open_id,union_id,display_name,follower_count,following_count,likes_count,video_count"
VIDEO_FIELDS = "id,create_time,view_count,like_count,comment_count,share_count"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Faults:
    account_faults: Mapping[str, str] = field(default_factory=dict)


Serve = Callable[..., str]


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return SimulatedWorld()


@pytest.fixture
def serve(world: SimulatedWorld) -> Iterator[Serve]:
    """Start the dialect on a free loopback port; returns its base URL (…/tiktok)."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(faults: Mapping[str, str] | None = None, **access: Any) -> str:
        app = FastAPI()
        settings = {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET} | access
        router = tiktok_router(world, access=TikTokAccess(**settings), faults=Faults(faults or {}))
        app.include_router(router, prefix="/tiktok")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the simulated TikTok API did not start")
            time.sleep(0.01)
        servers.append((server, thread))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/tiktok"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def token_call(base: str, **form: str) -> requests.Response:
    fields = {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET, **form}
    return requests.post(f"{base}/v2/oauth/token/", data=fields, timeout=10)


def access_token(base: str, world: SimulatedWorld, handle: str) -> str:
    refresh_token = connected_refresh_tokens(world)[handle][1]
    answer = token_call(base, grant_type="refresh_token", refresh_token=refresh_token)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def user_info(base: str, token: str, fields: str = USER_FIELDS, **params: str) -> requests.Response:
    return requests.get(
        f"{base}/v2/user/info/",
        params={"fields": fields, "as_of": AS_OF.isoformat(), **params},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def video_list(
    base: str, token: str, body: dict[str, Any] | None = None, as_of: dt.date = AS_OF
) -> requests.Response:
    return requests.post(
        f"{base}/v2/video/list/",
        params={"fields": VIDEO_FIELDS, "as_of": as_of.isoformat()},
        json=body if body is not None else {"max_count": 20},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def steady(world: SimulatedWorld) -> list[TikTokAccount]:
    return [a for a in tiktok_view(world).accounts if a.archetype == "steady"]


def test_about_half_the_creators_are_on_tiktok_some_on_all_three_platforms(
    world: SimulatedWorld,
) -> None:
    view = tiktok_view(world)
    on_tiktok = {a.creator_handle for a in view.accounts}
    on_youtube = {c.creator_handle for c in youtube_view(world).channels}

    assert 0.4 <= len(view.accounts) / len(world.creators) <= 0.6
    assert len(on_tiktok & on_youtube) >= 20  # on all three
    assert len(on_tiktok - on_youtube) >= 20  # Instagram and TikTok only
    assert [a.handle for a in tiktok_view(SimulatedWorld()).accounts] == [
        a.handle for a in view.accounts
    ]


def test_accounts_have_tiktok_usernames_open_ids_and_19_digit_video_ids(
    world: SimulatedWorld,
) -> None:
    view = tiktok_view(world)
    rule = HANDLE_RULES["tiktok"].pattern

    assert all(re.match(rule, a.handle) for a in view.accounts)
    assert len({a.handle.lower() for a in view.accounts}) == len(view.accounts)
    assert sum(a.handle.endswith("_tt") for a in view.accounts) >= 10
    assert all(UUID.match(a.open_id) and UUID.match(a.union_id) for a in view.accounts)
    assert len({a.open_id for a in view.accounts}) == len(view.accounts)
    account = view.accounts[0]
    ids = [view.video_id(account, o) for o in view.video_ordinals(account, AS_OF)]
    assert all(len(i) == 19 and i.isdigit() for i in ids)
    assert len(set(ids)) == len(ids)


def test_engagement_per_follower_lands_in_tiktoks_published_tier_bands(
    world: SimulatedWorld,
) -> None:
    # (likes + comments + shares) / followers per video, settled videos only (a few days old).
    view = tiktok_view(world)
    rates: dict[str, list[float]] = defaultdict(list)
    views_rates: list[float] = []
    for account in view.accounts:
        followers = view.followers(account, AS_OF)
        for ordinal in view.video_ordinals(account, AS_OF)[3:10]:
            video = view.video(account, ordinal, AS_OF)
            interactions = video["like_count"] + video["comment_count"] + video["share_count"]
            rates[tier_of(followers)].append(interactions / followers)
            views_rates.append(interactions / video["view_count"])
    bands = {"nano": (0.08, 0.15), "micro": (0.05, 0.10), "macro": (0.03, 0.06)}
    for tier, (low, high) in bands.items():
        assert low <= statistics.median(rates[tier]) <= high, tier
    assert 0.015 <= statistics.median(rates["mega"]) <= 0.035
    assert 0.04 <= statistics.median(views_rates) <= 0.10


def test_roster_rows_are_connected_and_truth_rows_date_jumps_and_crossings(
    world: SimulatedWorld,
) -> None:
    view = tiktok_view(world)
    roster = tiktok_roster_rows(world)
    truth = {row["handle"]: row for row in tiktok_truth_rows(world)}

    assert [row["handle"] for row in roster] == [a.handle for a in view.accounts]
    assert {row["platform"] for row in roster} == {"tiktok"}
    assert {row["connected"] for row in roster} == {"true"}
    for account in view.accounts:
        row = truth[account.handle]
        assert row["archetype"] == account.archetype
        if account.archetype in ("bought", "viral"):
            assert row["event_date"] == str(world.event_date(account.creator_handle))
        if account.archetype == "steady":
            assert row["event_date"] == ""
        if account.archetype == "riser" and row["event_date"]:
            crossing = dt.date.fromisoformat(row["event_date"])
            before = crossing - dt.timedelta(days=1)
            assert tier_of(view.followers(account, before)) == "micro"
            assert tier_of(view.followers(account, crossing)) == "macro"


def test_a_refresh_rotates_the_refresh_token_and_refuses_the_old_one(
    serve: Serve, world: SimulatedWorld
) -> None:
    base = serve()
    handle = steady(world)[0].handle
    first = connected_refresh_tokens(world)[handle][1]

    granted = token_call(base, grant_type="refresh_token", refresh_token=first)
    again = token_call(base, grant_type="refresh_token", refresh_token=first)
    second = token_call(
        base, grant_type="refresh_token", refresh_token=granted.json()["refresh_token"]
    )

    assert granted.status_code == 200
    body = granted.json()
    assert set(body) == {
        "access_token",
        "expires_in",
        "open_id",
        "refresh_expires_in",
        "refresh_token",
        "scope",
        "token_type",
    }
    assert body["access_token"].startswith("act.") and body["refresh_token"].startswith("rft.")
    assert body["refresh_token"] != first
    assert (body["expires_in"], body["refresh_expires_in"], body["token_type"]) == (
        86_400,
        31_536_000,
        "Bearer",
    )
    assert body["open_id"] == steady(world)[0].open_id
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert set(again.json()) == {"error", "error_description", "log_id"}
    assert second.status_code == 200


def test_no_rotation_answers_the_same_refresh_token(serve: Serve, world: SimulatedWorld) -> None:
    handle = steady(world)[0].handle
    base = serve({handle: "no_rotation"})
    first = connected_refresh_tokens(world)[handle][1]

    granted = token_call(base, grant_type="refresh_token", refresh_token=first)
    again = token_call(base, grant_type="refresh_token", refresh_token=first)

    assert granted.json()["refresh_token"] == first
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "category"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_key": "wrong"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"refresh_token": "rft.forged.token"}, 400, "invalid_grant"),
        ({"refresh_token": ""}, 400, "invalid_grant"),
    ],
    ids=["wrong-secret", "wrong-key", "grant-type", "forged", "empty"],
)
def test_bad_token_requests_answer_in_the_oauth_shape(
    serve: Serve, world: SimulatedWorld, form: dict[str, str], status: int, category: str
) -> None:
    base = serve()
    handle = steady(world)[0].handle
    fields = {"grant_type": "refresh_token"}
    fields["refresh_token"] = connected_refresh_tokens(world)[handle][1]

    answer = token_call(base, **(fields | form))

    assert (answer.status_code, answer.json()["error"]) == (status, category)
    assert answer.json()["log_id"]


def test_the_token_endpoint_wants_a_form_not_json(serve: Serve) -> None:
    base = serve()

    answer = requests.post(f"{base}/v2/oauth/token/", json={"client_key": CLIENT_KEY}, timeout=10)

    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")


def test_a_revoked_refresh_token_is_invalid_grant(serve: Serve, world: SimulatedWorld) -> None:
    handle = steady(world)[0].handle
    base = serve({handle: "refresh_revoked"})

    answer = token_call(
        base,
        grant_type="refresh_token",
        refresh_token=connected_refresh_tokens(world)[handle][1],
    )

    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")
    assert "revoked" in answer.json()["error_description"]


def test_consent_redirects_with_a_code_that_is_exchanged_once(
    serve: Serve, world: SimulatedWorld
) -> None:
    base = serve()
    account = steady(world)[0]
    redirect_uri = "https://brand.example/tiktok/callback"

    consent = requests.get(
        f"{base}/v2/auth/authorize/",
        params={
            "client_key": CLIENT_KEY,
            "scope": "user.info.basic,user.info.stats,video.list",
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": "s-42",
            "username": account.handle,
        },
        allow_redirects=False,
        timeout=10,
    )
    location = urlsplit(consent.headers["Location"])
    returned = {name: values[0] for name, values in parse_qs(location.query).items()}
    exchanged = token_call(
        base, grant_type="authorization_code", code=returned["code"], redirect_uri=redirect_uri
    )
    replayed = token_call(
        base, grant_type="authorization_code", code=returned["code"], redirect_uri=redirect_uri
    )

    assert consent.status_code == 302
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    assert returned["state"] == "s-42"
    assert exchanged.status_code == 200
    assert exchanged.json()["open_id"] == account.open_id
    assert (replayed.status_code, replayed.json()["error"]) == (400, "invalid_grant")


def test_user_info_answers_the_fields_asked_for(serve: Serve, world: SimulatedWorld) -> None:
    base = serve()
    account = steady(world)[0]
    view = tiktok_view(world)

    answer = user_info(base, access_token(base, world, account.handle))

    assert answer.status_code == 200
    body = answer.json()
    assert body["error"]["code"] == "ok" and body["error"]["log_id"]
    user = body["data"]["user"]
    assert list(user) == USER_FIELDS.split(",")
    assert user["open_id"] == account.open_id
    assert user["follower_count"] == view.followers(account, AS_OF)
    assert user["video_count"] >= len(view.video_ordinals(account, AS_OF))


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        (None, 401),
        ("Bearer act.not-a-real-token", 401),
        ("Basic xyz", 401),
    ],
    ids=["missing", "forged", "not-bearer"],
)
def test_a_data_call_without_a_valid_token_is_access_token_invalid(
    serve: Serve, authorization: str | None, expected: int
) -> None:
    base = serve()
    headers = {"Authorization": authorization} if authorization else {}

    answer = requests.get(
        f"{base}/v2/user/info/", params={"fields": "open_id"}, headers=headers, timeout=10
    )

    assert answer.status_code == expected
    assert answer.json()["error"]["code"] == "access_token_invalid"
    assert answer.json()["data"] == {}


def test_an_expired_access_token_is_refused(serve: Serve, world: SimulatedWorld) -> None:
    from simulator.tiktok import _sign

    base = serve()
    account = steady(world)[0]
    expired = _sign(
        "act", default_signing_key(world), account.open_id, int(time.time()) - 1, "gone"
    )

    answer = user_info(base, expired)

    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "access_token_invalid")


def test_tokens_signed_by_one_simulator_are_good_for_the_next(world: SimulatedWorld) -> None:
    account = steady(world)[0]
    access = TikTokAccess(client_key=CLIENT_KEY, client_secret=CLIENT_SECRET)
    with SimulatorServer(world, access_token="ig", tiktok=access) as first:
        token = access_token(first.url + "/tiktok", world, account.handle)
    with SimulatorServer(world, access_token="ig", tiktok=access) as second:
        answer = user_info(second.url + "/tiktok", token)

    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("fields", "message"),
    [("", "fields is required"), ("open_id,email", "Invalid fields: email")],
    ids=["none", "unknown"],
)
def test_bad_fields_are_invalid_params(
    serve: Serve, world: SimulatedWorld, fields: str, message: str
) -> None:
    base = serve()

    answer = user_info(base, access_token(base, world, steady(world)[0].handle), fields=fields)

    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_params")
    assert message in answer.json()["error"]["message"]


def test_video_list_pages_by_cursor_newest_first_until_has_more_is_false(
    serve: Serve, world: SimulatedWorld
) -> None:
    base = serve()
    view = tiktok_view(world)
    account = steady(world)[1]
    token = access_token(base, world, account.handle)
    expected = [view.video_id(account, o) for o in view.video_ordinals(account, AS_OF)]

    pages: list[dict[str, Any]] = []
    cursor: int | None = None
    while True:
        body: dict[str, Any] = {"max_count": 20}
        if cursor is not None:
            body["cursor"] = cursor
        answer = video_list(base, token, body)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json()["data"])
        if not pages[-1]["has_more"]:
            break
        cursor = pages[-1]["cursor"]

    listed = [video for page in pages for video in page["videos"]]
    assert [video["id"] for video in listed] == expected
    assert len(pages) == -(-len(expected) // 20)
    times = [video["create_time"] for video in listed]
    assert times == sorted(times, reverse=True)
    assert all(page["cursor"] == page["videos"][-1]["create_time"] * 1000 for page in pages)
    assert set(listed[0]) == set(VIDEO_FIELDS.split(","))


def test_video_counts_grow_with_the_as_of_date(serve: Serve, world: SimulatedWorld) -> None:
    base = serve()
    account = steady(world)[0]
    token = access_token(base, world, account.handle)

    earlier = video_list(base, token, as_of=AS_OF).json()["data"]["videos"]
    later = video_list(base, token, as_of=AS_OF + dt.timedelta(days=3)).json()["data"]["videos"]

    by_id = {video["id"]: video for video in later}
    shared = [video for video in earlier if video["id"] in by_id]
    assert shared
    for video in shared:
        assert by_id[video["id"]]["view_count"] >= video["view_count"]
        assert by_id[video["id"]]["like_count"] >= video["like_count"] - 1


@pytest.mark.parametrize(
    "body",
    [{"max_count": 21}, {"max_count": 0}, {"max_count": "20"}, {"cursor": -1}, {"cursor": "x"}],
    ids=["21", "0", "a-string", "negative-cursor", "text-cursor"],
)
def test_bad_paging_is_invalid_params(
    serve: Serve, world: SimulatedWorld, body: dict[str, Any]
) -> None:
    base = serve()

    answer = video_list(base, access_token(base, world, steady(world)[0].handle), body)

    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_params")


def test_the_budget_of_an_endpoint_answers_429_with_retry_after(
    serve: Serve, world: SimulatedWorld
) -> None:
    base = serve(requests_per_window=3, window_seconds=30)
    token = access_token(base, world, steady(world)[0].handle)

    statuses = [user_info(base, token).status_code for _ in range(4)]
    refused = user_info(base, token)
    other_endpoint = video_list(base, token)

    assert statuses == [200, 200, 200, 429]
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    assert other_endpoint.status_code == 200  # each endpoint has its own budget


@pytest.mark.parametrize(
    ("fault", "call", "status", "code"),
    [
        ("access_token_invalid", "user", 401, "access_token_invalid"),
        ("scope_not_authorized", "videos", 401, "scope_not_authorized"),
        ("invalid_params", "videos", 400, "invalid_params"),
        ("rate_limited", "user", 429, "rate_limit_exceeded"),
        ("internal_error", "user", 500, "internal_error"),
        ("error_in_200", "user", 200, "internal_error"),
    ],
    ids=lambda value: value if isinstance(value, str) and "_" in value else None,
)
def test_account_faults_answer_in_the_display_api_error_shape(
    serve: Serve, world: SimulatedWorld, fault: str, call: str, status: int, code: str
) -> None:
    account = steady(world)[0]
    base = serve({account.handle: fault})
    token = access_token(base, world, account.handle)

    answer = user_info(base, token) if call == "user" else video_list(base, token)

    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    assert set(answer.json()) == {"data", "error"}
    assert set(answer.json()["error"]) == {"code", "message", "log_id"}


def test_content_faults_change_what_the_answer_says(serve: Serve, world: SimulatedWorld) -> None:
    accounts = steady(world)[:5]
    faults = ["future_video", "absurd_followers", "malformed_video", "no_videos", "html_502"]
    base = serve({a.handle: f for a, f in zip(accounts, faults, strict=True)})
    tokens = [access_token(base, world, a.handle) for a in accounts]

    future = video_list(base, tokens[0]).json()["data"]["videos"][0]
    absurd = user_info(base, tokens[1]).json()["data"]["user"]
    malformed = video_list(base, tokens[2]).json()["data"]["videos"]
    empty = video_list(base, tokens[3]).json()["data"]
    gateway = user_info(base, tokens[4])

    assert dt.datetime.fromtimestamp(future["create_time"], dt.UTC).year == AS_OF.year + 2
    assert absurd["follower_count"] == 10**15
    assert isinstance(malformed[1], str) and malformed[1].isdigit()
    assert (empty["videos"], empty["has_more"]) == ([], False)
    assert gateway.status_code == 502
    assert gateway.headers["Content-Type"].startswith("text/html")


def test_faults_for_unknown_accounts_or_names_are_refused(world: SimulatedWorld) -> None:
    access = TikTokAccess(client_key=CLIENT_KEY, client_secret=CLIENT_SECRET)
    with pytest.raises(ValueError, match="unknown TikTok account faults"):
        tiktok_router(world, access=access, faults=Faults({steady(world)[0].handle: "nope"}))
    with pytest.raises(ValueError, match="accounts the world does not have"):
        tiktok_router(world, access=access, faults=Faults({"nobody.here": "refresh_revoked"}))


def test_the_simulator_serves_tiktok_in_a_process_of_its_own() -> None:
    small = SimulatedWorld(size=12)
    account = tiktok_view(small).accounts[0]
    access = TikTokAccess(client_key=CLIENT_KEY, client_secret=CLIENT_SECRET)
    with SimulatorServer(small, access_token="ig", tiktok=access, in_process=False) as server:
        base = server.url + "/tiktok"
        answer = user_info(base, access_token(base, small, account.handle))
        command_line = Path(f"/proc/{server.process_id}/cmdline").read_bytes()

    assert answer.status_code == 200
    assert answer.json()["data"]["user"]["open_id"] == account.open_id
    assert CLIENT_SECRET.encode() not in command_line
