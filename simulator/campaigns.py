"""The simulated brands' influencer programmes: campaigns, collaborations, what the creators post
for them, and what their audiences buy.

The three sample brands of ``sources/brands/default_brands.toml`` (glowco skincare, peakform
fitness apparel, respawn gaming gear) each run two campaigns in the ten weeks around the world's
anchor (from five weeks before the Monday of the anchor's week to four weeks after it), so the
demo, which loads the 70 days ending yesterday, sees them when it runs within a few weeks after
the anchor (the world's "present"). Everything follows from (seed, size, anchor), never from the
wall clock: a campaign's file, a caption or an order is the same on every run.

**Who is hired.** Each campaign hires 12-15 creators among the first :data:`SCOUTED_CREATORS`
creators of the world (so the plan costs the same in a world of 50,000), one platform per creator
and campaign, the brand's categories first (beauty, then fashion, for glowco; fitness, then food
and travel, for peakform; gaming, then tech, for respawn), by tier quotas (about 3 nano, 7 micro,
3 macro, and a mega creator in three of the six campaigns), about half on Instagram, a third on
TikTok, a fifth on YouTube. A creator works for one campaign at a time. The tier is the
platform's follower count (YouTube subscribers, TikTok followers) on the campaign's start.

**Stages.** A collaboration appears as a ``prospect`` about three weeks before the start (when the
campaign is planned), is ``contacted`` and ``negotiating`` in the days after, ``active`` around
the start, ``ended`` a few days after the end. About one in ten is ``paused`` mid-campaign (half
of those resume), about one in twelve never gets past ``contacted`` or ``negotiating``.

**Deliverables.** While active, the creator's posts inside the campaign's dates carry the campaign:
its hashtag, a mention of the brand's handle and/or the creator's promo code, mostly with a
disclosure (#ad, #sponsored, #partner, #paidpartnership), in some collaborations without one
(sometimes with a look-alike such as #adventure, which is no disclosure). About one in eight
creators delivers fewer posts than agreed on purpose; a pause, or too few videos on YouTube in the
campaign's dates, cuts others short (14 of the 75 that went active in the default world).
YouTube and TikTok carry a share of the creator's posts (the dialects' videos); their
deliverables are posts that are videos there. The text is appended to the post's caption, so it
reaches every dialect (Instagram ``caption``, YouTube ``description``, TikTok
``video_description``); nothing else of the world changes.

**Fees** scale with the platform's followers on the start day: per post and per 1,000 followers
$15-30 for nano, $10-25 for micro, $7-16 for macro and $4-10 for mega creators on Instagram (the
usual "$10 per 1k followers" rule of thumb and the $100-500 a post quoted for micro creators), times
1.8 on YouTube (a video costs more) and 0.7 on TikTok; at least $75, rounded to $5.

**Conversion (the calibration behind "do micro creators sell more per follower?").** A deliverable
brings Poisson(mu) orders with

    mu = genuine interactions of a typical post x orders per interaction (platform) x noise,

where the genuine interactions are the world's own engagement model applied to the followers
*excluding bought followers* (bought followers never like, comment or buy): organic followers x
``expected_engagement_rate(organic followers)`` x the creator's quality, scaled to the platform
(YouTube by the channel's subscriber factor; TikTok by its follower factor and its engagement
lift), and the noise is log-normal (sigma 0.4). Orders per interaction: Instagram 0.02, YouTube 0.03
(long-form reviews with a link convert best), TikTok 0.006 (TikTok's interactions are ~3.5x
cheaper). No public benchmark pins orders per interaction; these were chosen so that ROAS lands
between ~0.3 and ~3 with a median near 1, the range brands report for creator campaigns. Since
the engagement rate falls with followers (a power law, -0.27), revenue per 1k followers falls
with tier: roughly 1.5x more for a 30k creator than for a 300k one, and bought followers dilute it
further. Orders arrive after the post: an exponential delay (mean 2 days) for 95 %, the rest
anywhere in the attribution window (a code passed on); about 2 % of code uses come after the
window closes (not attributed). The average order is about $75 gross (1-3 line items of the
brand's catalogue, $15-95 each), ~10 % of orders in EUR (shoppers in the euro area, EUR prices,
VAT included), ~7 % refunded (55 % fully, the rest partly). The shop also sells without creators:
about 45 organic orders a day, a few with a welcome code or a newsletter link.

**Money.** Amounts are exact decimals. An order's gross is the merchandise (sum of line price x
quantity), ``Discount Amount`` the codes' discount on it, ``Refunded Amount`` the merchandise
refunded; net = gross - discount - refunded (= ``Subtotal`` - ``Refunded Amount``; shipping and
taxes are not revenue). Times are written in the shop's time zone (America/New_York, as Shopify
exports them); the window and the exchange rate use the order's UTC date.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import math
import random
import struct
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from simulator.tiktok import tiktok_view
from simulator.world import SimulatedWorld, _ascii, expected_engagement_rate, tier_of
from simulator.youtube import youtube_view

PLATFORMS = ("instagram", "youtube", "tiktok")
STAGES = ("prospect", "contacted", "negotiating", "active", "paused", "ended")
COLLABORATION_COLUMNS = (
    "campaign_id",
    "platform",
    "handle",
    "stage",
    "fee",
    "promo_code",
    "utm_content",
    "posts_agreed",
)
# Shopify's order export, in its column order (the columns that matter here).
SHOPIFY_COLUMNS = (
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Currency", "Subtotal",
    "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku",
    "Billing Name", "Billing Street", "Billing City", "Billing Zip", "Billing Country",
    "Billing Phone", "Shipping Name", "Shipping Street", "Shipping City", "Shipping Zip",
    "Shipping Country", "Shipping Phone", "Notes", "Cancelled at", "Payment Method",
    "Refunded Amount", "Id", "Landing Site", "Referring Site",
)  # fmt: skip
# The columns that hold a shopper's personal data: filled in the export, never to be stored.
PII_COLUMNS = (
    "Email", "Billing Name", "Billing Street", "Billing City", "Billing Zip", "Billing Phone",
    "Shipping Name", "Shipping Street", "Shipping City", "Shipping Zip", "Shipping Phone",
)  # fmt: skip
# Shopify writes these on an order's first row only; its other line items leave them empty.
ORDER_COLUMNS = tuple(
    column for column in SHOPIFY_COLUMNS if column != "Name" and not column.startswith("Lineitem")
)
FX_COLUMNS = ("currency", "rate_date", "base_currency", "rate")
DISCLOSURE_TAGS = ("ad", "sponsored", "partner", "werbung", "publi", "paidpartnership")
SHOP_TIMEZONE = ZoneInfo("America/New_York")
SCOUTED_CREATORS = 600
CENT = Decimal("0.01")

# Orders per genuine interaction of a deliverable, by platform (see the module docstring).
ORDERS_PER_INTERACTION = {"instagram": 0.02, "youtube": 0.03, "tiktok": 0.006}
_ORDER_NOISE_SIGMA = 0.4
_DELAY_MEAN_DAYS = 2.0
_PASSED_ON_SHARE = 0.05
_LATE_CODE_SHARE = 0.02
_ORGANIC_ORDERS_PER_DAY = {"glowco": 18.0, "peakform": 15.0, "respawn": 12.0}
_EUR_SHARE = 0.10
_REFUND_SHARE = 0.07
_FULL_REFUND_SHARE = 0.55
_FEE_PER_1K = {
    "nano": (15.0, 30.0),
    "micro": (10.0, 25.0),
    "macro": (7.0, 16.0),
    "mega": (4.0, 10.0),
}
_FEE_PLATFORM_FACTOR = {"instagram": 1.0, "youtube": 1.8, "tiktok": 0.7}
_MINIMUM_FEE = Decimal(75)
_POSTS_AGREED = {"instagram": (2, 4), "youtube": (1, 2), "tiktok": (2, 4)}
# How an attributed order found the shop: code only, link only, both (per platform).
_ORDER_CHANNELS = {
    "instagram": (0.60, 0.25, 0.15),
    "youtube": (0.30, 0.50, 0.20),
    "tiktok": (0.50, 0.35, 0.15),
}
_OTHER_LINK_SHARE = 0.15  # of "both" orders: the link is another creator's of the campaign
_ORDERS_EPOCH_DAYS = 180  # the shop's first order, before the anchor
_FIRST_ORDER_NUMBER = 1001
_ORDER_ID_BASE = 6_200_000_000_000


@dataclass(frozen=True)
class Product:
    """One product of a brand's catalogue, priced in USD and in EUR (VAT included)."""

    sku: str
    name: str
    slug: str
    usd: Decimal
    eur: Decimal


