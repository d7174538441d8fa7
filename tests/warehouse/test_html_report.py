import datetime as dt
import itertools
import math
import random
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from warehouse.html_report import render_weekly_report

WEEK = dt.date(2026, 11, 16)
PLATFORMS = ("instagram", "youtube", "tiktok")
AS_OF = dt.date(2026, 11, 23)
TIERS: list[tuple[str, int, int | None]] = [
    ("nano", 0, 10_000),
    ("micro", 10_000, 100_000),
    ("macro", 100_000, 1_000_000),
    ("mega", 1_000_000, None),
]
CHARTS = ("trajectories", "engagement-by-tier", "match-scores")
CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
NASTY_HANDLE = '<b onmouseover="steal()">tom&jerry</b>'

ENGAGEMENT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "handle": pl.String,
    "platform": pl.String,
    "account_id": pl.String,
    "week_start": pl.Date,
    "as_of_date": pl.Date,
    "followers_start": pl.Int64,
    "followers_end": pl.Int64,
    "follower_growth_pct": pl.Float64,
    "posts": pl.Int64,
    "interactions": pl.Int64,
    "engagement_rate": pl.Float64,
    "tier": pl.String,
    "tier_median_er": pl.Float64,
    "er_index": pl.Float64,
    "er_change_pp": pl.Float64,
    "rank_in_tier": pl.Int32,
}
MATCH_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "handle": pl.String,
    "brand_id": pl.String,
    "platform": pl.String,
    "account_id": pl.String,
    "as_of_date": pl.Date,
    "overlap_age": pl.Float64,
    "overlap_gender": pl.Float64,
    "overlap_country": pl.Float64,
    "overlap_city": pl.Float64,
    "overlap_interest": pl.Float64,
    "match_score": pl.Float64,
    "missing_dimensions": pl.List(pl.String),
    "in_target_share": pl.Float64,
    "reachable_target_audience": pl.Int64,
    "rank": pl.Int32,
}
DRIFT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "handle": pl.String,
    "platform": pl.String,
    "account_id": pl.String,
    "week_start": pl.Date,
    "as_of_date": pl.Date,
    "followers": pl.Int64,
    "tier": pl.String,
    "tier_4w_ago": pl.String,
    "daily_growth_rate": pl.Float64,
    "projected_followers_12w": pl.Float64,
    "weeks_to_next_tier": pl.Float64,
    "er_trend_pp_per_week": pl.Float64,
    "anomalous_growth": pl.Boolean,
    "status": pl.String,
    "recommendation": pl.String,
}
TRAJECTORY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "platform": pl.String,
    "account_id": pl.String,
    "handle": pl.String,
    "snapshot_date": pl.Date,
    "followers": pl.Int64,
}


@dataclass
class Element:
    tag: str
    attributes: dict[str, str]
    children: list["Element"] = field(default_factory=list)
    text: str = ""

    def find_all(self, tag: str) -> list["Element"]:
        found = [self] if self.tag == tag else []
        for child in self.children:
            found.extend(child.find_all(tag))
        return found

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)


class TreeBuilder(HTMLParser):
    VOID = {"meta", "br", "img", "link", "input", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        while self.stack[-1].tag != tag:
            self.stack.pop()
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].text += data


def parse(html: str) -> Element:
    builder = TreeBuilder()
    builder.feed(html)
    return builder.root


def charts(page: Element) -> dict[str, Element]:
    return {
        svg.attributes["data-chart"]: svg
        for svg in page.find_all("svg")
        if "chart" in svg.attributes.get("class", "").split()
    }


def section(page: Element, heading: str) -> Element:
    for candidate in page.find_all("section"):
        headings = candidate.find_all("h2")
        if headings and headings[0].all_text() == heading:
            return candidate
    raise AssertionError(f"no section headed {heading!r}")


def table_rows(page: Element, heading: str) -> list[list[str]]:
    return [
        [cell.all_text() for cell in row.find_all("td")]
        for row in section(page, heading).find_all("tr")
        if row.find_all("td")
    ]


