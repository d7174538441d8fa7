"""The campaign reports on hand-computed cases (REPORTS.md "Campaigns and sales"): deliverables
found by hashtag, mention and promo code; attribution by code versus link, at the window's edge
and between two campaigns; a refund; a currency with and without a rate; zero views; a stage
change mid-campaign; an undisclosed deliverable; and the tiers summing it all."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from warehouse.lake import LakeLocation, open_lake
from warehouse.reports import build_weekly_reports

WEEK = dt.date(2026, 11, 9)
AS_OF = dt.date(2026, 11, 16)
SPRING, WINTER = "glowco-spring", "glowco-winter"


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def insert(connection: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        connection.execute(f"insert into {table} ({columns}) values ({marks})", list(row.values()))


def campaign_world(connection: duckdb.DuckDBPyConnection) -> None:
    insert(
        connection,
        "dim_campaign",
        [
            {
                "campaign_id": SPRING,
                "brand_id": "glowco",
                "name": "Spring Glow",
                "start_date": day("2026-10-01"),
                "end_date": day("2026-10-14"),
                "currency": "USD",
                "attribution_window_days": 30,
                "hashtags": ["SpringGlow"],
                "mentions": ["glowco"],
            },
            {
                "campaign_id": WINTER,
                "brand_id": "glowco",
                "name": "Winter Glow",
                "start_date": day("2026-10-10"),
                "end_date": day("2026-10-31"),
                "currency": "USD",
                "attribution_window_days": 30,
                "hashtags": ["winterglow"],
                "mentions": ["glowco"],
            },
        ],
    )
    collaboration = [
        # (campaign, platform, account, handle, fee, code, utm, posts agreed, stage)
        (SPRING, "instagram", "1", "maya", "500.00", "MAYA15", "maya01", 2, "active"),
        (SPRING, "instagram", "2", "tom", "200.00", "TOM10", "tom01", 2, "paused"),
        (SPRING, "tiktok", "tt3", "zoe", "100.00", None, "zoe01", 1, "prospect"),
        (WINTER, "instagram", "1", "maya", "300.00", "maya15", "maya02", 1, "active"),
        (WINTER, "youtube", "UCyt", "@yt", "10.00", None, "yt01", 0, "active"),
    ]
    insert(
        connection,
        "collaboration",
        [
            dict(
                zip(
                    (
                        "campaign_id",
                        "platform",
                        "account_id",
                        "handle",
                        "fee",
                        "promo_code",
                        "utm_content",
                        "posts_agreed",
                        "stage",
                    ),
                    row,
                    strict=True,
                )
            )
            for row in collaboration
        ],
    )
    history = [
        (SPRING, "instagram", "1", "2026-09-25", None, "active"),
        # tom paused mid-campaign: active until 6 October (included), paused since the 7th
        (SPRING, "instagram", "2", "2026-09-25", "2026-10-06", "active"),
        (SPRING, "instagram", "2", "2026-10-07", None, "paused"),
        (SPRING, "tiktok", "tt3", "2026-09-20", None, "prospect"),
        (WINTER, "instagram", "1", "2026-10-05", None, "active"),
        (WINTER, "youtube", "UCyt", "2026-10-01", None, "active"),
    ]
    insert(
        connection,
        "collaboration_stage_history",
        [
            {
                "campaign_id": campaign,
                "platform": platform,
                "account_id": account,
                "valid_from": day(start),
                "valid_to": day(end) if end else None,
                "stage": stage,
            }
            for campaign, platform, account, start, end, stage in history
        ],
    )
    snapshots = [
        ("instagram", "1", "2026-09-30", 40_000),
        ("instagram", "1", "2026-10-02", 45_000),
        # tom has no snapshot by the start: the earliest within 7 days after counts
        ("instagram", "2", "2026-10-05", 150_000),
        ("youtube", "UCyt", "2026-10-10", 8_000),
    ]
    insert(
        connection,
        "fact_profile_daily",
        [
            {
                "platform": platform,
                "account_id": account,
                "snapshot_date": day(date),
                "followers": followers,
            }
            for platform, account, date, followers in snapshots
        ],
    )
    posts = [
        (
            "instagram",
            "P1",
            "1",
            "2026-10-02 09:00",
            "Loving my #SpringGlow routine with @glowco. #ad",
        ),
        ("instagram", "P2", "1", "2026-10-12 18:30", "use code maya15 for 15% off"),
        ("instagram", "P3", "2", "2026-10-03 12:00", "#springglow #Sponsored"),
        ("instagram", "P4", "1", "2026-09-28 12:00", "early #springglow teaser"),
        ("instagram", "P5", "2", "2026-10-04 12:00", "#springglowing is not the tag"),
    ]
    insert(
        connection,
        "dim_post",
        [
            {
                "platform": platform,
                "post_id": post,
                "account_id": account,
                "published_at": dt.datetime.fromisoformat(published),
                "caption": caption,
                "permalink": None,
                "first_seen_date": day("2026-10-03"),
            }
            for platform, post, account, published, caption in posts
        ],
    )
    observations = [
        # (post, account, observed, likes, comments, views)
        ("P1", "1", "2026-10-03", 80, 2, None),
        ("P1", "1", "2026-10-20", 100, 10, None),
        ("P1", "1", "2026-11-20", 999, 99, None),  # after the as-of date: not used
        ("P2", "1", "2026-10-13", None, 5, None),  # likes hidden: counted as 0
        ("P3", "2", "2026-10-04", 50, 0, 0),
    ]
    insert(
        connection,
        "fact_post_metrics",
        [
            {
                "platform": "instagram",
                "post_id": post,
                "observed_date": day(observed),
                "account_id": account,
                "published_at": dt.datetime(2026, 10, 1),
                "media_type": "IMAGE",
                "likes": likes,
                "comments": comments,
                "views": views,
            }
            for post, account, observed, likes, comments, views in observations
        ],
    )
    link = "/products/serum?utm_source=instagram&utm_campaign={}&utm_content={}"
    orders = [
        # (id, ordered at, currency, gross, discount, refunded, codes, landing url)
        # a code beats a link: maya's, not tom's
        (
            "O1",
            "2026-10-05 10:00",
            "USD",
            "110.00",
            "10.00",
            "0",
            ["MAYA15"],
            link.format(SPRING, "tom01"),
        ),
        # the code is in both campaigns' windows: the one that started last takes it
        ("O2", "2026-10-15 10:00", "USD", "80.00", "0", "0", ["MAYA15"], None),
        # a refund: net 70 - 0 - 20 = 50
        ("O3", "2026-10-06 10:00", "USD", "70.00", "0", "20.00", [], link.format(SPRING, "tom01")),
        # the window's last day (14 October + 30 days), and the day after it
        ("O4", "2026-11-13 23:59", "USD", "40.00", "0", "0", [], link.format(SPRING, "tom01")),
        ("O5", "2026-11-14 00:00", "USD", "30.00", "0", "0", [], link.format(SPRING, "tom01")),
        # euros: converted at the day's rate (20 * 1.10 = 22), or quarantined without one
        ("O6", "2026-10-08 10:00", "EUR", "20.00", "0", "0", ["TOM10"], None),
        ("O7", "2026-10-09 10:00", "EUR", "10.00", "0", "0", ["tom10"], None),
        ("O8", "2026-11-20 10:00", "USD", "500.00", "0", "0", ["MAYA15"], None),  # after as-of
        ("O9", "2026-10-20 10:00", "USD", "30.00", "0", "0", [], link.format(WINTER, "yt01")),
        ("O10", "2026-10-21 10:00", "USD", "15.00", "0", "0", ["WELCOME"], None),  # organic
    ]
    insert(
        connection,
        "fact_order",
        [
            {
                "shop": "glowco-shop",
                "order_id": order,
                "ordered_at": dt.datetime.fromisoformat(at),
                "currency": currency,
                "gross_amount": Decimal(gross),
                "discount_amount": Decimal(discount),
                "refunded_amount": Decimal(refunded),
                "net_amount": Decimal(gross) - Decimal(discount) - Decimal(refunded),
                "discount_codes": codes,
                "landing_url": url,
                "import_id": "test",
            }
            for order, at, currency, gross, discount, refunded, codes, url in orders
        ],
    )
    insert(
        connection,
        "fx_rate",
        [
            {
                "currency": "EUR",
                "rate_date": day("2026-10-08"),
                "base_currency": "USD",
                "rate": Decimal("1.10"),
                "import_id": "test",
            }
        ],
    )


@pytest.fixture
def lake(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = open_lake(LakeLocation.in_directory(tmp_path))
    campaign_world(connection)
    build_weekly_reports(connection, WEEK, AS_OF)
    return connection


def rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return connection.execute(sql).fetchall()


def test_deliverables_are_found_by_tag_mention_or_code_within_the_campaign(
    lake: duckdb.DuckDBPyConnection,
) -> None:
    assert rows(
        lake,
        "select campaign_id, post_id, matched_by, disclosed from fact_deliverable order by all",
    ) == [
        (SPRING, "P1", ["hashtag", "mention"], True),
        (SPRING, "P2", ["promo_code"], False),
        (SPRING, "P3", ["hashtag"], True),
        (WINTER, "P2", ["promo_code"], False),
    ]


def test_each_collaboration_gets_its_deliveries_orders_and_verdict(
    lake: duckdb.DuckDBPyConnection,
) -> None:
    found = {
        (row[0], row[1]): row[2:]
        for row in rows(
            lake,
            """
            select campaign_id, account_id, stage, followers_at_start, tier, deliverables,
                   deliverables_disclosed, interactions, views, orders, revenue, verdict
            from rpt_campaign_performance where as_of_date = date '2026-11-16'
            """,
        )
    }

    assert found == {
        # P1 at its latest observation by the as-of date (110) + P2 (hidden likes: 5); O1 only
        (SPRING, "1"): (
            "active",
            40_000,
            "micro",
            2,
            1,
            115,
            None,
            1,
            Decimal("100.00"),
            "undisclosed",
        ),
        # O3 (refunded to 50) + O4 (the window's last day) + O6 (20 EUR at 1.10); not O5, not O7
        (SPRING, "2"): (
            "paused",
            150_000,
            "macro",
            1,
            1,
            50,
            0,
            3,
            Decimal("112.00"),
            "underdelivered",
        ),
        (WINTER, "1"): (
            "active",
            45_000,
            "micro",
            1,
            0,
            5,
            None,
            1,
            Decimal("80.00"),
            "undisclosed",
        ),
        (WINTER, "UCyt"): (
            "active",
            8_000,
            "nano",
            0,
            0,
            None,
            None,
            1,
            Decimal("30.00"),
            "profitable",
        ),
    }


def test_the_ratios_follow_their_definitions_and_null_on_a_zero_divisor(
    lake: duckdb.DuckDBPyConnection,
) -> None:
    ratios = {
        (row[0], row[1]): row[2:]
        for row in rows(
            lake,
            "select campaign_id, account_id, cpe, cpm, roas, cpa, revenue_per_1k_followers "
            "from rpt_campaign_performance",
        )
    }

    assert ratios[(SPRING, "1")] == pytest.approx((500 / 115, None, 0.2, 500.0, 2.5))
    # zero views: no cost per thousand
    assert ratios[(SPRING, "2")] == pytest.approx((4.0, None, 0.56, 200 / 3, 112 / 150))
    assert ratios[(WINTER, "UCyt")] == pytest.approx((None, None, 3.0, 10.0, 3.75))


def test_an_order_without_a_rate_is_quarantined_with_what_to_do(
    lake: duckdb.DuckDBPyConnection,
) -> None:
    ((entity, record, checks),) = rows(
        lake,
        "select entity, raw_record, failed_checks from quarantine where source = 'campaigns'",
    )

    assert entity == "order"
    assert json.loads(record)["order_id"] == "O7"
    assert checks == [
        "no fx_rate from EUR to USD on 2026-10-09: add it to the rates file "
        "(influencers orders fx-rates FILE) and rebuild the week"
    ]


def test_the_tiers_sum_their_collaborations(lake: duckdb.DuckDBPyConnection) -> None:
    assert rows(
        lake,
        """
        select campaign_id, platform, tier, creators, fee, interactions, orders, revenue,
               followers_at_start, round(revenue_per_1k_followers, 4)
        from rpt_campaign_tiers order by all
        """,
    ) == [
        (
            SPRING,
            "instagram",
            "macro",
            1,
            Decimal("200.00"),
            50,
            3,
            Decimal("112.00"),
            150_000,
            0.7467,
        ),
        (
            SPRING,
            "instagram",
            "micro",
            1,
            Decimal("500.00"),
            115,
            1,
            Decimal("100.00"),
            40_000,
            2.5,
        ),
        (
            WINTER,
            "instagram",
            "micro",
            1,
            Decimal("300.00"),
            5,
            1,
            Decimal("80.00"),
            45_000,
            1.7778,
        ),
        (WINTER, "youtube", "nano", 1, Decimal("10.00"), None, 1, Decimal("30.00"), 8_000, 3.75),
    ]


def test_rebuilding_the_week_changes_nothing(lake: duckdb.DuckDBPyConnection) -> None:
    tables = ("fact_deliverable", "rpt_campaign_performance", "rpt_campaign_tiers", "quarantine")
    before = {table: rows(lake, f"select * from {table} order by all") for table in tables}

    build_weekly_reports(lake, WEEK, AS_OF)

    assert {table: rows(lake, f"select * from {table} order by all") for table in tables} == before
