"""End-to-end fixtures: a real Prefect API (the test harness), the simulated platforms on a free
loopback port, and a temporary data directory (raw zone and DuckDB files)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from simulator import FaultConfig, SimulatedWorld, SimulatorServer, write_roster
from warehouse.lake import LakeLocation, open_lake

# A small world keeps each nightly run to about a second; the seed matches the default world.
WORLD_SIZE = 24
# A Sunday: audience demographics are extracted on Sundays by default.
RUN_DATE = dt.date(2026, 10, 18)
TOKEN = "tok-e2e-7f3a9c2b51d84e06a1"
YOUTUBE_KEY = "AIza-e2e-4c1d9e7b20a35f86b"
CONTRACT_TABLES = (
    "roster",
    "dim_influencer",
    "fact_profile_daily",
    "fact_post_metrics",
    "fact_audience_share",
    "quarantine",
)


@pytest.fixture(scope="session", autouse=True)
def prefect_api() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def run_date() -> dt.date:
    return RUN_DATE


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def youtube_key() -> str:
    return YOUTUBE_KEY


@pytest.fixture(scope="session")
def world() -> SimulatedWorld:
    return SimulatedWorld(size=WORLD_SIZE)


@pytest.fixture
def pipeline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, world: SimulatedWorld) -> Path:
    """Settings for a run on the embedded simulator; returns the data directory."""
    roster = tmp_path / "roster.csv"
    write_roster(roster, world)
    monkeypatch.setenv("INFLUENCERS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INFLUENCERS_ROSTER_PATH", str(roster))
    monkeypatch.setenv("INFLUENCERS_SIMULATOR_SIZE", str(WORLD_SIZE))
    return tmp_path / "data"


@pytest.fixture
def simulator(
    request: pytest.FixtureRequest,
    world: SimulatedWorld,
    pipeline_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SimulatorServer]:
    """The simulated platforms on a free port, with the faults of ``@pytest.mark.faults(...)``."""
    marker = request.node.get_closest_marker("faults")
    faults = FaultConfig(**marker.kwargs) if marker else FaultConfig()
    with SimulatorServer(
        world, access_token=TOKEN, youtube_api_key=YOUTUBE_KEY, faults=faults
    ) as server:
        monkeypatch.setenv("INFLUENCERS_INSTAGRAM__API_URL", server.url)
        monkeypatch.setenv("INFLUENCERS_INSTAGRAM__ACCESS_TOKEN", TOKEN)
        monkeypatch.setenv("INFLUENCERS_YOUTUBE__API_URL", server.url + "/youtube/v3")
        monkeypatch.setenv("INFLUENCERS_YOUTUBE__API_KEY", YOUTUBE_KEY)
        monkeypatch.setenv("INFLUENCERS_YOUTUBE__SUPPORTS_AS_OF", "true")
        monkeypatch.setenv("INFLUENCERS_INSTAGRAM__SUPPORTS_AS_OF", "true")
        yield server


class CollectingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(self.format(record))


@pytest.fixture
def all_logs() -> Iterator[list[str]]:
    """Every log line written by Prefect and by our own modules during the test."""
    handler = CollectingHandler()
    loggers = [logging.getLogger(name) for name in ("", "prefect", "sources", "flows")]
    previous_levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler.messages
    for logger, level in zip(loggers, previous_levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def table_contents() -> Callable[[Path], dict[str, list[tuple[object, ...]]]]:
    return read_table_contents


def read_table_contents(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every contract table's rows, sorted, for comparing two warehouses exactly."""
    connection = open_lake(LakeLocation.in_directory(database), read_only=True)
    try:
        return {
            table: connection.execute(f"select * from {table} order by all").fetchall()
            for table in CONTRACT_TABLES
        }
    finally:
        connection.close()
