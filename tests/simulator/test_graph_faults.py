"""Per-account faults of the Graph dialect, as they go over the wire on loopback."""

from __future__ import annotations

import json
import logging
import math
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
import requests

from simulator import (
    DEFAULT_ANCHOR,
    GRAPH_ACCOUNT_FAULTS,
    Creator,
    FaultConfig,
    SimulatedWorld,
    SimulatorServer,
)

TOKEN = "sim-token-faults-93be1c"
APP_USER_ID = "17841400099999999"
AS_OF = DEFAULT_ANCHOR - timedelta(days=14)
DEMOGRAPHICS = {
    "metric": "follower_demographics",
    "period": "lifetime",
    "metric_type": "total_value",
}
SLOW_SECONDS = 0.3
TRICKLE_SECONDS = 0.002
# Faults whose account must have connected (they concern its insights).
INSIGHTS_FAULTS = ("insights_no_permission", "unknown_age_bucket", "trickle", "not_found")
pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return SimulatedWorld()


@pytest.fixture(scope="module")
def victims(world: SimulatedWorld) -> dict[str, Creator]:
    """One creator per fault, connected ones for the faults about insights."""
    connected = iter(creator for creator in world.creators if creator.connected)
    others = iter(creator for creator in world.creators if not creator.connected)
    return {
        fault: next(connected) if fault in INSIGHTS_FAULTS else next(others)
        for fault in sorted(GRAPH_ACCOUNT_FAULTS)
    }


@pytest.fixture(scope="module")
def faulty(world: SimulatedWorld, victims: dict[str, Creator]) -> Iterator[SimulatorServer]:
    faults = FaultConfig(
        account_faults={creator.handle: fault for fault, creator in victims.items()},
        slow_seconds=SLOW_SECONDS,
        trickle_seconds=TRICKLE_SECONDS,
    )
    with SimulatorServer(world, access_token=TOKEN, faults=faults) as server:
        yield server


@pytest.fixture(scope="module")
def clean(world: SimulatedWorld) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, access_token=TOKEN) as server:
        yield server


def discovery_params(handle: str, limit: int = 5, after: str | None = None) -> dict[str, str]:
    media = f"media.limit({limit})" + (f".after({after})" if after else "")
    return {
        "fields": f"business_discovery.username({handle}){{followers_count,username,name,"
        f"{media}{{id,caption,like_count,comments_count,timestamp}}}}",
        "as_of": AS_OF.isoformat(),
        "access_token": TOKEN,
    }


def discover(
    server: SimulatorServer, handle: str, limit: int = 5, after: str | None = None
) -> requests.Response:
    return requests.get(
        f"{server.url}/v21.0/{APP_USER_ID}",
        params=discovery_params(handle, limit, after),
        timeout=10,
        allow_redirects=False,
    )


def insights(server: SimulatorServer, creator: Creator, breakdown: str) -> requests.Response:
    params = {**DEMOGRAPHICS, "breakdown": breakdown, "as_of": AS_OF.isoformat()}
    return requests.get(
        f"{server.url}/v21.0/{creator.ig_id}/insights",
        params={**params, "access_token": TOKEN},
        timeout=10,
        allow_redirects=False,
    )


def graph_error(response: requests.Response) -> dict:
    error = response.json()["error"]
    assert error["type"] == "OAuthException" and error["fbtrace_id"]
    return error


def without_next(body: dict) -> dict:
    copied = json.loads(json.dumps(body))
    copied["business_discovery"]["media"].get("paging", {}).pop("next", None)
    return copied


@dataclass
class RawAnswer:
    """An answer read off a plain socket: its head, its body bytes, how they arrived."""

    head: dict[str, str]
    status: int
    body: bytes
    reads: int
    closed_by_server: bool


def raw_get(server: SimulatorServer, path: str, params: dict[str, str]) -> RawAnswer:
    """GET over a bare socket, reading until the server closes or the body is complete."""
    prepared = requests.Request("GET", f"{server.url}{path}", params=params).prepare()
    target = prepared.path_url
    address = urlsplit(server.url)
    assert address.hostname and address.port
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {address.netloc}\r\n\r\n".encode("latin-1")
        )
        received = b""
        while b"\r\n\r\n" not in received:
            received += connection.recv(65536)
        head_bytes, body = received.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
        head = {
            name.lower(): value.strip()
            for name, value in (line.split(":", 1) for line in header_lines)
        }
        expected = int(head["content-length"])
        reads, closed = 0, False
        while len(body) < expected:
            piece = connection.recv(65536)
            if not piece:
                closed = True
                break
            body += piece
            reads += 1
    return RawAnswer(head, int(status_line.split()[1]), body, reads, closed)


