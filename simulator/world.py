"""The simulated Instagram population: creators and their day-by-day trajectories.

A `SimulatedWorld` is pure and deterministic: everything it says follows from
(seed, size, anchor), never from the global `random` state or the wall clock, so the
truth about any past date never changes. Each quantity is computed directly for the
day asked (closed-form trajectories plus hash-based noise per (creator, day)); a
creator's trajectory, posting schedule and audience are drawn when first asked for and
kept in bounded caches, so the memory of a world of 50,000 creators stays that of its
creator list (about half a KB per creator).

Calibration follows the mid-2024 Instagram ranges in DESIGN.md: tiers by followers
(nano < 10k, micro < 100k, macro < 1M, mega), engagement falling smoothly with
followers, organic monthly growth bands per tier, 3-5 feed posts a week, and five
archetypes: steady, riser (micro crossing into macro around the anchor), decliner,
bought (a one-day follower jump with flat interactions) and viral (a legitimate jump
that comes with an engagement spike).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import math
import random
import re
import struct
import threading
import unicodedata
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import NormalDist
from typing import overload

# The pipeline's vocabulary, re-exported under the names this module has always used.
from schemas.vocabulary import AGE_BUCKETS as AGE_BUCKETS
from schemas.vocabulary import DEFAULT_TIER_BOUNDS
from schemas.vocabulary import GENDER_BUCKETS as GENDER_BUCKETS
from schemas.vocabulary import INSIGHTS_DIMENSIONS as BREAKDOWNS
from schemas.vocabulary import TIER_NAMES as TIERS
from schemas.vocabulary import tier_of as tier_of

DEFAULT_SEED = 7
DEFAULT_SIZE = 200
DEFAULT_ANCHOR = date(2026, 11, 1)
DEFAULT_ROSTER_PATH = Path(__file__).resolve().with_name("default_roster.csv")

DAYS_BEFORE_ANCHOR = 730
DAYS_AFTER_ANCHOR = 365

ROSTER_COLUMNS = ("platform", "handle", "connected", "country", "category")
ARCHETYPES = ("steady", "riser", "decliner", "bought", "viral")
MICRO_FLOOR, MACRO_FLOOR, MEGA_FLOOR = DEFAULT_TIER_BOUNDS
# Per-creator state drawn on demand is kept for this many creators at a time (least recently
# used first out): a night asks for one creator's pages and insights together, and the memory
# of a large world must not grow with the number of creators asked about.
_CACHED_CREATORS = 2_048
# Posts kept drawn (their counts aside): a first page (25 posts) of as many creators.
_CACHED_POSTS = 25 * _CACHED_CREATORS
# A tier crossing counts from the first day of a run of this many days in the new tier, so a
# count wavering around a bound for a day or two is not a crossing.
_SETTLED_DAYS = 7

_DAYS_PER_MONTH = 30.44
_MINUTES_PER_DAY = 1440
# Likes and comments keep arriving after publishing; this is the time constant of
# that accumulation (about 75 % of the final count after a day).
_ACCUMULATION_HOURS = 18.0
_MEDIA_ID_BASE = 17_900_000_000_000_000
# Media ids pack (creator number, day) so the day of a post can be read back from its
# id; the day part must exceed the simulated range of 1,096 days.
_MEDIA_ID_DAY_SLOTS = 2_000
_MEDIA_ID_SALT_SLOTS = 1_000

_ARCHETYPE_SHARES = {"riser": 0.08, "decliner": 0.08, "bought": 0.05, "viral": 0.04}
_TIER_SHARES = {"nano": 0.10, "macro": 0.15, "mega": 0.05}
_TIER_FOLLOWER_BANDS = {
    "nano": (1_000, MICRO_FLOOR),
    "micro": (MICRO_FLOOR, MACRO_FLOOR),
    "macro": (MACRO_FLOOR, MEGA_FLOOR),
    "mega": (MEGA_FLOOR, 15_000_000),
}
_TIER_MONTHLY_GROWTH = {
    "nano": (0.0, 0.03),
    "micro": (-0.005, 0.02),
    "macro": (-0.01, 0.015),
    "mega": (-0.02, 0.01),
}
_CONNECTED_SHARE = 0.60
_HIDES_LIKES_SHARE = 0.06
_HIDDEN_POST_SHARE = 0.50
_MEDIA_TYPES = (("IMAGE", 0.55), ("CAROUSEL_ALBUM", 0.30), ("VIDEO", 0.15))

_CATEGORY_WEIGHTS = {
    "beauty": 15,
    "fitness": 15,
    "food": 15,
    "travel": 12,
    "gaming": 10,
    "fashion": 15,
    "tech": 8,
    "parenting": 10,
}
_HANDLE_WORDS = {
    "beauty": ("glow", "beauty", "makeup", "skincare", "lashes"),
    "fitness": ("runs", "lifts", "fit", "moves", "trains"),
    "food": ("bakes", "eats", "cooks", "kitchen", "feasts"),
    "travel": ("travels", "wanders", "roams", "abroad", "explores"),
    "gaming": ("plays", "games", "streams", "gg", "levels"),
    "fashion": ("style", "wears", "closet", "styled", "outfits"),
    "tech": ("tech", "codes", "builds", "gadgets", "unboxes"),
    "parenting": ("mama", "daddy", "family", "littles", "homelife"),
}
_CAPTION_TOPICS = {
    "beauty": (
        "my 5-minute morning routine",
        "this glossy lip combo",
        "a no-makeup makeup look",
        "the serum that saved my skin",
        "soft glam for date night",
    ),
    "fitness": (
        "leg day done",
        "my 10k pacing plan",
        "a 20-minute home HIIT",
        "Sunday long run views",
        "new deadlift PR",
    ),
    "food": (
        "lemon ricotta pancakes",
        "one-pot creamy orzo",
        "sourdough, attempt #12",
        "5-ingredient weeknight curry",
        "brown butter cookies",
    ),
    "travel": (
        "sunrise over the old town",
        "a weekend in Lisbon",
        "hidden beaches up north",
        "what I packed for two weeks",
        "the best street food so far",
    ),
    "gaming": (
        "finally beat the final boss",
        "my new desk setup",
        "ranked grind tonight",
        "cozy games for rainy days",
        "speedrun attempt highlights",
    ),
    "fashion": (
        "three ways to style a blazer",
        "autumn capsule wardrobe",
        "thrift haul",
        "outfit of the day",
        "denim on denim, yes or no",
    ),
    "tech": (
        "unboxing the new phone",
        "my minimal desk setup",
        "a tiny home server build",
        "five apps I use every day",
        "is this laptop worth it",
    ),
    "parenting": (
        "our slow Sunday morning",
        "lunchbox ideas that actually get eaten",
        "first day of school",
        "bedtime routine that works",
        "rainy day crafts",
    ),
}
_CAPTION_OPENERS = ("New post:", "Trying", "Today:", "Okay, so", "Sharing", "Finally,")
_CAPTION_ENDINGS = ("✨", "🙌", "💛", "👀", "🔥", "—thoughts?", "Save this for later!")

# (country, weight among creators, language group, [(city, weight)])
_COUNTRIES: dict[str, tuple[float, str, tuple[tuple[str, float], ...]]] = {
    "US": (
        28,
        "en",
        (
            ("Los Angeles, California", 5),
            ("New York, New York", 5),
            ("Chicago, Illinois", 3),
            ("Houston, Texas", 2),
            ("Miami, Florida", 2),
            ("Atlanta, Georgia", 2),
        ),
    ),
    "GB": (
        9,
        "en",
        (
            ("London, England", 6),
            ("Manchester, England", 2),
            ("Birmingham, England", 2),
            ("Glasgow, Scotland", 1),
        ),
    ),
    "BR": (
        9,
        "pt",
        (
            ("São Paulo, São Paulo", 5),
            ("Rio de Janeiro, Rio de Janeiro", 4),
            ("Belo Horizonte, Minas Gerais", 2),
            ("Brasília, Distrito Federal", 1),
        ),
    ),
    "DE": (
        6,
        "de",
        (
            ("Berlin, Berlin", 4),
            ("Hamburg, Hamburg", 2),
            ("Munich, Bavaria", 2),
            ("Cologne, North Rhine-Westphalia", 1),
        ),
    ),
    "FR": (
        5,
        "fr",
        (
            ("Paris, Île-de-France", 6),
            ("Marseille, Provence-Alpes-Côte d'Azur", 2),
            ("Lyon, Auvergne-Rhône-Alpes", 2),
        ),
    ),
    "ES": (
        5,
        "es",
        (
            ("Madrid, Comunidad de Madrid", 5),
            ("Barcelona, Catalonia", 4),
            ("Valencia, Valencian Community", 2),
        ),
    ),
    "IT": (5, "it", (("Rome, Lazio", 4), ("Milan, Lombardy", 4), ("Naples, Campania", 2))),
    "MX": (
        5,
        "es",
        (
            ("Mexico City, Distrito Federal", 6),
            ("Guadalajara, Jalisco", 2),
            ("Monterrey, Nuevo León", 2),
        ),
    ),
    "CA": (
        5,
        "en",
        (("Toronto, Ontario", 5), ("Montreal, Quebec", 3), ("Vancouver, British Columbia", 3)),
    ),
    "AU": (
        4,
        "en",
        (("Sydney, New South Wales", 5), ("Melbourne, Victoria", 4), ("Brisbane, Queensland", 2)),
    ),
    "IN": (6, "in", (("Mumbai, Maharashtra", 5), ("Delhi, Delhi", 5), ("Bangalore, Karnataka", 3))),
    "NL": (3, "en", (("Amsterdam, North Holland", 4), ("Rotterdam, South Holland", 2))),
    "SE": (
        2,
        "en",
        (("Stockholm, Stockholm County", 4), ("Gothenburg, Västra Götaland County", 2)),
    ),
    "PL": (
        2,
        "en",
        (("Warsaw, Masovian Voivodeship", 4), ("Kraków, Lesser Poland Voivodeship", 2)),
    ),
    "TR": (2, "en", (("Istanbul, Istanbul Province", 5), ("Ankara, Ankara Province", 2))),
    "ID": (2, "en", (("Jakarta, Jakarta", 5), ("Surabaya, East Java", 2))),
    "PH": (2, "en", (("Manila, Metro Manila", 4), ("Quezon City, Metro Manila", 3))),
    "AR": (2, "es", (("Buenos Aires, Buenos Aires", 5), ("Córdoba, Córdoba", 2))),
    "CO": (1, "es", (("Bogotá, Distrito Especial", 4), ("Medellín, Antioquia", 3))),
    "PT": (1, "pt", (("Lisbon, Lisbon", 4), ("Porto, Porto", 3))),
    "IE": (1, "en", (("Dublin, Dublin", 5),)),
    "AE": (1, "en", (("Dubai, Dubai", 5),)),
    "ZA": (1, "en", (("Johannesburg, Gauteng", 4), ("Cape Town, Western Cape", 3))),
    "NG": (1, "en", (("Lagos, Lagos", 5),)),
}
_NAMES = {
    "en": (
        (
            "Maya",
            "Tom",
            "Emma",
            "Jake",
            "Olivia",
            "Liam",
            "Chloe",
            "Noah",
            "Ava",
            "Ethan",
            "Grace",
            "Ryan",
            "Zoe",
            "Sam",
            "Lily",
            "Jack",
            "Hannah",
            "Leo",
            "Amber",
            "Dan",
        ),
        (
            "Carter",
            "Brooks",
            "Chen",
            "Patel",
            "Walsh",
            "Murphy",
            "Reed",
            "Hayes",
            "Nguyen",
            "Kim",
            "Foster",
            "Bennett",
            "Price",
            "Hughes",
            "Ward",
            "Cole",
        ),
    ),
    "es": (
        (
            "Lucía",
            "Mateo",
            "Sofía",
            "Diego",
            "Valeria",
            "Javier",
            "Camila",
            "Pablo",
            "Elena",
            "Andrés",
        ),
        ("García", "López", "Martínez", "Ruiz", "Torres", "Navarro", "Romero", "Castro"),
    ),
    "pt": (
        ("Ana", "João", "Beatriz", "Lucas", "Mariana", "Pedro", "Larissa", "Rafael", "Thiago"),
        ("Silva", "Santos", "Oliveira", "Souza", "Costa", "Ferreira", "Almeida", "Lima"),
    ),
    "de": (
        ("Lena", "Felix", "Hannah", "Jonas", "Marie", "Lukas", "Sophie", "Paul", "Laura", "Max"),
        ("Müller", "Schmidt", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Schulz"),
    ),
    "fr": (
        ("Camille", "Hugo", "Léa", "Louis", "Chloé", "Jules", "Manon", "Inès", "Théo"),
        ("Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Lefebvre", "Roux", "Girard"),
    ),
    "it": (
        ("Giulia", "Marco", "Chiara", "Luca", "Sara", "Matteo", "Francesca", "Davide"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Ricci", "Greco"),
    ),
    "in": (
        ("Priya", "Arjun", "Ananya", "Rohan", "Kavya", "Vikram", "Isha", "Karan"),
        ("Sharma", "Iyer", "Reddy", "Gupta", "Singh", "Mehta", "Nair", "Kapoor"),
    ),
}
# Share of each age bucket (13-17 ... 65+) and of female followers, by category.
_AGE_PROFILES = {
    "beauty": (6, 34, 32, 15, 7, 4, 2),
    "fitness": (3, 26, 36, 20, 9, 4, 2),
    "food": (2, 18, 32, 23, 14, 8, 3),
    "travel": (2, 20, 35, 22, 12, 6, 3),
    "gaming": (12, 42, 30, 10, 4, 1, 1),
    "fashion": (6, 36, 33, 14, 7, 3, 1),
    "tech": (4, 28, 38, 18, 8, 3, 1),
    "parenting": (1, 12, 44, 29, 9, 4, 1),
}
_FEMALE_SHARES = {
    "beauty": 0.82,
    "fitness": 0.55,
    "food": 0.62,
    "travel": 0.58,
    "gaming": 0.25,
    "fashion": 0.75,
    "tech": 0.28,
    "parenting": 0.85,
}

_STANDARD_NORMAL = NormalDist()


def expected_engagement_rate(followers: float) -> float:
    """Typical (likes + comments) / followers of one post, before quality and noise.

    A power law through ~3.3 % at 3k, ~1.8 % at 30k, ~1.0 % at 300k and ~0.55 % at 3M
    followers: it lands in every tier's published band and keeps falling as an account
    grows, which is what makes a micro creator turning macro less worth paying.
    """
    return 0.018 * (max(followers, 1.0) / 30_000) ** -0.27


@dataclass(frozen=True, slots=True)
class Creator:
    """One simulated Instagram creator: identity and the traits that shape its data."""

    ig_id: str
    handle: str
    name: str
    country: str
    category: str
    archetype: str
    connected: bool
    hides_likes: bool


@dataclass(frozen=True, slots=True)
class _Trajectory:
    """Per-creator parameters of the follower and engagement curves (day indexes)."""

    anchor_day: int
    log_base: float
    daily_growth: float
    decline_start: int | None
    daily_decline: float
    rise_log_gain: float
    rise_midpoint: float
    rise_width: float
    jump_day: int | None
    jump_log: float
    jump_is_organic: bool
    viral_multiplier: float
    wobble_amplitude: float
    wobble_period: float
    wobble_phase: float
    quality: float
    comment_share: float
    posts_per_week: float
    follows_base: float
    follows_amplitude: float
    follows_period: float
    follows_phase: float
    follows_daily_drift: float
    media_count_base: int

    def log_followers(self, day: int, *, organic_only: bool = False) -> float:
        """Natural log of the smooth follower curve at the end of `day`.

        `organic_only` leaves out bought followers, who never like or comment.
        """
        value = self.log_base + self._trend(day) + self._wobble(day)
        if self.rise_log_gain:
            value += self.rise_log_gain * _logistic((day - self.rise_midpoint) / self.rise_width)
        jumped = self.jump_day is not None and day >= self.jump_day
        if jumped and (self.jump_is_organic or not organic_only):
            value += self.jump_log
        return value

    def interaction_multiplier(self, day: int) -> float:
        """How much a post published on `day` out-performs normal, around a viral moment."""
        if not self.jump_is_organic or self.jump_day is None:
            return 1.0
        since_jump = day - self.jump_day
        if -1 <= since_jump <= 1:
            return self.viral_multiplier
        if 2 <= since_jump <= 14:
            return 1.0 + (self.viral_multiplier - 1.0) * math.exp(-(since_jump - 1) / 3.0)
        return 1.0

    def follows(self, day: int) -> int:
        """Accounts this creator follows at the end of `day`: slowly varying."""
        seasonal = 1.0 + self.follows_amplitude * math.sin(
            2 * math.pi * day / self.follows_period + self.follows_phase
        )
        drift = self.follows_daily_drift * (day - self.anchor_day)
        return int(min(max(self.follows_base * seasonal + drift, 100), 3_000))

    def _trend(self, day: int) -> float:
        # Anchored at the anchor day, so log_base is the level there.
        if self.decline_start is None or day >= self.decline_start:
            rate = self.daily_growth if self.decline_start is None else -self.daily_decline
            return rate * (day - self.anchor_day)
        return -self.daily_decline * (self.decline_start - self.anchor_day) + self.daily_growth * (
            day - self.decline_start
        )

    def _wobble(self, day: int) -> float:
        # Slow swings in the growth rate, zero at the anchor.
        angular = 2 * math.pi / self.wobble_period
        return self.wobble_amplitude * (
            math.sin(angular * day + self.wobble_phase)
            - math.sin(angular * self.anchor_day + self.wobble_phase)
        )


@dataclass(frozen=True, slots=True)
class _Schedule:
    """When a creator posts: days with a post (ascending), their minute of day, and
    `posts_through[d]`, the number of posts on days 0..d (unsigned 16-bit arrays: a few KB
    per creator instead of ~30 KB of Python ints)."""

    post_days: array[int]
    post_minutes: array[int]
    posts_through: array[int]

    def count_before(self, day: int) -> int:
        """Posts published on days strictly before `day`."""
        if day <= 0:
            return 0
        return self.posts_through[min(day, len(self.posts_through)) - 1]


@dataclass(frozen=True, slots=True)
class _Post:
    """An Instagram post as every day sees it; only its counts grow (towards the final ones)."""

    media_id: str
    caption: str
    likes_hidden: bool
    final_likes: float
    final_comments: float
    timestamp: str
    media_type: str
    permalink: str


@dataclass(frozen=True, slots=True)
class _Population:
    """The creators in the order drawn, their positions by handle and by Instagram id, and the
    index in TIERS of the tier each was drawn in (what its trajectory is drawn from)."""

    creators: list[Creator]
    numbers: dict[str, int]
    ids: dict[str, int]
    tiers: bytearray


@dataclass(frozen=True, slots=True)
class _Audience:
    """Base shares of each demographic bucket and how they drift (per breakdown)."""

    buckets: dict[str, tuple[tuple[str, float], ...]]
    drift: dict[str, tuple[tuple[float, float], ...]]


class MediaTimeline(Sequence[dict]):
    """A creator's posts up to the end of one day, newest first, built on demand.

    Behaves like a read-only list (len, indexing, slicing, iteration) but only the
    posts actually read are computed, so taking the first page is cheap.
    """

    def __init__(self, world: SimulatedWorld, handle: str, as_of_day: int) -> None:
        self._world = world
        self._handle = handle
        self._as_of_day = as_of_day
        self._schedule = world._schedule(handle)
        self._length = self._schedule.posts_through[as_of_day]

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> dict: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict]: ...

    def __getitem__(self, index: int | slice) -> dict | list[dict]:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(self._length))]
        position = index + self._length if index < 0 else index
        if not 0 <= position < self._length:
            raise IndexError(index)
        ordinal = self._length - 1 - position
        return self._world._media_item(
            self._handle,
            self._schedule.post_days[ordinal],
            self._schedule.post_minutes[ordinal],
            self._as_of_day,
        )

    def __iter__(self) -> Iterator[dict]:
        for position in range(self._length):
            yield self[position]

    def position_after(self, media_id: str) -> int:
        """Index of the first post older than the post `media_id` (for paging cursors).

        Raises ValueError if the id is not one of this creator's posts.
        """
        day = self._world._media_day(self._handle, media_id)
        return self._length - min(self._schedule.count_before(day), self._length)


class SimulatedWorld:
    """A deterministic population of Instagram creators, answerable as of any day in
    [anchor - 730 days, anchor + 365 days]."""

    def __init__(
        self, seed: int = DEFAULT_SEED, size: int = DEFAULT_SIZE, anchor: date = DEFAULT_ANCHOR
    ) -> None:
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        self.seed = seed
        self.size = size
        self.anchor = anchor
        self.first_day = anchor - timedelta(days=DAYS_BEFORE_ANCHOR)
        self.last_day = anchor + timedelta(days=DAYS_AFTER_ANCHOR)
        self._population_lock = threading.Lock()
        self._drawn_population: _Population | None = None
        # Thread-safe and bounded: the server may answer from several threads, and a world of
        # 50,000 creators must not keep every creator's schedule (a few KB each) forever.
        self._trajectory = functools.lru_cache(maxsize=_CACHED_CREATORS)(self._draw_trajectory)
        self._schedule = functools.lru_cache(maxsize=_CACHED_CREATORS)(self._draw_schedule)
        self._audience = functools.lru_cache(maxsize=_CACHED_CREATORS)(self._draw_audience)
        # A night reads each creator's newest posts, most of which the night before read too.
        self._post = functools.lru_cache(maxsize=_CACHED_POSTS)(self._draw_post)

    def __repr__(self) -> str:
        return f"SimulatedWorld(seed={self.seed}, size={self.size}, anchor={self.anchor})"

    @property
    def creators(self) -> list[Creator]:
        """Every creator, in the order drawn (drawn on first use, not at construction, so a
        process that only hands (seed, size, anchor) to a simulator process pays nothing)."""
        return self._population().creators

    def creator(self, handle: str) -> Creator:
        """The creator with this handle; KeyError if there is none."""
        population = self._population()
        return population.creators[population.numbers[handle]]

    def creator_by_id(self, ig_id: str) -> Creator:
        """The creator with this Instagram user id; KeyError if there is none."""
        population = self._population()
        return population.creators[population.ids[ig_id]]

    def followers(self, handle: str, day: date) -> int:
        """Followers of `handle` at the end of the UTC day `day`."""
        self.creator(handle)
        return self._followers(handle, self._day_index(day))

    def profile(self, handle: str, as_of: date) -> dict:
        """The public profile fields the Graph API returns, as of the end of `as_of`."""
        creator = self.creator(handle)
        day = self._day_index(as_of)
        trajectory = self._trajectory(handle)
        return {
            "id": creator.ig_id,
            "username": creator.handle,
            "name": creator.name,
            "followers_count": self._followers(handle, day),
            "follows_count": trajectory.follows(day),
            "media_count": trajectory.media_count_base + self._schedule(handle).posts_through[day],
        }

    def media(self, handle: str, as_of: date) -> MediaTimeline:
        """Every post published up to the end of `as_of`, newest first, with like and
        comment counts as observed then. `like_count` is absent when the creator hid it."""
        self.creator(handle)
        return MediaTimeline(self, handle, self._day_index(as_of))

    def demographics(self, handle: str, breakdown: str, as_of: date) -> list[tuple[str, int]]:
        """Follower counts per bucket of one breakdown (age, gender, country, city).

        Only creators who connected (gave a token) have insights: PermissionError for
        the others, ValueError for an unknown breakdown. Counts sum to the followers.
        """
        creator = self.creator(handle)
        if breakdown not in BREAKDOWNS:
            raise ValueError(f"unknown breakdown {breakdown!r}; expected one of {BREAKDOWNS}")
        if not creator.connected:
            raise PermissionError(f"{handle} has not connected an account for insights")
        day = self._day_index(as_of)
        audience = self._audience(handle)
        buckets = audience.buckets[breakdown]
        drift = audience.drift[breakdown]
        weights = [
            share * math.exp(amplitude * math.sin(2 * math.pi * day / 365.0 + phase))
            for (_, share), (amplitude, phase) in zip(buckets, drift, strict=True)
        ]
        counts = _apportion(self._followers(handle, day), weights)
        return [(bucket, count) for (bucket, _), count in zip(buckets, counts, strict=True)]

    def event_date(self, handle: str) -> date | None:
        """The day a creator's archetype shows, the ground truth detectors are scored against.

        bought, viral: the day of the follower jump. riser, decliner: the day its tier
        changes (the first of at least 7 days in the new tier; of several crossings in the
        simulated range, the one nearest the anchor; None if it never crosses). steady: None.
        """
        creator = self.creator(handle)
        trajectory = self._trajectory(handle)
        if creator.archetype in ("bought", "viral"):
            assert trajectory.jump_day is not None
            return self.first_day + timedelta(days=trajectory.jump_day)
        if creator.archetype in ("riser", "decliner"):
            crossing = self._tier_crossing(handle, trajectory.anchor_day)
            return None if crossing is None else self.first_day + timedelta(days=crossing)
        return None

    def roster_rows(self) -> list[dict]:
        """The creator list a brand would hand the pipeline (one dict per creator)."""
        return [
            {
                "platform": "instagram",
                "handle": creator.handle,
                "connected": "true" if creator.connected else "false",
                "country": creator.country,
                "category": creator.category,
            }
            for creator in self.creators
        ]

    def requested_day(self, raw: str | None) -> date:
        """The day a request's ``as_of`` parameter asks for: today (kept inside the simulated
        range) when absent; ``ValueError`` saying what is allowed when it is not a date
        YYYY-MM-DD inside the range."""
        if raw is None:
            today = datetime.now(UTC).date()
            return min(max(today, self.first_day), self.last_day)
        try:
            day = date.fromisoformat(raw) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw) else None
        except ValueError:
            day = None
        if day is None or not self.first_day <= day <= self.last_day:
            raise ValueError(
                f"as_of must be a date YYYY-MM-DD between {self.first_day} and {self.last_day}"
            )
        return day

    def _day_index(self, day: date) -> int:
        if isinstance(day, datetime):
            day = day.date()
        if not self.first_day <= day <= self.last_day:
            raise ValueError(
                f"date {day} is outside the simulated range {self.first_day}..{self.last_day}"
            )
        return (day - self.first_day).days

    def _followers(self, handle: str, day: int) -> int:
        # A tiny independent wiggle per day, so day-to-day changes look like real counts.
        jitter = 0.0003 * _normal(_unit_draws(f"{self.seed}:jitter:{handle}:{day}", 1)[0])
        log_value = self._trajectory(handle).log_followers(day) + jitter
        return max(1, round(math.exp(log_value)))

    def _tier_crossing(self, handle: str, anchor_day: int) -> int | None:
        days = (self.last_day - self.first_day).days + 1
        tiers = [tier_of(self._followers(handle, day)) for day in range(days)]
        crossings = [
            day
            for day in range(1, days)
            if tiers[day] != tiers[day - 1] and len(set(tiers[day : day + _SETTLED_DAYS])) == 1
        ]
        return min(crossings, key=lambda day: abs(day - anchor_day), default=None)

    def _population(self) -> _Population:
        population = self._drawn_population
        if population is None:
            with self._population_lock:
                if self._drawn_population is None:
                    self._drawn_population = self._draw_population()
                population = self._drawn_population
        return population

    def _draw_population(self) -> _Population:
        rng = random.Random(f"{self.seed}:{self.size}:{self.anchor.isoformat()}:population")
        archetypes = _quota_labels(self.size, _ARCHETYPE_SHARES, "steady")
        rng.shuffle(archetypes)
        risers = archetypes.count("riser")
        tiers = _quota_labels(self.size, _TIER_SHARES, "micro")
        # Risers are drawn separately and are micro or macro at the anchor (they cross
        # around it), so they take their places half from each quota.
        for position in range(risers):
            preferred = "macro" if position % 2 else "micro"
            tiers.remove(preferred if preferred in tiers else tiers[0])
        rng.shuffle(tiers)
        connected = _quota_flags(self.size, _CONNECTED_SHARE, rng)
        hides_likes = _quota_flags(self.size, _HIDES_LIKES_SHARE, rng)
        countries = list(_COUNTRIES)
        country_weights = [_COUNTRIES[code][0] for code in countries]
        categories = list(_CATEGORY_WEIGHTS)
        category_weights = list(_CATEGORY_WEIGHTS.values())
        other_tiers = iter(tiers)
        taken: set[str] = set()
        population = _Population(creators=[], numbers={}, ids={}, tiers=bytearray())
        for number, archetype in enumerate(archetypes):
            country = rng.choices(countries, country_weights)[0]
            category = rng.choices(categories, category_weights)[0]
            first, last = _pick_name(rng, _COUNTRIES[country][1])
            handle = _make_handle(rng, first, last, category, taken)
            taken.add(handle)
            ig_id = f"178414{(number + 1) * 1_000_003 + rng.randrange(1_000_000):011d}"
            tier = "micro" if archetype == "riser" else next(other_tiers, "micro")
            creator = Creator(
                ig_id=ig_id,
                handle=handle,
                name=f"{first} {last}",
                country=country,
                category=category,
                archetype=archetype,
                connected=connected[number],
                hides_likes=hides_likes[number],
            )
            population.creators.append(creator)
            population.numbers[handle] = number
            population.ids[ig_id] = number
            population.tiers.append(TIERS.index(tier))
        return population

    def _draw_trajectory(self, handle: str) -> _Trajectory:
        population = self._population()
        number = population.numbers[handle]
        creator = population.creators[number]
        tier = TIERS[population.tiers[number]]
        rng = random.Random(f"{self.seed}:{self.anchor.isoformat()}:trajectory:{creator.handle}")
        anchor_day = DAYS_BEFORE_ANCHOR
        low_growth, high_growth = _TIER_MONTHLY_GROWTH[tier]
        monthly_growth = rng.uniform(low_growth, high_growth)
        log_base = _log_uniform(rng, *_TIER_FOLLOWER_BANDS[tier])
        decline_start: int | None = None
        daily_decline = 0.0
        rise_log_gain = rise_midpoint = 0.0
        rise_width = 1.0
        jump_day: int | None = None
        jump_log = 0.0
        viral_multiplier = 1.0

        if creator.archetype == "riser":
            # A logistic climb from a 35-60k plateau to 180-350k that crosses 100k within
            # 25 days of the anchor, on top of healthy organic growth.
            monthly_growth = rng.uniform(0.005, 0.02)
            plateau = rng.uniform(35_000, 60_000)
            summit = rng.uniform(180_000, 350_000)
            crossing = anchor_day + rng.uniform(-25, 25)
            rise_width = rng.uniform(7, 12)
            share_at_crossing = math.log(MACRO_FLOOR / plateau) / math.log(summit / plateau)
            rise_midpoint = crossing - rise_width * math.log(
                share_at_crossing / (1 - share_at_crossing)
            )
            rise_log_gain = math.log(summit / plateau)
            log_base = math.log(plateau)
        elif creator.archetype == "decliner":
            monthly_loss = rng.uniform(0.03, 0.08)
            daily_decline = -math.log(1 - monthly_loss) / _DAYS_PER_MONTH
            decline_start = anchor_day - rng.randint(90, 420)
            if tier == "micro" and rng.random() < 0.5:
                # Falls through the 10k floor close to the anchor.
                crossing = anchor_day + rng.uniform(-20, 10)
                log_base = math.log(MICRO_FLOOR) - daily_decline * (anchor_day - crossing)
        elif creator.archetype in ("bought", "viral"):
            jump_day = anchor_day - rng.randint(0, 40)
            if creator.archetype == "bought":
                jump_log = math.log(1 + rng.uniform(0.16, 0.40))
            else:
                jump_log = math.log(1 + rng.uniform(0.10, 0.30))
                viral_multiplier = rng.uniform(3.0, 6.0)

        followers_at_anchor = math.exp(log_base)
        return _Trajectory(
            anchor_day=anchor_day,
            log_base=log_base,
            daily_growth=math.log(1 + monthly_growth) / _DAYS_PER_MONTH,
            decline_start=decline_start,
            daily_decline=daily_decline,
            rise_log_gain=rise_log_gain,
            rise_midpoint=rise_midpoint,
            rise_width=rise_width,
            jump_day=jump_day,
            jump_log=jump_log,
            jump_is_organic=creator.archetype == "viral",
            viral_multiplier=viral_multiplier,
            wobble_amplitude=rng.uniform(0.002, 0.006),
            wobble_period=rng.uniform(120, 365),
            wobble_phase=rng.uniform(0, 2 * math.pi),
            quality=min(max(math.exp(rng.gauss(0, 0.15)), 0.75), 1.3),
            comment_share=rng.uniform(0.03, 0.10),
            posts_per_week=rng.uniform(3, 5),
            follows_base=rng.uniform(300, 1_800),
            follows_amplitude=rng.uniform(0.02, 0.10),
            follows_period=rng.uniform(200, 500),
            follows_phase=rng.uniform(0, 2 * math.pi),
            follows_daily_drift=rng.uniform(-0.2, 0.5),
            media_count_base=int(
                rng.uniform(40, 300) * (1 + math.log10(followers_at_anchor / 1_000))
            ),
        )

    def _draw_schedule(self, handle: str) -> _Schedule:
        trajectory = self._trajectory(handle)
        rng = random.Random(f"{self.seed}:{self.anchor.isoformat()}:schedule:{handle}")
        chance = trajectory.posts_per_week / 7
        days = (self.last_day - self.first_day).days + 1
        draws = [rng.random() for _ in range(days)]
        if trajectory.jump_is_organic and trajectory.jump_day is not None:
            # A viral moment needs a post on the day of the jump.
            draws[trajectory.jump_day] *= chance
        post_days = array("H", (day for day, draw in enumerate(draws) if draw < chance))
        # The draw, rescaled to [0, 1), doubles as the time of day: 07:00-22:00 UTC.
        post_minutes = array("H", (420 + int(draws[day] / chance * 900) for day in post_days))
        posts_through = array("H", itertools.accumulate(draw < chance for draw in draws))
        return _Schedule(post_days, post_minutes, posts_through)

    def _media_item(self, handle: str, day: int, minute: int, as_of_day: int) -> dict:
        post = self._post(handle, day, minute)
        age_hours = ((as_of_day + 1) * _MINUTES_PER_DAY - (day * _MINUTES_PER_DAY + minute)) / 60
        accumulated = 1 - math.exp(-age_hours / _ACCUMULATION_HOURS)
        item: dict = {"id": post.media_id, "caption": post.caption}
        if not post.likes_hidden:
            item["like_count"] = round(post.final_likes * accumulated)
        item["comments_count"] = round(post.final_comments * accumulated)
        item["timestamp"] = post.timestamp
        item["media_type"] = post.media_type
        item["permalink"] = post.permalink
        return item

    def _draw_post(self, handle: str, day: int, minute: int) -> _Post:
        """What a post is whatever the day it is seen: all but its counts so far."""
        creator = self.creator(handle)
        trajectory = self._trajectory(handle)
        (
            type_draw,
            noise_draw,
            comment_draw,
            opener_draw,
            topic_draw,
            ending_draw,
            hidden_draw,
            salt_draw,
        ) = _unit_draws(f"{self.seed}:post:{handle}:{day}", 8)

        # Bought followers neither like nor comment: interactions follow organic ones.
        engaged_followers = math.exp(trajectory.log_followers(day, organic_only=True))
        post_noise = math.exp(0.3 * _normal(noise_draw) - 0.045)
        final_interactions = (
            engaged_followers
            * expected_engagement_rate(engaged_followers)
            * trajectory.quality
            * post_noise
            * trajectory.interaction_multiplier(day)
        )
        comment_share = min(max(trajectory.comment_share * (0.7 + 0.6 * comment_draw), 0.02), 0.15)
        final_comments = final_interactions * comment_share

        media_id = str(
            _MEDIA_ID_BASE
            + (self._population().numbers[handle] * _MEDIA_ID_DAY_SLOTS + day)
            * _MEDIA_ID_SALT_SLOTS
            + int(salt_draw * _MEDIA_ID_SALT_SLOTS)
        )
        published_on = self.first_day + timedelta(days=day)
        hour, minute_of_hour = divmod(minute, 60)
        return _Post(
            media_id=media_id,
            caption=_caption(creator.category, opener_draw, topic_draw, ending_draw)
            + self._sponsored_caption(handle, day),
            likes_hidden=creator.hides_likes and hidden_draw < _HIDDEN_POST_SHARE,
            final_likes=final_interactions - final_comments,
            final_comments=final_comments,
            timestamp=f"{published_on.isoformat()}T{hour:02d}:{minute_of_hour:02d}:00+0000",
            media_type=_media_type(type_draw),
            permalink=f"https://www.instagram.com/p/{_shortcode(media_id)}/",
        )

    def _sponsored_caption(self, handle: str, day: int) -> str:
        """What the brands' campaigns add to a post's caption (" <text>", or "" for most)."""
        # Imported here: the campaigns are drawn from this world, their module imports this one.
        from simulator.campaigns import sponsored_caption

        addition = sponsored_caption(self, handle, day)
        return f" {addition}" if addition else ""

    def _media_day(self, handle: str, media_id: str) -> int:
        if not media_id.isdigit():
            raise ValueError(f"not a media id: {media_id!r}")
        packed = (int(media_id) - _MEDIA_ID_BASE) // _MEDIA_ID_SALT_SLOTS
        number, day = divmod(packed, _MEDIA_ID_DAY_SLOTS)
        if number != self._population().numbers[handle] or packed < 0:
            raise ValueError(f"media {media_id} does not belong to {handle}")
        return day

    def _draw_audience(self, handle: str) -> _Audience:
        creator = self.creator(handle)
        rng = random.Random(f"{self.seed}:{self.anchor.isoformat()}:audience:{creator.handle}")
        ages = tuple(
            (bucket, share * math.exp(rng.gauss(0, 0.25)))
            for bucket, share in zip(AGE_BUCKETS, _AGE_PROFILES[creator.category], strict=True)
        )
        female = min(max(_FEMALE_SHARES[creator.category] + rng.uniform(-0.08, 0.08), 0.05), 0.95)
        unknown = rng.uniform(0.02, 0.05)
        genders = (
            ("F", female * (1 - unknown)),
            ("M", (1 - female) * (1 - unknown)),
            ("U", unknown),
        )
        countries = _audience_countries(rng, creator.country)
        cities = _audience_cities(rng, countries)
        buckets = {"age": ages, "gender": genders, "country": countries, "city": cities}
        drift = {
            breakdown: tuple((rng.uniform(0.01, 0.06), rng.uniform(0, 2 * math.pi)) for _ in shares)
            for breakdown, shares in buckets.items()
        }
        return _Audience(buckets=buckets, drift=drift)


def _unit_draws(key: str, count: int) -> list[float]:
    """`count` (at most 8) independent uniforms in [0, 1) derived from hashing `key`."""
    digest = hashlib.blake2b(key.encode(), digest_size=8 * count).digest()
    return [word / 2**64 for word in struct.unpack(f">{count}Q", digest)]


def _normal(unit: float) -> float:
    return _STANDARD_NORMAL.inv_cdf(min(max(unit, 1e-12), 1 - 1e-12))


def _logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x > -700 else 0.0


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return rng.uniform(math.log(low), math.log(high))


def _quota_labels(size: int, shares: dict[str, float], rest: str) -> list[str]:
    """Exactly round(share * size) of each label, the remainder `rest` (unshuffled)."""
    labels: list[str] = []
    for label, share in shares.items():
        labels.extend([label] * round(share * size))
    labels = labels[:size]
    return labels + [rest] * (size - len(labels))


def _quota_flags(size: int, share: float, rng: random.Random) -> list[bool]:
    flags = [position < round(share * size) for position in range(size)]
    rng.shuffle(flags)
    return flags


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _pick_name(rng: random.Random, language: str) -> tuple[str, str]:
    firsts, lasts = _NAMES.get(language, _NAMES["en"])
    return rng.choice(firsts), rng.choice(lasts)


def _make_handle(rng: random.Random, first: str, last: str, category: str, taken: set[str]) -> str:
    first, last = _ascii(first), _ascii(last)
    word = rng.choice(_HANDLE_WORDS[category])
    number = rng.randint(2, 99)
    patterns = (
        f"{first}.{word}",
        f"{first}{word}_{number}",
        f"{first}_{last}",
        f"{word}with{first}",
        f"the.{first}.{word}",
        f"{first}.{last}.{word}",
        f"{first}{last[0]}_{word}",
    )
    handle = rng.choice(patterns)
    while handle in taken:
        handle = f"{rng.choice(patterns)}_{rng.randint(2, 999)}"
    return handle


def _caption(category: str, opener_draw: float, topic_draw: float, ending_draw: float) -> str:
    topics = _CAPTION_TOPICS[category]
    opener = _CAPTION_OPENERS[int(opener_draw * len(_CAPTION_OPENERS))]
    topic = topics[int(topic_draw * len(topics))]
    ending = _CAPTION_ENDINGS[int(ending_draw * len(_CAPTION_ENDINGS))]
    return f"{opener} {topic} {ending} #{category}"


def _media_type(draw: float) -> str:
    for media_type, share in _MEDIA_TYPES:
        if draw < share:
            return media_type
        draw -= share
    return _MEDIA_TYPES[-1][0]


def _shortcode(media_id: str) -> str:
    digest = hashlib.blake2b(media_id.encode(), digest_size=8).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _audience_countries(rng: random.Random, home: str) -> tuple[tuple[str, float], ...]:
    """8-15 countries: the home country first with 40-80 %, then others, same-language
    countries favoured, with shares falling off."""
    language = _COUNTRIES[home][1]
    others = [code for code in _COUNTRIES if code != home]
    weights = [
        _COUNTRIES[code][0] * (4 if _COUNTRIES[code][1] == language else 1) for code in others
    ]
    chosen: list[str] = []
    for _ in range(rng.randint(7, 14)):
        pick = rng.choices(range(len(others)), weights)[0]
        chosen.append(others.pop(pick))
        weights.pop(pick)
    home_share = rng.uniform(0.40, 0.80)
    tails = [
        weight_of_rank * math.exp(rng.gauss(0, 0.2))
        for weight_of_rank in (1 / (rank + 1) for rank in range(len(chosen)))
    ]
    scale = (1 - home_share) / sum(tails)
    others_shares = ((code, tail * scale) for code, tail in zip(chosen, tails, strict=True))
    return ((home, home_share), *others_shares)


def _audience_cities(
    rng: random.Random, countries: tuple[tuple[str, float], ...]
) -> tuple[tuple[str, float], ...]:
    """8-12 cities from the audience's countries, weighted by country share; their
    shares are renormalised so the buckets cover all followers, like the other
    breakdowns."""
    candidates = [
        (city, share * weight) for code, share in countries for city, weight in _COUNTRIES[code][2]
    ]
    chosen: list[tuple[str, float]] = []
    for _ in range(min(rng.randint(8, 12), len(candidates))):
        pick = rng.choices(range(len(candidates)), [weight for _, weight in candidates])[0]
        chosen.append(candidates.pop(pick))
    chosen.sort(key=lambda city: -city[1])
    total = sum(weight for _, weight in chosen)
    return tuple((city, weight / total) for city, weight in chosen)


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` into integers proportional to `weights` (largest remainder), so
    the parts sum exactly to `total`."""
    scale = total / sum(weights)
    exact = [weight * scale for weight in weights]
    counts = [int(value) for value in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])
    for position in by_remainder[: total - sum(counts)]:
        counts[position] += 1
    return counts