@dataclass(frozen=True)
class CampaignTemplate:
    """A campaign's fixed traits; its dates are offsets from the Monday of the anchor's week."""

    slug: str
    name: str
    start_offset_days: int
    weeks: int
    hashtags: tuple[str, ...]
    discount_percent: int
    attribution_window_days: int
    creators: int
    mega: bool


@dataclass(frozen=True)
class BrandProgramme:
    """A brand's programme: its handle on the platforms, the categories it hires from (best
    first), its catalogue and its two campaigns."""

    brand_id: str
    handle: str
    categories: tuple[str, ...]
    products: tuple[Product, ...]
    campaigns: tuple[CampaignTemplate, ...]
    caption_lines: tuple[str, ...]


def _product(sku: str, name: str, usd: str, eur: str) -> Product:
    slug = name.lower().replace(" ", "-")
    return Product(sku=sku, name=name, slug=slug, usd=Decimal(usd), eur=Decimal(eur))


BRAND_PROGRAMMES: tuple[BrandProgramme, ...] = (
    BrandProgramme(
        brand_id="glowco",
        handle="glowco",
        categories=("beauty", "fashion", "parenting"),
        products=(
            _product("GLOW-SERUM-30", "Vitamin C Serum", "38.00", "36.90"),
            _product("GLOW-CREAM-50", "Barrier Cream", "32.00", "29.90"),
            _product("GLOW-CLEANSE-150", "Gentle Cleanser", "18.00", "16.90"),
            _product("GLOW-SPF-50", "Daily SPF 50", "26.00", "24.90"),
            _product("GLOW-KIT", "Glow Starter Kit", "58.00", "54.90"),
        ),
        campaigns=(
            CampaignTemplate(
                "autumn-glow", "Autumn Glow", -35, 4, ("autumnglow",), 15, 30, 14, True
            ),
            CampaignTemplate(
                "holiday-glow",
                "Holiday Glow Edit",
                0,
                4,
                ("holidayglow", "glowcogifts"),
                20,
                21,
                15,
                False,
            ),
        ),
        caption_lines=(
            "My skin has never looked this good",
            "Obsessed with this serum",
            "The step I never skip now",
            "Glass skin, finally",
        ),
    ),
    BrandProgramme(
        brand_id="peakform",
        handle="peakform",
        categories=("fitness", "food", "travel"),
        products=(
            _product("PF-TIGHTS-W", "Sculpt Tights", "68.00", "64.95"),
            _product("PF-SHORTS-M", "Stride Shorts", "45.00", "42.95"),
            _product("PF-BRA", "Support Bra", "42.00", "39.95"),
            _product("PF-JACKET", "Storm Run Jacket", "95.00", "89.95"),
            _product("PF-SOCKS-3", "Run Socks 3-Pack", "19.00", "17.95"),
        ),
        campaigns=(
            CampaignTemplate(
                "fall-run", "Fall Run Club", -28, 3, ("fallrunclub",), 20, 30, 13, True
            ),
            CampaignTemplate(
                "winter-strong", "Winter Strong", -7, 4, ("winterstrong",), 15, 30, 14, False
            ),
        ),
        caption_lines=(
            "Kit that keeps up with me",
            "Training in my new favourites",
            "Built for the long run",
            "No excuses in this gear",
        ),
    ),
    BrandProgramme(
        brand_id="respawn",
        handle="respawngg",
        categories=("gaming", "tech"),
        products=(
            _product("RS-MOUSE", "Apex Mouse", "59.00", "55.00"),
            _product("RS-PAD-XL", "XL Desk Pad", "25.00", "23.00"),
            _product("RS-HEADSET", "Echo Headset", "89.00", "84.00"),
            _product("RS-KEYCAPS", "Pastel Keycaps", "35.00", "33.00"),
            _product("RS-CABLE", "Braided Cable", "15.00", "14.00"),
        ),
        campaigns=(
            CampaignTemplate(
                "season-drop", "Season Drop", -21, 3, ("respawnseason",), 10, 30, 12, False
            ),
            CampaignTemplate(
                "holiday-loadout", "Holiday Loadout", 7, 4, ("holidayloadout",), 15, 30, 13, True
            ),
        ),
        caption_lines=(
            "My setup just levelled up",
            "Clicks feel so much better now",
            "Upgraded the battle station",
            "Gear check before tonight's stream",
        ),
    ),
)

_TIER_QUOTAS = (("micro", 0.52), ("nano", 0.22), ("macro", 0.26))
_PLATFORM_SHARES = (("instagram", 0.50), ("tiktok", 0.30), ("youtube", 0.20))


