"""Extraction throughput against the simulated platforms (issue 11), with and without their limits.

    .venv/bin/python bench/extraction.py           # about two minutes
    .venv/bin/python bench/extraction.py --quick   # seconds: only checks that it runs (CI)

``run(quick)`` returns the figures as plain data, ``markdown(results)`` renders them as a table.

The simulated platforms run in a process of their own on 127.0.0.1 (a port chosen by the OS),
started twice: limits off, then on. Against each, every platform's own ``extract(config,
accounts, as_of, land)`` runs over accounts of the simulated world as the nightly flow runs it
(the config built by ``flows.source_plans`` from default settings: 4 accounts in flight), with a
``land`` that only counts records.

- Limits off: every budget far beyond what a run can spend.
- Limits on: each platform's own kind of limit, scaled down so that a run of ~45 s is held by it,
  over a 5 s window so that the run spans many windows. Instagram: the Graph API's call budget,
  which the client sees only through the usage headers (``X-App-Usage``,
  ``X-Business-Use-Case-Usage``). TikTok: each endpoint's budget (429 ``rate_limit_exceeded``
  with ``Retry-After`` beyond it), which the client also has in its config.
- YouTube has no rate limit but a daily quota of units, which its run does not reach: its row
  says what an account costs and how many accounts the default 10,000 units pay for a day.

The share of the allowed rate counts the requests (TikTok: to its busiest endpoint) the simulator
answered over whole windows after the first, against the budget of those windows: a sliding
window lets at most its budget through in any span of its length, so this is the steady state
of a long night, whether the client sends in bursts or evenly.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import itertools
import json
import logging
import math
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flows.settings import Settings  # noqa: E402
from flows.source_plans import (  # noqa: E402
    SOURCE_PLANS,
    ClientCredentials,
    seed_simulated_tiktok_tokens,
)
from simulator import SimulatedWorld, SimulatorServer, TikTokAccess  # noqa: E402
from simulator.roster import roster_rows  # noqa: E402
from sources.extraction import ExtractResult  # noqa: E402
from sources.roster import TrackedAccount  # noqa: E402

PLATFORMS = ("instagram", "youtube", "tiktok")
# A Sunday: Instagram's audience demographics are extracted too (the heaviest night of a week).
AS_OF = dt.date(2026, 10, 18)
UNLIMITED = 1_000_000_000
YOUTUBE_DAILY_QUOTA = 10_000


@dataclasses.dataclass(frozen=True)
class Limits:
    """A platform's rate limit, scaled down for a run: requests in any sliding window."""

    budget: int  # requests per window (TikTok: per endpoint)
    window_seconds: float


@dataclasses.dataclass(frozen=True)
class Plan:
    world_size: int
    # Accounts of each platform measured with its limits off (all of them, for YouTube).
    accounts: Mapping[str, int]
    # Accounts and the limit of each rate-limited platform measured with its limits on.
    limited_accounts: Mapping[str, int]
    limits: Mapping[str, Limits]


FULL = Plan(
    world_size=1_000,
    accounts={"instagram": 1_000, "youtube": 416, "tiktok": 508},
    limited_accounts={"instagram": 260, "tiktok": 180},
    limits={"instagram": Limits(100, 5.0), "tiktok": Limits(20, 5.0)},
)
QUICK = Plan(
    world_size=200,
    accounts={"instagram": 12, "youtube": 12, "tiktok": 12},
    limited_accounts={"instagram": 12, "tiktok": 12},
    limits={"instagram": Limits(40, 1.0), "tiktok": Limits(10, 1.0)},
)


