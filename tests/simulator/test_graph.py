"""The simulated Instagram platform over real HTTP: Graph dialect, paging, errors, faults."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from simulator import DEFAULT_ANCHOR, FaultConfig, SimulatedWorld, SimulatorServer

TOKEN = "sim-token-5f3a9c1e77"
APP_USER_ID = "17841400099999999"
ANCHOR = DEFAULT_ANCHOR
DEMOGRAPHICS = {
    "metric": "follower_demographics",
    "period": "lifetime",
    "metric_type": "total_value",
}
pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return SimulatedWorld()


@pytest.fixture(scope="module")
def platform(world: SimulatedWorld) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, access_token=TOKEN) as server:
        yield server


def discovery_fields(handle: str, limit: int | None = None, after: str | None = None) -> str:
    media = "media"
    if limit is not None:
        media += f".limit({limit})"
    if after is not None:
        media += f".after({after})"
    return (
        f"business_discovery.username({handle}){{followers_count,follows_count,media_count,"
        f"username,name,{media}{{id,caption,like_count,comments_count,timestamp,media_type,"
        f"permalink}}}}"
    )


def get(
    server: SimulatorServer, path: str, token: str | None = TOKEN, **params: str
) -> requests.Response:
    if token is not None:
        params["access_token"] = token
    return requests.get(f"{server.url}/v21.0/{path}", params=params, timeout=10)


def discover(
    server: SimulatorServer,
    handle: str,
    as_of: date,
    limit: int | None = None,
    after: str | None = None,
    token: str | None = TOKEN,
) -> requests.Response:
    return get(
        server,
        APP_USER_ID,
        token=token,
        fields=discovery_fields(handle, limit, after),
        as_of=as_of.isoformat(),
    )


def graph_error(response: requests.Response) -> dict:
    error = response.json()["error"]
    assert error["type"] == "OAuthException" and error["fbtrace_id"]
    return error


def without_next_links(body: dict) -> dict:
    """The body minus paging.next, whose host and port differ between servers."""
    copied = json.loads(json.dumps(body))
    copied.get("business_discovery", {}).get("media", {}).get("paging", {}).pop("next", None)
    return copied


def test_business_discovery_answers_the_public_profile(
    platform: SimulatorServer, world: SimulatedWorld
) -> None:
    creator = world.creators[0]
    response = discover(platform, creator.handle, ANCHOR, limit=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["id"] == APP_USER_ID
    discovered = body["business_discovery"]
    profile = world.profile(creator.handle, ANCHOR)
    assert {name: discovered[name] for name in profile} == profile
    assert discovered["media"]["data"] == world.media(creator.handle, ANCHOR)[:5]


def test_paging_returns_every_post_once_and_stops(
    platform: SimulatorServer, world: SimulatedWorld
) -> None:
    creator = world.creators[3]
    as_of = ANCHOR - timedelta(days=640)
    expected = [item["id"] for item in world.media(creator.handle, as_of)]
    assert 20 < len(expected) < 100
    seen: list[str] = []
    after = None
    for _ in range(50):
        media = discover(platform, creator.handle, as_of, limit=7, after=after).json()[
            "business_discovery"
        ]["media"]
        seen.extend(item["id"] for item in media["data"])
        after = media["paging"]["cursors"]["after"]
        if "next" not in media["paging"]:
            break
        assert "access_token" not in media["paging"]["next"]
        assert TOKEN not in media["paging"]["next"]
    assert seen == expected
    past_the_end = discover(platform, creator.handle, as_of, limit=7, after=after).json()
    assert past_the_end["business_discovery"]["media"]["data"] == []


def test_next_link_works_once_the_client_adds_its_token(
    platform: SimulatorServer, world: SimulatedWorld
) -> None:
    creator = world.creators[4]
    first = discover(platform, creator.handle, ANCHOR, limit=4).json()["business_discovery"]
    next_link = first["media"]["paging"]["next"]
    assert next_link.startswith(platform.url) and parse_qs(urlsplit(next_link).query)["as_of"]
    second = requests.get(next_link, params={"access_token": TOKEN}, timeout=10).json()
    assert second["business_discovery"]["media"]["data"] == world.media(creator.handle, ANCHOR)[4:8]


def test_media_limit_defaults_to_25_and_is_capped_at_100(
    platform: SimulatorServer, world: SimulatedWorld
) -> None:
    handle = world.creators[5].handle
    default = discover(platform, handle, ANCHOR).json()["business_discovery"]["media"]["data"]
    capped = discover(platform, handle, ANCHOR, limit=500).json()["business_discovery"]["media"]
    assert len(default) == 25 and len(capped["data"]) == 100
    assert graph_error(discover(platform, handle, ANCHOR, after="not-a-cursor"))["code"] == 100


def test_usernames_are_case_insensitive_and_unknown_ones_are_graph_errors(
    platform: SimulatorServer, world: SimulatedWorld
) -> None:
    handle = world.creators[6].handle
    assert discover(platform, handle.upper(), ANCHOR).status_code == 200
    response = discover(platform, "nobody.here.at.all", ANCHOR)
    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["error_subcode"]) == (110, 2207013)


def test_a_bad_or_missing_token_is_refused_and_never_logged(
    platform: SimulatorServer,
    world: SimulatedWorld,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG, logger="simulator")
    handle = world.creators[0].handle
    wrong_token = "wrong-token-0a1b2c3d4e"
    for token in (wrong_token, None, ""):
        response = discover(platform, handle, ANCHOR, token=token)
        assert response.status_code == 400 and graph_error(response)["code"] == 190
    assert discover(platform, handle, ANCHOR).status_code == 200
    assert get(platform, "1/unknown-edge").status_code == 404
    # The handler thread logs after answering: give it a moment before reading the logs.
    time.sleep(0.2)
    captured = capsys.readouterr()
    # Only the simulator's own records: urllib3 (the client side) logs full URLs at DEBUG.
    simulator_log = "\n".join(
        record.getMessage() for record in caplog.records if record.name.startswith("simulator")
    )
    assert "access_token=***" in simulator_log
    logged = simulator_log + captured.out + captured.err
    assert TOKEN not in logged and wrong_token not in logged


def test_insights_need_a_connected_creator(
    platform: SimulatorServer, world: SimulatedWorld
) -> None:
    prospect = next(creator for creator in world.creators if not creator.connected)
    response = get(
        platform,
        f"{prospect.ig_id}/insights",
        breakdown="age",
        as_of=ANCHOR.isoformat(),
        **DEMOGRAPHICS,
    )
    assert response.status_code == 400
    error = graph_error(response)
    assert error["code"] == 10 and error["message"].startswith("(#10)")


def test_insights_answer_follower_demographics_per_breakdown(
    platform: SimulatorServer, world: SimulatedWorld
) -> None:
    member = next(creator for creator in world.creators if creator.connected)
    for breakdown in ("age", "gender", "country", "city"):
        response = get(
            platform,
            f"{member.ig_id}/insights",
            breakdown=breakdown,
            as_of=ANCHOR.isoformat(),
            **DEMOGRAPHICS,
        )
        assert response.status_code == 200
        [metric] = response.json()["data"]
        assert metric["name"] == "follower_demographics" and metric["period"] == "lifetime"
        assert metric["id"] == f"{member.ig_id}/insights/follower_demographics/lifetime"
        [block] = metric["total_value"]["breakdowns"]
        assert block["dimension_keys"] == [breakdown]
        results = [(row["dimension_values"][0], row["value"]) for row in block["results"]]
        assert results == world.demographics(member.handle, breakdown, ANCHOR)
    for bad in ({"breakdown": "income"}, {"breakdown": "age,gender"}, {"metric": "reach"}):
        params = {**DEMOGRAPHICS, "breakdown": "age", **bad}
        response = get(platform, f"{member.ig_id}/insights", **params)
        assert response.status_code == 400 and graph_error(response)["code"] == 100
    unknown = get(platform, "12345/insights", breakdown="age", **DEMOGRAPHICS)
    assert unknown.status_code == 400 and graph_error(unknown)["code"] == 100


def test_usage_headers_are_json_on_every_answer(
    platform: SimulatorServer, world: SimulatedWorld
) -> None:
    member = next(creator for creator in world.creators if creator.connected)
    answers = {
        APP_USER_ID: discover(platform, member.handle, ANCHOR),
        member.ig_id: get(platform, f"{member.ig_id}/insights", breakdown="age", **DEMOGRAPHICS),
    }
    for key, response in answers.items():
        app_usage = json.loads(response.headers["X-App-Usage"])
        assert set(app_usage) == {"call_count", "total_cputime", "total_time"}
        assert all(isinstance(value, int) and 0 <= value < 100 for value in app_usage.values())
        business = json.loads(response.headers["X-Business-Use-Case-Usage"])
        [entry] = business[key]
        assert entry["type"] == "instagram" and entry["estimated_time_to_regain_access"] == 0
    for response in (
        discover(platform, member.handle, ANCHOR, token="nope"),
        get(platform, "1/unknown-edge"),
    ):
        assert response.headers["Content-Type"] == "application/json"
        json.loads(response.headers["X-App-Usage"])


def test_exceeding_the_call_budget_is_throttled(world: SimulatedWorld) -> None:
    handle = world.creators[0].handle
    with SimulatorServer(world, access_token=TOKEN, calls_per_minute_budget=4) as server:
        answers = [discover(server, handle, ANCHOR, limit=1) for _ in range(5)]
    assert [response.status_code for response in answers] == [200, 200, 200, 200, 400]
    assert graph_error(answers[-1])["code"] == 4
    assert json.loads(answers[-1].headers["X-App-Usage"])["call_count"] > 100
    [entry] = json.loads(answers[-1].headers["X-Business-Use-Case-Usage"])[APP_USER_ID]
    assert entry["estimated_time_to_regain_access"] == 1


def test_a_benchmark_window_counts_the_budget_over_it_and_regains_within_it(
    world: SimulatedWorld,
) -> None:
    handle = world.creators[0].handle
    with SimulatorServer(
        world,
        access_token=TOKEN,
        calls_per_minute_budget=4,
        usage_window_seconds=4.0,
        in_process=False,
    ) as server:
        answers = [discover(server, handle, ANCHOR, limit=1) for _ in range(5)]
        time.sleep(4.1)
        after_the_window = discover(server, handle, ANCHOR, limit=1)
    assert [response.status_code for response in answers] == [200, 200, 200, 200, 400]
    [entry] = json.loads(answers[-1].headers["X-Business-Use-Case-Usage"])[APP_USER_ID]
    assert entry["estimated_time_to_regain_access"] == pytest.approx(4 / 60)
    assert after_the_window.status_code == 200
    assert json.loads(after_the_window.headers["X-App-Usage"])["call_count"] == 25


def test_bad_dates_paths_and_methods_are_graph_errors(
    platform: SimulatorServer, world: SimulatedWorld
) -> None:
    handle = world.creators[0].handle
    out_of_range = [(ANCHOR + timedelta(days=offset)).isoformat() for offset in (-731, 366)]
    for as_of in ("2026-13-01", "20261101", "2026-W44-1", "yesterday", *out_of_range):
        response = get(platform, APP_USER_ID, fields=discovery_fields(handle), as_of=as_of)
        assert response.status_code == 400 and graph_error(response)["code"] == 100
    for path in (f"{APP_USER_ID}", f"{APP_USER_ID}/media", "me/insights"):
        response = get(platform, path)
        assert response.status_code == 404 and graph_error(response)["code"] == 100
    response = requests.get(
        f"{platform.url}/unversioned", params={"access_token": TOKEN}, timeout=10
    )
    assert response.status_code == 404 and graph_error(response)["code"] == 100
    posted = requests.post(f"{platform.url}/v21.0/{APP_USER_ID}", data="{}", timeout=10)
    assert posted.status_code == 404 and graph_error(posted)["code"] == 100


def test_without_as_of_the_platform_answers_today(
    platform: SimulatorServer, world: SimulatedWorld
) -> None:
    creator = world.creators[7]
    response = get(platform, APP_USER_ID, fields=discovery_fields(creator.handle, limit=1))
    today = min(max(datetime.now(UTC).date(), world.first_day), world.last_day)
    discovered = response.json()["business_discovery"]
    assert discovered["followers_count"] == world.followers(creator.handle, today)


def discover_with_retries(
    server: SimulatorServer, handle: str, retries: int, failures: list[requests.Response]
) -> requests.Response:
    """A simple client: retry any failure up to `retries` times, keeping the failures."""
    for _ in range(retries):
        response = discover(server, handle, ANCHOR, limit=5)
        if response.status_code == 200:
            return response
        failures.append(response)
    return discover(server, handle, ANCHOR, limit=5)


def test_transient_faults_clear_within_three_retries(
    platform: SimulatorServer, world: SimulatedWorld
) -> None:
    failures: list[requests.Response] = []
    with SimulatorServer(
        world, access_token=TOKEN, faults=FaultConfig(error_rate=0.5, seed=11)
    ) as faulty:
        for creator in world.creators[:25]:
            response = discover_with_retries(faulty, creator.handle, 3, failures)
            assert response.status_code == 200, creator.handle
            clean = discover(platform, creator.handle, ANCHOR, limit=5).json()
            assert without_next_links(response.json()) == without_next_links(clean)
    assert len({failure.status_code for failure in failures}) >= 2
    for failure in failures:
        error = graph_error(failure)
        if failure.status_code == 400:
            assert error["code"] in (4, 17, 32, 613)
        else:
            assert failure.status_code in (429, 500, 502, 503)
        if failure.status_code == 429:
            assert failure.headers["Retry-After"] == "1"


def test_malformed_records_are_the_same_on_every_request(
    platform: SimulatorServer, world: SimulatedWorld
) -> None:
    faults = FaultConfig(malformed_rate=0.3, seed=5)
    handles = [creator.handle for creator in world.creators[:15]]
    with SimulatorServer(world, access_token=TOKEN, faults=faults) as corrupting:
        first = [discover(corrupting, handle, ANCHOR, limit=20).json() for handle in handles]
        second = [
            discover(corrupting, handle, ANCHOR, limit=20).json() for handle in reversed(handles)
        ]
    assert [without_next_links(body) for body in first] == [
        without_next_links(body) for body in reversed(second)
    ]
    clean = [discover(platform, handle, ANCHOR, limit=20).json() for handle in handles]
    assert [without_next_links(body) for body in first] != [
        without_next_links(body) for body in clean
    ]

    problems: set[str] = set()
    for body in first:
        discovered = body["business_discovery"]
        if (
            not isinstance(discovered.get("followers_count"), int)
            or discovered["followers_count"] < 0
        ):
            problems.add("profile")
        items = discovered["media"]["data"]
        ids = [item.get("id") for item in items]
        if len(ids) != len(set(ids)):
            problems.add("duplicate")
        for item in items:
            if not {"id", "timestamp", "comments_count"} <= item.keys():
                problems.add("missing")
            elif not isinstance(item["comments_count"], int):
                problems.add("wrong_type")
            elif item["comments_count"] < 0 or item.get("like_count", 0) < 0:
                problems.add("negative")
    assert {"duplicate", "missing", "wrong_type", "negative"} <= problems


def test_down_dates_answer_503_every_time(world: SimulatedWorld) -> None:
    down = ANCHOR - timedelta(days=3)
    handle = world.creators[0].handle
    with SimulatorServer(
        world, access_token=TOKEN, faults=FaultConfig(down_dates=frozenset({down}))
    ) as server:
        for _ in range(3):
            response = discover(server, handle, down)
            assert response.status_code == 503
            assert graph_error(response)["code"] == 2
        assert discover(server, handle, down + timedelta(days=1)).status_code == 200


def test_slow_answers_are_delayed(world: SimulatedWorld) -> None:
    faults = FaultConfig(slow_rate=1.0, slow_seconds=0.3)
    with SimulatorServer(world, access_token=TOKEN, faults=faults) as server:
        started = time.perf_counter()
        assert discover(server, world.creators[0].handle, ANCHOR, limit=1).status_code == 200
        assert time.perf_counter() - started >= 0.3


def test_stop_releases_the_port_and_counts_requests(world: SimulatedWorld) -> None:
    server = SimulatorServer(world, access_token=TOKEN).start()
    url = server.url
    assert url.startswith("http://127.0.0.1:")
    for _ in range(3):
        discover(server, world.creators[0].handle, ANCHOR, limit=1)
    get(server, "1/unknown-edge", token="wrong")
    assert server.request_count == 4
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/v21.0/1", timeout=2)
    server.stop()
