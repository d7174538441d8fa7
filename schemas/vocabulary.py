"""The pipeline's one vocabulary: platforms, tiers, audience dimensions and their buckets.

Everything that names a tier, a platform or a bucket imports it from here (stdlib only, so the
simulated platforms, the contracts, the settings and the reports share it without dependencies).
"""

from __future__ import annotations

from typing import Final

PLATFORMS: Final = ("instagram", "youtube", "tiktok")

TIER_NAMES: Final = ("nano", "micro", "macro", "mega")
# Lower follower bounds of micro, macro and mega (nano starts at 0); REPORTS.md's defaults.
DEFAULT_TIER_BOUNDS: Final = (10_000, 100_000, 1_000_000)

AUDIENCE_DIMENSIONS: Final = ("age", "gender", "country", "city", "interest")
# The breakdowns Instagram's follower_demographics insights report.
INSIGHTS_DIMENSIONS: Final = ("age", "gender", "country", "city")
AGE_BUCKETS: Final = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDER_BUCKETS: Final = ("F", "M", "U")
COUNTRY_BUCKET_PATTERN: Final = r"^[A-Z]{2}$"
CITY_BUCKET_PATTERN: Final = r"^[^,\s][^,]*, [^,\s][^,]*$"

# Counts beyond any real account (the largest have a few hundred million followers): a count
# above this is a platform bug or a corrupted answer, never data.
MAX_PLAUSIBLE_COUNT: Final = 10**10


def tier_of(followers: int, bounds: tuple[int, int, int] = DEFAULT_TIER_BOUNDS) -> str:
    """The tier of an account with ``followers`` followers, for the given lower bounds."""
    tier = TIER_NAMES[0]
    for name, lower in zip(TIER_NAMES[1:], bounds, strict=True):
        if followers >= lower:
            tier = name
    return tier