def run(quick: bool, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Measure every platform (or ``only`` these), limits off then on; the figures as plain data."""
    plan = QUICK if quick else FULL
    platforms = [platform for platform in PLATFORMS if only is None or platform in only]
    world = SimulatedWorld(size=plan.world_size)
    rows = roster_rows(world)
    accounts = {
        platform: [
            TrackedAccount(row["platform"], row["handle"], row["connected"] == "true")
            for row in rows
            if row["platform"] == platform
        ]
        for platform in platforms
    }
    runs: dict[tuple[str, bool], dict[str, Any]] = {}
    with _simulated(world, {}) as unlimited:
        for platform in platforms:
            tracked = accounts[platform][: plan.accounts[platform]]
            runs[platform, False] = _measure(unlimited, platform, tracked)
    limited_platforms = [platform for platform in platforms if platform in plan.limits]
    if limited_platforms:
        with _simulated(world, plan.limits) as limited:
            for platform in limited_platforms:
                tracked = accounts[platform][: plan.limited_accounts[platform]]
                runs[platform, True] = _measure(limited, platform, tracked)
    return {
        "quick": quick,
        "as_of": AS_OF.isoformat(),
        "world_size": plan.world_size,
        "concurrency": Settings(_env_file=None).http_concurrency,
        "window_seconds": max(limits.window_seconds for limits in plan.limits.values()),
        "runs": [runs[key] for key in sorted(runs, key=lambda key: PLATFORMS.index(key[0]))],
    }


@dataclasses.dataclass(frozen=True)
class _Platforms:
    """The simulated platforms serving some runs: each dialect's credential and limit."""

    world: SimulatedWorld
    server: SimulatorServer
    credentials: Mapping[str, Any]
    limits: Mapping[str, Limits]  # a platform left out: its limits are off


@contextmanager
def _simulated(world: SimulatedWorld, limits: Mapping[str, Limits]) -> Iterator[_Platforms]:
    """Every dialect in a process of its own, on a port the OS picks, with ``limits`` (the
    others' budgets far beyond what a run spends)."""
    tiktok = ClientCredentials(secrets.token_urlsafe(12), secrets.token_urlsafe(24))
    credentials = {
        "instagram": secrets.token_urlsafe(24),
        "youtube": secrets.token_urlsafe(24),
        "tiktok": tiktok,
    }
    graph = limits.get("instagram", Limits(UNLIMITED, 60.0))
    tiktok_limits = limits.get("tiktok", Limits(UNLIMITED, 60.0))
    with SimulatorServer(
        world,
        access_token=credentials["instagram"],
        youtube_api_key=credentials["youtube"],
        tiktok=TikTokAccess(
            client_key=tiktok.key,
            client_secret=tiktok.secret,
            requests_per_window=tiktok_limits.budget,
            window_seconds=tiktok_limits.window_seconds,
        ),
        in_process=False,
        calls_per_minute_budget=graph.budget,
        usage_window_seconds=graph.window_seconds,
    ) as server:
        yield _Platforms(world, server, credentials, limits)


def _measure(
    platforms: _Platforms, platform: str, accounts: list[TrackedAccount]
) -> dict[str, Any]:
    limits = platforms.limits.get(platform)
    server = platforms.server
    with tempfile.TemporaryDirectory(prefix="extraction-bench-") as data_dir:
        settings = Settings(_env_file=None, data_dir=Path(data_dir))
        plan = SOURCE_PLANS[platform]
        url = server.url + plan.simulated_path
        config = plan.config(settings, url, platforms.credentials[platform], AS_OF)
        if platform == "instagram" and limits is not None:
            config = dataclasses.replace(config, usage_window_seconds=limits.window_seconds)
        if platform == "tiktok":
            # A fresh store of the creators' consent: every creator's token is refreshed, as on
            # most nights (access tokens live less than a day).
            seed_simulated_tiktok_tokens(settings.tiktok_token_file, platforms.world)
            budget = limits or Limits(UNLIMITED, 60.0)
            config = dataclasses.replace(
                config,
                requests_per_minute=budget.budget,
                rate_window_seconds=budget.window_seconds,
            )
        landed = _Landed()
        before = server.request_count
        with _retries_logged() as retries, _polled(server, before) as poll:
            started = time.perf_counter()
            result: ExtractResult = plan.package.extract(config, accounts, AS_OF, landed.land)
            wall = time.perf_counter() - started
        answered = server.request_count - before
    figures = _figures(platform, limits, result, wall, landed, poll, answered, retries)
    if platform == "youtube":
        figures |= _youtube_units(accounts, result, landed)
    return figures


class _Landed:
    """A ``land`` that only counts: records, and each account's videos (YouTube's videos.list
    calls follow from them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records = 0
        self.videos: collections.Counter[str] = collections.Counter()

    def land(self, entity: str, record: Mapping[str, Any]) -> None:
        with self._lock:
            self.records += 1
            if entity == "videos":
                self.videos[str(record.get("_handle"))] += 1


class _Poll:
    def __init__(self) -> None:
        self.samples: list[tuple[float, int]] = []


@contextmanager
def _polled(server: SimulatorServer, before: int) -> Iterator[_Poll]:
    """The simulator's request count since ``before``, sampled every 0.1 s while the block
    runs."""
    poll = _Poll()
    stop = threading.Event()
    started = time.perf_counter()

    def sample() -> None:
        while True:
            count = server.request_count - before
            poll.samples.append((time.perf_counter() - started, count))
            if stop.wait(0.1):
                return

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield poll
    finally:
        stop.set()
        thread.join()


@contextmanager
def _retries_logged() -> Iterator[dict[str, int]]:
    """How often the shared HTTP client retried a call or paused for the usage headers."""
    counts = {"retries": 0, "pauses": 0}

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.msg.startswith("retrying"):
                counts["retries"] += 1
            elif record.msg.startswith("API usage"):
                counts["pauses"] += 1

    logger = logging.getLogger("sources.http")
    handler = Count(logging.WARNING)
    logger.addHandler(handler)
    propagate = logger.propagate
    logger.propagate = False
    try:
        yield counts
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _figures(
    platform: str,
    limits: Limits | None,
    result: ExtractResult,
    wall: float,
    landed: _Landed,
    poll: _Poll,
    answered: int,
    retries: Mapping[str, int],
) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "platform": platform,
        "limits": "on" if limits else "off",
        "accounts": result.accounts,
        "fetched": result.fetched,
        "failed": len(result.failures),
        "records": landed.records,
        "requests": result.requests_made,
        "simulator_requests": answered,
        "retries": retries["retries"],
        "usage_pauses": retries["pauses"],
        "wall_seconds": round(wall, 2),
        "requests_per_second": round(result.requests_made / wall, 1),
        "accounts_per_second": round(result.fetched / wall, 2),
        "requests_per_account": round(result.requests_made / max(result.fetched, 1), 2),
    }
    if limits is not None:
        allowed = limits.budget / limits.window_seconds
        busiest = _busiest_share(platform, result)
        steady = _steady_requests_per_second(poll, limits.window_seconds)
        figures |= {
            "limit": f"{limits.budget} per {limits.window_seconds:g} s"
            + (" per endpoint" if platform == "tiktok" else ""),
            "allowed_requests_per_second": round(allowed, 2),
            # The budget binds on the busiest endpoint: that many accounts a second at most.
            "allowed_accounts_per_second": round(
                allowed / (busiest * result.requests_made / max(result.fetched, 1)), 2
            ),
            "steady_requests_per_second": None if steady is None else round(steady * busiest, 2),
            "share_of_allowed": None if steady is None else round(steady * busiest / allowed, 3),
        }
    return figures


def _youtube_units(
    accounts: list[TrackedAccount], result: ExtractResult, landed: _Landed
) -> dict[str, Any]:
    """What YouTube's quota pays for: units an account, and by call (videos.list takes the
    videos of a whole batch of 50 channels, 50 ids a call)."""
    units = result.quota_used or result.requests_made
    batches = [accounts[start : start + 50] for start in range(0, len(accounts), 50)]
    by_handle = sum(1 for account in accounts if account.handle.startswith("@"))
    channels_calls = by_handle + sum(
        1 for batch in batches if any(not account.handle.startswith("@") for account in batch)
    )
    videos_calls = sum(
        math.ceil(sum(landed.videos[account.handle] for account in batch) / 50) for batch in batches
    )
    playlist_calls = units - channels_calls - videos_calls
    per_account = units / max(result.fetched, 1)
    return {
        "limits": "quota",
        "limit": f"{YOUTUBE_DAILY_QUOTA:,} units/day",
        "units_per_account": round(per_account, 2),
        "accounts_per_day": math.floor(YOUTUBE_DAILY_QUOTA / per_account),
        "units_by_call": {
            "channels.list": channels_calls,
            "playlistItems.list": playlist_calls,
            "videos.list": videos_calls,
        },
    }


def _busiest_share(platform: str, result: ExtractResult) -> float:
    """The share of the requests that go to the endpoint whose budget binds first. Graph: all of
    them (one budget). TikTok: /v2/video/list/, one or more pages an account, besides one token
    refresh (the token store starts with refresh tokens only) and one /v2/user/info/."""
    if platform != "tiktok" or not result.requests_made:
        return 1.0
    video_pages = result.requests_made - 2 * result.accounts
    return max(video_pages, result.accounts) / result.requests_made


def _steady_requests_per_second(poll: _Poll, window: float) -> float | None:
    """Requests a second over whole windows, from the end of the first one: a sliding window
    lets at most its budget through in any span of its length, so over k whole windows the
    allowed count is exactly k budgets, whether the client sends in bursts or evenly."""
    samples = poll.samples
    start = next((t for t, _ in samples if t >= window), None)
    if start is None:
        return None
    windows = math.floor((samples[-1][0] - start) / window)
    if windows < 1:
        return None
    end = start + windows * window
    return (_count_at(samples, end) - _count_at(samples, start)) / (end - start)


def _count_at(samples: list[tuple[float, int]], moment: float) -> float:
    """The simulator's request count at ``moment``, between the samples either side of it."""
    for (before, count_before), (after, count_after) in itertools.pairwise(samples):
        if before <= moment <= after:
            if after == before:
                return count_before
            return count_before + (count_after - count_before) * (moment - before) / (
                after - before
            )
    raise ValueError(f"no samples around {moment:.2f} s")