# -- small frames for the unit tests ---------------------------------------------------------


def engagement(rows: list[tuple[str, str, float | None, int | None]]) -> pl.DataFrame:
    """(handle, tier, engagement_rate, rank_in_tier) rows of one platform and week."""
    return pl.DataFrame(
        [
            {
                "handle": handle,
                "platform": "instagram",
                "account_id": f"id-{handle}",
                "week_start": WEEK,
                "as_of_date": AS_OF,
                "followers_start": 50_000,
                "followers_end": 50_500,
                "follower_growth_pct": 1.0,
                "posts": 4,
                "interactions": 3_000,
                "engagement_rate": rate,
                "tier": tier,
                "tier_median_er": 0.02,
                "er_index": None if rate is None else rate / 0.02,
                "er_change_pp": 0.1,
                "rank_in_tier": rank,
            }
            for handle, tier, rate, rank in rows
        ],
        schema=ENGAGEMENT_SCHEMA,
    )


def audience_match(rows: list[tuple[str, str, float, int]]) -> pl.DataFrame:
    """(brand_id, handle, match_score, rank) rows."""
    return pl.DataFrame(
        [
            {
                "handle": handle,
                "brand_id": brand,
                "platform": "instagram",
                "account_id": f"id-{handle}",
                "as_of_date": AS_OF,
                "overlap_age": 0.7,
                "overlap_gender": 0.8,
                "overlap_country": 0.5,
                "overlap_city": None,
                "overlap_interest": None,
                "match_score": score,
                "missing_dimensions": [],
                "in_target_share": 0.3,
                "reachable_target_audience": 15_000,
                "rank": rank,
            }
            for brand, handle, score, rank in rows
        ],
        schema=MATCH_SCHEMA,
    )


def drift(rows: list[tuple[str, int, str, str, str]]) -> pl.DataFrame:
    """(handle, followers, tier_4w_ago, status, recommendation) rows."""
    tiers = {"nano": 0, "micro": 10_000, "macro": 100_000, "mega": 1_000_000}
    return pl.DataFrame(
        [
            {
                "handle": handle,
                "platform": "instagram",
                "account_id": f"id-{handle}",
                "week_start": WEEK,
                "as_of_date": AS_OF,
                "followers": followers,
                "tier": max(
                    (t for t, low in tiers.items() if followers >= low), key=lambda t: tiers[t]
                ),
                "tier_4w_ago": before,
                "daily_growth_rate": 0.004,
                "projected_followers_12w": followers * math.exp(0.004 * 84),
                "weeks_to_next_tier": 6.5 if status == "drifting" else None,
                "er_trend_pp_per_week": -0.05,
                "anomalous_growth": recommendation == "review",
                "status": status,
                "recommendation": recommendation,
            }
            for handle, followers, before, status, recommendation in rows
        ],
        schema=DRIFT_SCHEMA,
    )


def trajectories(handles_and_followers: dict[str, list[int]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "platform": "instagram",
                "account_id": f"id-{handle}",
                "handle": handle,
                "snapshot_date": WEEK + dt.timedelta(days=6 - len(series) + 1 + day),
                "followers": followers,
            }
            for handle, series in handles_and_followers.items()
            for day, followers in enumerate(series)
        ],
        schema=TRAJECTORY_SCHEMA,
    )


def small_report(handle: str = "maya.bakes") -> str:
    return render_weekly_report(
        WEEK,
        AS_OF,
        engagement(
            [
                (handle, "micro", 0.021, 1),
                ("tomruns", "micro", 0.015, 2),
                ("lena.lifts", "micro", None, None),
                ("big.chef", "macro", 0.009, 1),
            ]
        ),
        audience_match(
            [
                ("glowco", handle, 81.5, 1),
                ("glowco", "tomruns", 64.0, 2),
                ("respawn", "tomruns", 40.0, 1),
            ]
        ),
        drift(
            [
                (handle, 96_000, "micro", "drifting", "watch"),
                ("big.chef", 140_000, "micro", "drifted", "move_on"),
                ("tomruns", 30_000, "micro", "stable", "keep"),
            ]
        ),
        trajectories({handle: [90_000, 93_000, 96_000], "big.chef": [98_000, 120_000, 140_000]}),
        TIERS,
    )