@dataclass(frozen=True)
class Campaign:
    """One campaign, as the brand's campaigns file states it."""

    campaign_id: str
    brand_id: str
    name: str
    start_date: date
    end_date: date
    currency: str
    attribution_window_days: int
    hashtags: tuple[str, ...]
    mentions: tuple[str, ...]
    discount_percent: int
    planned_from: date

    @property
    def window_end(self) -> date:
        """The last day an order is attributed to the campaign."""
        return self.end_date + timedelta(days=self.attribution_window_days)


@dataclass(frozen=True)
class Deliverable:
    """A post of a collaborator that carries the campaign (on the collaboration's platform)."""

    day: int  # the world's day index of the post
    published_at: datetime  # UTC
    disclosed: bool
    expected_interactions: float  # genuine, on the platform


@dataclass(frozen=True)
class Collaboration:
    """One (campaign, platform, handle) row of the collaborations file, and its hidden truth."""

    campaign: Campaign
    platform: str
    handle: str  # as the roster tracks it (YouTube: the channel's @handle)
    creator_handle: str  # the world's key for the creator (its Instagram handle)
    tier: str
    followers_at_start: int
    fee: Decimal
    promo_code: str
    utm_content: str
    posts_agreed: int
    stages: tuple[tuple[date, str], ...]  # (first day, stage), ascending
    deliverables: tuple[Deliverable, ...]

    @property
    def campaign_id(self) -> str:
        return self.campaign.campaign_id


def stage_on(collaboration: Collaboration, day: date) -> str | None:
    """The collaboration's stage at the end of ``day``; None before it was added."""
    current: str | None = None
    for first_day, stage in collaboration.stages:
        if first_day > day:
            break
        current = stage
    return current


@dataclass(frozen=True)
class Shopper:
    """The personal data an order export carries (invented; never to be stored)."""

    name: str
    email: str
    street: str
    city: str
    zip_code: str
    country: str
    phone: str


@dataclass(frozen=True)
class LineItem:
    product: Product
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class SimulatedOrder:
    """One order of the shop, before it gets its number; ``collaboration`` is the one whose
    post brought it (None for organic orders), which is not always the one it is attributed to
    (a late code use is attributed to nobody)."""

    key: str
    ordered_at: datetime  # UTC
    brand_id: str
    currency: str
    line_items: tuple[LineItem, ...]
    discount_codes: tuple[str, ...]
    discount_amount: Decimal
    shipping: Decimal
    taxes: Decimal
    taxes_included: bool
    refunded_amount: Decimal
    cancelled: bool
    landing_site: str
    referring_site: str
    shopper: Shopper
    payment_method: str
    collaboration: Collaboration | None = field(default=None, compare=False)

    @property
    def gross_amount(self) -> Decimal:
        return sum((item.price * item.quantity for item in self.line_items), Decimal(0))

    @property
    def subtotal(self) -> Decimal:
        return self.gross_amount - self.discount_amount

    @property
    def net_amount(self) -> Decimal:
        return self.gross_amount - self.discount_amount - self.refunded_amount

    @property
    def total(self) -> Decimal:
        extra = Decimal(0) if self.taxes_included else self.taxes
        return self.subtotal + self.shipping + extra

    @property
    def financial_status(self) -> str:
        if self.refunded_amount == 0:
            return "paid"
        return "refunded" if self.refunded_amount >= self.subtotal else "partially_refunded"


@dataclass(frozen=True)
class NumberedOrder:
    """An order with the number and id the shop gave it."""

    number: int
    order_id: int
    order: SimulatedOrder

    @property
    def name(self) -> str:
        return f"#{self.number}"


@dataclass(frozen=True)
class CampaignPlan:
    """Every campaign and collaboration of the world, and the caption text of each deliverable
    (keyed by (creator handle, world day index))."""

    campaigns: tuple[Campaign, ...]
    collaborations: tuple[Collaboration, ...]
    caption_additions: dict[tuple[str, int], str]
    first_day: date
    last_day: date

    def campaigns_of(self, brand_id: str) -> list[Campaign]:
        return [campaign for campaign in self.campaigns if campaign.brand_id == brand_id]

    def collaborations_of(self, campaign_id: str) -> list[Collaboration]:
        return [c for c in self.collaborations if c.campaign_id == campaign_id]


@functools.lru_cache(maxsize=4)
def campaign_span(world: SimulatedWorld) -> tuple[date, date]:
    """The first and last day any campaign runs (its posts); known without drawing anything
    (and asked for every post a platform serves)."""
    monday = _anchor_monday(world)
    starts = [
        (monday + timedelta(days=t.start_offset_days), t.weeks)
        for programme in BRAND_PROGRAMMES
        for t in programme.campaigns
    ]
    first = min(start for start, _ in starts)
    last = max(start + timedelta(days=7 * weeks - 1) for start, weeks in starts)
    return first, last


def sponsored_caption(world: SimulatedWorld, handle: str, day: int) -> str:
    """What campaigns add to the caption of ``handle``'s post on the world's day ``day``: the
    empty string for almost every post (and without drawing the plan for posts outside the
    campaigns' dates or creators the brands never scout)."""
    first, last = campaign_span(world)
    posted = world.first_day + timedelta(days=day)
    if not first <= posted <= last or world._population().numbers[handle] >= SCOUTED_CREATORS:
        return ""
    return campaign_plan(world).caption_additions.get((handle, day), "")


_PLAN_LOCK = threading.RLock()


def campaign_plan(world: SimulatedWorld) -> CampaignPlan:
    """The world's campaigns and collaborations, drawn once for the last few worlds asked
    about: about 0.5 s for the default world, 5 s for one of 50,000 creators (most of it its
    YouTube and TikTok views). The server's threads wait for one drawing, not each its own."""
    with _PLAN_LOCK:
        return _cached_plan(world)


@functools.lru_cache(maxsize=4)
def _cached_plan(world: SimulatedWorld) -> CampaignPlan:
    return _draw_plan(world)


def _anchor_monday(world: SimulatedWorld) -> date:
    return world.anchor - timedelta(days=world.anchor.weekday())


@dataclass(frozen=True)
class _Candidate:
    creator_handle: str
    platform: str
    handle: str
    category: str
    first_name: str
    last_name: str
    audience_factor: float  # platform interactions per Instagram-like interaction
    follower_factor: float  # platform followers per Instagram follower
    post_ordinals: frozenset[int] | None  # posts that are videos on the platform (None: all)


