"""bench/history.py runs end to end in quick mode (SF 0.01, 21 nights of history), so the figures
in docs/performance.md can be measured again. No time is asserted: only the shape of the
results, and that the generated lake holds the nights asked for, in the nightly load's shape."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bench import history
from bench.scale import DAY
from warehouse.lake import LakeLocation, open_lake

RUNS = (
    "night_day_1",
    "night_with_history",
    "maintenance_after_night",
    "weekly_with_history",
    "night_week_only",
    "weekly_week_only",
)


# Minutes of work: `make test-all` runs it, and CI runs the same quick mode by `make bench QUICK=1`.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """One quick run, its lakes generated afresh under a directory of its own."""
    data_dir = tmp_path_factory.mktemp("history")
    return history.run(quick=True, data_dir=data_dir), data_dir


def test_the_quick_history_bench_measures_every_run_and_reports_them(
    quick: tuple[dict[str, Any], Path],
) -> None:
    results, _ = quick

    accounts = results["landing"]["accounts"]
    assert (results["sf"], results["days"], accounts) == (0.01, 21, 1000)
    assert sorted(results["runs"]) == sorted(RUNS)
    for name in RUNS:
        (measured,) = results["runs"][name]
        assert measured["seconds"] > 0 and measured["peak_rss_bytes"] > 0, name
    for night in ("night_day_1", "night_with_history", "night_week_only"):
        rows = results["runs"][night][0]["rows"]
        assert rows["fact_profile_daily"] == accounts
        assert rows["fact_post_metrics"] == rows["dim_post"] == results["landing"]["posts"]
    weekly = [results["runs"][name][0]["rows"] for name in RUNS if name.startswith("weekly")]
    assert [rows["rpt_weekly_engagement"] for rows in weekly] == [accounts, accounts]
    assert "merged" in results["runs"]["maintenance_after_night"][0]["summary"]
    assert set(results["summary"]) == {
        "night_seconds_ratio",
        "night_wall_ratio",
        "night_peak_rss_ratio",
        "night_versus_day_7_seconds_ratio",
        "weekly_seconds_ratio",
    }

    text = history.markdown(results)
    assert "| night of 2026-11-01, after 21 nights (day 22) |" in text
    assert "| night of 2026-11-01, after 6 nights (day 7) |" in text
    assert "| fact_profile_daily | 21,000 | 21 (2026-10-11 to 2026-10-31) |" in text


def test_the_history_lake_holds_every_night_asked_for_in_the_loads_shape(
    quick: tuple[dict[str, Any], Path],
) -> None:
    results, data_dir = quick
    directory, facts = history.history_lake(0.01, 21, data_dir)
    assert facts == results["history"]  # the lake measured, not a new one

    nights = [DAY - dt.timedelta(days=offset) for offset in range(21, 0, -1)]
    connection = open_lake(LakeLocation.in_directory(directory), read_only=True)
    try:

        def per_date(query: str) -> dict[dt.date, int]:
            return dict(connection.execute(query).fetchall())

        profiles = per_date("select snapshot_date, count(*) from fact_profile_daily group by all")
        posts = per_date("select observed_date, count(*) from fact_post_metrics group by all")
        audiences = per_date(
            "select as_of_date, count(distinct account_id) from fact_audience_share group by all"
        )
        audienced = connection.execute(
            "select count(distinct account_id) from fact_audience_share"
        ).fetchall()[0][0]
        repeated_posts = connection.execute(
            "select count(*) - count(distinct post_id) from dim_post"
        ).fetchall()[0][0]
        unseen_posts = connection.execute(
            "select count(*) from fact_post_metrics as metric anti join dim_post using (post_id)"
        ).fetchall()[0][0]
        misdated_posts = connection.execute(
            """
            select count(*) from dim_post
            join (select post_id, min(observed_date) as first_seen from fact_post_metrics
                  group by post_id) using (post_id)
            where first_seen_date <> first_seen
            """
        ).fetchall()[0][0]
        weeks = per_date("select week_start, count(*) from rpt_weekly_engagement group by all")
        labels = [
            row[0]
            for row in connection.execute(
                "select commit_message from ducklake_snapshots('lake') "
                "where commit_message like 'nightly %' order by snapshot_id"
            ).fetchall()
        ]
    finally:
        connection.close()

    assert profiles == dict.fromkeys(nights, 1000)
    assert sorted(posts) == nights
    # About 4 posts a week per account, each observed on the 15 nights from its publication.
    assert all(8000 < count < 9500 for count in posts.values())
    # One account in seven each night, so every account once a week.
    assert sorted(audiences) == nights
    assert all(135 <= count <= 150 for count in audiences.values())
    assert audienced == 1000
    assert (repeated_posts, unseen_posts, misdated_posts) == (0, 0, 0)
    # The last complete week before DAY is built, the one before moved back a week.
    assert weeks == {dt.date(2026, 10, 19): 1000, dt.date(2026, 10, 12): 1000}
    assert labels == [f"nightly instagram {night.isoformat()}" for night in nights]
    # A night that sees a post again leaves its row alone: no dim_post row is ever deleted.
    assert facts["dim_post_files"] >= 1 and facts["dim_post_files_with_deletes"] == 0
    assert facts["dates"]["fact_post_metrics"]["dates"] == 21
