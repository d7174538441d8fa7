"""The weekly reports flow end to end, on eleven weeks of simulated history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client

from flows.nightly import nightly
from flows.weekly import weekly_reports
from simulator import SimulatedWorld, write_roster
from warehouse.lake import LakeLocation, open_lake

HISTORY_START = dt.date(2026, 8, 24)  # a Monday: 56 days of growth history before the weeks below
HISTORY_END = dt.date(2026, 11, 9)  # the Monday after the last reported week
REPORTED_WEEKS = ["2026-W41", "2026-W42", "2026-W43", "2026-W44", "2026-W45"]
REPORT_TABLES = ("rpt_weekly_engagement", "rpt_audience_match", "rpt_tier_drift")
# The module's history is 78 real nightly runs of three platforms (each source one lake commit),
# built in the first test's setup: six minutes on this machine, so it runs in `make test-all`;
# the default run builds the weekly reports end to end in test_demo and test_programme_cli.
pytestmark = [pytest.mark.timeout(1200), pytest.mark.slow]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, world: SimulatedWorld) -> Iterator[Path]:
    """A warehouse holding every day of HISTORY_START..HISTORY_END; yields the data directory."""
    root = tmp_path_factory.mktemp("weekly")
    roster = root / "roster.csv"
    write_roster(roster, world)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("INFLUENCERS_DATA_DIR", str(root / "data"))
        env.setenv("INFLUENCERS_ROSTER_PATH", str(roster))
        env.setenv("INFLUENCERS_SIMULATOR_SIZE", str(len(world.creators)))
        day = HISTORY_START
        while day <= HISTORY_END:
            nightly(date=day)
            day += dt.timedelta(days=1)
        for week in REPORTED_WEEKS:
            weekly_reports(week=week)
        yield root / "data"


def report_rows(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = open_lake(LakeLocation.in_directory(data_dir), read_only=True)
    try:
        return {
            table: connection.execute(f"select * from {table} order by all").fetchall()
            for table in REPORT_TABLES
        }
    finally:
        connection.close()


def query(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    connection = open_lake(LakeLocation.in_directory(data_dir), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_every_report_column_is_filled_for_the_last_week(history: Path) -> None:
    columns_never_filled = {}
    for table, key in (("rpt_weekly_engagement", "week_start"), ("rpt_tier_drift", "week_start")):
        connection = open_lake(LakeLocation.in_directory(history), read_only=True)
        frame = connection.sql(f"select * from {table} where {key} = date '2026-11-02'").pl()
        connection.close()
        assert frame.height > 0, table
        columns_never_filled[table] = [
            c for c in frame.columns if frame[c].null_count() == frame.height
        ]
    assert columns_never_filled == {"rpt_weekly_engagement": [], "rpt_tier_drift": []}
    assert query(history, "select count(distinct brand_id) from rpt_audience_match") == [(3,)]


def test_rerunning_a_week_leaves_the_report_tables_identical(history: Path) -> None:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("INFLUENCERS_DATA_DIR", str(history))
        before = report_rows(history)

        weekly_reports(week="2026-W44")

    assert report_rows(history) == before


def test_risers_drift_and_bought_followers_get_reviewed(
    history: Path, world: SimulatedWorld
) -> None:
    drift = query(
        history,
        "select d.handle, r.status, r.recommendation from rpt_tier_drift r"
        " join dim_influencer d using (platform, account_id) where platform = 'instagram'",
    )
    by_archetype: dict[str, set[tuple[str, str]]] = {}
    for handle, status, recommendation in drift:
        archetype = world.creator(handle).archetype
        by_archetype.setdefault(archetype, set()).add((status, recommendation))
    riser_handles = {c.handle for c in world.creators if c.archetype == "riser"}
    bought_handles = {c.handle for c in world.creators if c.archetype == "bought"}
    flagged_risers = {
        h for h, status, _ in drift if h in riser_handles and status in ("drifting", "drifted")
    }
    reviewed_bought = {h for h, _, rec in drift if h in bought_handles and rec == "review"}

    assert flagged_risers == riser_handles
    assert reviewed_bought == bought_handles
    assert ("stable", "keep") in by_archetype["steady"]


def test_micro_accounts_engage_better_than_macro_ones(history: Path) -> None:
    medians = dict(
        query(
            history,
            "select tier, median(engagement_rate) from rpt_weekly_engagement"
            " where tier in ('micro', 'macro') group by tier",
        )
    )

    assert medians["micro"] > medians["macro"]


def test_each_run_leaves_a_summary_and_tables_in_prefect_and_an_html_report(history: Path) -> None:
    async def artifact_keys() -> set[str]:
        async with get_client() as client:
            return {a.key for a in await client.read_artifacts() if a.key}

    import asyncio

    keys = asyncio.run(artifact_keys())

    assert {
        "weekly-summary-2026-w45",
        "tier-drift-2026-w45",
        "audience-match-2026-w45",
        "engagement-2026-w45",
    } <= keys
    html = (history / "reports" / "weekly-2026-W45.html").read_text(encoding="utf-8")
    assert html.count('data-chart="') >= 3


def test_medians_ranks_and_tiers_never_mix_platforms(history: Path) -> None:
    """The three platforms report; every median and rank is the one of its own platform's
    peers."""
    platforms = query(
        history,
        "select platform, count(*) from rpt_weekly_engagement"
        " where week_start = date '2026-11-02' group by all order by all",
    )
    assert [platform for platform, _ in platforms] == ["instagram", "tiktok", "youtube"]
    mismatches = query(
        history,
        """
        with peers as (
            select platform, week_start, tier,
                   median(engagement_rate) as own_median,
                   count(engagement_rate) as rated
            from rpt_weekly_engagement group by all
        )
        select e.platform, e.week_start, e.tier, e.tier_median_er, p.own_median
        from rpt_weekly_engagement e join peers p using (platform, week_start, tier)
        where e.tier_median_er is distinct from p.own_median and p.rated > 0
        """,
    )
    assert mismatches == []
    ranks = query(
        history,
        """
        select platform, week_start, tier, list(rank_in_tier order by rank_in_tier)
        from rpt_weekly_engagement where rank_in_tier is not null group by all
        """,
    )
    assert ranks and all(list(r) == list(range(1, len(r) + 1)) for *_, r in ranks)
    drift_platforms = query(
        history,
        "select distinct platform from rpt_tier_drift where week_start = date '2026-11-02'"
        " order by 1",
    )
    assert drift_platforms == [("instagram",), ("tiktok",), ("youtube",)]
    match_platforms = query(
        history,
        "select distinct platform from rpt_audience_match where as_of_date = date '2026-11-09'"
        " order by 1",
    )
    assert match_platforms == [("instagram",), ("tiktok",), ("youtube",)]