def _candidates(world: SimulatedWorld) -> list[_Candidate]:
    youtube = youtube_view(world)
    tiktok = tiktok_view(world)
    candidates: list[_Candidate] = []
    for creator in world.creators[:SCOUTED_CREATORS]:
        first, _, last = creator.name.partition(" ")
        common = {
            "creator_handle": creator.handle,
            "category": creator.category,
            "first_name": first,
            "last_name": last,
        }
        candidates.append(
            _Candidate(
                platform="instagram",
                handle=creator.handle,
                audience_factor=1.0,
                follower_factor=1.0,
                post_ordinals=None,
                **common,
            )
        )
        channel = youtube.channel_for_handle(creator.handle)
        if (
            channel is not None
            and channel.creator_handle == creator.handle
            and channel.has_uploads
            and not channel.hidden_subscribers
            and channel.handle.isascii()
        ):
            ordinals = frozenset(youtube.video_ordinals(channel, world.last_day))
            candidates.append(
                _Candidate(
                    platform="youtube",
                    handle=channel.handle,
                    audience_factor=channel.subscriber_factor,
                    follower_factor=channel.subscriber_factor,
                    post_ordinals=ordinals,
                    **common,
                )
            )
        account = tiktok.account_of_creator(creator.handle)
        if account is not None:
            ordinals = frozenset(tiktok.video_ordinals(account, world.last_day))
            candidates.append(
                _Candidate(
                    platform="tiktok",
                    handle=account.handle,
                    audience_factor=account.follower_factor * account.engagement_lift,
                    follower_factor=account.follower_factor,
                    post_ordinals=ordinals,
                    **common,
                )
            )
    return candidates


def _draw_plan(world: SimulatedWorld) -> CampaignPlan:
    monday = _anchor_monday(world)
    candidates = _candidates(world)
    busy_until: dict[str, date] = {}
    codes_taken: set[str] = set()
    campaigns: list[Campaign] = []
    collaborations: list[Collaboration] = []
    captions: dict[tuple[str, int], str] = {}
    templates = sorted(
        (
            (programme, template)
            for programme in BRAND_PROGRAMMES
            for template in programme.campaigns
        ),
        key=lambda pair: pair[1].start_offset_days,
    )
    for programme, template in templates:
        start = monday + timedelta(days=template.start_offset_days)
        campaign = Campaign(
            campaign_id=f"{programme.brand_id}-{template.slug}",
            brand_id=programme.brand_id,
            name=template.name,
            start_date=start,
            end_date=start + timedelta(days=7 * template.weeks - 1),
            currency="USD",
            attribution_window_days=template.attribution_window_days,
            hashtags=template.hashtags,
            mentions=(programme.handle,),
            discount_percent=template.discount_percent,
            planned_from=start - timedelta(days=21),
        )
        campaigns.append(campaign)
        rng = random.Random(
            f"{world.seed}:{world.anchor.isoformat()}:campaign:{campaign.campaign_id}"
        )
        hired = _hire(world, rng, programme, template, campaign, candidates, busy_until)
        utm_taken: set[str] = set()
        for candidate, tier, followers in hired:
            busy_until[candidate.creator_handle] = campaign.end_date
            collaboration = _collaboration(
                world, rng, campaign, candidate, tier, followers, codes_taken, utm_taken
            )
            collaborations.append(collaboration)
            for deliverable in collaboration.deliverables:
                captions[(candidate.creator_handle, deliverable.day)] = _caption_addition(
                    rng, programme, collaboration, deliverable
                )
    first = min(c.planned_from for c in campaigns)
    last = max(c.window_end for c in campaigns)
    return CampaignPlan(tuple(campaigns), tuple(collaborations), captions, first, last)


def _hire(
    world: SimulatedWorld,
    rng: random.Random,
    programme: BrandProgramme,
    template: CampaignTemplate,
    campaign: Campaign,
    candidates: list[_Candidate],
    busy_until: dict[str, date],
) -> list[tuple[_Candidate, str, int]]:
    """Pick the campaign's creators: tier and platform quotas, the brand's categories first."""
    contact = campaign.planned_from
    free = [c for c in candidates if busy_until.get(c.creator_handle, date.min) < contact]
    rank = {category: position for position, category in enumerate(programme.categories)}
    draws = {id(c): rng.random() for c in free}
    free.sort(key=lambda c: (rank.get(c.category, len(rank)), draws[id(c)]))
    followers = {id(c): _platform_followers(world, c, campaign.start_date) for c in free}
    chosen: list[tuple[_Candidate, str, int]] = []
    taken: set[str] = set()
    for tier, platform in _slots(template, rng):
        # The wanted platform first; any platform of the wanted tier next.
        pick = next(
            (
                candidate
                for wanted_platform in (platform, None)
                for candidate in free
                if candidate.creator_handle not in taken
                and wanted_platform in (None, candidate.platform)
                and tier_of(followers[id(candidate)]) == tier
            ),
            None,
        )
        if pick is not None:
            taken.add(pick.creator_handle)
            chosen.append((pick, tier, followers[id(pick)]))
    return chosen


def _slots(template: CampaignTemplate, rng: random.Random) -> list[tuple[str, str]]:
    count = template.creators - (1 if template.mega else 0)
    tiers: list[str] = []
    for tier, share in _TIER_QUOTAS:
        tiers.extend([tier] * round(share * count))
    tiers = (tiers + ["micro"] * count)[:count]
    platforms: list[str] = []
    for platform, share in _PLATFORM_SHARES:
        platforms.extend([platform] * round(share * template.creators))
    platforms = (platforms + ["instagram"] * template.creators)[: template.creators]
    rng.shuffle(platforms)
    if template.mega:
        tiers.insert(0, "mega")
    return list(zip(tiers, platforms, strict=True))


def _platform_followers(world: SimulatedWorld, candidate: _Candidate, day: date) -> int:
    followers = world.followers(candidate.creator_handle, day)
    if candidate.platform == "instagram":
        return followers
    return max(1, round(candidate.follower_factor * followers))


def _collaboration(
    world: SimulatedWorld,
    rng: random.Random,
    campaign: Campaign,
    candidate: _Candidate,
    tier: str,
    followers: int,
    codes_taken: set[str],
    utm_taken: set[str],
) -> Collaboration:
    low, high = _POSTS_AGREED[candidate.platform]
    posts_agreed = rng.randint(max(low, 2) if tier in ("macro", "mega") else low, high)
    rate = rng.uniform(*_FEE_PER_1K[tier]) * _FEE_PLATFORM_FACTOR[candidate.platform]
    fee = Decimal(round(rate * followers / 1000 * posts_agreed / 5) * 5)
    fee = max(fee, _MINIMUM_FEE).quantize(CENT)
    stages = _stages(rng, campaign)
    has_code = rng.random() < (0.70 if candidate.platform == "youtube" else 0.90)
    has_link = not has_code or rng.random() < 0.85
    promo_code = _promo_code(candidate, campaign, codes_taken) if has_code else ""
    utm_content = _utm_content(candidate, utm_taken) if has_link else ""
    deliverables = _deliverables(world, rng, campaign, candidate, stages, posts_agreed)
    return Collaboration(
        campaign=campaign,
        platform=candidate.platform,
        handle=candidate.handle,
        creator_handle=candidate.creator_handle,
        tier=tier,
        followers_at_start=followers,
        fee=fee,
        promo_code=promo_code,
        utm_content=utm_content,
        posts_agreed=posts_agreed,
        stages=stages,
        deliverables=deliverables,
    )


