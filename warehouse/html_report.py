"""The weekly report as one self-contained HTML page, for a brand analyst.

Grain: one document per (week_start, as_of). It opens offline anywhere: the CSS is inline, the
charts are inline SVG drawn here, there is no script and no external URL (not even the SVG
namespace, which HTML5 does not need), and a Content-Security-Policy forbids loading anything.
Handles are user data: every text goes through ``escape``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape

import polars as pl

Tiers = Sequence[tuple[str, int, int | None]]

# (recommendation, heading, what it means for the analyst, colour)
RECOMMENDATIONS = (
    ("move_on", "Move on", "Left the micro tier in the last 4 weeks.", "#c0392b"),
    ("review", "Review", "A follower jump with no lift in interactions.", "#d68910"),
    ("watch", "Watch", "Projected out of micro within 12 weeks, or fell to nano.", "#2874a6"),
    ("keep", "Keep", "Stable in their tier.", "#1e8449"),
)
RECOMMENDATION_ORDER = {name: order for order, (name, *_) in enumerate(RECOMMENDATIONS)}
# Okabe-Ito's colour-blind-safe hues first; the rest only tell apart series 7 to 10.
PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#d55e00",
    "#56b4e9",
    "#7f3c8d",
    "#6b8e23",
    "#8c564b",
    "#17becf",
)
CHART_WIDTH = 960
MAX_TRAJECTORIES = 10
MAX_DOTS_PER_TIER = 400
TOP_MATCHES_CHARTED = 5
TOP_MATCHES_LISTED = 10
LEADERS_PER_TIER = 5
MAX_WATCH_ROWS = 100
SUMMARY_HANDLES = 8
# Platforms in the order the report lays them side by side; others follow by name.
PLATFORM_ORDER = ("instagram", "youtube", "tiktok")
PLATFORM_SHORT = {"instagram": "IG", "youtube": "YT", "tiktok": "TT"}


def render_weekly_report(
    week_start: dt.date,
    as_of: dt.date,
    engagement: pl.DataFrame,
    audience_match: pl.DataFrame,
    drift: pl.DataFrame,
    trajectories: pl.DataFrame,
    tiers: Tiers,
    campaigns: pl.DataFrame | None = None,
) -> str:
    """One HTML document: header, drift summary, the platforms side by side, three charts, three
    tables, and the campaigns (a chart and the verdicts) when ``campaigns`` has rows.

    The frames have the columns of ``rpt_weekly_engagement``, ``rpt_audience_match`` and
    ``rpt_tier_drift`` plus ``handle``; ``trajectories`` is one row per (platform, account_id,
    snapshot_date) with ``handle`` and ``followers``; ``campaigns`` has the columns of
    ``rpt_campaign_performance``. ``tiers`` are (name, lower bound, upper bound or None),
    smallest first. Any frame may be empty.
    """
    year, week, _ = week_start.isocalendar()
    week_end = week_start + dt.timedelta(days=6)
    title = f"Influencer report {year}-W{week:02d}"
    platforms = _platforms(engagement, audience_match, drift, trajectories)
    sections = [
        "<header>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="dates">Week of {_long_date(week_start)} to {_long_date(week_end)}'
        f" &middot; figures as of {_long_date(as_of)}</p>",
        f'<p class="counts">{_counts_line(engagement, audience_match, drift)}</p>',
        "</header>",
        _summary(drift, platforms),
        _platforms_table(platforms, engagement, audience_match, drift, tiers),
        _figure(
            "Who is outgrowing the micro tier",
            _trajectories_chart(
                trajectories, drift, _micro_upper_bound(tiers), several=len(platforms) > 1
            ),
            "Daily followers over the last 8 weeks of the accounts drifting towards (or already "
            "past) the micro tier's upper bound, on a logarithmic axis. The dashed line is the "
            "bound: a creator above it has turned macro.",
        ),
        _figure(
            "Engagement rate by tier",
            _engagement_chart(engagement, tiers, platforms),
            "Each dot is an account's engagement rate this week (interactions per follower, "
            "averaged over its posts); the box spans the middle half of its tier, the bar is the "
            "median. Compare accounts with their own tier on their own platform: rates fall as "
            "audiences grow, and each platform counts interactions its own way.",
        ),
        _figure(
            "Best audience matches per brand",
            _match_chart(audience_match),
            "Match score (0-100): how much of the account's audience falls in the brand's target "
            "audience, dimension by dimension. Only accounts of the tiers the brand recruits "
            "from are scored.",
        ),
        _drift_table(drift),
        _matches_table(audience_match),
        _leaders_table(engagement, tiers),
    ]
    if campaigns is not None and not campaigns.is_empty():
        sections += [
            _figure(
                "Campaigns: who sells",
                _campaigns_chart(campaigns, tiers),
                "Each dot is a creator in a campaign: revenue attributed to them (promo code or "
                "tracked link) per 1,000 followers they had at its start, against return on the "
                "fee (ROAS). Above the line the creator paid for themselves; further right, their "
                "audience bought more for its size.",
            ),
            _campaigns_table(campaigns),
        ]
    return _document(title, "\n".join(sections))


def _document(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


STYLE = """
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --rule: #d9dee3; --bg: #f7f8fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; }
p { margin: 4px 0; }
.dates { font-size: 16px; }
.counts, .note, figcaption { color: var(--muted); font-size: 13px; }
.summary { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin-top: 16px; }
.card { background: #fff; border: 1px solid var(--rule); border-top: 5px solid var(--accent);
  border-radius: 6px; padding: 12px 14px; }
