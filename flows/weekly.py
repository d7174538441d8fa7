"""The weekly reports flow: engagement, audience match and tier drift for one ISO week.

It rebuilds only the requested week's rows (and the audience match of its as-of date), in one
commit of the lake (one snapshot, labelled with the week), so re-running a week leaves the report
tables identical and the cost does not grow with the years of history kept. Each run leaves
Prefect artifacts (a markdown summary and tables) and a self-contained HTML report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows.nightly import warehouse_writer
from flows.settings import Settings, load_settings
from sources.programme import read_brand_file, read_campaigns
from warehouse.crashpoints import crash_point
from warehouse.html_report import render_weekly_report
from warehouse.lake import LakeLocation, lake_connection
from warehouse.outputs import read_week_outputs
from warehouse.programme import latest_programme_load, load_programme
from warehouse.reports import (
    Tier,
    build_weekly_reports,
    default_as_of,
    iso_week_start,
    tiers_from_bounds,
)

TOP_ROWS = 10
RECOMMENDATION_ORDER = ("move_on", "review", "watch", "keep")


@dataclass
class WeeklyReportSummary:
    """What a weekly run built, for the command line and the flow's return value."""

    week_start: dt.date
    as_of: dt.date
    rows: dict[str, int]
    html_path: str
    lake: str
    recommendations: dict[str, list[str]] = field(default_factory=dict)
    top_matches: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    engagement_leaders: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    # keep / chase / drop -> "handle (campaign)" of the collaborations behind each call
    campaign_calls: dict[str, list[str]] = field(default_factory=dict)


def week_start_for(week: str | None) -> dt.date:
    """The Monday of ``week`` (``2026-W47``), or of the last full week before the run's start."""
    if week:
        return iso_week_start(week)
    scheduled = flow_run.scheduled_start_time
    started = scheduled if scheduled is not None else dt.datetime.now(dt.UTC)
    today = started.astimezone(dt.UTC).date()
    return today - dt.timedelta(days=today.weekday() + 7)


def iso_week_label(week_start: dt.date) -> str:
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def _flow_run_name() -> str:
    week = flow_run.parameters.get("week")
    return f"weekly-reports-{iso_week_label(week_start_for(week))}"


def tiers_from(settings: Settings) -> tuple[Tier, ...]:
    return tiers_from_bounds(settings.tier_bounds)


@task(cache_policy=NO_CACHE)
def build_reports(
    lake: LakeLocation,
    brands_path: Path,
    campaigns_dir: Path,
    week_start: dt.date,
    as_of: dt.date,
    tiers: tuple[Tier, ...],
) -> tuple[dict[str, int], dict[str, pl.DataFrame]]:
    """Load the campaign files as of ``as_of`` in a commit of their own, then the brand file and
    the week's reports in one commit, and read back what the outputs show.

    Both files are judged before anything is written. A week rebuilt after later loads of the
    campaign files leaves them as they are: their stage history only runs forward.
    """
    brands = read_brand_file(brands_path)
    campaigns = read_campaigns(campaigns_dir, brands)
    run = {"flow_run_id": str(flow_run.id) if flow_run.id else None}
    with lake_connection(lake) as connection:
        latest = latest_programme_load(connection)
        if latest is None or as_of >= latest:
            load_programme(connection, campaigns, as_of, {"flow": "weekly-reports", **run})
        else:
            get_run_logger().warning(
                "campaign files not loaded: the stage history already runs to %s, after %s",
                latest,
                as_of,
            )
        rows = build_weekly_reports(connection, week_start, as_of, tiers, brands=brands, run=run)
        outputs = read_week_outputs(connection, week_start, as_of)
    return rows, outputs


@task(cache_policy=NO_CACHE)
def write_html_report(
    reports_dir: Path,
    week_start: dt.date,
    as_of: dt.date,
    outputs: dict[str, pl.DataFrame],
    tiers: tuple[Tier, ...],
) -> Path:
    """Write the week's self-contained HTML report; return its path."""
    html = render_weekly_report(
        week_start,
        as_of,
        outputs["engagement"],
        outputs["audience_match"],
        outputs["drift"],
        outputs["trajectories"],
        [(t.name, t.min_followers, t.max_followers) for t in tiers],
        outputs["campaigns"],
    )
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / f"weekly-{iso_week_label(week_start)}.html"
    path.write_text(html, encoding="utf-8")
    return path


