"""Serving the simulated platforms: in a thread or a process of their own, their dialects
and the faults each one gets."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from simulator import DEFAULT_ANCHOR, FaultConfig, SimulatedWorld, SimulatorServer
from simulator.youtube import youtube_roster_rows

TOKEN = "sim-token-process-41d7aa"
APP_USER_ID = "17841400099999999"
AS_OF = DEFAULT_ANCHOR - timedelta(days=3)
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return SimulatedWorld(size=30)


def discover(server: SimulatorServer, handle: str) -> requests.Response:
    fields = f"business_discovery.username({handle}){{followers_count,media.limit(2){{id}}}}"
    params = {"fields": fields, "as_of": AS_OF.isoformat(), "access_token": TOKEN}
    return requests.get(f"{server.url}/v21.0/{APP_USER_ID}", params=params, timeout=10)


def test_own_process_serves_the_same_world_and_counts_through_its_stats(
    world: SimulatedWorld,
) -> None:
    creator = world.creators[2]
    with SimulatorServer(world, access_token=TOKEN, in_process=False) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.process_id
        answer = discover(server, creator.handle)
        assert answer.status_code == 200
        discovered = answer.json()["business_discovery"]
        assert discovered["followers_count"] == world.followers(creator.handle, AS_OF)
        discover(server, creator.handle)
        stats = server.stats()
        assert server.request_count == stats["request_count"] == 2
        assert stats["peak_rss_bytes"] > 0
        # The token travels in the environment: the command line is world-readable.
        command_line = Path(f"/proc/{server.process_id}/cmdline").read_bytes()
        assert TOKEN.encode() not in command_line
        url, process_id = server.url, server.process_id
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/v21.0/1", timeout=2)
    assert not Path(f"/proc/{process_id}").exists() or _is_zombie(process_id)


def _is_zombie(process_id: int) -> bool:
    status = Path(f"/proc/{process_id}/status").read_text()
    return "State:\tZ" in status


def test_own_process_gets_the_account_faults(world: SimulatedWorld) -> None:
    broken, fine = world.creators[0].handle, world.creators[1].handle
    faults = {"instagram": FaultConfig(account_faults={broken: "html_502"})}
    with SimulatorServer(world, access_token=TOKEN, faults=faults, in_process=False) as server:
        assert discover(server, broken).status_code == 502
        assert discover(server, fine).status_code == 200


def test_own_process_that_cannot_start_says_so(world: SimulatedWorld) -> None:
    faults = FaultConfig(account_faults={"nobody.at.all": "html_502"})
    server = SimulatorServer(world, access_token=TOKEN, faults=faults, in_process=False)
    with pytest.raises(RuntimeError, match="did not report its URL"):
        server.start()


def test_the_process_ends_when_its_parent_closes_its_input(world: SimulatedWorld) -> None:
    command = [sys.executable, "-m", "simulator", "serve", "--port=0", "--size=30"]
    process = subprocess.Popen(
        [*command, "--exit-with-parent", "--log-level=WARNING"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "SIMULATOR_ACCESS_TOKEN": TOKEN},
        text=True,
    )
    assert process.stdin and process.stdout
    url = process.stdout.readline().strip()
    fields = f"business_discovery.username({world.creators[0].handle}){{followers_count}}"
    answer = requests.get(
        f"{url}/v21.0/1", params={"fields": fields, "access_token": TOKEN}, timeout=10
    )
    assert answer.status_code == 200
    process.stdin.close()
    assert process.wait(timeout=30) == 0
    process.stdout.close()


def test_a_fixed_port_can_be_served_again_right_after_a_stop(world: SimulatedWorld) -> None:
    with SimulatorServer(world, access_token=TOKEN) as first:
        port = int(first.url.rsplit(":", 1)[1])
        assert discover(first, world.creators[0].handle).status_code == 200
    with SimulatorServer(world, access_token=TOKEN, port=port) as again:
        assert again.url == f"http://127.0.0.1:{port}"
        assert discover(again, world.creators[0].handle).status_code == 200


def test_stats_are_not_counted_and_answer_json(world: SimulatedWorld) -> None:
    with SimulatorServer(world, access_token=TOKEN) as server:
        stats = requests.get(f"{server.url}/_simulator/stats", timeout=10).json()
        assert stats["request_count"] == 0 and stats["other_host_request_count"] == 0
        assert server.request_count == 0


def test_redact_masks_every_credential(world: SimulatedWorld) -> None:
    server = SimulatorServer(world, access_token=TOKEN)
    text = f"GET /v21.0/1?access_token={TOKEN}&key=other-key failed for {TOKEN}"
    assert server.redact(text) == "GET /v21.0/1?access_token=***&key=*** failed for ***"


def test_faults_are_per_dialect(world: SimulatedWorld) -> None:
    handle = world.creators[0].handle
    per_dialect = {"instagram": FaultConfig(account_faults={handle: "not_found"})}
    with SimulatorServer(world, access_token=TOKEN, faults=per_dialect) as server:
        assert discover(server, handle).json()["error"]["code"] == 110
    with pytest.raises(ValueError, match="unknown dialects"):
        SimulatorServer(world, access_token=TOKEN, faults={"myspace": FaultConfig()})


def test_youtube_is_served_only_to_a_simulator_given_its_key(world: SimulatedWorld) -> None:
    channel = youtube_roster_rows(world)[0]["handle"]
    query = {"part": "snippet,statistics", "id": channel, "key": "yt-key", "as_of": "2026-10-18"}
    with SimulatorServer(world, access_token=TOKEN) as server:
        answer = requests.get(server.url + "/youtube/v3/channels", params=query, timeout=10)
        # The Graph dialect answers every path it does not know, in its own error JSON.
        assert answer.status_code >= 400 and "code" in answer.json()["error"]
        assert "errors" not in answer.json()["error"]
    with SimulatorServer(world, access_token=TOKEN, youtube_api_key="yt-key") as server:
        answer = requests.get(server.url + "/youtube/v3/channels", params=query, timeout=10)
        assert answer.status_code == 200
        assert [item["id"] for item in answer.json()["items"]] == [channel]


def test_unknown_paths_and_methods_answer_in_the_graph_dialect(world: SimulatedWorld) -> None:
    with SimulatorServer(world, access_token=TOKEN) as server:
        for path in ("/docs", "/openapi.json", "/_simulator/nothing"):
            answer = requests.get(server.url + path, params={"access_token": TOKEN}, timeout=10)
            assert answer.status_code == 404 and answer.json()["error"]["code"] == 100
        deleted = requests.delete(f"{server.url}/v21.0/{APP_USER_ID}", timeout=10)
        assert deleted.status_code == 404
        assert deleted.json()["error"]["message"] == "Unsupported delete request."
