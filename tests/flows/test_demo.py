"""`influencers demo` (what `make demo` runs) on the embedded simulated platforms: every report has
rows for Instagram, YouTube and TikTok, and the HTML report sets them side by side."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

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
    finally:
        connection.close()
    html = (pipeline_env / "reports" / "weekly-2026-W47.html").read_text(encoding="utf-8")
    assert "Platforms side by side" in html
    headers = [html.index(f'<th class="platform">{platform}</th>') for platform in PLATFORMS]
    assert headers == sorted(headers)


def test_the_nights_of_one_process_share_the_simulated_world() -> None:
    anchor = dt.date(2026, 11, 1)

    assert simulated_world(7, 24, anchor) is simulated_world(7, 24, anchor)
    assert simulated_world(8, 24, anchor) is not simulated_world(7, 24, anchor)
