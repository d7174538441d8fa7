"""Instagram media paging against a scripted Graph API: every page the platform sends lands, and a
paging that goes wrong fails the account in part, with its reason, instead of stopping silently."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from scripted_platform import Answer, ScriptedPlatform

import sources.instagram as instagram
from sources.extraction import AccountFailure, ExtractResult
from sources.http import FailureKind, HttpPolicy
from sources.roster import TrackedAccount

TOKEN = "tok-graph-3c9e51d2"
APP_USER_ID = "17841400099999999"
ACCOUNT_ID = "17841400000000042"
AS_OF = dt.date(2026, 11, 20)
RECENT = "2026-11-19T10:00:00+0000"
LONG_AGO = "2026-09-01T10:00:00+0000"
DISCOVERY_PATH = f"/v21.0/{APP_USER_ID}"
pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def graph() -> Iterator[ScriptedPlatform]:
    server = ScriptedPlatform().start()
    yield server
    server.stop()


def post(number: int, timestamp: str = RECENT) -> dict[str, Any]:
    return {"id": f"m{number}", "like_count": number, "timestamp": timestamp}


def media_edge(data: Any, after: str | None = None, *, next_page: bool = True) -> dict[str, Any]:
    paging: dict[str, Any] = {}
    if after is not None:
        paging["cursors"] = {"before": "QVFIUb", "after": after}
    if next_page:
        paging["next"] = "https://graph.facebook.com/v21.0/next-page"
    return {"data": data, "paging": paging}


def discovery(media: Any, username: str = "ana") -> Answer:
    profile = {"id": ACCOUNT_ID, "username": username, "followers_count": 1200, "media": media}
    return Answer(body=json.dumps({"business_discovery": profile, "id": APP_USER_ID}).encode())


def run_extract(graph: ScriptedPlatform) -> tuple[ExtractResult, list[tuple[str, dict[str, Any]]]]:
    landed: list[tuple[str, dict[str, Any]]] = []

    def land(entity: str, record: Mapping[str, Any]) -> None:
        landed.append((entity, dict(record)))

    config = instagram.Config(
        base_url=graph.base_url,
        access_token=TOKEN,
        app_user_id=APP_USER_ID,
        http=HttpPolicy(max_retries=0, deadline_seconds=10, concurrency=1),
        page_size=2,
        fetch_audience=False,
    )
    account = TrackedAccount("instagram", "ana", connected=False)
    return instagram.extract(config, [account], AS_OF, land), landed


def requested_cursors(graph: ScriptedPlatform) -> list[str | None]:
    """The ``.after(...)`` cursor of each business_discovery request, None for the first page."""
    cursors: list[str | None] = []
    for line in graph.request_lines:
        fields = parse_qs(urlsplit(line).query)["fields"][0]
        after = fields.partition(".after(")[2].partition(")")[0]
        cursors.append(after or None)
    return cursors


def media_ids(landed: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    return [record.get("id") for entity, record in landed if entity == "media"]


def test_pages_are_followed_by_their_cursor_until_the_last(graph: ScriptedPlatform) -> None:
    graph.answer(
        DISCOVERY_PATH,
        discovery(media_edge([post(1), post(2)], "c1")),
        discovery(media_edge([post(3)], "c2", next_page=False)),
    )

    result, landed = run_extract(graph)

    assert (result.accounts, result.fetched, result.failures) == (1, 1, [])
    assert requested_cursors(graph) == [None, "c1"]
    assert media_ids(landed) == ["m1", "m2", "m3"]
    assert landed[0] == (
        "profiles",
        {
            "_handle": "ana",
            "_as_of": "2026-11-20",
            "id": ACCOUNT_ID,
            "username": "ana",
            "followers_count": 1200,
        },
    )
    assert landed[1][1]["_account_id"] == ACCOUNT_ID


def test_paging_stops_once_a_page_reaches_past_the_lookback(graph: ScriptedPlatform) -> None:
    graph.answer(DISCOVERY_PATH, discovery(media_edge([post(1), post(2, LONG_AGO)], "c1")))

    result, landed = run_extract(graph)

    assert (result.fetched, result.failures) == (1, [])
    assert graph.requests == 1
    assert media_ids(landed) == ["m1", "m2"]


@pytest.mark.parametrize(
    ("cursors", "repeated"),
    [(["c1", "c1"], "c1"), (["c1", "c2", "c1"], "c1")],
    ids=["the same cursor twice", "a cursor back to an earlier page"],
)
def test_a_cursor_that_comes_back_fails_the_account_in_part(
    graph: ScriptedPlatform, cursors: list[str], repeated: str
) -> None:
    graph.answer(
        DISCOVERY_PATH,
        *(discovery(media_edge([post(n)], after)) for n, after in enumerate(cursors, start=1)),
    )

    result, landed = run_extract(graph)

    assert (result.accounts, result.fetched) == (1, 0)
    assert result.failures == [
        AccountFailure(
            "ana",
            f"media paging: cursor '{repeated}' came back again; later posts not fetched",
            FailureKind.ACCOUNT,
        )
    ]
    assert requested_cursors(graph) == [None, *cursors[:-1]]
    assert media_ids(landed) == [f"m{n}" for n in range(1, len(cursors) + 1)]


def test_a_next_page_without_a_cursor_fails_the_account_in_part(graph: ScriptedPlatform) -> None:
    graph.answer(DISCOVERY_PATH, discovery(media_edge([post(1), post(2)])))

    result, landed = run_extract(graph)

    assert result.fetched == 0
    assert [(f.handle, f.reason) for f in result.failures] == [
        (
            "ana",
            "media paging: a next page without an 'after' cursor; later posts not fetched",
        )
    ]
    assert graph.requests == 1
    assert media_ids(landed) == ["m1", "m2"]


@pytest.mark.parametrize(
    "data",
    ["no posts here", None, 42],
    ids=["a string", "null", "a number"],
)
def test_media_data_that_is_not_a_list_lands_as_it_came(graph: ScriptedPlatform, data: Any) -> None:
    graph.answer(DISCOVERY_PATH, discovery(media_edge(data, "c1")))

    result, landed = run_extract(graph)

    assert result.fetched == 0
    assert [(f.handle, f.reason) for f in result.failures] == [
        ("ana", "media: the answer's data is not a list; paging stopped")
    ]
    assert [record for entity, record in landed if entity == "media"] == [
        {
            "_handle": "ana",
            "_as_of": "2026-11-20",
            "_account_id": ACCOUNT_ID,
            "_not_an_object": data,
        }
    ]


def test_items_that_are_not_objects_land_marked_and_the_account_is_fetched(
    graph: ScriptedPlatform,
) -> None:
    graph.answer(
        DISCOVERY_PATH,
        discovery(media_edge([post(1), "m2", 7, None, ["m3"]], next_page=False)),
    )

    result, landed = run_extract(graph)

    assert (result.fetched, result.failures) == (1, [])
    media = [record for entity, record in landed if entity == "media"]
    assert [record.get("_not_an_object", "object") for record in media] == [
        "object",
        "m2",
        7,
        None,
        ["m3"],
    ]
    assert all(record["_handle"] == "ana" for record in media)


def test_an_account_answering_under_another_username_is_noted(graph: ScriptedPlatform) -> None:
    graph.answer(DISCOVERY_PATH, discovery(media_edge([], next_page=False), username="ana.new"))

    result, _ = run_extract(graph)

    assert result.fetched == 1
    assert result.notes == [
        f"ana: answers as 'ana.new': renamed? Its rows load under id {ACCOUNT_ID}; update the "
        "roster"
    ]
