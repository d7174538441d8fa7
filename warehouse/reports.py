"""The three weekly analyst reports of REPORTS.md, built inside the warehouse by SQL.

Each report is one SELECT in ``warehouse/sql/<table>.sql`` (package data), run with the DuckDB
named parameters ``$week_start`` (the ISO week's Monday) and ``$as_of`` (posts are measured at
their latest observation up to it, audiences and followers as of it); the campaign tables also
get ``$campaigns_start`` and ``$campaigns_end``, the span of every campaign's window:

- ``rpt_weekly_engagement`` — one row per (platform, account_id, week_start);
- ``rpt_audience_match`` — one row per (brand_id, platform, account_id, as_of_date);
- ``rpt_tier_drift`` — one row per (platform, account_id, week_start).

The per-account weekly engagement is written once, as the table macro
``weekly_engagement_rates(first_week, last_week, last_as_of)`` created by migration
``002_reports.sql``: ``rpt_weekly_engagement`` reads two weeks of it (this one and the previous,
for ``er_change_pp``), ``rpt_tier_drift`` eight (for ``er_trend_pp_per_week``).
``rpt_tier_drift`` is built a bucket of accounts at a time (``ACCOUNTS_PER_BUCKET``), with the
macro's ``bucket`` and ``buckets`` (migration ``013_engagement_rates_by_bucket.sql``), so its
memory does not grow with the roster. Every week but
the last is measured as of its own default as-of date, so a report never depends on which weeks
were built before, and analysts can call the macro themselves.

Choices where REPORTS.md is silent:

- The weekly reports have a row for every account with at least one snapshot in the week; the
  audience match for every account with a snapshot in the 28 days up to the as-of date.
- A snapshot stands in for a later date for at most 28 days (followers at a post, tier 4 weeks
  ago, the snapshot before a follower delta, followers in the audience match). Together with the
  56-day growth window and the 90-day audience window this bounds every scan of the fact tables
  to dates derived from the parameters, so a week costs the same after years of history.
- A post counts in ``posts`` once it has an observation up to the as-of date; a post with zero
  followers at post time is left out of the rate like one with none. ``interactions`` is 0 when no
  post is in the rate. ``rank_in_tier`` is NULL for an account without an engagement rate.
- Tiers count by position: in ``rpt_tier_drift``'s status rules "micro" is the second configured
  tier, "nano" the first and "macro or mega" any tier above the second.
- ``overlap_<dimension>`` is NULL for a dimension the brand does not target; a targeted dimension
  without audience data has overlap 0, is listed in ``missing_dimensions`` and makes
  ``in_target_share`` 0 (its share in target is unknown, counted as none). Audience match ranks
  run across platforms; ``platform`` breaks a tie on ``account_id``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import duckdb

from schemas.vocabulary import DEFAULT_TIER_BOUNDS, TIER_NAMES
from warehouse.brands import BrandFrames, replace_brands
from warehouse.crashpoints import crash_point
from warehouse.snapshots import commit

REPORT_TABLES = ("rpt_weekly_engagement", "rpt_audience_match", "rpt_tier_drift")
ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Tier:
    """A follower tier: accounts with ``min_followers <= followers < max_followers``.

    ``max_followers`` is None for the last tier, which has no upper bound.
    """

    name: str
    min_followers: int
    max_followers: int | None


def tiers_from_bounds(lower_bounds: Sequence[int]) -> tuple[Tier, ...]:
    """The vocabulary's tiers, each from its lower bound to the next one's (the first from 0)."""
    starts = [0, *lower_bounds]
    ends: list[int | None] = [*lower_bounds, None]
    return tuple(
        Tier(name, start, end) for name, start, end in zip(TIER_NAMES, starts, ends, strict=True)
    )


DEFAULT_TIERS: tuple[Tier, ...] = tiers_from_bounds(DEFAULT_TIER_BOUNDS)


@dataclass(frozen=True)
class _Report:
    table: str
    # The column whose run value a rebuild replaces: a week, or the as-of date; None: the
    # whole table.
    replaced_by: str | None
    # DuckDB refuses named parameters a statement does not use, so each report lists its own.
    parameters: tuple[str, ...]
    # Built a bucket of accounts at a time ($bucket of $buckets): every figure of the report is
    # an account's own, so its memory follows a bucket's accounts, not the roster.
    in_buckets: bool = False


_REPORTS = (
    _Report("rpt_weekly_engagement", "week_start", ("week_start", "as_of")),
    _Report("rpt_audience_match", "as_of_date", ("as_of",)),
    _Report("rpt_tier_drift", "week_start", ("week_start", "as_of"), in_buckets=True),
    # The campaign reports (REPORTS.md "Campaigns and sales"), in this order: deliverables from
    # the captions of the collaborators' posts in their campaigns, then each collaboration, then
    # the tiers summing it.
    _Report("fact_deliverable", None, ("campaigns_start", "campaigns_end")),
    _Report("rpt_campaign_performance", "as_of_date", ("as_of", "campaigns_start")),
    _Report("rpt_campaign_tiers", "as_of_date", ("as_of",)),
)
# Accounts per bucket of a report built in buckets. rpt_tier_drift's eight weeks of
# weekly_engagement_rates held 3.4 GiB for 100,000 accounts in one statement, and DuckDB cannot
# spill all of it to disk. Each bucket reads the weeks' facts again, so smaller buckets cost
# time: at 100,000 accounts the weekly build took 39-42 s and 1.56 GiB in buckets of 25,000,
# 48.3 s and 1.47 GiB in buckets of 12,500 (which run under a 2 GB memory limit; 25,000 need 3).
ACCOUNTS_PER_BUCKET = 25_000
_BUCKET_PARAMETER = re.compile(r"\$(buckets|bucket)\b")
# Orders attributed to a collaboration but in a currency with no rate to the campaign's on their
# date: left out of the revenue, and quarantined so that someone adds the rate.
UNCONVERTIBLE_ORDERS = """
select
    'campaigns' as source,
    'order' as entity,
    cast($as_of as date) as partition_date,
    $run_id as run_id,
    to_json({
        shop: shop, order_id: order_id, ordered_at: ordered_at, currency: currency,
        net_amount: net_amount, campaign_id: campaign_id, platform: platform,
        account_id: account_id
    }) as raw_record,
    [format(
        'no fx_rate from {} to {} on {}: add it to the rates file (influencers orders '
        'fx-rates FILE) and rebuild the week',
        currency, campaign_currency, cast(ordered_at as date)
    )] as failed_checks,
    'fact_order' as landed_file,
    0 as line_number