def test_the_three_charts_are_titled_inline_svgs_with_drawn_marks() -> None:
    page = parse(small_report())

    found = charts(page)

    assert sorted(found) == sorted(CHARTS)
    for name, svg in found.items():
        assert svg.children[0].tag == "title", name
        assert svg.children[0].all_text(), name
    assert len(found["trajectories"].find_all("path")) == 2
    assert len(found["engagement-by-tier"].find_all("circle")) == 3  # the NULL rate is not drawn
    assert len(found["match-scores"].find_all("rect")) == 3


def test_the_micro_to_macro_bound_is_drawn_and_labelled() -> None:
    trajectory_chart = charts(parse(small_report()))["trajectories"]

    texts = [text.all_text() for text in trajectory_chart.find_all("text")]

    assert "100k followers: micro \u2192 macro" in texts
    assert "maya.bakes \u00b7 drifting" in texts
    assert "big.chef \u00b7 drifted" in texts


def test_engagement_chart_shows_each_tiers_median() -> None:
    chart = charts(parse(small_report()))["engagement-by-tier"]

    texts = [text.all_text() for text in chart.find_all("text")]

    # under each tier's name: its median (micro: of 2.1 % and 1.5 %) and how many accounts
    assert texts[texts.index("micro") :][:3] == ["micro", "median 1.80 %", "2 accounts"]
    assert texts[texts.index("macro") :][:3] == ["macro", "median 0.90 %", "1 account"]
    assert texts.index("micro") < texts.index("macro")


def test_summary_sorts_accounts_into_keep_watch_review_move_on() -> None:
    page = parse(small_report())

    cards = {
        card.children[1].all_text(): (card.children[0].all_text(), card.children[3].all_text())
        for card in page.find_all("div")
        if card.attributes.get("class") == "card"
    }

    assert cards == {
        "Move on": ("1", "big.chef"),
        "Review": ("0", "nobody"),
        "Watch": ("1", "maya.bakes"),
        "Keep": ("1", ""),
    }


def test_tables_list_the_watch_list_top_matches_and_leaders() -> None:
    page = parse(small_report())

    assert [row[:2] for row in table_rows(page, "Drift watch-list")] == [
        ["move on", "big.chef"],
        ["watch", "maya.bakes"],
    ]
    assert [row[:4] for row in table_rows(page, "Top matches per brand")] == [
        ["glowco", "1", "maya.bakes", "81.5"],
        ["glowco", "2", "tomruns", "64.0"],
        ["respawn", "1", "tomruns", "40.0"],
    ]
    assert [row[:4] for row in table_rows(page, "Engagement leaders per tier")] == [
        ["micro", "1", "maya.bakes", "2.10 %"],
        ["micro", "2", "tomruns", "1.50 %"],
        ["macro", "1", "big.chef", "0.90 %"],
    ]


def test_handles_are_escaped_everywhere() -> None:
    html = small_report(handle=NASTY_HANDLE)

    assert "<b " not in html
    assert "steal()" in html
    assert "&lt;b onmouseover=&quot;steal()&quot;&gt;tom&amp;jerry&lt;/b&gt;" in html
    # and the parsed page shows the handle as text, never as markup
    assert not parse(html).find_all("b")


def test_the_page_loads_nothing_from_anywhere() -> None:
    html = small_report()

    assert "http://" not in html and "https://" not in html
    assert re.search(r"\b(?:src|href|xlink:href)\s*=", html) is None
    assert "url(" not in html and "@import" not in html
    assert "<script" not in html
    assert "default-src 'none'" in html


