"""The one typed settings object of the pipeline.

Read from environment variables prefixed ``INFLUENCERS_`` (and an optional ``.env`` file in the
working directory), nested per source with ``__``: ``INFLUENCERS_INSTAGRAM__ACCESS_TOKEN``,
``INFLUENCERS_YOUTUBE__API_KEY``, ``INFLUENCERS_TIKTOK__CLIENT_SECRET``. Only ``flows/`` reads
settings; everything below it receives plain values.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.vocabulary import DEFAULT_TIER_BOUNDS
from simulator import DEFAULT_ANCHOR, DEFAULT_ROSTER_PATH, DEFAULT_SEED, DEFAULT_SIZE
from sources.programme import DEFAULT_BRANDS_PATH, DEFAULT_CAMPAIGNS_DIR
from warehouse.lake import LakeLocation

ENV_PREFIX = "INFLUENCERS_"
SourceName = Literal["instagram", "youtube", "tiktok"]
TIKTOK_TOKEN_FILE = Path("secrets") / "tiktok_tokens.json"
# Settings of the single-platform releases, read under their old names (with a warning).
RENAMED_SETTINGS = {
    f"{ENV_PREFIX}INSTAGRAM_{old}": f"{ENV_PREFIX}INSTAGRAM__{old}"
    for old in ("API_URL", "ACCESS_TOKEN", "ACCOUNT_ID", "API_VERSION", "SUPPORTS_AS_OF")
}
log = logging.getLogger(__name__)


class MissingSecretError(RuntimeError):
    """A secret the configured source needs is not set."""


class InstagramSettings(BaseModel):
    """``INFLUENCERS_INSTAGRAM__*``: the Instagram Graph API."""

    api_url: str | None = Field(
        None,
        description="Base URL of the Graph API, e.g. https://graph.facebook.com. Unset: the "
        "simulated platforms are started in-process and extracted from.",
    )
    access_token: SecretStr | None = Field(
        None, description="Graph API access token; required when api_url is set."
    )
    account_id: str = Field(
        "17841400000000000",
        description="The brand's own Instagram business account id, used for business_discovery.",
    )
    api_version: str = Field("v21.0", description="Graph API version path segment.")
    page_size: int = Field(
        25, ge=1, le=100, description="Media per business_discovery page (the API's limit)."
    )
    supports_as_of: bool = Field(
        False,
        description="The configured URL is the simulated platform (`influencers simulator`), "
        "which can answer as of a past date.",
    )


class YouTubeSettings(BaseModel):
    """``INFLUENCERS_YOUTUBE__*``: the YouTube Data API v3."""

    api_url: str | None = Field(
        None,
        description="Base URL of the API, e.g. https://www.googleapis.com/youtube/v3. Unset: the "
        "simulated platforms.",
    )
    api_key: SecretStr | None = Field(None, description="API key; required when api_url is set.")
    quota_budget: int = Field(
        10_000, ge=1, description="Quota units the night may spend (the key's daily quota)."
    )
    supports_as_of: bool = Field(
        False, description="The configured URL is the simulated platform (answers as of a date)."
    )


class TikTokSettings(BaseModel):
    """``INFLUENCERS_TIKTOK__*``: the TikTok API v2 (Display API) and the creators' tokens."""

    api_url: str | None = Field(
        None,
        description="Base URL of the API, e.g. https://open.tiktokapis.com. Unset: the simulated "
        "platforms.",
    )
    client_key: SecretStr | None = Field(
        None, description="The app's client key; required when api_url is set."
    )
    client_secret: SecretStr | None = Field(
        None, description="The app's client secret; required when api_url is set."
    )
    token_file: Path | None = Field(
        None,
        description="The creators' OAuth tokens (JSON, mode 0600; default "
        "<data_dir>/secrets/tiktok_tokens.json); `influencers tiktok connect HANDLE` adds one.",
    )
    page_size: int = Field(
        20, ge=1, le=20, description="Videos per /v2/video/list/ page (the API's limit: 20)."
    )
    requests_per_minute: int = Field(
        600, ge=1, description="Requests per endpoint in any minute (TikTok's default budget)."
    )
    refresh_margin_seconds: float = Field(
        900.0,
        ge=0,
        description="An access token expiring within this many seconds is refreshed first.",
    )
    supports_as_of: bool = Field(
        False, description="The configured URL is the simulated platform (answers as of a date)."
    )


