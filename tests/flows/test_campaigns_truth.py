"""The campaign reports against the simulated world's truth: the demo world's shop export and the
brands' campaign files, loaded as the demo loads them (the orders through the import-orders flow,
the campaign files week by week), give every collaboration exactly its true orders and revenue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flows.orders import OrderImportSummary, import_orders
from simulator import SimulatedWorld
from simulator.campaigns import write_campaign_files, write_fx_rates, write_shopify_orders
from simulator.truth import collaboration_truth
from sources.programme import DEFAULT_BRANDS_PATH, read_brand_file, read_campaigns
from warehouse.lake import LakeLocation, open_lake
from warehouse.programme import load_programme
from warehouse.reports import build_weekly_reports

# The demo's 70 days ending 2026-11-27; its weeks' as-of dates (Mondays) up to the last.
FIRST, LAST = dt.date(2026, 9, 19), dt.date(2026, 11, 27)
WEEK_STARTS = [dt.date(2026, 9, 21) + dt.timedelta(weeks=n) for n in range(9)]


def test_every_collaboration_sells_exactly_what_the_world_sold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFLUENCERS_DATA_DIR", str(tmp_path / "data"))
    world = SimulatedWorld()
    orders, rates = tmp_path / "orders.csv", tmp_path / "fx.csv"
    write_shopify_orders(orders, world, FIRST, LAST)
    write_fx_rates(rates, FIRST, LAST)
    summary = import_orders(str(orders), "demo-shop", fx_rates=str(rates))
    assert isinstance(summary, OrderImportSummary)
    assert summary.counts.quarantined == 0
    brands = read_brand_file(DEFAULT_BRANDS_PATH)
    connection = open_lake(LakeLocation.in_directory(tmp_path / "data"))
    try:
        for week_start in WEEK_STARTS:
            as_of = week_start + dt.timedelta(days=7)
            files = tmp_path / f"campaigns-{as_of}"
            write_campaign_files(files, world, as_of)
            load_programme(connection, read_campaigns(files, brands), as_of)
            build_weekly_reports(connection, week_start, as_of)
        last_as_of = WEEK_STARTS[-1] + dt.timedelta(days=7)
        reported = {
            (campaign, platform, handle): (orders_count, revenue)
            for campaign, platform, handle, orders_count, revenue in connection.execute(
                "select campaign_id, platform, handle, orders, revenue "
                "from rpt_campaign_performance where as_of_date = ?",
                [last_as_of],
            ).fetchall()
        }
    finally:
        connection.close()

    truth = {
        (row.campaign_id, row.platform, row.handle): (row.true_orders, row.true_revenue)
        for row in collaboration_truth(world, FIRST, last_as_of)
    }
    worked = {key: value for key, value in truth.items() if key in reported}
    assert len(reported) >= 60
    assert reported == worked
    # a collaboration without a row never worked on its campaign, and sold nothing
    assert all(value == (0, 0) for key, value in truth.items() if key not in reported)
