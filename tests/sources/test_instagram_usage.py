"""The Graph API's call budget, as the Instagram source meets it against the simulated platform
over real loopback HTTP: paced by the usage headers so no call is throttled, and a throttled
budget's regain time waited for without failing the calls that wait."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any

import pytest
import requests

import sources.instagram as instagram
from simulator import SimulatedWorld, SimulatorServer
from sources.extraction import ExtractResult
from sources.http import HttpPolicy
from sources.instagram.client import USAGE_TARGET_PCT, UsageBudget, usage_percent
from sources.roster import TrackedAccount

TOKEN = "tok-graph-usage-71c2e9"
APP_USER_ID = "17841400099999999"
AS_OF = dt.date(2026, 10, 18)
pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return SimulatedWorld()


def config(server: SimulatorServer, window: float, **http: Any) -> instagram.Config:
    return instagram.Config(
        base_url=server.url,
        access_token=TOKEN,
        app_user_id=APP_USER_ID,
        sends_as_of=True,
        http=HttpPolicy(**http),
        fetch_audience=False,
        usage_window_seconds=window,
    )


def accounts(world: SimulatedWorld, count: int) -> list[TrackedAccount]:
    return [
        TrackedAccount("instagram", creator.handle, creator.connected)
        for creator in world.creators[:count]
    ]


def extract(config: instagram.Config, tracked: list[TrackedAccount]) -> ExtractResult:
    landed: list[str] = []

    def land(entity: str, record: Mapping[str, Any]) -> None:
        landed.append(entity)

    result = instagram.extract(config, tracked, AS_OF, land)
    assert landed.count("profiles") == result.fetched
    return result


def test_a_night_past_the_budget_is_paced_by_the_usage_headers_and_never_throttled(
    world: SimulatedWorld, caplog: pytest.LogCaptureFixture
) -> None:
    tracked = accounts(world, 30)
    caplog.set_level(logging.WARNING, logger="sources.http")
    with SimulatorServer(
        world, access_token=TOKEN, calls_per_minute_budget=20, usage_window_seconds=2.0
    ) as server:
        # One account at a time: the calls in flight when the target is reached are all counted.
        result = extract(config(server, 2.0, concurrency=1, max_retries=0), tracked)
        answered = server.request_count

    assert (result.fetched, result.failures) == (30, [])
    # More calls than the budget allows in a window, and not one refused, retried or paused for.
    assert result.requests_made == answered > 20
    assert caplog.records == []


def test_a_budget_spent_by_another_app_user_is_waited_for_beyond_the_call_deadline(
    world: SimulatedWorld,
) -> None:
    handle = world.creators[0].handle
    fields = f"business_discovery.username({handle}){{followers_count}}"
    with SimulatorServer(
        world, access_token=TOKEN, calls_per_minute_budget=4, usage_window_seconds=2.0
    ) as server:
        # Another tool of the same app spends the budget: its fifth call is throttled.
        spent = [
            requests.get(
                f"{server.url}/v21.0/{APP_USER_ID}",
                params={"fields": fields, "access_token": TOKEN},
                timeout=10,
            )
            for _ in range(5)
        ]
        assert spent[-1].status_code == 400
        # The platform says access comes back in 2 s: twice the deadline of one call.
        night = config(
            server, 2.0, concurrency=1, deadline_seconds=1.0, max_retries=2, backoff_seconds=0.01
        )
        result = extract(night, accounts(world, 1))

    assert (result.fetched, result.failures) == (1, [])
    assert result.requests_made == 2  # throttled once, then answered after the pause


def graph_usage(app: int, business: int | None = None) -> dict[str, str]:
    headers = {"X-App-Usage": json.dumps({"call_count": app, "total_time": 1})}
    if business is not None:
        entry = {"type": "instagram", "call_count": 2, "total_cputime": business}
        headers["X-Business-Use-Case-Usage"] = json.dumps({"1784140001": [entry]})
    return headers


@pytest.mark.parametrize(
    ("headers", "percent"),
    [
        ({}, None),
        ({"X-App-Usage": "not json"}, None),
        (graph_usage(12), 12),
        (graph_usage(12, business=97), 97),
        (graph_usage(101, business=3), 101),
    ],
    ids=["no headers", "not JSON", "app usage", "business time higher", "app over the budget"],
)
def test_the_usage_is_the_highest_share_of_any_budget(
    headers: dict[str, str], percent: float | None
) -> None:
    assert usage_percent(headers) == percent


@pytest.mark.parametrize(
    ("counted", "headers", "limit"),
    [
        (40, graph_usage(USAGE_TARGET_PCT - 1), None),
        (95, graph_usage(USAGE_TARGET_PCT), 95),
        (100, graph_usage(100), USAGE_TARGET_PCT),
        (5, graph_usage(40, business=190), 2),
        (1, graph_usage(300), 1),
        (60, {}, 7),
    ],
    ids=[
        "below the target: no limit",
        "at the target: hold what is in the window",
        "at the budget: back to the target",
        "another user spends most of it",
        "never below one call",
        "no usage headers: unchanged",
    ],
)
def test_each_answer_sets_the_calls_the_night_keeps_in_the_window(
    counted: int, headers: dict[str, str], limit: int | None
) -> None:
    budget = UsageBudget(window_seconds=60)
    budget.answered(7, graph_usage(USAGE_TARGET_PCT))

    budget.answered(counted, headers)

    assert budget.limit == limit
