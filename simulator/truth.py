"""The simulated world's ground truth, to score the detectors against: a CSV of platform,
handle, archetype and event date (the day of a bought or viral jump, or of a riser's or a
decliner's tier crossing; empty for steady creators and for those that never cross).

Each platform contributes its rows through one producer in `TRUTH_SOURCES`.

The campaigns' truth (`collaboration_truth`, `write_collaboration_truth`) is one row per
collaboration: the orders and revenue REPORTS.md's attribution rules give it among the orders the
simulated shop took in a period, and the deliverables its creator posted.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from simulator.campaigns import (
    CampaignPlan,
    Collaboration,
    SimulatedOrder,
    campaign_plan,
    eur_usd_rate,
    simulated_orders,
)
from simulator.tiktok import tiktok_truth_rows
from simulator.world import SimulatedWorld
from simulator.youtube import youtube_truth_rows

TRUTH_COLUMNS = ("platform", "handle", "archetype", "event_date")
COLLABORATION_TRUTH_COLUMNS = (
    "campaign_id",
    "platform",
    "handle",
    "true_orders",
    "true_revenue",
    "deliverables",
    "disclosed",
)


@dataclass(frozen=True)
class TruthRow:
    """One account of one platform and what really happened to it."""

    platform: str
    handle: str
    archetype: str
    event_date: date | None


TruthSource = Callable[[SimulatedWorld], Iterable[TruthRow]]


def instagram_truth(world: SimulatedWorld) -> Iterator[TruthRow]:
    """One row per Instagram creator, in the world's order."""
    for creator in world.creators:
        yield TruthRow(
            platform="instagram",
            handle=creator.handle,
            archetype=creator.archetype,
            event_date=world.event_date(creator.handle),
        )


def youtube_truth(world: SimulatedWorld) -> Iterator[TruthRow]:
    """One row per YouTube channel, as the roster names it."""
    yield from _truth_rows(youtube_truth_rows(world))


def tiktok_truth(world: SimulatedWorld) -> Iterator[TruthRow]:
    """One row per TikTok account, as the roster names it."""
    yield from _truth_rows(tiktok_truth_rows(world))


def _truth_rows(rows: Iterable[dict[str, str]]) -> Iterator[TruthRow]:
    for row in rows:
        yield TruthRow(
            platform=row["platform"],
            handle=row["handle"],
            archetype=row["archetype"],
            event_date=date.fromisoformat(row["event_date"]) if row["event_date"] else None,
        )


TRUTH_SOURCES: tuple[TruthSource, ...] = (instagram_truth, youtube_truth, tiktok_truth)


def write_truth(
    world: SimulatedWorld, path: Path | str, sources: Iterable[TruthSource] = TRUTH_SOURCES
) -> int:
    """Write the rows of every source as CSV (TRUTH_COLUMNS; dates YYYY-MM-DD, empty when
    there is none); returns the number of rows written."""
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as truth:
        writer = csv.writer(truth, lineterminator="\n")
        writer.writerow(TRUTH_COLUMNS)
        for source in sources:
            for row in source(world):
                event = row.event_date.isoformat() if row.event_date else ""
                writer.writerow((row.platform, row.handle, row.archetype, event))
                written += 1
    return written


@dataclass(frozen=True)
class CollaborationTruth:
    """What one collaboration really delivered and sold in a period of orders."""

    campaign_id: str
    platform: str
    handle: str
    true_orders: int
    true_revenue: Decimal  # sum of net amounts in the campaign's currency, rounded once to cents
    deliverables: int
    disclosed: int


def attributed_collaboration(plan: CampaignPlan, order: SimulatedOrder) -> Collaboration | None:
    """The collaboration REPORTS.md attributes ``order`` to, or None.

    Within [start_date, end_date + attribution_window_days] of the order's UTC date: one of its
    discount codes is a promo code of the campaign (case-insensitive), else its landing URL has
    the campaign's id as ``utm_campaign`` and a collaboration's ``utm_content``; a code beats a
    link, and of two campaigns the one whose start_date is latest wins.
    """
    day = order.ordered_at.date()
    codes = {code.upper() for code in order.discount_codes}
    by_code = [
        collaboration
        for collaboration in plan.collaborations
        if collaboration.promo_code
        and collaboration.promo_code.upper() in codes
        and _in_window(collaboration, day)
    ]
    matches = by_code
    if not matches:
        query = parse_qs(urlsplit(order.landing_site).query)
        campaigns, contents = query.get("utm_campaign", []), query.get("utm_content", [])
        matches = [
            collaboration
            for collaboration in plan.collaborations
            if collaboration.utm_content
            and collaboration.campaign_id in campaigns
            and collaboration.utm_content in contents
            and _in_window(collaboration, day)
        ]
    return max(matches, key=lambda c: (c.campaign.start_date, c.campaign_id), default=None)


def _in_window(collaboration: Collaboration, day: date) -> bool:
    return collaboration.campaign.start_date <= day <= collaboration.campaign.window_end


def collaboration_truth(world: SimulatedWorld, start: date, end: date) -> list[CollaborationTruth]:
    """One row per collaboration (in the plan's order): the orders of the UTC days
    ``start``..``end`` attributed to it, their net revenue converted to the campaign's currency
    at the rate of the order's UTC date (exact, rounded once to cents), and its deliverables
    (posts on its platform in the campaign's dates, published by ``end``) and disclosed ones."""
    plan = campaign_plan(world)
    orders: dict[int, int] = {}
    revenue: dict[int, Decimal] = {}
    for numbered in simulated_orders(world, start, end):
        order = numbered.order
        owner = attributed_collaboration(plan, order)
        if owner is None:
            continue
        net = order.net_amount * _rate(order, owner.campaign.currency)
        orders[id(owner)] = orders.get(id(owner), 0) + 1
        revenue[id(owner)] = revenue.get(id(owner), Decimal(0)) + net
    rows = []
    for collaboration in plan.collaborations:
        posted = [d for d in collaboration.deliverables if d.published_at.date() <= end]
        rows.append(
            CollaborationTruth(
                campaign_id=collaboration.campaign_id,
                platform=collaboration.platform,
                handle=collaboration.handle,
                true_orders=orders.get(id(collaboration), 0),
                true_revenue=revenue.get(id(collaboration), Decimal(0)).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                ),
                deliverables=len(posted),
                disclosed=sum(d.disclosed for d in posted),
            )
        )
    return rows


def _rate(order: SimulatedOrder, currency: str) -> Decimal:
    if order.currency == currency:
        return Decimal(1)
    if (order.currency, currency) == ("EUR", "USD"):
        return eur_usd_rate(order.ordered_at.date())
    raise ValueError(f"the simulated shop has no rate from {order.currency} to {currency}")


def write_collaboration_truth(
    world: SimulatedWorld, path: Path | str, start: date, end: date
) -> int:
    """Write `collaboration_truth` as CSV (COLLABORATION_TRUTH_COLUMNS); returns the rows."""
    rows = collaboration_truth(world, start, end)
    with open(path, "w", newline="", encoding="utf-8") as truth:
        writer = csv.writer(truth, lineterminator="\n")
        writer.writerow(COLLABORATION_TRUTH_COLUMNS)
        for row in rows:
            writer.writerow(
                (
                    row.campaign_id,
                    row.platform,
                    row.handle,
                    row.true_orders,
                    f"{row.true_revenue:.2f}",
                    row.deliverables,
                    row.disclosed,
                )
            )
    return len(rows)