from attributed_orders($as_of)
where revenue is null
order by shop, order_id
"""


def iso_week_start(week: str) -> dt.date:
    """The Monday of an ISO week written like ``2026-W47``."""
    match = ISO_WEEK.match(week)
    if not match:
        raise ValueError(f"week {week!r} is not an ISO week: write it like 2026-W47")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        return dt.date.fromisocalendar(year, number, 1)
    except ValueError:
        last_week = dt.date(year, 12, 28).isocalendar().week
        raise ValueError(
            f"week {week!r} does not exist: {year} has ISO weeks W01 to W{last_week}"
        ) from None


def default_as_of(week_start: dt.date) -> dt.date:
    """The day after the week ends: every post of the week has had a night to be observed."""
    return week_start + dt.timedelta(days=7)


def validate_tiers(tiers: Sequence[Tier]) -> None:
    """Refuse tiers that do not split [0, ∞) into contiguous, increasing, named ranges."""
    if not tiers:
        raise ValueError("no tiers given: give at least one, e.g. the REPORTS.md defaults")
    names = [tier.name for tier in tiers]
    for position, tier in enumerate(tiers):
        label = f"tier {tier.name!r} (position {position + 1})"
        if not tier.name.strip():
            raise ValueError(f"tier at position {position + 1} has no name")
        if names.count(tier.name) > 1:
            raise ValueError(f"{label}: the name is used by more than one tier")
        if position == 0 and tier.min_followers != 0:
            raise ValueError(
                f"{label} starts at {tier.min_followers} followers: the first tier must start "
                "at 0 so that every account has a tier"
            )
        if position > 0:
            previous = tiers[position - 1]
            if tier.min_followers != previous.max_followers:
                raise ValueError(
                    f"{label} starts at {tier.min_followers} followers but tier "
                    f"{previous.name!r} before it ends at {previous.max_followers}: tiers must be "
                    "contiguous"
                )
        is_last = position == len(tiers) - 1
        if is_last and tier.max_followers is not None:
            raise ValueError(
                f"{label} ends at {tier.max_followers} followers: the last tier must have no "
                "upper bound (max_followers=None)"
            )
        if not is_last and tier.max_followers is None:
            raise ValueError(
                f"{label} has no upper bound but is not the last tier: only the last may be "
                "unbounded"
            )
        if tier.max_followers is not None and tier.max_followers <= tier.min_followers:
            raise ValueError(
                f"{label} ends at {tier.max_followers} followers, not above its start "
                f"{tier.min_followers}: tiers must be increasing"
            )


def _account_buckets(connection: duckdb.DuckDBPyConnection) -> int:
    """How many buckets of about ``ACCOUNTS_PER_BUCKET`` accounts the lake's accounts make."""
    (accounts,) = connection.execute("select count(*) from dim_influencer").fetchone() or (0,)
    return max(1, -(-int(accounts) // ACCOUNTS_PER_BUCKET))


def _with_bucket(sql: str, bucket: int, buckets: int) -> str:
    """``sql`` with ``$bucket`` and ``$buckets`` written in as numbers.

    As parameters they keep DuckDB from folding the filter and from pruning the facts' files by
    date: a bucket of rpt_tier_drift took 28 s instead of 7 s (25,000 of 100,000 accounts).
    """
    numbers = {"bucket": int(bucket), "buckets": int(buckets)}
    return _BUCKET_PARAMETER.sub(lambda found: str(numbers[found[1]]), sql)


def report_sql(table: str) -> str:
    """The SELECT of one report table, as shipped in ``warehouse/sql/<table>.sql``."""
    return (
        resources.files("warehouse")
        .joinpath("sql", f"{table}.sql")
        .read_text(encoding="utf-8")
        .strip()
        .rstrip(";")
    )


def build_weekly_reports(
    connection: duckdb.DuckDBPyConnection,
    week_start: dt.date,
    as_of: dt.date | None = None,
    tiers: Sequence[Tier] = DEFAULT_TIERS,
    brands: BrandFrames | None = None,
    run: dict[str, Any] | None = None,
) -> dict[str, int]:
    """Rebuild the reports of the ISO week starting ``week_start``; return rows per table.

    Replaces the brand tables with ``brands`` (when given), ``dim_tier`` with ``tiers``, the
    week's rows of ``rpt_weekly_engagement`` and ``rpt_tier_drift`` and the ``as_of`` rows of
    ``rpt_audience_match``, in one commit labelled ``weekly <week>`` with ``run``: re-running a
    week leaves the tables identical, and other weeks' rows are not touched.
    """
    if week_start.weekday() != 0:
        raise ValueError(
            f"week_start {week_start} is a {week_start:%A}, not a Monday: pass the Monday of the "
            f"ISO week ({week_start - dt.timedelta(days=week_start.weekday())})"
        )
    report_as_of = default_as_of(week_start) if as_of is None else as_of
    if report_as_of < week_start:
        raise ValueError(
            f"as_of {report_as_of} is before the week starting {week_start}: no post of the week "
            "can have been observed by then"
        )
    validate_tiers(tiers)
    values = {"week_start": week_start, "as_of": report_as_of}
    run_values = {"week_start": week_start, "as_of_date": report_as_of}
    rows: dict[str, int] = {}
    year, week, _ = week_start.isocalendar()
    label = f"{year}-W{week:02d}"
    with commit(
        connection, f"weekly {label}", {"flow": "weekly-reports", "week": label, **(run or {})}
    ):
        if brands is not None:
            replace_brands(connection, brands)
        connection.execute("delete from dim_tier")
        connection.executemany(
            "insert into dim_tier (tier, min_followers, max_followers, tier_order)"
            " values (?, ?, ?, ?)",
            [
                [tier.name, tier.min_followers, tier.max_followers, order]
                for order, tier in enumerate(tiers, start=1)
            ],
        )
        # The span of all campaigns' windows bounds the campaign reports' scans of dim_post and
        # fact_post_metrics, so they cost what the campaigns need, not what the history holds.
        values["campaigns_start"], values["campaigns_end"] = connection.execute(
            "select min(start_date), max(end_date) from dim_campaign"
        ).fetchone() or (None, None)
        for report in _REPORTS:
            if report.replaced_by is None:
                connection.execute(f"delete from {report.table}")
            else:
                connection.execute(
                    f"delete from {report.table} where {report.replaced_by} = ?",
                    [run_values[report.replaced_by]],
                )
            sql = report_sql(report.table)
            buckets = _account_buckets(connection) if report.in_buckets else 1
            rows[report.table] = 0
            for bucket in range(buckets):
                inserted = connection.execute(
                    f"insert into {report.table} by name {_with_bucket(sql, bucket, buckets)}",
                    {name: values[name] for name in report.parameters},
                ).fetchall()
                rows[report.table] += int(inserted[0][0])
            crash_point("weekly.after_report")
        connection.execute(
            "delete from quarantine where source = 'campaigns' and partition_date = ?",
            [report_as_of],
        )
        connection.execute(
            f"insert into quarantine by name {UNCONVERTIBLE_ORDERS}",
            {"as_of": report_as_of, "run_id": f"weekly {label}"},
        )
    return rows
