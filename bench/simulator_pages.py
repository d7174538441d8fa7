"""How fast and how big the simulated platforms are; prints its figures, asserts nothing.

    .venv/bin/python bench/simulator_pages.py                      # first pages + 200 accounts
    .venv/bin/python bench/simulator_pages.py --rss-sizes 10000 50000

1. First pages: the default world (200 creators) answers every creator's profile and
   first 30 posts (what the unit test "first pages are cheap" used to time).
2. Extraction: one night of the default world over loopback HTTP, as the pipeline's
   client asks for it (one pooled session, 4 requests in flight): each account's
   business_discovery first page (25 posts) and, for the creators who connected, the
   four follower_demographics breakdowns. Served in this process, then in its own.
3. With --rss-sizes: the same extraction of every creator of larger worlds, served in a
   process of its own; prints that process's peak RSS after start and after the night.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

from simulator import Creator, SimulatedWorld, SimulatorServer

AS_OF = dt.date(2026, 10, 18)
CONCURRENCY = 4
MEDIA_FIELDS = "id,caption,like_count,comments_count,timestamp,media_type,permalink"
PROFILE_FIELDS = "followers_count,follows_count,media_count,username,name"
APP_USER_ID = "17841400099999999"
BREAKDOWNS = ("age", "gender", "country", "city")


def first_pages() -> None:
    started = time.perf_counter()
    world = SimulatedWorld()
    for creator in world.creators:
        world.profile(creator.handle, world.anchor)
        world.media(creator.handle, world.anchor)[:30]
    elapsed = time.perf_counter() - started
    print(f"first pages of the default world (200 creators): {elapsed:.3f} s")


def extract(url: str, token: str, creators: list[Creator]) -> tuple[int, float]:
    """One night's requests; returns (requests, seconds)."""
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=CONCURRENCY))
    common = {"access_token": token, "as_of": AS_OF.isoformat()}

    def get(path: str, **params: str) -> None:
        answer = session.get(f"{url}/v21.0/{path}", params={**params, **common}, timeout=30)
        answer.raise_for_status()
        answer.json()

    def one_account(creator: Creator) -> int:
        fields = (
            f"business_discovery.username({creator.handle})"
            f"{{{PROFILE_FIELDS},media.limit(25){{{MEDIA_FIELDS}}}}}"
        )
        get(APP_USER_ID, fields=fields)
        if not creator.connected:
            return 1
        for breakdown in BREAKDOWNS:
            get(
                f"{creator.ig_id}/insights",
                metric="follower_demographics",
                period="lifetime",
                metric_type="total_value",
                breakdown=breakdown,
            )
        return 1 + len(BREAKDOWNS)

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        made = sum(pool.map(one_account, creators))
    session.close()
    return made, time.perf_counter() - started


def extraction(in_process: bool) -> None:
    world = SimulatedWorld()
    token = secrets.token_urlsafe(16)
    mode = "in this process" if in_process else "in its own process"
    with SimulatorServer(world, access_token=token, in_process=in_process) as server:
        extract(server.url, token, world.creators[:10])  # warm up connections and imports
        made, seconds = extract(server.url, token, world.creators)
    print(
        f"extraction of {len(world.creators)} accounts, served {mode}: {made} requests in "
        f"{seconds:.2f} s ({1000 * seconds / made:.2f} ms a request, {made / seconds:.0f}/s)"
    )


def rss(size: int) -> None:
    world = SimulatedWorld(size=size)
    token = secrets.token_urlsafe(16)
    started = time.perf_counter()
    with SimulatorServer(world, access_token=token, in_process=False) as server:
        ready = time.perf_counter() - started
        at_start = server.stats()["peak_rss_bytes"]
        made, seconds = extract(server.url, token, world.creators)
        after = server.stats()["peak_rss_bytes"]
    mib = 1024 * 1024
    client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{size:>6} creators: serving process ready in {ready:.1f} s, peak RSS "
        f"{at_start / mib:.0f} MiB at start, {after / mib:.0f} MiB after {made} requests "
        f"({seconds:.0f} s); this (client) process peak {client_peak:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rss-sizes", type=int, nargs="*", default=[], metavar="CREATORS")
    arguments = parser.parse_args()
    first_pages()
    extraction(in_process=True)
    extraction(in_process=False)
    for size in arguments.rss_sizes:
        rss(size)


if __name__ == "__main__":
    main()
