"""The sources a nightly run knows, each wired to its contracts and its staging transform.

Adding a platform is one entry here: its package (of the one shape, DESIGN.md), its raw contracts,
which staged frame each raw entity becomes, and how to build its config from the settings.
(Not named ``flows/sources.py``: Prefect loads a deployment's entrypoint by its path, which puts
``flows/`` on ``sys.path``, and such a module would then shadow the ``sources`` package.)
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import polars as pl

import sources.instagram
import sources.youtube
from flows.settings import Settings
from schemas.raw import RAW_CONTRACTS, LandedRecord
from sources.http import HttpPolicy
from transforms.audience import split_incomplete_breakdowns
from transforms.staging import instagram as instagram_staging
from transforms.staging import youtube as youtube_staging

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
    config: Callable[[Settings, str, str, dt.date], Any]  # settings, url, secret, date -> Config
    # Where the simulated platforms serve this source's dialect, below their base URL.
    simulated_path: str = ""

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
    return sources.instagram.Config(
        base_url=url,
        access_token=secret,
        app_user_id=settings.instagram.account_id,
        api_version=settings.instagram.api_version,
        sends_as_of=settings.instagram.supports_as_of or settings.uses_simulator("instagram"),
        http=http_policy(settings),
        page_size=settings.instagram.page_size,
        lookback_days=settings.post_lookback_days,
        fetch_audience=partition_date.weekday() in settings.audience_weekdays,
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

    def config_for(self, plan: SourcePlan, partition_date: dt.date) -> Any:
        source_settings = getattr(self._settings, plan.name)
        if source_settings.api_url is not None:
            secret = _secret_of(source_settings)
            return plan.config(self._settings, source_settings.api_url, secret, partition_date)
        simulated = self._simulated()
        return plan.config(
            self._settings,
            simulated.url + plan.simulated_path,
            simulated.credentials[plan.name],
            partition_date,
        )

    def _simulated(self) -> SimulatedPlatforms:
        if self._simulator is None:
            from simulator import SimulatedWorld, SimulatorServer

            size = self._settings.simulator_size
            world = SimulatedWorld(
                seed=self._settings.simulator_seed,
                size=size,
                anchor=self._settings.simulator_anchor,
            )
            credentials = {name: secrets.token_urlsafe(24) for name in ("instagram", "youtube")}
            server = self._stack.enter_context(
                SimulatorServer(
                    world,
                    access_token=credentials["instagram"],
                    youtube_api_key=credentials["youtube"],
                    in_process=size <= SIMULATOR_IN_PROCESS_MAX_CREATORS,
                )
            )
            self._simulator = SimulatedPlatforms(server.url, credentials)
        return self._simulator


@dataclass(frozen=True)
class SimulatedPlatforms:
    """The simulated platforms started for a night: their URL and each dialect's credential."""

    url: str
    credentials: Mapping[str, str]


@contextmanager
def platform_endpoints(settings: Settings) -> Iterator[PlatformEndpoints]:
    with ExitStack() as stack:
        yield PlatformEndpoints(settings, stack)


def _secret_of(source_settings: Any) -> str:
    for name in ("access_token", "api_key"):
        secret = getattr(source_settings, name, None)
        if secret is not None:
            return str(secret.get_secret_value())
    raise AssertionError("settings validation requires a secret with an API URL")