@task(cache_policy=NO_CACHE)
def publish_artifacts(summary: WeeklyReportSummary, outputs: dict[str, pl.DataFrame]) -> None:
    """Markdown summary and table artifacts in Prefect, for the analyst opening the run."""
    label = iso_week_label(summary.week_start)
    key = label.lower()
    create_markdown_artifact(
        key=f"weekly-summary-{key}",
        markdown=summary_markdown(summary),
        description=f"Who to keep, watch, review or move on in {label}",
    )
    for name, frame, columns in (
        ("tier-drift", outputs["drift"].filter(pl.col("recommendation") != "keep"), DRIFT_COLUMNS),
        (
            "audience-match",
            outputs["audience_match"].filter(pl.col("rank") <= TOP_ROWS),
            MATCH_COLUMNS,
        ),
        ("campaigns", outputs["campaigns"], CAMPAIGN_COLUMNS),
        (
            "engagement",
            outputs["engagement"].filter(pl.col("rank_in_tier") <= 5),
            ENGAGEMENT_COLUMNS,
        ),
    ):
        create_table_artifact(
            key=f"{name}-{key}",
            table=_jsonable(frame.select(columns)),
            description=f"{name.replace('-', ' ')} for {label}",
        )


def summarize_week(
    week_start: dt.date,
    as_of: dt.date,
    rows: dict[str, int],
    outputs: dict[str, pl.DataFrame],
    html_path: Path,
    lake: str,
) -> WeeklyReportSummary:
    """Who to keep, watch, review or move on; the best matches; the engagement leaders."""
    drift = outputs["drift"]
    recommendations = {
        recommendation: drift.filter(pl.col("recommendation") == recommendation)
        .sort("handle")["handle"]
        .to_list()
        for recommendation in RECOMMENDATION_ORDER
    }
    match = outputs["audience_match"]
    top_matches = {
        brand: [
            (row["handle"], row["match_score"])
            for row in group.sort("rank").head(3).iter_rows(named=True)
        ]
        for (brand,), group in match.group_by("brand_id", maintain_order=True)
    }
    engagement = outputs["engagement"]
    # Ranks are within one platform's tier: leaders are listed per (platform, tier).
    leaders = {
        f"{platform} {tier}": [
            (row["handle"], row["engagement_rate"])
            for row in group.sort("rank_in_tier").head(3).iter_rows(named=True)
        ]
        for (platform, tier), group in engagement.filter(pl.col("engagement_rate").is_not_null())
        .sort("platform", "tier")
        .group_by("platform", "tier", maintain_order=True)
    }
    campaigns = outputs["campaigns"]
    campaign_calls = {
        call: [
            f"{row['handle']} ({row['campaign_id']})"
            for row in campaigns.filter(pl.col("verdict").is_in(verdicts))
            .sort("campaign_id", "handle")
            .iter_rows(named=True)
        ]
        for call, verdicts in CAMPAIGN_CALLS.items()
    }
    return WeeklyReportSummary(
        week_start=week_start,
        as_of=as_of,
        rows=rows,
        html_path=str(html_path),
        lake=lake,
        recommendations=recommendations,
        top_matches=top_matches,
        engagement_leaders=leaders,
        campaign_calls=campaign_calls,
    )


