"""The sources a nightly run knows, each wired to its contracts and its staging transform.

Adding a platform is one entry here: its package (of the one shape, DESIGN.md), its raw contracts,
which staged frame each raw entity becomes, and how to build its config from the settings.
(Not named ``flows/sources.py``: Prefect loads a deployment's entrypoint by its path, which puts
``flows/`` on ``sys.path``, and such a module would then shadow the ``sources`` package.)
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import polars as pl

import sources.instagram
import sources.tiktok
import sources.youtube
from flows.settings import Settings
from schemas.raw import RAW_CONTRACTS, LandedRecord
from simulator.graph import USAGE_WINDOW_SECONDS as SIMULATED_GRAPH_USAGE_WINDOW
from sources.http import HttpPolicy
from sources.instagram.client import USAGE_WINDOW_SECONDS as GRAPH_USAGE_WINDOW
from sources.tiktok.tokens import CreatorTokens, TokenStore
from transforms.audience import split_incomplete_breakdowns
from transforms.staging import instagram as instagram_staging
from transforms.staging import tiktok as tiktok_staging
from transforms.staging import youtube as youtube_staging

if TYPE_CHECKING:
    from simulator import SimulatedWorld

log = logging.getLogger(__name__)

StageFunction = Callable[[pl.LazyFrame], pl.LazyFrame]
# (valid, rejected) of one batch -> (kept, newly rejected): rules over groups of records.
GroupRule = Callable[[pl.LazyFrame, pl.LazyFrame], tuple[pl.LazyFrame, pl.LazyFrame]]
FAILED_ACCOUNTS_ENTITY = "failed_accounts"
STAGED_TABLES = {
    "profiles": "fact_profile_daily",
    "posts": "fact_post_metrics",
    "audience": "fact_audience_share",
}


@dataclass(frozen=True)
class SourcePlan:
    """How the nightly flow runs one source."""

    package: ModuleType  # SOURCE, ENTITIES, Config, answers_as_of, extract
    contracts: Mapping[str, type[LandedRecord]]
    # raw entity -> (staged frame it becomes, its staging function); parent entity first.
    staging: Mapping[str, tuple[str, StageFunction]]
    # The entity whose quarantine takes the account's other records with it, and its name in
    # the reasons ("profile: quarantined (...)").
    parent: str
    parent_noun: str
    group_rules: Mapping[str, GroupRule]
    # entity -> how to find duplicates with conflicting counts (key, counts, noun).
    duplicates: Mapping[str, Mapping[str, Any]]
    # settings, url, credential (a secret, or ClientCredentials), date -> Config
    config: Callable[[Settings, str, Any, dt.date], Any]
    # Where the simulated platforms serve this source's dialect, below their base URL.
    simulated_path: str = ""
    # What the simulated platforms need once started, before this source extracts from them.
    simulated_setup: Callable[[Settings, SimulatedPlatforms], None] | None = None

    @property
    def name(self) -> str:
        return str(self.package.SOURCE)

    def table_of(self, entity: str) -> str:
        return STAGED_TABLES[self.staging[entity][0]]


def http_policy(settings: Settings) -> HttpPolicy:
    return HttpPolicy(
        timeout_seconds=settings.http_timeout_seconds,
        deadline_seconds=settings.http_deadline_seconds,
        max_retries=settings.http_max_retries,
        max_wait_seconds=settings.http_max_wait_seconds,
        concurrency=settings.http_concurrency,
    )


def _instagram_config(
    settings: Settings, url: str, secret: str, partition_date: dt.date
) -> sources.instagram.Config:
    simulated = settings.instagram.supports_as_of or settings.uses_simulator("instagram")
    return sources.instagram.Config(
        base_url=url,
        access_token=secret,
        app_user_id=settings.instagram.account_id,
        api_version=settings.instagram.api_version,
        sends_as_of=simulated,
        http=http_policy(settings),
        page_size=settings.instagram.page_size,
        lookback_days=settings.post_lookback_days,
        fetch_audience=partition_date.weekday() in settings.audience_weekdays,
        # The simulated platforms count the Graph API's budget over a minute, not an hour.
        usage_window_seconds=SIMULATED_GRAPH_USAGE_WINDOW if simulated else GRAPH_USAGE_WINDOW,
    )


@dataclass(frozen=True)
class ClientCredentials:
    """An OAuth app's client key and secret (TikTok: the app's, not a creator's)."""

    key: str = field(repr=False)
    secret: str = field(repr=False)