@pytest.mark.parametrize(
    "empty",
    [
        pytest.param(lambda schema: pl.DataFrame(), id="no-columns"),
        pytest.param(lambda schema: pl.DataFrame(schema=schema), id="columns-no-rows"),
    ],
)
def test_empty_frames_give_a_report_that_says_so(
    empty: Callable[[dict[str, Any]], pl.DataFrame],
) -> None:
    html = render_weekly_report(
        WEEK,
        AS_OF,
        empty(ENGAGEMENT_SCHEMA),
        empty(MATCH_SCHEMA),
        empty(DRIFT_SCHEMA),
        empty(TRAJECTORY_SCHEMA),
        TIERS,
    )

    page = parse(html)
    found = charts(page)
    assert sorted(found) == sorted(CHARTS)
    for name, svg in found.items():
        assert "No data this week" in svg.all_text(), name
    assert "Nobody to watch this week" in section(page, "Drift watch-list").all_text()
    assert "No audience match this week" in section(page, "Top matches per brand").all_text()
    assert "Influencer report 2026-W47" in page.find_all("h1")[0].all_text()


def test_accounts_without_any_engagement_rate_show_no_data() -> None:
    html = render_weekly_report(
        WEEK,
        AS_OF,
        engagement([("hidden.likes", "micro", None, None)]),
        audience_match([]),
        drift([]),
        trajectories({}),
        TIERS,
    )

    assert "No data this week" in charts(parse(html))["engagement-by-tier"].all_text()


def on_platform(frame: pl.DataFrame, platform_of: dict[str, str]) -> pl.DataFrame:
    """The rows with their platform set per handle (instagram where not listed)."""
    return frame.with_columns(
        pl.col("handle").replace_strict(platform_of, default="instagram").alias("platform")
    )


def three_platform_report() -> str:
    platform_of = {"yt.chef": "youtube", "yt.runs": "youtube", "tt.dance": "tiktok"}
    blind_match = audience_match([("glowco", "tt.dance", 0.0, 2)]).with_columns(
        pl.lit(0.0).alias("overlap_age"),
        pl.lit(0.0).alias("overlap_gender"),
        pl.lit(0.0).alias("overlap_country"),
        pl.lit(["age", "gender", "country"]).alias("missing_dimensions"),
        pl.lit(0.0).alias("in_target_share"),
        pl.lit(0).cast(pl.Int64).alias("reachable_target_audience"),
    )
    return render_weekly_report(
        WEEK,
        AS_OF,
        on_platform(
            engagement(
                [
                    ("tt.dance", "micro", 0.081, 1),
                    ("yt.chef", "micro", 0.040, 1),
                    ("yt.runs", "micro", 0.030, 2),
                    ("maya.bakes", "micro", 0.021, 1),
                    ("tomruns", "micro", 0.015, 2),
                    ("big.chef", "macro", 0.009, 1),
                ]
            ),
            platform_of,
        ),
        on_platform(
            pl.concat([audience_match([("glowco", "maya.bakes", 81.5, 1)]), blind_match]),
            platform_of,
        ),
        on_platform(
            drift(
                [
                    ("tt.dance", 97_000, "micro", "drifting", "watch"),
                    ("yt.chef", 120_000, "micro", "drifted", "move_on"),
                    ("maya.bakes", 96_000, "micro", "drifting", "watch"),
                    ("tomruns", 30_000, "micro", "stable", "keep"),
                ]
            ),
            platform_of,
        ),
        on_platform(
            trajectories({"tt.dance": [90_000, 97_000], "maya.bakes": [93_000, 96_000]}),
            platform_of,
        ),
        TIERS,
    )