def _stages(rng: random.Random, campaign: Campaign) -> tuple[tuple[date, str], ...]:
    start, end = campaign.start_date, campaign.end_date
    day = campaign.planned_from + timedelta(days=rng.randint(0, 4))
    stages = [(day, "prospect")]
    day += timedelta(days=rng.randint(2, 5))
    stages.append((day, "contacted"))
    fate = rng.random()
    if fate < 0.04:
        return tuple(stages)  # never answered
    day = min(day + timedelta(days=rng.randint(2, 6)), start - timedelta(days=2))
    stages.append((day, "negotiating"))
    if fate < 0.08:
        return tuple(stages)  # the deal fell through
    active_from = start + timedelta(days=rng.randint(-2, 2))
    stages.append((active_from, "active"))
    if fate < 0.18:
        length = (end - start).days
        paused = start + timedelta(days=round(length * rng.uniform(0.3, 0.6)))
        paused = max(paused, active_from + timedelta(days=1))
        stages.append((paused, "paused"))
        resumed = paused + timedelta(days=rng.randint(3, 7))
        if rng.random() < 0.5 and resumed < end:
            stages.append((resumed, "active"))
    stages.append((end + timedelta(days=rng.randint(1, 4)), "ended"))
    return tuple(stages)


def _active_days(stages: tuple[tuple[date, str], ...], campaign: Campaign) -> list[date]:
    days = []
    day = campaign.start_date
    collaboration_stages = stages
    while day <= campaign.end_date:
        current = None
        for first, stage in collaboration_stages:
            if first > day:
                break
            current = stage
        if current == "active":
            days.append(day)
        day += timedelta(days=1)
    return days


def _deliverables(
    world: SimulatedWorld,
    rng: random.Random,
    campaign: Campaign,
    candidate: _Candidate,
    stages: tuple[tuple[date, str], ...],
    posts_agreed: int,
) -> tuple[Deliverable, ...]:
    active = set(_active_days(stages, campaign))
    if not active:
        return ()
    schedule = world._schedule(candidate.creator_handle)
    eligible: list[tuple[int, int]] = []  # (day index, minute)
    for ordinal, (day, minute) in enumerate(
        zip(schedule.post_days, schedule.post_minutes, strict=True)
    ):
        posted = world.first_day + timedelta(days=day)
        if posted not in active:
            continue
        if candidate.post_ordinals is not None and ordinal not in candidate.post_ordinals:
            continue
        eligible.append((day, minute))
    delivered = posts_agreed
    if rng.random() < 0.12:
        delivered = posts_agreed - rng.randint(1, posts_agreed)
    delivered = min(delivered, len(eligible))
    picks = [eligible[int((i + 0.5) * len(eligible) / delivered)] for i in range(delivered)]
    undisclosed_draw = rng.random()
    trajectory = world._trajectory(candidate.creator_handle)
    deliverables = []
    for position, (day, minute) in enumerate(picks):
        if undisclosed_draw < 0.08:
            disclosed = False
        elif undisclosed_draw < 0.14:
            disclosed = position != 0
        else:
            disclosed = True
        organic = math.exp(trajectory.log_followers(day, organic_only=True))
        interactions = (
            organic
            * expected_engagement_rate(organic)
            * trajectory.quality
            * candidate.audience_factor
        )
        published = datetime.combine(
            world.first_day + timedelta(days=day), datetime.min.time(), UTC
        ) + timedelta(minutes=minute)
        deliverables.append(
            Deliverable(
                day=day,
                published_at=published,
                disclosed=disclosed,
                expected_interactions=interactions,
            )
        )
    return tuple(deliverables)


def _promo_code(candidate: _Candidate, campaign: Campaign, taken: set[str]) -> str:
    first = _ascii(candidate.first_name).upper()
    last = _ascii(candidate.last_name).upper()[:1]
    percent = campaign.discount_percent
    options = [f"{first}{percent}", f"{first}{last}{percent}"]
    options += [f"{first}{percent}{n}" for n in range(2, 100)]
    code = next(option for option in options if option not in taken)
    taken.add(code)
    return code


def _utm_content(candidate: _Candidate, taken: set[str]) -> str:
    first = "".join(ch for ch in _ascii(candidate.first_name) if ch.isalnum())
    number = 1
    while f"{first}{number:02d}" in taken:
        number += 1
    taken.add(f"{first}{number:02d}")
    return f"{first}{number:02d}"


def _caption_addition(
    rng: random.Random,
    programme: BrandProgramme,
    collaboration: Collaboration,
    deliverable: Deliverable,
) -> str:
    campaign = collaboration.campaign
    draw = rng.random()
    has_code = bool(collaboration.promo_code)
    # Mostly all three markers; sometimes one or two of them.
    with_tag = draw < 0.80 or 0.88 <= draw < 0.94
    with_mention = draw < 0.70 or 0.80 <= draw < 0.88 or (draw >= 0.94 and not has_code)
    with_code = has_code and (draw < 0.88 or draw >= 0.94)
    parts = [rng.choice(programme.caption_lines)]
    if with_mention:
        parts[0] += f" with @{programme.handle}"
    parts[0] += "!"
    if with_code:
        parts.append(f"Code {collaboration.promo_code} = {campaign.discount_percent}% off.")
    elif collaboration.utm_content:
        parts.append("Link in bio.")
    tags = []
    if with_tag:
        tag = rng.choice(campaign.hashtags)
        tags.append(f"#{tag.title().replace(' ', '') if rng.random() < 0.2 else tag}")
    if deliverable.disclosed:
        disclosure = rng.choice(("ad", "ad", "sponsored", "partner", "paidpartnership", "Ad"))
        tags.append(f"#{disclosure}")
    elif rng.random() < 0.5:
        tags.append("#adventure")  # looks like #ad, discloses nothing
    return " ".join([*parts, *tags])


# --- the campaign files --------------------------------------------------------------------