def _tiktok_config(
    settings: Settings, url: str, credentials: ClientCredentials, partition_date: dt.date
) -> sources.tiktok.Config:
    return sources.tiktok.Config(
        base_url=url,
        client_key=credentials.key,
        client_secret=credentials.secret,
        token_file=settings.tiktok_token_file,
        sends_as_of=settings.tiktok.supports_as_of or settings.uses_simulator("tiktok"),
        http=http_policy(settings),
        page_size=settings.tiktok.page_size,
        lookback_days=settings.post_lookback_days,
        requests_per_minute=settings.tiktok.requests_per_minute,
        refresh_margin_seconds=settings.tiktok.refresh_margin_seconds,
    )


def seed_simulated_tiktok_tokens(path: Path, world: SimulatedWorld) -> int:
    """Give the token store at ``path`` the refresh token of every simulated TikTok creator it
    lacks, as if each had connected (the demo's creators consented; a night then refreshes
    them); tokens already there, rotated by earlier nights, are kept. How many were added."""
    from simulator.tiktok import connected_refresh_tokens

    store = TokenStore(path)
    known = set(store.handles())
    missing = [
        CreatorTokens(handle=handle, refresh_token=refresh_token, open_id=open_id)
        for handle, (open_id, refresh_token) in connected_refresh_tokens(world).items()
        if handle.lower() not in known
    ]
    if missing:
        store.put_many(missing)
    return len(missing)


def _seed_simulated_tiktok_tokens(settings: Settings, simulated: SimulatedPlatforms) -> None:
    added = seed_simulated_tiktok_tokens(settings.tiktok_token_file, simulated.world)
    if added:
        log.info(
            "simulated TikTok: %s creators connected in the token store %s",
            added,
            settings.tiktok_token_file,
        )


def _youtube_config(
    settings: Settings, url: str, secret: str, partition_date: dt.date
) -> sources.youtube.Config:
    return sources.youtube.Config(
        base_url=url,
        api_key=secret,
        sends_as_of=settings.youtube.supports_as_of or settings.uses_simulator("youtube"),
        http=http_policy(settings),
        quota_budget=settings.youtube.quota_budget,
        lookback_days=settings.post_lookback_days,
    )


SOURCE_PLANS: dict[str, SourcePlan] = {
    "instagram": SourcePlan(
        package=sources.instagram,
        contracts=RAW_CONTRACTS["instagram"],
        staging={
            "profiles": ("profiles", instagram_staging.stage_profiles),
            "media": ("posts", instagram_staging.stage_posts),
            "audience": ("audience", instagram_staging.stage_audience),
        },
        parent="profiles",
        parent_noun="profile",
        group_rules={"audience": split_incomplete_breakdowns},
        duplicates={
            "media": {
                "key": ["post_id", "as_of"],
                "counts": ["like_count", "comments_count"],
                "noun": "post",
            }
        },
        config=_instagram_config,
    ),
    "youtube": SourcePlan(
        package=sources.youtube,
        contracts=RAW_CONTRACTS["youtube"],
        staging={
            "channels": ("profiles", youtube_staging.stage_profiles),
            "videos": ("posts", youtube_staging.stage_posts),
        },
        parent="channels",
        parent_noun="channel",
        group_rules={},
        duplicates={
            "videos": {
                "key": ["video_id", "as_of"],
                "counts": ["view_count", "like_count", "comment_count"],
                "noun": "video",
            }
        },
        config=_youtube_config,
        simulated_path="/youtube/v3",
    ),
    "tiktok": SourcePlan(
        package=sources.tiktok,
        contracts=RAW_CONTRACTS["tiktok"],
        staging={
            "users": ("profiles", tiktok_staging.stage_profiles),
            "videos": ("posts", tiktok_staging.stage_posts),
        },
        parent="users",
        parent_noun="user",
        group_rules={},
        duplicates={
            "videos": {
                "key": ["video_id", "as_of"],
                "counts": ["view_count", "like_count", "comment_count", "share_count"],
                "noun": "video",
            }
        },
        config=_tiktok_config,
        simulated_path="/tiktok",
        simulated_setup=_seed_simulated_tiktok_tokens,
    ),
}