.card .count { font-size: 30px; font-weight: 700; color: var(--accent); line-height: 1.1; }
.card .label { font-weight: 600; }
.card .meaning { color: var(--muted); font-size: 12.5px; margin-bottom: 6px; }
.card .handles { font-size: 13px; overflow-wrap: anywhere; }
.card .platforms { color: var(--muted); font-size: 12px; margin-top: 6px; }
table.platforms th.platform { text-align: right; color: var(--ink); font-size: 13.5px; }
table.platforms td.num .muted { color: var(--muted); font-size: 11.5px; }
table.platforms tr.group td { font-weight: 600; color: var(--muted); background: #fafbfc; }
figure { background: #fff; border: 1px solid var(--rule); border-radius: 6px;
  margin: 24px 0 0; padding: 16px; }
figure h2 { margin: 0 0 4px; }
figcaption { margin-bottom: 8px; }
svg.chart { display: block; width: 100%; height: auto; font-family: inherit; }
svg.chart text { fill: var(--ink); font-size: 12px; }
svg.chart .axis text, svg.chart .muted { fill: var(--muted); font-size: 11px; }
svg.chart .grid { stroke: #e6e9ed; stroke-width: 1; }
svg.chart .empty { font-size: 16px; fill: var(--muted); }
svg.chart .halo { paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
section.table { background: #fff; border: 1px solid var(--rule); border-radius: 6px;
  margin: 24px 0 0; padding: 16px; }
section.table h2 { margin: 0 0 4px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; margin-top: 8px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--rule); text-align: left;
  vertical-align: top; }
th { font-weight: 600; color: var(--muted); background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.handle { overflow-wrap: anywhere; min-width: 9em; font-weight: 600; }
.scroll { overflow-x: auto; }
td.nowrap { white-space: nowrap; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; color: #fff;
  font-size: 12px; font-weight: 600; white-space: nowrap; }
.flag { color: #d68910; font-weight: 600; }
@media (max-width: 760px) { .summary { grid-template-columns: repeat(2, 1fr); } }
@media print { body { background: #fff; } figure, section.table { break-inside: avoid; } }
"""


# -- header and summary ----------------------------------------------------------------------


def _counts_line(
    engagement: pl.DataFrame, audience_match: pl.DataFrame, drift: pl.DataFrame
) -> str:
    accounts = max(engagement.height, drift.height)
    brands = 0 if audience_match.is_empty() else audience_match["brand_id"].n_unique()
    return (
        f"{accounts:,} accounts tracked &middot; {brands} brand{'s' if brands != 1 else ''} scored"
    )


def _summary(drift: pl.DataFrame, platforms: Sequence[str]) -> str:
    by_recommendation: dict[str, list[str]] = {name: [] for name, *_ in RECOMMENDATIONS}
    per_platform: dict[tuple[str, str], int] = {}
    if not drift.is_empty():
        for row in drift.sort("handle", nulls_last=True).iter_rows(named=True):
            by_recommendation.setdefault(row["recommendation"], []).append(_handle(row))
            key = (row["recommendation"], row["platform"])
            per_platform[key] = per_platform.get(key, 0) + 1
    cards = []
    for name, heading, meaning, colour in RECOMMENDATIONS:
        handles = by_recommendation[name]
        split = (
            '<div class="platforms">'
            + " &middot; ".join(
                f"{escape(platform)} {per_platform.get((name, platform), 0)}"
                for platform in platforms
            )
            + "</div>"
            if len(platforms) > 1
            else ""
        )
        if name == "keep":
            listed = ""
        else:
            shown = ", ".join(escape(handle) for handle in handles[:SUMMARY_HANDLES])
            more = len(handles) - SUMMARY_HANDLES
            listed = shown + (f" and {more} more" if more > 0 else "") if handles else "nobody"
        cards.append(
            f'<div class="card" style="--accent: {colour}">'
            f'<div class="count">{len(handles)}</div>'
            f'<div class="label">{escape(heading)}</div>'
            f'<div class="meaning">{escape(meaning)}</div>'
            f'<div class="handles">{listed}</div>{split}</div>'
        )
    note = "" if not drift.is_empty() else '<p class="note">No tier drift rows this week.</p>'
    return (
        '<section class="summary-section"><h2>This week: keep, watch, review or move on</h2>'
        f'{note}<div class="summary">{"".join(cards)}</div></section>'
    )


def _figure(heading: str, chart: str, caption: str) -> str:
    return (
        f"<figure><h2>{escape(heading)}</h2><figcaption>{escape(caption)}</figcaption>"
        f"{chart}</figure>"
    )


# -- the platforms side by side --------------------------------------------------------------


def _platforms(*frames: pl.DataFrame) -> list[str]:
    """The platforms the week has rows for: Instagram, YouTube, TikTok, then others by name."""
    present: set[str] = set()
    for frame in frames:
        if not frame.is_empty():
            present.update(str(platform) for platform in frame["platform"].unique().to_list())
    return sorted(
        present,
        key=lambda platform: (
            PLATFORM_ORDER.index(platform) if platform in PLATFORM_ORDER else len(PLATFORM_ORDER),
            platform,
        ),
    )


def _platforms_table(
    platforms: Sequence[str],
    engagement: pl.DataFrame,
    audience_match: pl.DataFrame,
    drift: pl.DataFrame,
    tiers: Tiers,
) -> str:
    """One column per platform: what the week holds, each tier's median rate, the actions."""
    heading = "Platforms side by side"
    if not platforms:
        return (
            f'<section class="table"><h2>{heading}</h2>'
            '<p class="note">No platform has rows this week.</p></section>'
        )

    def of(frame: pl.DataFrame, platform: str) -> pl.DataFrame:
        return frame.filter(pl.col("platform") == platform) if not frame.is_empty() else frame

    rows: list[tuple[str, list[str]]] = []
    groups: list[tuple[int, str]] = []
    rows.append(
        (
            "Accounts tracked",
            [_integer(_accounts(of(engagement, p), of(drift, p))) for p in platforms],
        )
    )
    rows.append(
        (
            "Posts this week",
            [
                _integer(of(engagement, p)["posts"].sum()) if not engagement.is_empty() else "0"
                for p in platforms
            ],
        )
    )
    groups.append((len(rows), "Median engagement rate by tier (accounts with a rate)"))
    for tier, _, _ in tiers:
        cells = []
        for platform in platforms:
            rated = of(engagement, platform)
            if not rated.is_empty():
                rated = rated.filter(
                    (pl.col("tier") == tier) & pl.col("engagement_rate").is_not_null()
                )
            median = None if rated.is_empty() else rated["engagement_rate"].median()
            cells.append(
                "\u2013"
                if median is None
                else f'{_percent(median)} <span class="muted">({rated.height})</span>'
            )
        rows.append((tier, cells))
    if not engagement.is_empty() and "views_per_follower" in engagement.columns:
        rows.append(
            (
                "Median views per follower",
                [_number(of(engagement, p)["views_per_follower"].median(), 2) for p in platforms],
            )
        )
    groups.append((len(rows), "This week's actions"))
    for name, label, _, _ in RECOMMENDATIONS:
        if name == "keep":
            continue
        rows.append(
            (
                label,
                [
                    _integer(
                        0
                        if drift.is_empty()
                        else of(drift, p).filter(pl.col("recommendation") == name).height
                    )
                    for p in platforms
                ],
            )
        )
    groups.append((len(rows), "Audience match"))
    rows.append(("Best match score", [_best_match(of(audience_match, p)) for p in platforms]))
    rows.append(
        (
            "Scored accounts with no audience data",
            [_integer(_without_audience(of(audience_match, p))) for p in platforms],
        )
    )

    head = "<th></th>" + "".join(
        f'<th class="platform">{escape(platform)}</th>' for platform in platforms
    )
    body = []
    group_at = dict(groups)
    for index, (label, cells) in enumerate(rows):
        if index in group_at:
            body.append(
                f'<tr class="group"><td colspan="{len(platforms) + 1}">'
                f"{escape(group_at[index])}</td></tr>"
            )
        body.append(
            f"<tr><th>{escape(label)}</th>"
            + "".join(f'<td class="num">{cell}</td>' for cell in cells)
            + "</tr>"
        )
    return (
        f'<section class="table"><h2>{heading}</h2><p class="note">Tiers, medians and ranks are '
        "computed within each platform, never across: read a creator against its own "
        "platform's column. Followers are Instagram followers, YouTube subscribers, TikTok "
        "followers.</p>"
        f'<div class="scroll"><table class="platforms"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _accounts(engagement: pl.DataFrame, drift: pl.DataFrame) -> int:
    keys = [frame.select("account_id") for frame in (engagement, drift) if not frame.is_empty()]
    return pl.concat(keys)["account_id"].n_unique() if keys else 0


def _best_match(audience_match: pl.DataFrame) -> str:
    if audience_match.is_empty():
        return "\u2013"
    best = audience_match.sort(
        "match_score", "brand_id", "account_id", descending=[True, False, False]
    ).row(0, named=True)
    return (
        f'{_number(best["match_score"], 1)} <span class="muted">'
        f"({escape(_handle(best))} for {escape(str(best['brand_id']))})</span>"
    )


def _without_audience(audience_match: pl.DataFrame) -> int:
    """Accounts scored with none of the targeted dimensions' audience data (TikTok's Display
    API reports no audience, for one)."""
    if audience_match.is_empty():
        return 0
    # overlap_<dimension> is NULL for a dimension the brand does not target: no data at all
    # means every targeted dimension is listed missing.
    targeted = pl.sum_horizontal(
        pl.col(column).is_not_null().cast(pl.Int32)
        for column in audience_match.columns
        if column.startswith("overlap_")
    )
    blind = audience_match.filter(
        (targeted > 0) & (pl.col("missing_dimensions").list.len() >= targeted)
    )
    return blind["account_id"].n_unique()


# -- SVG building blocks -----------------------------------------------------------------------


def _svg(chart: str, title: str, height: float, body: Iterable[str]) -> str:
    return (
        f'<svg class="chart" data-chart="{chart}" viewBox="0 0 {CHART_WIDTH} {height:.0f}" '
        f'width="{CHART_WIDTH}" height="{height:.0f}" role="img" '
        f'aria-labelledby="{chart}-title"><title id="{chart}-title">{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _no_data(chart: str, title: str) -> str:
    return _svg(
        chart,
        title,
        120,
        [_text(CHART_WIDTH / 2, 66, "No data this week", anchor="middle", css="empty")],
    )


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    css: str | None = None,
    weight: str | None = None,
    fill: str | None = None,
) -> str:
    attributes = f'x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"'
    if css:
        attributes += f' class="{css}"'
    if weight:
        attributes += f' font-weight="{weight}"'
    if fill:
        attributes += f' style="fill: {fill}"'
    return f"<text {attributes}>{escape(content)}</text>"


def _line(x1: float, y1: float, x2: float, y2: float, css: str = "grid", style: str = "") -> str:
    style_attribute = f' style="{style}"' if style else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" class="{css}"'
        f"{style_attribute}/>"
    )


@dataclass(frozen=True)
class _Scale:
    """Maps a value domain onto pixels, linearly or on a log10 axis."""

    low: float
    high: float
    start: float
    end: float
    log: bool = False

    def __call__(self, value: float) -> float:
        low, high, value = (
            (math.log10(self.low), math.log10(self.high), math.log10(max(value, 1e-12)))
            if self.log
            else (self.low, self.high, value)
        )
        share = (value - low) / (high - low) if high != low else 0.5
        return self.start + share * (self.end - self.start)


def _nice_step(low: float, high: float, count: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) cutting [low, high] in ~``count``."""
    raw_step = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw_step))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values inside [low, high], about ``count`` of them."""
    if high <= low:
        return [low]
    step = _nice_step(low, high, count)
    first = math.ceil(low / step - 1e-9) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _log_ticks(low: float, high: float) -> list[float]:
    """Ticks for a log axis: 1-2-5 per decade over a wide range; plain round numbers over a
    narrow one, where decades would leave most of the axis unlabelled."""
    if high / low < 20:
        return _nice_ticks(low, high, 6)
    return [
        m * 10**exponent
        for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        for m in (1, 2, 5)
        if low <= m * 10**exponent <= high
    ]


def _spread_labels(wanted: list[float], gap: float, top: float, bottom: float) -> list[float]:
    """Label positions near ``wanted`` (sorted ascending) at least ``gap`` apart within bounds."""
    placed: list[float] = []
    for y in wanted:
        placed.append(max(y, top, placed[-1] + gap) if placed else max(y, top))
    overflow = placed[-1] - bottom if placed else 0
    if overflow > 0:
        placed = [y - overflow for y in placed]
        for index in range(len(placed) - 2, -1, -1):
            placed[index] = min(placed[index], placed[index + 1] - gap)
    return placed


# -- chart 1: follower trajectories ----------------------------------------------------------


def _micro_upper_bound(tiers: Tiers) -> int | None:
    """The micro -> macro bound; by position (the second tier) if no tier is named micro."""
    for name, _, upper in tiers:
        if name == "micro":
            return upper
    return tiers[1][2] if len(tiers) > 1 else None


def _trajectories_chart(
    trajectories: pl.DataFrame, drift: pl.DataFrame, bound: int | None, *, several: bool
) -> str:
    chart, title = "trajectories", "Daily followers of drifting and drifted accounts"
    if trajectories.is_empty():
        return _no_data(chart, title)
    statuses = (
        {}
        if drift.is_empty()
        else {
            (row["platform"], row["account_id"]): row["status"]
            for row in drift.select("platform", "account_id", "status").iter_rows(named=True)
        }
    )
    latest = (
        trajectories.sort("snapshot_date")
        .group_by("platform", "account_id", maintain_order=True)
        .agg(pl.col("handle").last(), pl.col("followers").last().alias("latest"))
        .sort("latest", "account_id", descending=[True, False])
    )
    drawn = latest.head(MAX_TRAJECTORIES)
    series = trajectories.join(
        drawn.select("platform", "account_id"), on=["platform", "account_id"]
    )

    left, right, top, bottom = 70.0, CHART_WIDTH - 230.0, 30.0, 380.0
    height = bottom + 50
    followers = series["followers"].cast(pl.Float64).to_list()
    # The bound is always on the axis, so the reader sees how far below it the lines are.
    low = max(min(*followers, bound or math.inf), 1.0)
    high = max(*followers, bound or 0.0)
    y = _Scale(low / 1.08, high * 1.08, bottom, top, log=True)
    first_day, last_day = series["snapshot_date"].min(), series["snapshot_date"].max()
    assert isinstance(first_day, dt.date) and isinstance(last_day, dt.date)
    days = max((last_day - first_day).days, 1)
    x = _Scale(0, days, left, right)

    body = ['<g class="axis">']
    for tick in _log_ticks(y.low, y.high):
        body.append(_line(left, y(tick), right, y(tick)))
        body.append(_text(left - 8, y(tick) + 4, _compact(tick), anchor="end"))
    step = 7 if days <= 70 else 14
    monday = first_day + dt.timedelta(days=(7 - first_day.weekday()) % 7)
    for offset in range((monday - first_day).days, days + 1, step):
        tick_x = x(offset)
        body.append(_line(tick_x, top, tick_x, bottom))
        body.append(
            _text(
                tick_x, bottom + 18, _short_date(first_day + dt.timedelta(offset)), anchor="middle"
            )
        )
    body.append(_text(10, top - 14, "followers (log scale)"))
    body.append("</g>")

    if bound:
        body.append(
            _line(
                left,
                y(bound),
                right,
                y(bound),
                css="bound",
                style="stroke: #c0392b; stroke-width: 1.5; stroke-dasharray: 6 4",
            )
        )
        body.append(
            _text(
                left + 6,
                y(bound) - 6,
                f"{_compact(bound)} followers: micro \u2192 macro",
                css="halo",
                fill="#c0392b",
                weight="600",
            )
        )

    ends: list[tuple[float, str, str]] = []
    for index, row in enumerate(drawn.iter_rows(named=True)):
        colour = PALETTE[index % len(PALETTE)]
        points = series.filter(
            (pl.col("platform") == row["platform"]) & (pl.col("account_id") == row["account_id"])
        ).sort("snapshot_date")
        coordinates = [
            (x((day - first_day).days), y(followers))
            for day, followers in points.select("snapshot_date", "followers").iter_rows()
        ]
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{px:.1f},{py:.1f}" for i, (px, py) in enumerate(coordinates)
        )
        status = statuses.get((row["platform"], row["account_id"]))
        handle = row["handle"] or row["account_id"]
        if several:  # the platform's short name: a handle may be on two platforms
            handle_label = f"{_truncate(handle, 14)} {_short(row['platform'])}"
        else:
            handle_label = _truncate(handle, 18)
        label = f"{handle_label} \u00b7 {status}" if status else _truncate(handle, 26)
        body.append(
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-linejoin="round"><title>{escape(handle)} ({escape(row["platform"])}): '
            f"{_compact(row['latest'])} followers</title></path>"
        )
        end_x, end_y = coordinates[-1]
        body.append(f'<circle cx="{end_x:.1f}" cy="{end_y:.1f}" r="3" fill="{colour}"/>')
        ends.append((end_y, label, colour))

    ends.sort()
    label_ys = _spread_labels([end_y for end_y, _, _ in ends], 14, top + 4, bottom)
    for (end_y, label, colour), label_y in zip(ends, label_ys, strict=True):
        body.append(
            _line(
                right + 4, end_y, right + 12, label_y - 4, css="leader", style=f"stroke: {colour}"
            )
        )
        body.append(_text(right + 15, label_y, label, css="halo", fill=colour, weight="600"))

    hidden = latest.height - drawn.height
    if hidden > 0:
        body.append(
            _text(
                left,
                height - 8,
                f"{hidden} more accounts not drawn: the {drawn.height} "
                "with the most followers are shown",
                css="muted",
            )
        )
    return _svg(chart, title, height, body)


# -- chart 2: engagement rate by tier --------------------------------------------------------


def _engagement_chart(engagement: pl.DataFrame, tiers: Tiers, platforms: Sequence[str]) -> str:
    """A box of dots per tier; with several platforms, a panel per platform side by side on
    one axis, each tier in the same colour in every panel."""
    chart, title = "engagement-by-tier", "Engagement rate by tier"
    rated = (
        engagement.filter(pl.col("engagement_rate").is_not_null())
        if not engagement.is_empty()
        else engagement
    )
    if rated.is_empty():
        return _no_data(chart, title)
    panels = [
        (platform, groups)
        for platform in platforms
        if (groups := _tier_groups(rated.filter(pl.col("platform") == platform), tiers))
    ]
    several = len(panels) > 1
    left, right, bottom = 70.0, CHART_WIDTH - 20.0, 370.0
    top = 58.0 if several else 30.0
    height = bottom + 72
    highest = rated["engagement_rate"].max()
    assert isinstance(highest, float)
    step = _nice_step(0.0, max(highest, 1e-4) * 100)
    ticks = [i * step for i in range(math.ceil(max(highest, 1e-4) * 100 / step - 1e-9) + 1)]
    y = _Scale(0.0, ticks[-1] / 100, bottom, top)

    body = ['<g class="axis">']
    for tick in ticks:
        body.append(_line(left, y(tick / 100), right, y(tick / 100)))
        body.append(_text(left - 8, y(tick / 100) + 4, f"{tick:g} %", anchor="end"))
    body.append(_text(10, top - 14 if not several else 18, "engagement rate"))
    body.append("</g>")

    tier_colour = {name: PALETTE[index % len(PALETTE)] for index, (name, _, _) in enumerate(tiers)}
    gap = 0.5  # between panels, in columns
    slots = sum(len(groups) for _, groups in panels) + gap * (len(panels) - 1)
    column = (right - left) / slots
    cursor = left
    for number, (platform, groups) in enumerate(panels):
        panel_left, panel_right = cursor, cursor + column * len(groups)
        if several:
            if number:
                separator_x = panel_left - column * gap / 2
                body.append(
                    _line(
                        separator_x,
                        20,
                        separator_x,
                        bottom + 60,
                        css="panel",
                        style="stroke: #c3cad2; stroke-width: 1",
                    )
                )
            body.append(
                _text(
                    (panel_left + panel_right) / 2,
                    40,
                    platform,
                    anchor="middle",
                    weight="700",
                    css="platform",
                )
            )
        for index, (tier, frame) in enumerate(groups):
            centre = panel_left + column * (index + 0.5)
            colour = tier_colour.get(tier, PALETTE[(len(tier_colour) + index) % len(PALETTE)])
            body.extend(_tier_box(frame, tier, centre, column, colour, y, bottom))
        cursor = panel_right + column * gap
    return _svg(chart, title, height, body)


def _tier_box(
    frame: pl.DataFrame,
    tier: str,
    centre: float,
    column: float,
    colour: str,
    y: _Scale,
    bottom: float,
) -> list[str]:
    """One tier's box (the middle half), its dots, its median bar and its labels."""
    body = []
    rates = frame["engagement_rate"]
    q1, median, q3 = (rates.quantile(q, "linear") for q in (0.25, 0.5, 0.75))
    assert q1 is not None and median is not None and q3 is not None
    box = min(column * 0.55, 120)
    body.append(
        f'<rect x="{centre - box / 2:.1f}" y="{y(q3):.1f}" width="{box:.1f}" '
        f'height="{max(y(q1) - y(q3), 1):.1f}" fill="{colour}" fill-opacity="0.12" '
        f'stroke="{colour}" stroke-opacity="0.5"/>'
    )
    shown = _sample_evenly(frame.sort("engagement_rate", descending=True), MAX_DOTS_PER_TIER)
    jitter_width = box * 0.9
    for dot, row in enumerate(shown.iter_rows(named=True)):
        # The golden-ratio sequence spreads dots evenly and the same way on every render.
        offset = ((dot * 0.6180339887) % 1.0 - 0.5) * jitter_width
        body.append(
            f'<circle cx="{centre + offset:.1f}" cy="{y(row["engagement_rate"]):.1f}" r="3" '
            f'fill="{colour}" fill-opacity="0.6"><title>{escape(_handle(row))} '
            f"({escape(str(row['platform']))}): {_percent(row['engagement_rate'])}</title></circle>"
        )
    body.append(
        _line(
            centre - box / 2 - 6,
            y(median),
            centre + box / 2 + 6,
            y(median),
            css="median",
            style="stroke: #1f2933; stroke-width: 3",
        )
    )
    body.append(_text(centre, bottom + 20, tier, anchor="middle", weight="700"))
    # "median 3.42 %" needs ~85 px; in a narrower column the bar and the caption say median.
    median_label = f"median {_percent(median)}" if column >= 90 else _percent(median)
    body.append(_text(centre, bottom + 37, median_label, anchor="middle"))
    if column >= 90:
        count = f"{frame.height} account{'s' if frame.height != 1 else ''}"
    else:
        count = f"n = {frame.height}"
    if frame.height > MAX_DOTS_PER_TIER:
        count += f" ({MAX_DOTS_PER_TIER} dots)"
    body.append(_text(centre, bottom + 53, count, anchor="middle", css="muted"))
    return body


def _tier_groups(frame: pl.DataFrame, tiers: Tiers) -> list[tuple[str, pl.DataFrame]]:
    """(tier, rows) of one platform, in tier order; tiers the platform has no rows of are left
    out."""
    order = {name: position for position, (name, _, _) in enumerate(tiers)}
    present = sorted(
        {str(tier) for tier in frame["tier"].unique().to_list()},
        key=lambda tier: (order.get(tier, len(order)), tier),
    )
    return [(tier, frame.filter(pl.col("tier") == tier)) for tier in present]


def _sample_evenly(frame: pl.DataFrame, limit: int) -> pl.DataFrame:
    if frame.height <= limit:
        return frame
    return frame.gather_every(math.ceil(frame.height / limit))


# -- chart 3: match scores per brand ---------------------------------------------------------


def _match_chart(audience_match: pl.DataFrame) -> str:
    chart, title = "match-scores", "Top audience match scores per brand"
    if audience_match.is_empty():
        return _no_data(chart, title)
    left, right = 220.0, CHART_WIDTH - 150.0
    brand_gap, row_height = 34.0, 22.0
    x = _Scale(0.0, 100.0, left, right)
    top = 30.0
    brands = sorted(audience_match["brand_id"].unique().to_list())
    rows_drawn = sum(
        min(audience_match.filter(pl.col("brand_id") == brand).height, TOP_MATCHES_CHARTED)
        for brand in brands
    )
    bottom = top + brand_gap * len(brands) + row_height * rows_drawn
    body = ['<g class="axis">']
    for tick in (0, 25, 50, 75, 100):
        body.append(_line(x(tick), top - 6, x(tick), bottom))
        body.append(_text(x(tick), top - 12, f"{tick}", anchor="middle"))
    body.append(_text(left - 10, top - 12, "match score", anchor="end"))
    body.append("</g>")

    cursor = top
    for index, brand in enumerate(brands):
        colour = PALETTE[index % len(PALETTE)]
        best = (
            audience_match.filter(pl.col("brand_id") == brand)
            .sort("rank")
            .head(TOP_MATCHES_CHARTED)
        )
        body.append(_text(10, cursor + 22, brand, weight="700", fill=colour))
        cursor += brand_gap
        for row in best.iter_rows(named=True):
            score = float(row["match_score"])
            handle = _handle(row)
            bar_y = cursor - row_height + 5
            body.append(_text(left - 10, cursor - 5, _truncate(handle, 28), anchor="end"))
            body.append(
                f'<rect x="{left:.1f}" y="{bar_y:.1f}" width="{max(x(score) - left, 1):.1f}" '
                f'height="{row_height - 7:.1f}" rx="2" fill="{colour}"><title>{escape(brand)} '
                f"\u2013 {escape(handle)}: {score:.1f}, "
                f"{_compact(row['reachable_target_audience'])} reachable</title></rect>"
            )
            body.append(
                _text(
                    x(score) + 6,
                    cursor - 5,
                    f"{score:.1f} \u00b7 {_compact(row['reachable_target_audience'])} reachable",
                    css="muted",
                )
            )
            cursor += row_height
    return _svg(chart, title, bottom + 14, body)


# -- tables ----------------------------------------------------------------------------------

# (heading, how to render a row's cell as HTML, CSS class of the column: "", "num", "handle"...)
Column = tuple[str, Callable[[dict[str, object]], str], str]


def _table(
    heading: str,
    caption: str,
    columns: Sequence[Column],
    rows: Iterable[dict[str, object]],
    empty: str,
) -> str:
    head = "".join(f'<th class="{css}">{escape(name)}</th>' for name, _, css in columns)
    body = [
        "<tr>"
        + "".join(f'<td class="{css}">{cell(row)}</td>' for _, cell, css in columns)
        + "</tr>"
        for row in rows
    ]
    content = (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
        if body
        else f'<p class="note">{escape(empty)}</p>'
    )
    return (
        f'<section class="table"><h2>{escape(heading)}</h2><p class="note">{escape(caption)}</p>'
        f"{content}</section>"
    )


def _drift_table(drift: pl.DataFrame) -> str:
    watched = (
        []
        if drift.is_empty()
        else sorted(
            (row for row in drift.iter_rows(named=True) if row["recommendation"] != "keep"),
            key=lambda row: (
                RECOMMENDATION_ORDER.get(row["recommendation"], len(RECOMMENDATION_ORDER)),
                row["weeks_to_next_tier"] if row["weeks_to_next_tier"] is not None else math.inf,
                _handle(row),
            ),
        )
    )
    colours = {name: colour for name, _, _, colour in RECOMMENDATIONS}
    columns: list[Column] = [
        (
            "Action",
            lambda row: (
                f'<span class="badge" style="background: '
                f'{colours.get(str(row["recommendation"]), "#616e7c")}">'
                f"{escape(str(row['recommendation']).replace('_', ' '))}</span>"
            ),
            "",
        ),
        ("Handle", lambda row: escape(_handle(row)), "handle"),
        *_platform_column(drift),
        ("Followers", lambda row: _integer(row["followers"]), "num"),
        (
            "Tier 4 weeks ago \u2192 now",
            lambda row: escape(f"{row['tier_4w_ago'] or '?'} \u2192 {row['tier']}"),
            "nowrap",
        ),
        ("Status", lambda row: escape(str(row["status"])), ""),
        ("Weeks to next tier", lambda row: _number(row["weeks_to_next_tier"], 1), "num"),
        ("Followers in 12 weeks", lambda row: _integer(row["projected_followers_12w"]), "num"),
        ("Growth per day", lambda row: _percent(row["daily_growth_rate"], 2), "num"),
        (
            "ER trend, pp per week",
            lambda row: _number(row["er_trend_pp_per_week"], 2, signed=True),
            "num",
        ),
        (
            "Follower jump",
            lambda row: '<span class="flag">yes</span>' if row["anomalous_growth"] else "",
            "",
        ),
    ]
    caption = (
        "Accounts to act on, most urgent first: move on (left micro), review (suspicious "
        "follower jump), watch (leaving micro within 12 weeks, or fell to nano)."
    )
    if len(watched) > MAX_WATCH_ROWS:
        caption += f" Showing the first {MAX_WATCH_ROWS} of {len(watched)}."
    return _table(
        "Drift watch-list",
        caption,
        columns,
        watched[:MAX_WATCH_ROWS],
        "Nobody to watch this week: every account is stable in its tier.",
    )


def _matches_table(audience_match: pl.DataFrame) -> str:
    rows = (
        []
        if audience_match.is_empty()
        else audience_match.filter(pl.col("rank") <= TOP_MATCHES_LISTED)
        .sort("brand_id", "rank")
        .to_dicts()
    )
    columns: list[Column] = [
        ("Brand", lambda row: escape(str(row["brand_id"])), ""),
        ("Rank", lambda row: _integer(row["rank"]), "num"),
        ("Handle", lambda row: escape(_handle(row)), "handle"),
        *_platform_column(audience_match),
        ("Match score", lambda row: _number(row["match_score"], 1), "num"),
        ("In-target share", lambda row: _percent(row["in_target_share"], 1), "num"),
        (
            "Reachable target audience",
            lambda row: _integer(row["reachable_target_audience"]),
            "num",
        ),
        ("No audience data for", lambda row: escape(_listing(row["missing_dimensions"])), ""),
    ]
    return _table(
        "Top matches per brand",
        f"The {TOP_MATCHES_LISTED} best-matching accounts of each brand. In-target share: the "
        "part of the audience inside every targeted dimension at once; reachable: that share "
        "of the followers.",
        columns,
        rows,
        "No audience match this week: no brand, or no account of the tiers they recruit from.",
    )


def _leaders_table(engagement: pl.DataFrame, tiers: Tiers) -> str:
    rows: list[dict[str, object]] = []
    if not engagement.is_empty():
        ranked = engagement.filter(
            pl.col("engagement_rate").is_not_null() & (pl.col("rank_in_tier") <= LEADERS_PER_TIER)
        )
        if not ranked.is_empty():
            for platform in _platforms(ranked):
                of_platform = ranked.filter(pl.col("platform") == platform)
                for _, frame in _tier_groups(of_platform, tiers):
                    rows.extend(frame.sort("rank_in_tier").to_dicts())
    columns: list[Column] = [
        ("Tier", lambda row: escape(str(row["tier"])), ""),
        ("Rank", lambda row: _integer(row["rank_in_tier"]), "num"),
        ("Handle", lambda row: escape(_handle(row)), "handle"),
        *_platform_column(engagement),
        ("Engagement rate", lambda row: _percent(row["engagement_rate"]), "num"),
        ("vs tier median", lambda row: _number(row["er_index"], 2, suffix="\u00d7"), "num"),
        ("Change, pp", lambda row: _number(row["er_change_pp"], 2, signed=True), "num"),
        ("Posts", lambda row: _integer(row["posts"]), "num"),
        ("Followers", lambda row: _integer(row["followers_end"]), "num"),
        (
            "Follower growth",
            lambda row: _number(row["follower_growth_pct"], 1, signed=True, suffix=" %"),
            "num",
        ),
    ]
    return _table(
        "Engagement leaders per tier",
        f"The {LEADERS_PER_TIER} highest engagement rates of each tier this week; "
        "vs tier median: the rate divided by the tier's median.",
        columns,
        rows,
        "No engagement rate this week: no post with a visible like count.",
    )


def _platform_column(frame: pl.DataFrame) -> list[Column]:
    """A platform column, only when the week has several platforms to tell apart."""
    if frame.is_empty() or frame["platform"].n_unique() < 2:
        return []
    return [("Platform", lambda row: escape(str(row["platform"])), "")]


# -- campaigns -------------------------------------------------------------------------------

# (verdict, what the analyst does about it, colour)
VERDICTS = (
    ("underdelivered", "chase: fewer posts than agreed", "#c0392b"),
    ("undisclosed", "chase: a post without #ad", "#d68910"),
    ("profitable", "keep: sold more than the fee", "#1e8449"),
    ("unprofitable", "drop: sold less than the fee", "#616e7c"),
)
MAX_CAMPAIGN_ROWS = 100


def _campaigns_chart(campaigns: pl.DataFrame, tiers: Tiers) -> str:
    chart, title = "campaigns", "Return on the fee against revenue per 1,000 followers"
    placed = campaigns.filter(
        pl.col("roas").is_not_null() & pl.col("revenue_per_1k_followers").is_not_null()
    )
    if placed.is_empty():
        return _no_data(chart, title)
    left, right, top, bottom = 70.0, CHART_WIDTH - 150.0, 30.0, 380.0
    height = bottom + 50
    highest_x = float(placed["revenue_per_1k_followers"].max() or 0.0)  # type: ignore[arg-type]
    highest_y = float(placed["roas"].max() or 0.0)  # type: ignore[arg-type]
    x_ticks = _nice_ticks(0.0, max(highest_x, 1e-6) * 1.05)
    y_ticks = _nice_ticks(0.0, max(highest_y, 1.0) * 1.05)
    x = _Scale(0.0, x_ticks[-1] + (x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1), left, right)
    y = _Scale(0.0, y_ticks[-1] + (y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1), bottom, top)
    body = ['<g class="axis">']
    for tick in y_ticks:
        body.append(_line(left, y(tick), right, y(tick)))
        body.append(_text(left - 8, y(tick) + 4, f"{tick:g}", anchor="end"))
    for tick in x_ticks:
        body.append(_line(x(tick), top, x(tick), bottom))
        body.append(_text(x(tick), bottom + 18, f"{tick:g}", anchor="middle"))
    body.append(_text(10, top - 14, "ROAS (revenue / fee)"))
    body.append(_text(right, bottom + 38, "revenue per 1,000 followers", anchor="end"))
    body.append("</g>")
    body.append(
        _line(
            left,
            y(1.0),
            right,
            y(1.0),
            css="breakeven",
            style="stroke: #1e8449; stroke-width: 1.5; stroke-dasharray: 6 4",
        )
    )
    body.append(_text(right + 6, y(1.0) + 4, "break-even", fill="#1e8449", weight="600"))
    colours = {name: PALETTE[index % len(PALETTE)] for index, (name, _, _) in enumerate(tiers)}
    for row in placed.sort("revenue_per_1k_followers").iter_rows(named=True):
        colour = colours.get(str(row["tier"]), "#616e7c")
        body.append(
            f'<circle cx="{x(row["revenue_per_1k_followers"]):.1f}" cy="{y(row["roas"]):.1f}" '
            f'r="5" fill="{colour}" fill-opacity="0.75" data-tier="{escape(str(row["tier"]))}">'
            f"<title>{escape(_handle(row))} ({escape(str(row['platform']))}, "
            f"{escape(str(row['tier']))}) in {escape(str(row['campaign_id']))}: ROAS "
            f"{_number(row['roas'], 2)}, {_number(row['revenue_per_1k_followers'], 2)} per 1k "
            f"followers</title></circle>"
        )
    legend_y = top + 10
    for name, _, _ in tiers:
        if name not in set(placed["tier"].to_list()):
            continue
        body.append(
            f'<circle cx="{right + 12:.1f}" cy="{legend_y + 30:.1f}" r="5" fill="{colours[name]}"/>'
        )
        body.append(_text(right + 22, legend_y + 34, name, weight="600"))
        legend_y += 18
    return _svg(chart, title, height, body)


def _campaigns_table(campaigns: pl.DataFrame) -> str:
    order = {name: position for position, (name, _, _) in enumerate(VERDICTS)}
    rows = sorted(
        campaigns.to_dicts(),
        key=lambda row: (
            order.get(str(row["verdict"]), len(order)),
            str(row["campaign_id"]),
            _handle(row),
        ),
    )
    colours = {name: colour for name, _, colour in VERDICTS}
    meaning = {name: text for name, text, _ in VERDICTS}
    columns: list[Column] = [
        (
            "Verdict",
            lambda row: (
                f'<span class="badge" style="background: '
                f'{colours.get(str(row["verdict"]), "#616e7c")}" '
                f'title="{escape(meaning.get(str(row["verdict"]), ""))}">'
                f"{escape(str(row['verdict']))}</span>"
            ),
            "",
        ),
        ("Campaign", lambda row: escape(str(row["campaign_id"])), ""),
        ("Handle", lambda row: escape(_handle(row)), "handle"),
        ("Platform", lambda row: escape(str(row["platform"])), ""),
        ("Tier", lambda row: escape(str(row["tier"] or "\u2013")), ""),
        ("Stage", lambda row: escape(str(row["stage"] or "\u2013")), ""),
        (
            "Posts / agreed",
            lambda row: f"{_integer(row['deliverables'])} / {_integer(row['posts_agreed'])}",
            "num",
        ),
        ("Disclosed", lambda row: _integer(row["deliverables_disclosed"]), "num"),
        ("Orders", lambda row: _integer(row["orders"]), "num"),
        ("Revenue", lambda row: _money(row["revenue"], row["currency"]), "num"),
        ("Fee", lambda row: _money(row["fee"], row["currency"]), "num"),
        ("ROAS", lambda row: _number(row["roas"], 2), "num"),
        ("Per 1k followers", lambda row: _number(row["revenue_per_1k_followers"], 2), "num"),
    ]
    caption = (
        "Every creator who worked on a campaign, the ones to chase first: underdelivered "
        "(fewer posts than agreed, campaign over), undisclosed (a post without #ad or "
        "#sponsored), then profitable (keep) and unprofitable (drop)."
    )
    if len(rows) > MAX_CAMPAIGN_ROWS:
        caption += f" Showing the first {MAX_CAMPAIGN_ROWS} of {len(rows)}."
    return _table(
        "Campaign verdicts", caption, columns, rows[:MAX_CAMPAIGN_ROWS], "No campaign this week."
    )


def _money(value: object, currency: object) -> str:
    if value is None:
        return "\u2013"
    return f"{float(value):,.2f} {escape(str(currency))}"  # type: ignore[arg-type]


# -- formatting ------------------------------------------------------------------------------


def _short(platform: object) -> str:
    return PLATFORM_SHORT.get(str(platform), str(platform))


def _handle(row: dict[str, object]) -> str:
    # handle is NULL for an account whose profile has not been seen under a name yet.
    return str(row.get("handle") or row.get("account_id") or "?")


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _long_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _short_date(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


def _compact(value: object) -> str:
    """Follower counts as people say them: 950, 12.3k, 1.2M."""
    if not isinstance(value, int | float):
        return "\u2013"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            scaled = value / limit
            return f"{scaled:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.0f}"


def _integer(value: object) -> str:
    return f"{value:,.0f}" if isinstance(value, int | float) else "\u2013"


def _number(value: object, digits: int, *, signed: bool = False, suffix: str = "") -> str:
    if not isinstance(value, int | float) or math.isnan(value):
        return "\u2013"
    return f"{value:{'+' if signed else ''}.{digits}f}{escape(suffix)}"


def _percent(value: object, digits: int = 2) -> str:
    if not isinstance(value, int | float) or math.isnan(value):
        return "\u2013"
    return f"{value * 100:.{digits}f} %"


def _listing(value: object) -> str:
    if isinstance(value, list | tuple | pl.Series):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)