def test_the_platforms_stand_side_by_side_with_their_own_tiers_and_medians() -> None:
    page = parse(three_platform_report())

    platforms = section(page, "Platforms side by side")
    assert [cell.all_text() for cell in platforms.find_all("th")][1:4] == [
        "instagram",
        "youtube",
        "tiktok",
    ]
    rows = {
        row.find_all("th")[0].all_text(): [cell.all_text() for cell in row.find_all("td")]
        for row in platforms.find_all("tr")
        if row.find_all("th") and row.find_all("td")
    }
    assert rows["Accounts tracked"] == ["3", "2", "1"]
    # each platform's own micro median: 1.80 % of (2.1, 1.5); 3.50 % of (4.0, 3.0); 8.10 %
    assert rows["micro"] == ["1.80 % (2)", "3.50 % (2)", "8.10 % (1)"]
    assert rows["macro"] == ["0.90 % (1)", "\u2013", "\u2013"]
    assert rows["nano"] == ["\u2013", "\u2013", "\u2013"]
    assert rows["Move on"] == ["0", "1", "0"]
    assert rows["Watch"] == ["1", "0", "1"]
    assert rows["Best match score"] == [
        "81.5 (maya.bakes for glowco)",
        "\u2013",
        "0.0 (tt.dance for glowco)",
    ]
    assert rows["Scored accounts with no audience data"] == ["0", "0", "1"]


def test_the_engagement_chart_has_a_panel_per_platform_in_order() -> None:
    chart = charts(parse(three_platform_report()))["engagement-by-tier"]

    texts = [text.all_text() for text in chart.find_all("text")]

    headers = [text for text in texts if text in ("instagram", "youtube", "tiktok")]
    assert headers == ["instagram", "youtube", "tiktok"]
    # under each panel its tiers, each with the platform's own median
    assert texts[texts.index("youtube") :][:4] == [
        "youtube",
        "micro",
        "median 3.50 %",
        "2 accounts",
    ]
    assert texts[texts.index("tiktok") :][:4] == ["tiktok", "micro", "median 8.10 %", "1 account"]
    assert len(chart.find_all("rect")) == 4  # instagram micro and macro, youtube and tiktok micro


def test_the_summary_and_tables_tell_the_platforms_apart() -> None:
    page = parse(three_platform_report())

    cards = {
        card.children[1].all_text(): card.children[4].all_text()
        for card in page.find_all("div")
        if card.attributes.get("class") == "card"
    }
    assert cards["Watch"] == "instagram 1 \u00b7 youtube 0 \u00b7 tiktok 1"
    assert cards["Move on"] == "instagram 0 \u00b7 youtube 1 \u00b7 tiktok 0"
    leaders = [row[:4] for row in table_rows(page, "Engagement leaders per tier")]
    assert leaders == [
        ["micro", "1", "maya.bakes", "instagram"],
        ["micro", "2", "tomruns", "instagram"],
        ["macro", "1", "big.chef", "instagram"],
        ["micro", "1", "yt.chef", "youtube"],
        ["micro", "2", "yt.runs", "youtube"],
        ["micro", "1", "tt.dance", "tiktok"],
    ]
    trajectory_texts = [text.all_text() for text in charts(page)["trajectories"].find_all("text")]
    assert "tt.dance TT \u00b7 drifting" in trajectory_texts


# -- a realistic week, rendered in a real browser --------------------------------------------