def markdown(results: Mapping[str, Any]) -> str:
    """The figures as a markdown table, with the notes a reader needs."""
    lines = [
        "| platform | limits | accounts | requests | wall s | requests/s | accounts/s | "
        "allowed rate | share of allowed |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    notes = []
    for figures in results["runs"]:
        allowed = figures.get("limit", "—")
        if "allowed_requests_per_second" in figures:
            allowed += (
                f" = {figures['allowed_requests_per_second']:g} requests/s, "
                f"{figures['allowed_accounts_per_second']:g} accounts/s"
            )
        if "accounts_per_day" in figures:
            allowed += (
                f": {figures['units_per_account']:g} units an account, "
                f"{figures['accounts_per_day']:,} accounts a day"
            )
            by_call = figures["units_by_call"].items()
            calls = ", ".join(f"{call} {units:,}" for call, units in by_call)
            notes.append(
                f"YouTube has no rate limit but a daily quota of units (1 a call; the run above "
                f"does not reach it, so its requests/s are unthrottled). Units by call: {calls}. "
                "videos.list is called with the videos of a batch of 50 channels, 50 ids a call."
            )
        share = figures.get("share_of_allowed")
        lines.append(
            f"| {figures['platform']} | {figures['limits']} | {figures['accounts']:,} | "
            f"{figures['requests']:,} | {figures['wall_seconds']:.1f} | "
            f"{figures['requests_per_second']:.1f} | {figures['accounts_per_second']:.2f} | "
            f"{allowed} | {'—' if share is None else f'{share:.0%}'} |"
        )
        if figures["failed"] or figures["retries"] or figures["usage_pauses"]:
            notes.append(
                f"{figures['platform']}, limits {figures['limits']}: {figures['failed']} accounts "
                f"failed, {figures['retries']} calls retried, {figures['usage_pauses']} pauses "
                "for a throttled budget."
            )
    notes.insert(
        0,
        f"{results['world_size']:,} simulated creators, night of {results['as_of']} (a Sunday: "
        f"Instagram audience too), {results['concurrency']} accounts in flight, the simulated "
        "platforms in a process of their own. Limits on: each platform's own kind of limit, "
        f"scaled to a {results['window_seconds']:g} s window so the run spans many windows "
        "(the real ones are a minute or an hour); share of allowed = requests "
        "(TikTok: to /v2/video/list/, the busiest endpoint) over whole windows after the first, "
        "against the budget.",
    )
    return "\n".join(lines + [""] + [f"- {note}" for note in notes])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few accounts: checks it runs")
    parser.add_argument(
        "--platform", action="append", default=[], choices=PLATFORMS, help="only these (repeat)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    arguments = parser.parse_args()
    results = run(arguments.quick, tuple(arguments.platform) or None)
    print(markdown(results))
    if arguments.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
