"""`influencers demo` (what `make demo` runs) on the embedded simulated platforms: every report has
rows for Instagram, YouTube and TikTok, and the HTML report sets them side by side."""

from __future__ import annotations

import datetime as dt
import functools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows import cli
from flows.cli import app
from flows.source_plans import simulated_world
from warehouse.lake import LakeLocation, open_lake

PLATFORMS = ["instagram", "youtube", "tiktok"]
REPORT_TABLES = ("rpt_weekly_engagement", "rpt_audience_match", "rpt_tier_drift")
WEEK_END = dt.date(2026, 11, 22)  # a Sunday: the demo's seven days are one full ISO week


def test_the_demo_reports_every_platform_side_by_side(pipeline_env: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--days", "7", "--end", WEEK_END.isoformat()])

    assert result.exit_code == 0, result.output
    assert "instagram (simulated, in-process), youtube (simulated, in-process), tiktok" in (
        " ".join(result.output.split())
    )
    connection = open_lake(LakeLocation.in_directory(pipeline_env), read_only=True)
    try:
        for table in REPORT_TABLES:
            platforms = connection.execute(
                f"select platform, count(*) from {table} group by platform"
            ).fetchall()
            assert sorted(platform for platform, _ in platforms) == sorted(PLATFORMS), table
            assert all(rows > 0 for _, rows in platforms), (table, platforms)
        # The lake was maintained after Saturday's night, as the deployed schedule does.
        messages = [
            message
            for (message,) in connection.execute(
                "select commit_message from ducklake_snapshots('lake') order by snapshot_id"
            ).fetchall()
        ]
        maintained = messages.index("maintenance: merge small files")
        assert "nightly instagram 2026-11-21" in messages[:maintained]
        assert "nightly instagram 2026-11-22" in messages
    finally:
        connection.close()
    html = (pipeline_env / "reports" / "weekly-2026-W47.html").read_text(encoding="utf-8")
    assert "Platforms side by side" in html
    headers = [html.index(f'<th class="platform">{platform}</th>') for platform in PLATFORMS]
    assert headers == sorted(headers)


class NightsLog:
    """A stand-in for the nightly flow: records which nights run at once, fails where told."""

    def __init__(self, failing: dt.date | None = None) -> None:
        self.failing = failing
        self.started: list[dt.date] = []
        self.running: set[dt.date] = set()
        self.events: list[tuple[str, dt.date]] = []
        self.most_at_once = 0
        self.lock = threading.Lock()

    def __call__(self, date: dt.date) -> str:
        with self.lock:
            self.started.append(date)
            self.running.add(date)
            self.events.append(("start", date))
            self.most_at_once = max(self.most_at_once, len(self.running))
        time.sleep(0.02)
        with self.lock:
            self.running.discard(date)
            self.events.append(("end", date))
        if date == self.failing:
            raise RuntimeError(f"night {date} failed")
        return f"summary {date}"


DATES = [WEEK_END - dt.timedelta(days=offset) for offset in range(6, -1, -1)]
API_URL_BEFORE = os.environ.get("PREFECT_API_URL")


def test_the_demo_runs_two_nights_at_a_time_and_returns_them_in_date_order() -> None:
    nights = NightsLog()

    with ThreadPoolExecutor(2) as workers:
        summaries = cli._run_nights(nights, DATES, at_once=2, workers=workers)

    assert summaries == [f"summary {date}" for date in DATES]
    assert sorted(nights.started) == DATES
    assert nights.most_at_once == 2
    # The first night ran alone: it creates the lake and connects the TikTok creators.
    assert nights.events[:2] == [("start", DATES[0]), ("end", DATES[0])]


def test_after_a_failed_night_the_demo_starts_no_later_one() -> None:
    nights = NightsLog(failing=DATES[2])

    with ThreadPoolExecutor(2) as workers, pytest.raises(RuntimeError, match=f"night {DATES[2]}"):
        cli._run_nights(nights, DATES, at_once=2, workers=workers)

    # The night after it was already running and finished; none later started.
    assert sorted(nights.started) == DATES[:4]
    assert not nights.running


def record_a_night(directory: str, failing: dt.date | None, date: dt.date) -> int:
    """A night in a worker process: leaves a file saying it started, fails where told."""
    (Path(directory) / date.isoformat()).touch()
    time.sleep(0.2)
    if date == failing:
        raise cli.DemoNightFailed(f"the night of {date} failed: RuntimeError: told to")
    return os.getpid()


def test_the_demos_worker_processes_stop_after_a_failed_night(tmp_path: Path) -> None:
    night = functools.partial(record_a_night, str(tmp_path), DATES[2])

    with cli._night_processes(2) as workers, pytest.raises(cli.DemoNightFailed, match="told to"):
        cli._run_nights(night, DATES, at_once=2, workers=workers)

    # The night after it may have been on its way to a worker already; none later started.
    started = sorted(dt.date.fromisoformat(path.name) for path in tmp_path.iterdir())
    assert started in (DATES[:3], DATES[:4])
    assert os.environ.get("PREFECT_API_URL") == API_URL_BEFORE


def test_the_demos_nights_run_in_processes_of_their_own(tmp_path: Path) -> None:
    night = functools.partial(record_a_night, str(tmp_path), None)

    with cli._night_processes(2) as workers:
        processes = cli._run_nights(night, DATES, at_once=2, workers=workers)

    assert os.getpid() not in processes
    assert 1 <= len(set(processes)) <= 2


def test_the_nights_of_one_process_share_the_simulated_world() -> None:
    anchor = dt.date(2026, 11, 1)

    assert simulated_world(7, 24, anchor) is simulated_world(7, 24, anchor)
    assert simulated_world(8, 24, anchor) is not simulated_world(7, 24, anchor)