class Settings(BaseSettings):
    """Everything an operator can configure; see the README's "Settings" table."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Field(
        Path("data"), description="Root of the raw landing zone, the lake and the reports."
    )
    roster_path: Path = Field(
        DEFAULT_ROSTER_PATH,
        description="CSV of tracked accounts (platform, handle, connected, country, category).",
    )

    brands_path: Path = Field(
        DEFAULT_BRANDS_PATH,
        description="TOML file of brands: recruit tiers, target audience weights per dimension.",
    )
    campaigns_dir: Path = Field(
        DEFAULT_CAMPAIGNS_DIR,
        description="Folder of each brand's <brand>.campaigns.toml and collaborations CSV.",
    )
    tier_bounds: tuple[int, int, int] = Field(
        DEFAULT_TIER_BOUNDS,
        description="Lower follower bounds of the micro, macro and mega tiers (nano starts at 0).",
    )

    sources: list[SourceName] = Field(
        ["instagram", "youtube", "tiktok"],
        description="Sources the nightly run extracts, in order (JSON list).",
    )
    instagram: InstagramSettings = Field(default_factory=lambda: InstagramSettings())
    youtube: YouTubeSettings = Field(default_factory=lambda: YouTubeSettings())
    tiktok: TikTokSettings = Field(default_factory=lambda: TikTokSettings())

    simulator_seed: int = Field(DEFAULT_SEED, description="Seed of the simulated population.")
    simulator_size: int = Field(DEFAULT_SIZE, description="Creators in the simulated population.")
    simulator_anchor: dt.date = Field(
        DEFAULT_ANCHOR, description="The simulated world's 'present', around which events happen."
    )

    schedule_timezone: str = Field(
        "UTC",
        description="Timezone of the schedules; a scheduled nightly run loads the day before "
        "its start in this timezone.",
    )
    audience_weekdays: frozenset[int] = Field(
        frozenset({6}),
        description="Weekdays (0 = Monday .. 6 = Sunday) on which audience demographics are "
        "extracted; they change slowly and cost four calls per connected creator.",
    )
    post_lookback_days: int = Field(
        14, ge=1, description="Posts published this many days before the run date are observed."
    )
    max_failed_account_share: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="A night in which more than this share of a source's accounts could not be "
        "fetched fails (after loading what was fetched).",
    )
    lake_catalog: str = Field(
        "",
        description=(
            "The lake's catalog: a SQLite file (default <data_dir>/lake.sqlite), or "
            "'postgres:dbname=lake host=... user=...' so that several machines write at once "
            "(the password from PGPASSWORD or ~/.pgpass, never here)."
        ),
    )
    lake_data_path: Path | None = Field(
        None,
        description="Directory of the lake's Parquet files (default <data_dir>/lake/); shared "
        "storage every worker mounts at the same path when the catalog is on PostgreSQL.",
    )
    snapshot_retention_days: int = Field(
        90, ge=1, description="Snapshots (time travel) the maintenance flow keeps, in days."
    )
    orphan_min_age_hours: float = Field(
        6.0,
        ge=0,
        description="Age under which maintenance leaves an unrecorded data file alone (a load "
        "on another worker may be about to commit it).",
    )
    max_quarantine_share: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="A run whose quarantined share of any entity exceeds this fails (after "
        "loading what was valid).",
    )
    http_timeout_seconds: float = Field(10.0, gt=0, description="Connect and per-read timeout.")
    http_deadline_seconds: float = Field(
        60.0,
        gt=0,
        description="Longest one API call may take in total, retries and waits included.",
    )
    http_max_retries: int = Field(4, ge=0, description="Retries per call on 429/5xx/throttling.")
    http_max_wait_seconds: float = Field(
        60.0,
        ge=0,
        description="Longest Retry-After a night honours; an account asking for more fails.",
    )
    http_concurrency: int = Field(4, ge=1, description="Accounts fetched at once per source.")
    validation_batch_rows: int = Field(
        100_000, ge=1, description="Landed records validated per batch (bounds memory)."
    )

    @field_validator("schedule_timezone")
    @classmethod
    def _known_timezone(cls, timezone: str) -> str:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{ENV_PREFIX}SCHEDULE_TIMEZONE {timezone!r} is not an IANA timezone such as "
                "UTC or Europe/Paris"
            ) from None
        return timezone

    @field_validator("tier_bounds")
    @classmethod
    def _tier_bounds_increase(cls, bounds: tuple[int, int, int]) -> tuple[int, int, int]:
        if not 0 < bounds[0] < bounds[1] < bounds[2]:
            raise ValueError(
                f"{ENV_PREFIX}TIER_BOUNDS must be three increasing positive follower counts "
                f"(micro, macro, mega), got {list(bounds)}"
            )
        return bounds

    @model_validator(mode="after")
    def _real_apis_need_their_secret(self) -> Settings:
        needs = (
            ("INSTAGRAM", self.instagram.api_url, self.instagram.access_token, "ACCESS_TOKEN"),
            ("YOUTUBE", self.youtube.api_url, self.youtube.api_key, "API_KEY"),
            ("TIKTOK", self.tiktok.api_url, self.tiktok.client_key, "CLIENT_KEY"),
            ("TIKTOK", self.tiktok.api_url, self.tiktok.client_secret, "CLIENT_SECRET"),
        )
        for source, url, secret, secret_name in needs:
            if url and secret is None:
                raise MissingSecretError(
                    f"{ENV_PREFIX}{source}__API_URL is set but {ENV_PREFIX}{source}__{secret_name} "
                    "is not: set it in the environment (or .env), or unset the URL to use the "
                    "simulated platforms."
                )
        return self

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def lake(self) -> LakeLocation:
        """The warehouse: its catalog (default ``<data_dir>/lake.sqlite``) and data files
        (default ``<data_dir>/lake/``)."""
        default = LakeLocation.in_directory(self.data_dir)
        return LakeLocation(
            catalog=self.lake_catalog or default.catalog,
            data_path=self.lake_data_path or default.data_path,
        )

    @property
    def work_dir(self) -> Path:
        """Where each run stages its validated facts, one directory per run, removed at its end."""
        return self.data_dir / "work"

    @property
    def tiktok_token_file(self) -> Path:
        """The TikTok token store: the configured file, or ``<data_dir>/secrets/...``."""
        return self.tiktok.token_file or self.data_dir / TIKTOK_TOKEN_FILE

    @property
    def reports_dir(self) -> Path:
        """Where the weekly HTML reports are written."""
        return self.data_dir / "reports"

    def uses_simulator(self, source: str) -> bool:
        """Whether ``source`` is extracted from the simulated platforms started in-process."""
        return getattr(self, source).api_url is None

    @property
    def uses_embedded_simulator(self) -> bool:
        return any(self.uses_simulator(source) for source in self.sources)


def load_settings() -> Settings:
    """Read the settings from the environment; a clear error, not a traceback, if they are wrong."""
    renamed = _renamed_instagram_settings(os.environ)
    if renamed is None:
        return Settings()
    return Settings(instagram=InstagramSettings.model_validate(renamed))


def _renamed_instagram_settings(environment: Mapping[str, str]) -> dict[str, str] | None:
    """Instagram settings with those set under the single-platform names, if any were."""
    instagram: dict[str, str] = {}
    for old, new in RENAMED_SETTINGS.items():
        if old in environment and new not in environment:
            log.warning("%s is deprecated: set %s instead", old, new)
            instagram[new.removeprefix(f"{ENV_PREFIX}INSTAGRAM__").lower()] = environment[old]
    if not instagram:
        return None
    from_nested = {
        key.removeprefix(f"{ENV_PREFIX}INSTAGRAM__").lower(): value
        for key, value in environment.items()
        if key.startswith(f"{ENV_PREFIX}INSTAGRAM__")
    }
    return {**from_nested, **instagram}