# Above this many creators the simulated platforms serve from a process of their own, so the
# pipeline does not share an interpreter (and its memory) with them.
SIMULATOR_IN_PROCESS_MAX_CREATORS = 2_000


class PlatformEndpoints:
    """The API of each source: the configured one, or the simulated platforms, started here on
    first need (a replay needs none) and stopped when the night ends."""

    def __init__(self, settings: Settings, stack: ExitStack) -> None:
        self._settings = settings
        self._stack = stack
        self._simulator: SimulatedPlatforms | None = None
        self._set_up: set[str] = set()

    def config_for(self, plan: SourcePlan, partition_date: dt.date) -> Any:
        source_settings = getattr(self._settings, plan.name)
        if source_settings.api_url is not None:
            secret = _secret_of(source_settings)
            return plan.config(self._settings, source_settings.api_url, secret, partition_date)
        simulated = self._simulated()
        if plan.simulated_setup is not None and plan.name not in self._set_up:
            plan.simulated_setup(self._settings, simulated)
            self._set_up.add(plan.name)
        return plan.config(
            self._settings,
            simulated.url + plan.simulated_path,
            simulated.credentials[plan.name],
            partition_date,
        )

    def _simulated(self) -> SimulatedPlatforms:
        if self._simulator is None:
            from simulator import SimulatorServer, TikTokAccess

            size = self._settings.simulator_size
            world = simulated_world(
                self._settings.simulator_seed, size, self._settings.simulator_anchor
            )
            tiktok = ClientCredentials(secrets.token_urlsafe(12), secrets.token_urlsafe(24))
            credentials: dict[str, Any] = {
                "instagram": secrets.token_urlsafe(24),
                "youtube": secrets.token_urlsafe(24),
                "tiktok": tiktok,
            }
            server = self._stack.enter_context(
                SimulatorServer(
                    world,
                    access_token=credentials["instagram"],
                    youtube_api_key=credentials["youtube"],
                    tiktok=TikTokAccess(client_key=tiktok.key, client_secret=tiktok.secret),
                    in_process=size <= SIMULATOR_IN_PROCESS_MAX_CREATORS,
                )
            )
            self._simulator = SimulatedPlatforms(server.url, credentials, world)
        return self._simulator


@functools.lru_cache(maxsize=2)
def simulated_world(seed: int, size: int, anchor: dt.date) -> SimulatedWorld:
    """The simulated world of (seed, size, anchor), drawn once per process.

    The world is deterministic and its caches hold only what it drew (population, schedules,
    campaigns): the nights of one process (the demo, a backfill) share it instead of drawing it
    again each night (its campaigns alone take 0.5 s for the default world). Each night still
    starts its own simulated platforms, whose state (tokens, rate windows) begins afresh.
    """
    from simulator import SimulatedWorld

    return SimulatedWorld(seed=seed, size=size, anchor=anchor)


@dataclass(frozen=True)
class SimulatedPlatforms:
    """The simulated platforms started for a night: their URL, each dialect's credential and
    the world they serve."""

    url: str
    credentials: Mapping[str, Any]
    world: SimulatedWorld


@contextmanager
def platform_endpoints(settings: Settings) -> Iterator[PlatformEndpoints]:
    with ExitStack() as stack:
        yield PlatformEndpoints(settings, stack)


def _secret_of(source_settings: Any) -> Any:
    for name in ("access_token", "api_key"):
        secret = getattr(source_settings, name, None)
        if secret is not None:
            return str(secret.get_secret_value())
    key, secret = (getattr(source_settings, name, None) for name in ("client_key", "client_secret"))
    if key is not None and secret is not None:
        return ClientCredentials(key.get_secret_value(), secret.get_secret_value())
    raise AssertionError("settings validation requires a secret with an API URL")