def test_every_documented_fault_is_implemented(victims: dict[str, Creator]) -> None:
    assert len(GRAPH_ACCOUNT_FAULTS) == 23
    assert set(victims) == GRAPH_ACCOUNT_FAULTS


def test_truncated_json_is_cut_in_the_middle(
    faulty: SimulatorServer, clean: SimulatorServer, victims: dict[str, Creator]
) -> None:
    handle = victims["truncated_json"].handle
    response = discover(faulty, handle)
    whole = discover(clean, handle).content
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.content.startswith(b'{"business_discovery": {')
    # The next link's port may differ by a digit between the two servers.
    assert abs(len(response.content) - len(whole) // 2) <= 2
    with pytest.raises(ValueError):
        json.loads(response.content)


def test_html_502_is_a_gateway_page_without_graph_headers(
    faulty: SimulatorServer, victims: dict[str, Creator]
) -> None:
    response = discover(faulty, victims["html_502"].handle)
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "text/html"
    assert b"<h1>502 Bad Gateway</h1>" in response.content
    assert "X-App-Usage" not in response.headers


def test_token_expired_is_graph_code_190(
    faulty: SimulatorServer, victims: dict[str, Creator]
) -> None:
    creator = victims["token_expired"]
    for response in (discover(faulty, creator.handle), insights(faulty, creator, "age")):
        assert response.status_code == 400
        error = graph_error(response)
        assert (error["code"], error["error_subcode"]) == (190, 463)
        assert error["message"].startswith("Error validating access token: Session has expired on ")


def test_slow_answers_after_slow_seconds(
    faulty: SimulatorServer, clean: SimulatorServer, victims: dict[str, Creator]
) -> None:
    handle = victims["slow"].handle
    response = discover(faulty, handle)
    assert response.status_code == 200
    assert response.elapsed >= timedelta(seconds=SLOW_SECONDS)
    assert without_next(response.json()) == without_next(discover(clean, handle).json())


def test_trickle_sends_the_body_a_byte_at_a_time(
    faulty: SimulatorServer, clean: SimulatorServer, victims: dict[str, Creator]
) -> None:
    creator = victims["trickle"]
    path = f"/v21.0/{creator.ig_id}/insights"
    params = {**DEMOGRAPHICS, "breakdown": "gender", "access_token": TOKEN, "as_of": str(AS_OF)}
    answer = raw_get(faulty, path, params)
    expected = insights(clean, creator, "gender").content
    assert answer.status == 200 and int(answer.head["content-length"]) == len(expected)
    assert answer.body == expected
    # Each byte is written on its own, TRICKLE_SECONDS apart: most reads get a single one.
    assert answer.reads > len(expected) // 4


def test_redirect_keeps_the_token_and_points_at_another_loopback_host(
    world: SimulatedWorld, victims: dict[str, Creator]
) -> None:
    handle = victims["redirect_other_host"].handle
    faults = FaultConfig(account_faults={handle: "redirect_other_host"})
    with SimulatorServer(world, access_token=TOKEN, faults=faults) as server:
        response = discover(server, handle)
        assert response.status_code == 302
        assert "X-App-Usage" not in response.headers
        location = urlsplit(response.headers["Location"])
        asked = urlsplit(response.request.url or "")
        assert (location.hostname, location.port) == ("127.0.0.2", urlsplit(server.url).port)
        assert (location.path, location.query) == (asked.path, asked.query)
        assert f"access_token={TOKEN}" in location.query
        assert server.stats()["other_host_request_count"] == 0
        # A client that follows it hands the token to the other host, which counts it.
        followed = requests.get(response.headers["Location"], timeout=10, allow_redirects=False)
        assert followed.status_code == 200
        assert followed.json()["business_discovery"]["username"] == handle
        assert server.stats()["other_host_request_count"] == 1


def test_retry_after_a_day(faulty: SimulatorServer, victims: dict[str, Creator]) -> None:
    response = discover(faulty, victims["retry_after_day"].handle)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "86400"
    assert graph_error(response)["code"] == 4


def test_bom_precedes_good_json(
    faulty: SimulatorServer, clean: SimulatorServer, victims: dict[str, Creator]
) -> None:
    handle = victims["bom"].handle
    response = discover(faulty, handle)
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf{")
    expected = without_next(discover(clean, handle).json())
    assert without_next(json.loads(response.content[3:])) == expected


def test_error_in_200(faulty: SimulatorServer, victims: dict[str, Creator]) -> None:
    response = discover(faulty, victims["error_in_200"].handle)
    assert response.status_code == 200
    assert graph_error(response)["code"] == 1
    assert "business_discovery" not in response.json()


def test_string_code_fails_the_first_attempt_of_each_request_only(
    faulty: SimulatorServer, victims: dict[str, Creator]
) -> None:
    handle = victims["string_code"].handle
    first, retried = discover(faulty, handle, limit=3), discover(faulty, handle, limit=3)
    assert first.status_code == 400 and graph_error(first)["code"] == "4"
    assert retried.status_code == 200 and retried.json()["business_discovery"]["username"]
    another = discover(faulty, handle, limit=4)
    assert another.status_code == 400 and graph_error(another)["code"] == "4"
    assert discover(faulty, handle, limit=4).status_code == 200


def test_short_body_announces_more_than_it_sends_then_closes(
    faulty: SimulatorServer,
    clean: SimulatorServer,
    victims: dict[str, Creator],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.error")
    handle = victims["short_body"].handle
    answer = raw_get(faulty, f"/v21.0/{APP_USER_ID}", discovery_params(handle))
    whole = discover(clean, handle).content
    assert answer.status == 200
    assert abs(int(answer.head["content-length"]) - len(whole)) <= 1
    assert answer.closed_by_server
    assert 0 < len(answer.body) < int(answer.head["content-length"])
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        discover(faulty, handle)
    # Cut short on purpose: uvicorn's complaint about it is not an error of the simulator.
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_insights_without_permission_but_discovery_fine(
    faulty: SimulatorServer, victims: dict[str, Creator]
) -> None:
    creator = victims["insights_no_permission"]
    response = insights(faulty, creator, "country")
    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["message"]) == (200, "(#200) Permissions error")
    assert discover(faulty, creator.handle).status_code == 200


def test_text_plain_without_charset_carries_utf8(
    faulty: SimulatorServer, victims: dict[str, Creator]
) -> None:
    response = discover(faulty, victims["text_plain_no_charset"].handle)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain"
    assert "Zoë Café".encode() in response.content
    assert json.loads(response.content.decode("utf-8"))["business_discovery"]["name"] == "Zoë Café"
    # The trap: HTTP's default charset for text/* is Latin-1.
    assert "ZoÃ« CafÃ©" in response.text


def test_media_data_not_a_list(
    faulty: SimulatorServer, clean: SimulatorServer, victims: dict[str, Creator]
) -> None:
    handle = victims["media_data_not_list"].handle
    media = discover(faulty, handle).json()["business_discovery"]["media"]
    expected = discover(clean, handle).json()["business_discovery"]["media"]["data"]
    assert media["data"] == expected[0]


def test_media_bare_string_among_the_items(
    faulty: SimulatorServer, clean: SimulatorServer, victims: dict[str, Creator]
) -> None:
    handle = victims["media_bare_string"].handle
    data = discover(faulty, handle).json()["business_discovery"]["media"]["data"]
    expected = discover(clean, handle).json()["business_discovery"]["media"]["data"]
    assert data[1] == expected[1]["id"] and isinstance(data[1], str)
    assert data[:1] + data[2:] == expected[:1] + expected[2:]


def test_renamed_answers_another_username_for_the_same_id(
    faulty: SimulatorServer, victims: dict[str, Creator]
) -> None:
    creator = victims["renamed"]
    discovered = discover(faulty, creator.handle).json()["business_discovery"]
    assert discovered["username"] != creator.handle
    assert discovered["username"].startswith(creator.handle[:20])
    assert discovered["id"] == creator.ig_id


def test_next_without_cursors(
    faulty: SimulatorServer, world: SimulatedWorld, victims: dict[str, Creator]
) -> None:
    handle = victims["next_without_cursors"].handle
    paging = discover(faulty, handle, limit=3).json()["business_discovery"]["media"]["paging"]
    assert "cursors" not in paging
    following = requests.get(paging["next"], params={"access_token": TOKEN}, timeout=10).json()
    assert following["business_discovery"]["media"]["data"] == world.media(handle, AS_OF)[3:6]


def test_cursor_of_page_two_leads_back_to_page_one(
    faulty: SimulatorServer, victims: dict[str, Creator]
) -> None:
    handle = victims["cursor_loop"].handle

    def page(after: str | None) -> dict:
        return discover(faulty, handle, limit=4, after=after).json()["business_discovery"]["media"]

    first = page(None)
    second = page(first["paging"]["cursors"]["after"])
    assert second["data"] != first["data"] and "next" in second["paging"]
    again = page(second["paging"]["cursors"]["after"])
    assert again["data"] == first["data"]
    assert again["paging"]["cursors"]["after"] == first["paging"]["cursors"]["after"]


def test_unknown_age_bucket(
    faulty: SimulatorServer, clean: SimulatorServer, victims: dict[str, Creator]
) -> None:
    creator = victims["unknown_age_bucket"]

    def buckets(server: SimulatorServer, breakdown: str) -> dict[str, int]:
        [metric] = insights(server, creator, breakdown).json()["data"]
        [block] = metric["total_value"]["breakdowns"]
        return {row["dimension_values"][0]: row["value"] for row in block["results"]}

    ages, expected = buckets(faulty, "age"), buckets(clean, "age")
    assert ages["90+"] > 0 and set(ages) == {*expected, "90+"}
    assert sum(ages.values()) == sum(expected.values())
    assert buckets(faulty, "gender") == buckets(clean, "gender")


def test_future_post_is_dated_two_years_ahead(
    faulty: SimulatorServer, clean: SimulatorServer, victims: dict[str, Creator]
) -> None:
    handle = victims["future_post"].handle
    data = discover(faulty, handle).json()["business_discovery"]["media"]["data"]
    expected = discover(clean, handle).json()["business_discovery"]["media"]["data"]
    assert date.fromisoformat(data[0]["timestamp"][:10]) == AS_OF.replace(year=AS_OF.year + 2)
    assert data[0]["timestamp"][10:] == expected[0]["timestamp"][10:]
    assert data[1:] == expected[1:]


def test_absurd_followers(faulty: SimulatorServer, victims: dict[str, Creator]) -> None:
    discovered = discover(faulty, victims["absurd_followers"].handle).json()
    assert discovered["business_discovery"]["followers_count"] == 10**15


def test_nan_comments_is_a_bare_token(faulty: SimulatorServer, victims: dict[str, Creator]) -> None:
    response = discover(faulty, victims["nan_comments"].handle)
    assert response.status_code == 200 and b'"comments_count": NaN' in response.content
    assert math.isnan(response.json()["business_discovery"]["media"]["data"][0]["comments_count"])

    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    with pytest.raises(ValueError, match="NaN"):
        json.loads(response.content, parse_constant=refuse)


def test_not_found(faulty: SimulatorServer, victims: dict[str, Creator]) -> None:
    creator = victims["not_found"]
    for response in (discover(faulty, creator.handle), insights(faulty, creator, "city")):
        assert response.status_code == 400
        error = graph_error(response)
        assert (error["code"], error["error_subcode"]) == (110, 2207013)


def test_other_accounts_on_the_same_server_are_untouched(
    faulty: SimulatorServer, clean: SimulatorServer, world: SimulatedWorld, victims
) -> None:
    bystanders = [creator for creator in world.creators if creator not in victims.values()]
    for creator in bystanders[:5]:
        answer = discover(faulty, creator.handle)
        assert answer.headers["Content-Type"] == "application/json"
        assert without_next(answer.json()) == without_next(discover(clean, creator.handle).json())


@pytest.mark.parametrize(
    ("account_faults", "message"),
    [
        ({"nobody.at.all": "html_502"}, "handles the world does not have"),
        (None, "unknown instagram account faults"),
    ],
    ids=["unknown-handle", "unknown-fault"],
)
def test_unknown_faults_and_handles_are_refused(
    world: SimulatedWorld, account_faults: dict[str, str] | None, message: str
) -> None:
    faults = FaultConfig(account_faults=account_faults or {world.creators[0].handle: "gremlins"})
    with pytest.raises(ValueError, match=message):
        SimulatorServer(world, access_token=TOKEN, faults=faults).start()