DRIFT_COLUMNS = [
    "handle",
    "followers",
    "tier",
    "tier_4w_ago",
    "weeks_to_next_tier",
    "anomalous_growth",
    "suspicious_growth",
    "status",
    "recommendation",
]
MATCH_COLUMNS = [
    "brand_id",
    "rank",
    "handle",
    "match_score",
    "in_target_share",
    "reachable_target_audience",
]
# What to do about a collaboration, by its verdict (REPORTS.md): keep the ones who sell, chase
# the ones who owe posts or a disclosure, drop the ones who do not pay for themselves.
CAMPAIGN_CALLS = {
    "keep": ("profitable",),
    "chase": ("underdelivered", "undisclosed"),
    "drop": ("unprofitable",),
}
CAMPAIGN_COLUMNS = [
    "campaign_id",
    "platform",
    "handle",
    "tier",
    "stage",
    "deliverables",
    "posts_agreed",
    "orders",
    "revenue",
    "fee",
    "roas",
    "verdict",
]
ENGAGEMENT_COLUMNS = [
    "tier",
    "rank_in_tier",
    "handle",
    "engagement_rate",
    "er_index",
    "posts",
    "followers_end",
]


def summary_markdown(summary: WeeklyReportSummary) -> str:
    """The week in a few lines, in the order an analyst acts on it."""
    label = iso_week_label(summary.week_start)
    lines = [f"# Influencer week {label} (as of {summary.as_of})", ""]
    lines += ["## Tier drift", ""]
    for recommendation in RECOMMENDATION_ORDER:
        handles = summary.recommendations.get(recommendation, [])
        shown = ", ".join(handles[:15]) + (
            f" and {len(handles) - 15} more" if len(handles) > 15 else ""
        )
        lines.append(f"- **{recommendation.replace('_', ' ')}** ({len(handles)}): {shown or '-'}")
    lines += ["", "## Best audience matches", ""]
    for brand, matches in summary.top_matches.items():
        shown = ", ".join(f"{handle} ({score:.0f})" for handle, score in matches)
        lines.append(f"- **{brand}**: {shown or '-'}")
    lines += ["", "## Campaigns: keep, chase or drop", ""]
    for call, collaborations in summary.campaign_calls.items():
        shown = ", ".join(collaborations[:15]) + (
            f" and {len(collaborations) - 15} more" if len(collaborations) > 15 else ""
        )
        lines.append(f"- **{call}** ({len(collaborations)}): {shown or '-'}")
    lines += ["", "## Engagement leaders per tier", ""]
    for tier, leaders in summary.engagement_leaders.items():
        shown = ", ".join(f"{handle} ({rate:.2%})" for handle, rate in leaders)
        lines.append(f"- **{tier}**: {shown}")
    lines += ["", f"HTML report: `{summary.html_path}`"]
    return "\n".join(lines)


def _jsonable(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows JSON can carry: dates in ISO form, money (decimals) as its exact text."""
    return [
        {
            k: (
                v.isoformat() if isinstance(v, dt.date) else str(v) if isinstance(v, Decimal) else v
            )
            for k, v in row.items()
        }
        for row in frame.iter_rows(named=True)
    ]


@flow(name="weekly-reports", flow_run_name=_flow_run_name, log_prints=True)
def weekly_reports(week: str | None = None, as_of: dt.date | None = None) -> WeeklyReportSummary:
    """Build the engagement, audience-match and tier-drift reports of one ISO week.

    Args:
        week: ISO week such as ``2026-W47``; default: the last full week before the run.
        as_of: posts are measured at their latest observation up to this date, audiences as of
            it; default: the day after the week ends.
    """
    settings = load_settings()
    week_start = week_start_for(week)
    report_as_of = as_of or default_as_of(week_start)
    tiers = tiers_from(settings)
    with warehouse_writer(settings.lake):
        rows, outputs = build_reports(
            settings.lake,
            settings.brands_path,
            settings.campaigns_dir,
            week_start,
            report_as_of,
            tiers,
        )
    crash_point("weekly.after_commit")
    html_path = write_html_report(settings.reports_dir, week_start, report_as_of, outputs, tiers)
    summary = summarize_week(
        week_start, report_as_of, rows, outputs, html_path, settings.lake.describe()
    )
    publish_artifacts(summary, outputs)
    get_run_logger().info(
        "built %s for %s (as of %s); HTML report %s",
        ", ".join(f"{count} {table}" for table, count in rows.items()),
        iso_week_label(week_start),
        report_as_of,
        html_path,
    )
    return summary