def write_campaign_files(directory: Path | str, world: SimulatedWorld, as_of: date) -> list[Path]:
    """Write ``<brand>.campaigns.toml`` and ``<brand>.collaborations.csv`` for each sample brand,
    as the brand's files stood at the end of ``as_of``: the campaigns planned by then (from about
    three weeks before their start) and each collaboration's stage that day. Returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    plan = campaign_plan(world)
    written = []
    for programme in BRAND_PROGRAMMES:
        campaigns = [c for c in plan.campaigns_of(programme.brand_id) if c.planned_from <= as_of]
        toml_path = directory / f"{programme.brand_id}.campaigns.toml"
        csv_path = directory / f"{programme.brand_id}.collaborations.csv"
        toml_path.write_text(_campaigns_toml(programme, campaigns, csv_path.name, as_of), "utf-8")
        with csv_path.open("w", newline="", encoding="utf-8") as collaborations_file:
            writer = csv.writer(collaborations_file, lineterminator="\n")
            writer.writerow(COLLABORATION_COLUMNS)
            for campaign in campaigns:
                for collaboration in plan.collaborations_of(campaign.campaign_id):
                    stage = stage_on(collaboration, as_of)
                    if stage is None:
                        continue
                    writer.writerow(
                        (
                            campaign.campaign_id,
                            collaboration.platform,
                            collaboration.handle,
                            stage,
                            f"{collaboration.fee:.2f}",
                            collaboration.promo_code,
                            collaboration.utm_content,
                            collaboration.posts_agreed,
                        )
                    )
        written += [toml_path, csv_path]
    return written


def _campaigns_toml(
    programme: BrandProgramme, campaigns: list[Campaign], collaborations: str, as_of: date
) -> str:
    lines = [
        f"# {programme.brand_id}'s campaigns as of {as_of.isoformat()}, as the simulated world",
        "# ran them (written by `influencers simulator campaigns`).",
        f"brand = {_toml_string(programme.brand_id)}",
        f"collaborations = {_toml_string(collaborations)}",
    ]
    for campaign in campaigns:
        lines += [
            "",
            "[[campaign]]",
            f"id = {_toml_string(campaign.campaign_id)}",
            f"name = {_toml_string(campaign.name)}",
            f"start_date = {campaign.start_date.isoformat()}",
            f"end_date = {campaign.end_date.isoformat()}",
            f"currency = {_toml_string(campaign.currency)}",
            f"attribution_window_days = {campaign.attribution_window_days}",
            f"hashtags = [{', '.join(_toml_string(tag) for tag in campaign.hashtags)}]",
            f"mentions = [{', '.join(_toml_string(handle) for handle in campaign.mentions)}]",
        ]
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    # A JSON string is a valid TOML basic string for the characters used here.
    return json.dumps(text, ensure_ascii=False)


# --- orders --------------------------------------------------------------------------------


_FIRST_NAMES = (
    "Alex", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Parker",
    "Sofia", "Lukas", "Emma", "Mia", "Noah", "Elena", "Marco", "Julia", "Finn", "Clara",
)  # fmt: skip
_LAST_NAMES = (
    "Smith", "Johnson", "Lee", "Garcia", "Brown", "Davis", "Miller", "Wilson", "Moore", "Clark",
    "Schneider", "Rossi", "Dubois", "Janssen", "Fernandez", "Meyer", "Bakker", "Moretti",
)  # fmt: skip
_STREETS = ("Maple Ave", "Oak St", "Pine Rd", "Cedar Ln", "Elm St", "Lakeview Dr", "Hill Rd")
_US_PLACES = (
    ("Austin", "TX", "787", Decimal("0.0825")),
    ("Denver", "CO", "802", Decimal("0.0881")),
    ("Portland", "OR", "972", Decimal("0")),
    ("Columbus", "OH", "432", Decimal("0.0750")),
    ("Brooklyn", "NY", "112", Decimal("0.08875")),
    ("Seattle", "WA", "981", Decimal("0.1025")),
)
_EU_PLACES = (
    ("Berlin", "DE", "10", "Torstraße", Decimal("0.19")),
    ("Paris", "FR", "750", "Rue de la Paix", Decimal("0.20")),
    ("Madrid", "ES", "280", "Calle Mayor", Decimal("0.21")),
    ("Amsterdam", "NL", "10", "Prinsengracht", Decimal("0.21")),
    ("Milan", "IT", "201", "Via Torino", Decimal("0.22")),
)
_ORGANIC_LANDINGS = (
    ("/", "https://www.google.com/"),
    ("/collections/all", ""),
    ("/products/{slug}", "https://www.google.com/"),
    ("/products/{slug}?utm_source=newsletter&utm_medium=email&utm_campaign=weekly", ""),
    ("/", "https://www.instagram.com/"),
)
_REFERRERS = {
    "instagram": "https://l.instagram.com/",
    "youtube": "https://www.youtube.com/",
    "tiktok": "https://www.tiktok.com/",
}


def simulated_orders(world: SimulatedWorld, start: date, end: date) -> Iterator[NumberedOrder]:
    """The shop's orders placed on the UTC days ``start``..``end``, oldest first, numbered as the
    shop numbered them (so an overlapping later export repeats the same numbers)."""
    if end < start:
        raise ValueError(f"the orders period ends ({end}) before it starts ({start})")
    if not (world.first_day <= start and end <= world.last_day):
        raise ValueError(
            f"orders exist between {world.first_day} and {world.last_day}; asked for {start}..{end}"
        )
    book = _order_book(world)
    number = _FIRST_ORDER_NUMBER + sum(
        book.count_on(day) for day in _days(book.epoch, start - timedelta(days=1))
    )
    for day in _days(max(start, book.epoch), end):
        for order in book.orders_on(day):
            yield NumberedOrder(number, _order_id(world, number), order)
            number += 1


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _order_id(world: SimulatedWorld, number: int) -> int:
    jitter = _unit_draws(f"{world.seed}:order-id:{number}", 1)[0]
    return _ORDER_ID_BASE + number * 1_000 + int(jitter * 1_000)


class _OrderBook:
    """The shop's orders, day by day: the creators' orders drawn once for the whole programme,
    the organic ones drawn per day (their count first, so numbering a day costs one draw)."""

    def __init__(self, world: SimulatedWorld) -> None:
        self.world = world
        self.epoch = world.anchor - timedelta(days=_ORDERS_EPOCH_DAYS)
        self.attributed: dict[date, list[SimulatedOrder]] = defaultdict(list)
        plan = campaign_plan(world)
        for collaboration in plan.collaborations:
            for order in _creator_orders(world, plan, collaboration):
                self.attributed[order.ordered_at.date()].append(order)

    def count_on(self, day: date) -> int:
        return sum(self._organic_counts(day).values()) + len(self.attributed.get(day, ()))

    def orders_on(self, day: date) -> list[SimulatedOrder]:
        orders = list(self.attributed.get(day, ()))
        for brand_id, count in self._organic_counts(day).items():
            orders += [_organic_order(self.world, brand_id, day, n) for n in range(count)]
        return sorted(orders, key=lambda order: (order.ordered_at, order.key))

    def _organic_counts(self, day: date) -> dict[str, int]:
        counts = {}
        weekend = 1.2 if day.weekday() >= 5 else 1.0
        for brand_id, per_day in _ORGANIC_ORDERS_PER_DAY.items():
            rng = random.Random(f"{self.world.seed}:organic-count:{brand_id}:{day.isoformat()}")
            counts[brand_id] = _poisson(rng, per_day * weekend)
        return counts


def _order_book(world: SimulatedWorld) -> _OrderBook:
    with _PLAN_LOCK:
        return _cached_order_book(world)


@functools.lru_cache(maxsize=4)
def _cached_order_book(world: SimulatedWorld) -> _OrderBook:
    return _OrderBook(world)


def _creator_orders(
    world: SimulatedWorld, plan: CampaignPlan, collaboration: Collaboration
) -> Iterator[SimulatedOrder]:
    campaign = collaboration.campaign
    programme = _programme(campaign.brand_id)
    others = [
        other
        for other in plan.collaborations_of(campaign.campaign_id)
        if other.utm_content and other is not collaboration
    ]
    window_end = datetime.combine(
        campaign.window_end + timedelta(days=1), datetime.min.time(), UTC
    ) - timedelta(seconds=1)
    code_share, link_share, _ = _ORDER_CHANNELS[collaboration.platform]
    for deliverable in collaboration.deliverables:
        key = f"{world.seed}:{campaign.campaign_id}:{collaboration.platform}:{collaboration.handle}"
        rng = random.Random(f"{key}:{deliverable.day}")
        noise = math.exp(_ORDER_NOISE_SIGMA * rng.gauss(0, 1) - _ORDER_NOISE_SIGMA**2 / 2)
        mean = (
            deliverable.expected_interactions
            * ORDERS_PER_INTERACTION[collaboration.platform]
            * noise
        )
        count = _poisson(rng, mean)
        late = _poisson(rng, mean * _LATE_CODE_SHARE) if collaboration.promo_code else 0
        for number in range(count + late):
            if number >= count:
                after = (window_end - deliverable.published_at).total_seconds()
                seconds = after + rng.uniform(3_600, 21 * 86_400)
            elif rng.random() < _PASSED_ON_SHARE:
                seconds = rng.uniform(600, (window_end - deliverable.published_at).total_seconds())
            else:
                seconds = 600 + rng.expovariate(1 / (_DELAY_MEAN_DAYS * 86_400))
                seconds = min(seconds, (window_end - deliverable.published_at).total_seconds())
            ordered_at = (deliverable.published_at + timedelta(seconds=seconds)).replace(
                microsecond=0
            )
            if ordered_at.date() > world.last_day:
                continue
            channel = rng.random()
            codes: tuple[str, ...] = ()
            link = ""
            late_use = number >= count
            wants_code = late_use or channel < code_share or channel >= code_share + link_share
            wants_link = not late_use and channel >= code_share
            if wants_code and collaboration.promo_code:
                codes = (collaboration.promo_code,)
            if (wants_link or not codes) and collaboration.utm_content:
                linked = collaboration
                if codes and others and rng.random() < _OTHER_LINK_SHARE:
                    linked = rng.choice(others)
                link = _campaign_link(rng, programme, linked)
            if not codes and not link:
                continue
            yield _order(
                world,
                rng,
                programme,
                key=f"{key}:{deliverable.day}:{number}",
                ordered_at=ordered_at,
                codes=codes,
                code_percent=campaign.discount_percent,
                landing_site=link or "/",
                referring_site=_REFERRERS[collaboration.platform] if link else "",
                collaboration=collaboration,
            )


def _campaign_link(rng: random.Random, programme: BrandProgramme, linked: Collaboration) -> str:
    product = rng.choice(programme.products)
    return (
        f"/products/{product.slug}?utm_source={linked.platform}&utm_medium=influencer"
        f"&utm_campaign={linked.campaign_id}&utm_content={linked.utm_content}"
    )


def _organic_order(world: SimulatedWorld, brand_id: str, day: date, n: int) -> SimulatedOrder:
    key = f"{world.seed}:organic:{brand_id}:{day.isoformat()}:{n}"
    rng = random.Random(key)
    programme = _programme(brand_id)
    ordered_at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
        seconds=rng.randrange(86_400)
    )
    landing, referrer = rng.choice(_ORGANIC_LANDINGS)
    landing = landing.format(slug=rng.choice(programme.products).slug)
    codes: tuple[str, ...] = ()
    draw = rng.random()
    if draw < 0.06:
        codes = ("WELCOME10",)
    elif draw < 0.09:
        # The brand's own post during a campaign: a campaign link, but no creator's utm_content.
        running = [
            c
            for c in campaign_plan(world).campaigns_of(brand_id)
            if c.start_date <= day <= c.end_date
        ]
        if running:
            campaign = rng.choice(running)
            landing = (
                f"/products/{rng.choice(programme.products).slug}?utm_source=instagram"
                f"&utm_medium=social&utm_campaign={campaign.campaign_id}&utm_content=brandpost"
            )
            referrer = "https://l.instagram.com/"
    return _order(
        world,
        rng,
        programme,
        key=key,
        ordered_at=ordered_at,
        codes=codes,
        code_percent=10,
        landing_site=landing,
        referring_site=referrer,
        collaboration=None,
    )


def _order(
    world: SimulatedWorld,
    rng: random.Random,
    programme: BrandProgramme,
    *,
    key: str,
    ordered_at: datetime,
    codes: tuple[str, ...],
    code_percent: int,
    landing_site: str,
    referring_site: str,
    collaboration: Collaboration | None,
) -> SimulatedOrder:
    in_euros = rng.random() < _EUR_SHARE
    currency = "EUR" if in_euros else "USD"
    item_count = rng.choices((1, 2, 3), (0.6, 0.3, 0.1))[0]
    products = rng.sample(programme.products, item_count)
    items = tuple(
        LineItem(
            product=product,
            quantity=rng.choices((1, 2), (0.85, 0.15))[0],
            price=product.eur if in_euros else product.usd,
        )
        for product in products
    )
    gross = sum((item.price * item.quantity for item in items), Decimal(0))
    percent = code_percent if codes else 0
    if codes and collaboration is not None and rng.random() < 0.05:
        codes = (*codes, "WELCOME10")
        percent += 10
    discount = _cents(gross * percent / 100)
    subtotal = gross - discount
    shipping = Decimal(0) if subtotal >= 50 else Decimal("4.95" if in_euros else "5.95")
    if in_euros:
        city, country, zip_prefix, street, vat = rng.choice(_EU_PLACES)
        taxes = _cents((subtotal + shipping) * vat / (1 + vat))
        zip_code = f"{zip_prefix}{rng.randrange(100, 999)}"[:5]
        address = f"{street} {rng.randint(1, 120)}"
        phone = f"+{rng.choice(('33', '34', '31', '39', '49'))} 555 {rng.randrange(10**6):06d}"
    else:
        city, _state, zip_prefix, tax_rate = rng.choice(_US_PLACES)
        taxes = _cents((subtotal + shipping) * tax_rate)
        country = "US"
        zip_code = f"{zip_prefix}{rng.randrange(10, 99)}"
        address = f"{rng.randint(10, 9999)} {rng.choice(_STREETS)}"
        phone = f"+1 555-01{rng.randrange(100):02d}"
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    shopper = Shopper(
        name=f"{first} {last}",
        email=f"{_ascii(first)}.{_ascii(last)}{rng.randrange(10, 99)}@example.com",
        street=address,
        city=city,
        zip_code=zip_code,
        country=country,
        phone=phone,
    )
    refunded = Decimal(0)
    cancelled = False
    if rng.random() < _REFUND_SHARE:
        if rng.random() < _FULL_REFUND_SHARE or (len(items) == 1 and rng.random() < 0.5):
            refunded = subtotal
            cancelled = rng.random() < 0.3
        elif len(items) > 1:
            returned = items[-1].price * items[-1].quantity
            refunded = _cents(returned * (100 - percent) / 100)
        else:
            refunded = _cents(subtotal * Decimal("0.2"))  # a goodwill refund
    return SimulatedOrder(
        key=key,
        ordered_at=ordered_at,
        brand_id=programme.brand_id,
        currency=currency,
        line_items=items,
        discount_codes=codes,
        discount_amount=discount,
        shipping=shipping,
        taxes=taxes,
        taxes_included=in_euros,
        refunded_amount=refunded,
        cancelled=cancelled,
        landing_site=landing_site,
        referring_site=referring_site,
        shopper=shopper,
        payment_method=rng.choice(("Shopify Payments", "Shopify Payments", "PayPal Express")),
        collaboration=collaboration,
    )


def _programme(brand_id: str) -> BrandProgramme:
    return next(p for p in BRAND_PROGRAMMES if p.brand_id == brand_id)


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _unit_draws(key: str, count: int) -> list[float]:
    digest = hashlib.blake2b(key.encode(), digest_size=8 * count).digest()
    return [word / 2**64 for word in struct.unpack(f">{count}Q", digest)]


def write_shopify_orders(path: Path | str, world: SimulatedWorld, start: date, end: date) -> int:
    """Write the shop's orders of the UTC days ``start``..``end`` as Shopify exports them (one
    row per line item, the order's fields on its first row only, the shopper's personal data in
    its columns); returns the number of orders written."""
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as export:
        writer = csv.DictWriter(export, fieldnames=SHOPIFY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for numbered in simulated_orders(world, start, end):
            for position, row in enumerate(_shopify_rows(numbered, end)):
                if position:
                    row = {
                        column: ("" if column in ORDER_COLUMNS else v) for column, v in row.items()
                    }
                writer.writerow(row)
            written += 1
    return written


def _shopify_rows(numbered: NumberedOrder, exported_on: date) -> Iterator[dict[str, str]]:
    order = numbered.order
    created = order.ordered_at.astimezone(SHOP_TIMEZONE)
    shopper = order.shopper
    fulfilled = (exported_on - order.ordered_at.date()).days >= 2 and not order.cancelled
    cancelled_at = created + timedelta(hours=3) if order.cancelled else None
    header = {
        "Name": numbered.name,
        "Email": shopper.email,
        "Financial Status": order.financial_status,
        "Paid at": _shop_time(created + timedelta(seconds=7)),
        "Fulfillment Status": "fulfilled" if fulfilled else "unfulfilled",
        "Currency": order.currency,
        "Subtotal": f"{order.subtotal:.2f}",
        "Shipping": f"{order.shipping:.2f}",
        "Taxes": f"{order.taxes:.2f}",
        "Total": f"{order.total:.2f}",
        "Discount Code": ", ".join(order.discount_codes),
        "Discount Amount": f"{order.discount_amount:.2f}",
        "Shipping Method": "Standard" if order.shipping else "Free Shipping",
        "Created at": _shop_time(created),
        "Billing Name": shopper.name,
        "Billing Street": shopper.street,
        "Billing City": shopper.city,
        "Billing Zip": shopper.zip_code,
        "Billing Country": shopper.country,
        "Billing Phone": shopper.phone,
        "Shipping Name": shopper.name,
        "Shipping Street": shopper.street,
        "Shipping City": shopper.city,
        "Shipping Zip": shopper.zip_code,
        "Shipping Country": shopper.country,
        "Shipping Phone": shopper.phone,
        "Notes": "",
        "Cancelled at": _shop_time(cancelled_at) if cancelled_at else "",
        "Payment Method": order.payment_method,
        "Refunded Amount": f"{order.refunded_amount:.2f}",
        "Id": str(numbered.order_id),
        "Landing Site": order.landing_site,
        "Referring Site": order.referring_site,
    }
    for item in order.line_items:
        yield header | {
            "Lineitem quantity": str(item.quantity),
            "Lineitem name": item.product.name,
            "Lineitem price": f"{item.price:.2f}",
            "Lineitem sku": item.product.sku,
        }


def _shop_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %z")


# --- exchange rates ------------------------------------------------------------------------


def eur_usd_rate(day: date) -> Decimal:
    """USD per 1 EUR on ``day``: a smooth drift around 1.08 with a daily wiggle, 4 decimals
    (a pure function of the date, so any two files agree on a day)."""
    t = (day - date(2020, 1, 1)).days
    wiggle = _unit_draws(f"eur-usd:{day.isoformat()}", 1)[0] - 0.5
    rate = 1.08 + 0.025 * math.sin(2 * math.pi * t / 97) + 0.01 * math.sin(t / 23) + 0.004 * wiggle
    return Decimal(f"{rate:.4f}")


def write_fx_rates(path: Path | str, start: date, end: date, missing: Iterable[date] = ()) -> int:
    """Write the daily EUR -> USD rates of ``start``..``end`` (currency,rate_date,base_currency,
    rate); the days in ``missing`` get no rate. Returns the number of rates written."""
    if end < start:
        raise ValueError(f"the rates period ends ({end}) before it starts ({start})")
    left_out = set(missing)
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as rates:
        writer = csv.writer(rates, lineterminator="\n")
        writer.writerow(FX_COLUMNS)
        for day in _days(start, end):
            if day in left_out:
                continue
            writer.writerow(("EUR", day.isoformat(), "USD", f"{eur_usd_rate(day)}"))
            written += 1
    return written