def realistic_week() -> dict[str, pl.DataFrame]:
    """About 60 accounts of every tier on three platforms, a handful drifting out of micro,
    three brands."""
    rng = random.Random(47)
    words = ["maya", "tom", "lena", "jake", "zoe", "sam", "ana", "leo", "grace", "noah", "ines"]
    topics = ["bakes", "runs", "lifts", "travels", "games", "cooks", "styles", "codes", "reads"]
    tier_sizes = {
        "nano": (2_000, 9_500),
        "micro": (11_000, 95_000),
        "macro": (110_000, 900_000),
        "mega": (1_100_000, 3_000_000),
    }
    counts = {"nano": 14, "micro": 30, "macro": 12, "mega": 3}
    accounts = []
    for tier, count in counts.items():
        low, high = tier_sizes[tier]
        for _ in range(count):
            handle = f"{rng.choice(words)}.{rng.choice(topics)}{rng.randint(1, 99)}"
            followers = int(math.exp(rng.uniform(math.log(low), math.log(high))))
            typical = 0.018 * (followers / 30_000) ** -0.27
            accounts.append((handle, tier, followers, typical * math.exp(rng.gauss(0, 0.3))))
    accounts.append((NASTY_HANDLE, "micro", 42_000, 0.024))
    platform_of = {
        handle: PLATFORMS[index % len(PLATFORMS)] for index, (handle, *_) in enumerate(accounts)
    }

    engagement_rows: list[dict[str, object]] = []
    for platform, tier in itertools.product(PLATFORMS, counts):
        members = sorted(
            (a for a in accounts if a[1] == tier and platform_of[a[0]] == platform),
            key=lambda a: -a[3],
        )
        if not members:
            continue
        median = sorted(a[3] for a in members)[len(members) // 2]
        for rank, (handle, _, followers, rate) in enumerate(members, start=1):
            engagement_rows.append(
                {
                    "handle": handle,
                    "platform": platform,
                    "account_id": f"id-{handle}",
                    "week_start": WEEK,
                    "as_of_date": AS_OF,
                    "followers_start": int(followers / 1.01),
                    "followers_end": followers,
                    "follower_growth_pct": 1.0,
                    "posts": rng.randint(2, 6),
                    "interactions": int(rate * followers * 4),
                    "engagement_rate": rate,
                    "tier": tier,
                    "tier_median_er": median,
                    "er_index": rate / median,
                    "er_change_pp": rng.uniform(-0.4, 0.4),
                    "rank_in_tier": rank,
                }
            )

    # (handle, followers 8 weeks ago, daily growth, day of a bought-follower jump)
    movers = [
        ("sofia.fitlife", 62_000, 0.0075, None),
        ("chef.marco", 66_000, 0.0052, None),
        ("lena.lifts7", 74_000, 0.0041, None),
        ("gamer.jay", 58_000, 0.0021, 34),
        ("zoe.travels", 88_000, 0.0098, None),
        ("maya.glow", 93_000, 0.0121, None),
        (NASTY_HANDLE, 70_000, 0.0043, None),
    ]
    drift_rows: list[dict[str, object]] = []
    trajectory_rows: list[dict[str, object]] = []
    for handle, start, growth, jump_day in movers:
        series = []
        level = float(start)
        for day in range(56):
            level *= math.exp(growth + rng.gauss(0, 0.002))
            if day == jump_day:
                level *= 1.18
            series.append(int(level))
        for day, followers_that_day in enumerate(series):
            trajectory_rows.append(
                {
                    "platform": platform_of.get(handle, "youtube"),
                    "account_id": f"id-{handle}",
                    "handle": handle,
                    "snapshot_date": WEEK + dt.timedelta(days=6 - 55 + day),
                    "followers": followers_that_day,
                }
            )
        latest = series[-1]
        # REPORTS.md's rules: past the bound is drifted (move on); a follower jump is reviewed
        # before it is watched.
        tier = "macro" if latest >= 100_000 else "micro"
        status = "drifted" if tier == "macro" else "drifting"
        recommendation = {"drifted": "move_on", "drifting": "watch"}[status]
        if jump_day is not None and status == "drifting":
            recommendation = "review"
        drift_rows.append(
            {
                "handle": handle,
                "platform": platform_of.get(handle, "youtube"),
                "account_id": f"id-{handle}",
                "week_start": WEEK,
                "as_of_date": AS_OF,
                "followers": latest,
                "tier": tier,
                "tier_4w_ago": "micro",
                "daily_growth_rate": growth,
                "projected_followers_12w": latest * math.exp(growth * 84),
                "weeks_to_next_tier": (
                    math.log(100_000 / latest) / growth / 7 if tier == "micro" else None
                ),
                "er_trend_pp_per_week": rng.uniform(-0.2, 0.05),
                "anomalous_growth": jump_day is not None,
                "status": status,
                "recommendation": recommendation,
            }
        )
    for handle, tier, followers, _ in accounts[:40]:
        drift_rows.append(
            {
                "handle": handle,
                "platform": platform_of.get(handle, "youtube"),
                "account_id": f"id-{handle}",
                "week_start": WEEK,
                "as_of_date": AS_OF,
                "followers": followers,
                "tier": tier,
                "tier_4w_ago": tier,
                "daily_growth_rate": 0.0004,
                "projected_followers_12w": followers * 1.03,
                "weeks_to_next_tier": None,
                "er_trend_pp_per_week": 0.0,
                "anomalous_growth": False,
                "status": "stable",
                "recommendation": "keep",
            }
        )

    match_rows: list[dict[str, object]] = []
    for brand in ("glowco", "peakform", "respawn"):
        candidates = rng.sample([a for a in accounts if a[1] == "micro"], 12)
        scored = sorted(((rng.uniform(35, 92), a) for a in candidates), key=lambda s: -s[0])
        for rank, (score, (handle, _, followers, _)) in enumerate(scored, start=1):
            share = score / 100 * rng.uniform(0.2, 0.5)
            match_rows.append(
                {
                    "handle": handle,
                    "brand_id": brand,
                    "platform": platform_of[handle],
                    "account_id": f"id-{handle}",
                    "as_of_date": AS_OF,
                    "overlap_age": rng.uniform(0.4, 0.95),
                    "overlap_gender": rng.uniform(0.4, 0.95),
                    "overlap_country": rng.uniform(0.2, 0.9),
                    "overlap_city": rng.uniform(0.05, 0.4) if brand == "peakform" else None,
                    "overlap_interest": None,
                    "match_score": score,
                    "missing_dimensions": [],
                    "in_target_share": share,
                    "reachable_target_audience": round(followers * share),
                    "rank": rank,
                }
            )
    return {
        "engagement": pl.DataFrame(engagement_rows, schema=ENGAGEMENT_SCHEMA),
        "audience_match": pl.DataFrame(match_rows, schema=MATCH_SCHEMA),
        "drift": pl.DataFrame(drift_rows, schema=DRIFT_SCHEMA),
        "trajectories": pl.DataFrame(trajectory_rows, schema=TRAJECTORY_SCHEMA),
    }


def png_pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGB(A) PNG, with the stdlib only."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat = 8, b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", data[:10])
        elif kind == b"IDAT":
            idat += data
        position += 12 + length
    assert depth == 8 and colour_type in (2, 6), (depth, colour_type)
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = row[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - up_left
                distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
                predictor = (left, up, up_left)[distances.index(min(distances))]
                row[i] = (row[i] + predictor) & 0xFF
        rows.append(bytes(row) if channels == 3 else bytes(_drop_alpha(row)))
        previous = row
    return width, height, rows


def _drop_alpha(rgba: bytearray) -> bytearray:
    rgb = bytearray(len(rgba) // 4 * 3)
    for channel in range(3):
        rgb[channel::3] = rgba[channel::4]
    return rgb


def run_chromium(url: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *arguments,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.browser
def test_the_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    week = realistic_week()
    report = tmp_path / "weekly-report.html"
    report.write_text(
        render_weekly_report(
            WEEK,
            AS_OF,
            week["engagement"],
            week["audience_match"],
            week["drift"],
            week["trajectories"],
            TIERS,
        ),
        encoding="utf-8",
    )
    screenshot = tmp_path / "weekly-report.png"

    shot = run_chromium(
        report.as_uri(),
        tmp_path / "profile-shot",
        f"--screenshot={screenshot}",
        "--window-size=1280,2400",
    )
    dom = run_chromium(report.as_uri(), tmp_path / "profile-dom", "--dump-dom")

    assert screenshot.exists(), shot.stderr
    (REPO / "test-output").mkdir(exist_ok=True)
    shutil.copyfile(screenshot, REPO / "test-output" / "weekly-report.png")
    width, height, rows = png_pixels(screenshot.read_bytes())
    assert (width, height) == (1280, 2400)
    pixels = [row[x : x + 3] for row in rows[::8] for x in range(0, len(row), 24)]
    background = max(set(pixels), key=pixels.count)
    assert len(set(pixels)) > 50, "the screenshot is nearly one colour"
    assert sum(pixel != background for pixel in pixels) / len(pixels) > 0.15

    assert dom.returncode == 0, dom.stderr
    rendered = charts(parse(dom.stdout))
    assert sorted(rendered) == sorted(CHARTS)
    assert len(rendered["trajectories"].find_all("path")) == 7
    assert len(rendered["engagement-by-tier"].find_all("circle")) == week["engagement"].height
    # a box per (platform, tier) the week has rates for, each platform's panel headed
    boxes = week["engagement"].select("platform", "tier").unique().height
    assert len(rendered["engagement-by-tier"].find_all("rect")) == boxes
    panel_headers = [
        text.all_text()
        for text in rendered["engagement-by-tier"].find_all("text")
        if text.attributes.get("class") == "platform"
    ]
    assert panel_headers == list(PLATFORMS)
    side_by_side = section(parse(dom.stdout), "Platforms side by side")
    assert [cell.all_text() for cell in side_by_side.find_all("th")][1:4] == list(PLATFORMS)
    assert len(rendered["match-scores"].find_all("rect")) == 3 * 5


def campaign_rows() -> pl.DataFrame:
    """(campaign, handle, tier, deliverables, agreed, disclosed, revenue, fee, verdict) rows."""
    rows = [
        ("glowco-spring", "maya.bakes", "micro", 2, 2, 1, "100.00", "500.00", "undisclosed"),
        ("glowco-spring", "big.chef", "macro", 1, 2, 1, "112.00", "200.00", "underdelivered"),
        ("glowco-winter", "tomruns", "micro", 1, 1, 1, "900.00", "300.00", "profitable"),
        ("glowco-winter", "lena.lifts", "macro", 2, 2, 2, "50.00", "400.00", "unprofitable"),
    ]
    followers = {"micro": 40_000, "macro": 150_000}
    return pl.DataFrame(
        [
            {
                "campaign_id": campaign,
                "brand_id": "glowco",
                "platform": "instagram",
                "account_id": f"id-{handle}",
                "as_of_date": AS_OF,
                "handle": handle,
                "stage": "active",
                "fee": Decimal(fee),
                "currency": "USD",
                "followers_at_start": followers[tier],
                "tier": tier,
                "posts_agreed": agreed,
                "deliverables": delivered,
                "deliverables_disclosed": disclosed,
                "interactions": 100,
                "views": None,
                "orders": 3,
                "revenue": Decimal(revenue),
                "roas": float(Decimal(revenue) / Decimal(fee)),
                "revenue_per_1k_followers": float(Decimal(revenue)) / followers[tier] * 1000,
                "verdict": verdict,
            }
            for campaign, handle, tier, delivered, agreed, disclosed, revenue, fee, verdict in rows
        ]
    )


def test_the_campaigns_section_charts_each_creator_and_lists_verdicts_to_chase_first() -> None:
    week = realistic_week()
    page = parse(
        render_weekly_report(
            WEEK,
            AS_OF,
            week["engagement"],
            week["audience_match"],
            week["drift"],
            week["trajectories"],
            TIERS,
            campaign_rows(),
        )
    )

    chart = charts(page)["campaigns"]
    dots = [circle for circle in chart.find_all("circle") if "data-tier" in circle.attributes]
    assert sorted(dot.attributes["data-tier"] for dot in dots) == ["macro"] * 2 + ["micro"] * 2
    assert len({dot.attributes["fill"] for dot in dots}) == 2  # one colour per tier
    assert "break-even" in [text.all_text() for text in chart.find_all("text")]
    verdicts = [row[:3] for row in table_rows(page, "Campaign verdicts")]
    assert verdicts == [
        ["underdelivered", "glowco-spring", "big.chef"],
        ["undisclosed", "glowco-spring", "maya.bakes"],
        ["profitable", "glowco-winter", "tomruns"],
        ["unprofitable", "glowco-winter", "lena.lifts"],
    ]
    assert table_rows(page, "Campaign verdicts")[2][9:12] == ["900.00 USD", "300.00 USD", "3.00"]


def test_without_campaigns_the_report_has_no_campaign_section() -> None:
    assert "Campaign verdicts" not in small_report()
