"""The one typed settings object of the pipeline.

Read from environment variables prefixed ``INFLUENCERS_`` (and an optional ``.env`` file in the
working directory). Only ``flows/`` reads settings; everything below it receives plain values.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from simulator import DEFAULT_ANCHOR, DEFAULT_ROSTER_PATH, DEFAULT_SEED, DEFAULT_SIZE
from sources.brands import DEFAULT_BRANDS_PATH

ENV_PREFIX = "INFLUENCERS_"


class MissingSecretError(RuntimeError):
    """A secret the configured source needs is not set."""


class Settings(BaseSettings):
    """Everything an operator can configure; see the README's "Settings" table."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        Path("data"), description="Root of the raw landing zone and the DuckDB files."
    )
    roster_path: Path = Field(
        DEFAULT_ROSTER_PATH,
        description="CSV of tracked accounts (platform, handle, connected, country, category).",
    )

    brands_path: Path = Field(
        DEFAULT_BRANDS_PATH,
        description="TOML file of brands: recruit tiers, target audience weights per dimension.",
    )
    tier_bounds: tuple[int, int, int] = Field(
        (10_000, 100_000, 1_000_000),
        description="Lower follower bounds of the micro, macro and mega tiers (nano starts at 0).",
    )

    instagram_api_url: str | None = Field(
        None,
        description="Base URL of the Instagram Graph API. Unset: the simulated platforms are "
        "started in-process and extracted from.",
    )
    instagram_access_token: SecretStr | None = Field(
        None, description="Graph API access token; required when instagram_api_url is set."
    )
    instagram_account_id: str = Field(
        "17841400000000000",
        description="The brand's own Instagram business account id, used for business_discovery.",
    )
    instagram_api_version: str = Field("v21.0", description="Graph API version path segment.")
    instagram_supports_as_of: bool = Field(
        False,
        description="The configured URL is the simulated platform (started with `influencers "
        "simulator`), which can answer as of a past date.",
    )

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
    max_quarantine_share: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="A run whose quarantined share of any entity exceeds this fails (after "
        "loading what was valid).",
    )
    http_timeout_seconds: float = Field(10.0, gt=0, description="Per-request timeout.")
    http_max_retries: int = Field(6, ge=0, description="Retries per request on 429/5xx/throttle.")
    http_concurrency: int = Field(4, ge=1, description="Requests in flight at once.")

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
    def _real_api_needs_a_token(self) -> Settings:
        if self.instagram_api_url and self.instagram_access_token is None:
            raise MissingSecretError(
                f"{ENV_PREFIX}INSTAGRAM_API_URL is set but {ENV_PREFIX}INSTAGRAM_ACCESS_TOKEN is "
                "not: set the token in the environment (or .env), or unset the URL to use the "
                "simulated platforms."
            )
        return self

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def warehouse_path(self) -> Path:
        """The read-write DuckDB file only the pipeline opens."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def published_path(self) -> Path:
        """The analysts' copy, swapped in atomically after each run."""
        return self.data_dir / "analytics.duckdb"

    @property
    def reports_dir(self) -> Path:
        """Where the weekly HTML reports are written."""
        return self.data_dir / "reports"

    @property
    def uses_embedded_simulator(self) -> bool:
        return self.instagram_api_url is None


def load_settings() -> Settings:
    """Read the settings from the environment; a clear error, not a traceback, if they are wrong."""
    return Settings()
