"""Loading the campaign files into a real lake: the tables replaced, the stage history kept."""

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from schemas.brands import Brands
from schemas.programme import Campaigns
from sources.programme import (
    DEFAULT_BRANDS_PATH,
    DEFAULT_CAMPAIGNS_DIR,
    read_brand_file,
    read_campaigns,
)
from warehouse.lake import LakeLocation, open_lake
from warehouse.programme import ProgrammeLoadRefused, load_programme
from warehouse.snapshots import list_snapshots

TABLES = ("dim_campaign", "collaboration", "collaboration_stage_history")
CAMPAIGNS = """\
brand = "glowco"
collaborations = "glowco.collaborations.csv"

[[campaign]]
id = "glow"
name = "Glow"
start_date = 2026-09-14
end_date = 2026-10-11
currency = "USD"
hashtags = ["glow"]
"""
HEADER = "campaign_id,platform,handle,stage,fee,promo_code,utm_content,posts_agreed\n"
SEPT_1, SEPT_8, SEPT_15 = dt.date(2026, 9, 1), dt.date(2026, 9, 8), dt.date(2026, 9, 15)


@pytest.fixture(scope="module")
def brands() -> Brands:
    return read_brand_file(DEFAULT_BRANDS_PATH)


@pytest.fixture
def lake(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = open_lake(LakeLocation.in_directory(tmp_path / "lake"))
    # Accounts the nightly runs know: the file's handles resolve to their ids, whatever the case.
    connection.execute(
        """
        insert into dim_influencer
            (platform, account_id, handle, first_seen_date, last_seen_date)
        values ('instagram', '1784001', 'Sarar_Skincare', '2026-08-01', '2026-09-01'),
               ('youtube', 'UCaaaaaaaaaaaaaaaaaaaaaa', '@tomgg_67', '2026-08-01', '2026-09-01')
        """
    )
    return connection


def campaigns(tmp_path: Path, brands: Brands, *lines: str) -> Campaigns:
    """The campaigns of a glowco folder whose CSV holds ``lines``."""
    directory = tmp_path / f"files-{len(list(tmp_path.glob('files-*')))}"
    directory.mkdir()
    (directory / "glowco.campaigns.toml").write_text(CAMPAIGNS, encoding="utf-8")
    (directory / "glowco.collaborations.csv").write_text(
        HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8"
    )
    return read_campaigns(directory, brands)


def contents(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: connection.execute(f"select * from {table} order by all").fetchall()
        for table in TABLES
    }


def history(connection: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return connection.execute(
        "select account_id, valid_from, valid_to, stage from collaboration_stage_history "
        "order by account_id, valid_from"
    ).fetchall()


def test_the_samples_load_with_handles_resolved_to_accounts(
    lake: duckdb.DuckDBPyConnection, brands: Brands
) -> None:
    loaded = load_programme(lake, read_campaigns(DEFAULT_CAMPAIGNS_DIR, brands), SEPT_1)

    assert (loaded.campaigns, loaded.collaborations) == (5, 18)
    assert (loaded.rows_opened, loaded.rows_closed) == (18, 0)
    accounts = dict(
        lake.execute(
            "select platform || ' ' || handle, account_id from collaboration "
            "where campaign_id in ('glowco-spring-glow', 'respawn-headset-launch')"
        ).fetchall()
    )
    assert accounts == {
        "instagram sarar_skincare": "1784001",
        "instagram the.noah.lashes": "handle:the.noah.lashes",
        "instagram chloe.nguyen.lashes": "handle:chloe.nguyen.lashes",
        "tiktok emma_brooks": "handle:emma_brooks",
        "youtube @sarar_skincare": "handle:@sarar_skincare",
        "instagram samb_streams": "handle:samb_streams",
        "instagram jack.reed.levels": "handle:jack.reed.levels",
        "tiktok sofiat_gg": "handle:sofiat_gg",
        "youtube @tomgg_67": "UCaaaaaaaaaaaaaaaaaaaaaa",
    }
    assert lake.execute(
        "select fee, promo_code, utm_content, posts_agreed, stage from collaboration "
        "where account_id = '1784001'"
    ).fetchall() == [(450, "SARA15", "sarar01", 3, "active")]
    assert lake.execute(
        "select * from dim_campaign where campaign_id = 'peakform-fall-run'"
    ).fetchall() == [
        (
            "peakform-fall-run",
            "peakform",
            "Fall Run Series",
            dt.date(2026, 9, 21),
            dt.date(2026, 10, 18),
            "USD",
            30,
            ["peakformrun", "fallrun"],
            ["peakform"],
        )
    ]
    assert list_snapshots(lake, limit=1)["message"].to_list() == ["campaigns 2026-09-01"]


def test_reloading_the_same_files_changes_nothing(
    lake: duckdb.DuckDBPyConnection, brands: Brands
) -> None:
    samples = read_campaigns(DEFAULT_CAMPAIGNS_DIR, brands)
    load_programme(lake, samples, SEPT_1)
    first = contents(lake)

    same_day = load_programme(lake, samples, SEPT_1)
    assert contents(lake) == first
    later = load_programme(lake, samples, SEPT_15)
    assert contents(lake) == first

    for again in (same_day, later):
        assert (again.rows_opened, again.rows_closed) == (0, 0)
        assert again.stage_changes.is_empty()


def test_a_stage_change_closes_the_open_row_and_opens_one_on_the_load_date(
    lake: duckdb.DuckDBPyConnection, brands: Brands, tmp_path: Path
) -> None:
    load_programme(
        lake,
        campaigns(
            tmp_path,
            brands,
            "glow,instagram,sarar_skincare,negotiating,400,,,2",
            "glow,tiktok,emma_brooks,active,300,,,2",
        ),
        SEPT_1,
    )

    changed = load_programme(
        lake,
        campaigns(
            tmp_path,
            brands,
            "glow,instagram,sarar_skincare,active,450,,,2",
            "glow,tiktok,emma_brooks,active,300,,,2",
        ),
        SEPT_8,
    )

    assert history(lake) == [
        ("1784001", SEPT_1, dt.date(2026, 9, 7), "negotiating"),
        ("1784001", SEPT_8, None, "active"),
        ("handle:emma_brooks", SEPT_1, None, "active"),
    ]
    assert changed.stage_changes.select("account_id", "from_stage", "to_stage").rows() == [
        ("1784001", "negotiating", "active")
    ]
    assert (changed.rows_opened, changed.rows_closed) == (1, 1)
    assert lake.execute(
        "select account_id, fee, stage from collaboration order by 1"
    ).fetchall() == [
        ("1784001", 450, "active"),
        ("handle:emma_brooks", 300, "active"),
    ]


def test_a_collaboration_gone_from_the_file_is_closed_and_may_come_back(
    lake: duckdb.DuckDBPyConnection, brands: Brands, tmp_path: Path
) -> None:
    both = campaigns(
        tmp_path,
        brands,
        "glow,instagram,sarar_skincare,active,400,,,2",
        "glow,tiktok,emma_brooks,active,300,,,2",
    )
    load_programme(lake, both, SEPT_1)

    gone = load_programme(
        lake, campaigns(tmp_path, brands, "glow,tiktok,emma_brooks,active,300,,,2"), SEPT_8
    )

    assert history(lake) == [
        ("1784001", SEPT_1, dt.date(2026, 9, 7), "active"),
        ("handle:emma_brooks", SEPT_1, None, "active"),
    ]
    assert gone.stage_changes.select("account_id", "from_stage", "to_stage").rows() == [
        ("1784001", "active", None)
    ]
    assert lake.execute("select account_id from collaboration").fetchall() == [
        ("handle:emma_brooks",)
    ]

    load_programme(lake, both, SEPT_15)

    assert history(lake) == [
        ("1784001", SEPT_1, dt.date(2026, 9, 7), "active"),
        ("1784001", SEPT_15, None, "active"),
        ("handle:emma_brooks", SEPT_1, None, "active"),
    ]


def test_the_days_last_file_wins_and_going_back_restores_the_history(
    lake: duckdb.DuckDBPyConnection, brands: Brands, tmp_path: Path
) -> None:
    first = campaigns(tmp_path, brands, "glow,instagram,sarar_skincare,negotiating,400,,,2")
    second = campaigns(tmp_path, brands, "glow,instagram,sarar_skincare,active,400,,,2")
    third = campaigns(tmp_path, brands, "glow,instagram,sarar_skincare,paused,400,,,2")
    load_programme(lake, first, SEPT_1)
    before = contents(lake)

    load_programme(lake, second, SEPT_8)
    load_programme(lake, third, SEPT_8)
    assert history(lake) == [
        ("1784001", SEPT_1, dt.date(2026, 9, 7), "negotiating"),
        ("1784001", SEPT_8, None, "paused"),
    ]

    load_programme(lake, first, SEPT_8)
    assert contents(lake) == before


def test_a_load_dated_before_the_history_is_refused_and_changes_nothing(
    lake: duckdb.DuckDBPyConnection, brands: Brands, tmp_path: Path
) -> None:
    load_programme(
        lake, campaigns(tmp_path, brands, "glow,tiktok,emma_brooks,active,1,,,1"), SEPT_8
    )
    before = contents(lake)
    snapshots = list_snapshots(lake).height

    with pytest.raises(ProgrammeLoadRefused) as refused:
        load_programme(
            lake, campaigns(tmp_path, brands, "glow,tiktok,emma_brooks,paused,1,,,1"), SEPT_1
        )

    assert str(refused.value) == (
        "cannot load the campaign files as of 2026-09-01: the stage history already has changes "
        "from 2026-09-08, and history only runs forward; load as of 2026-09-08 or later"
    )
    assert contents(lake) == before
    assert list_snapshots(lake).height == snapshots


def test_two_handles_of_one_account_in_a_campaign_are_refused(
    lake: duckdb.DuckDBPyConnection, brands: Brands, tmp_path: Path
) -> None:
    lake.execute(
        "insert into dim_influencer (platform, account_id, handle, first_seen_date, last_seen_date)"
        " values ('instagram', '1784001', 'sara.skin', '2026-08-01', '2026-08-15')"
    )
    renamed = campaigns(
        tmp_path,
        brands,
        "glow,instagram,sarar_skincare,active,1,,,1",
        "glow,instagram,sara.skin,active,1,,,1",
    )

    with pytest.raises(ProgrammeLoadRefused, match="which are one account \\(1784001, renamed"):
        load_programme(lake, renamed, SEPT_1)

    assert contents(lake) == {table: [] for table in TABLES}
