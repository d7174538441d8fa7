"""The simulated Instagram population: determinism, calibration and archetypes."""

from __future__ import annotations

import csv
import itertools
import statistics
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from simulator import (
    DEFAULT_ANCHOR,
    DEFAULT_ROSTER_PATH,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    Creator,
    SimulatedWorld,
    roster_rows,
    write_roster,
)
from simulator.world import AGE_BUCKETS, ARCHETYPES, GENDER_BUCKETS, tier_of

ANCHOR = DEFAULT_ANCHOR
ENGAGEMENT_BANDS = {
    "nano": (0.02, 0.05),
    "micro": (0.01, 0.03),
    "macro": (0.007, 0.015),
    "mega": (0.003, 0.01),
}


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return SimulatedWorld()


def days(offset: int) -> date:
    return ANCHOR + timedelta(days=offset)


def of_archetype(world: SimulatedWorld, archetype: str) -> list[Creator]:
    return [creator for creator in world.creators if creator.archetype == archetype]


def published_on(item: dict) -> date:
    return date.fromisoformat(item["timestamp"][:10])


def settled_posts(world: SimulatedWorld, handle: str, first: date, last: date) -> list[dict]:
    """Posts published in [first, last], observed long enough after for counts to settle."""
    observed = min(last + timedelta(days=10), world.last_day)
    newest_first = world.media(handle, observed)
    in_or_before = itertools.dropwhile(lambda item: published_on(item) > last, newest_first)
    return list(itertools.takewhile(lambda item: published_on(item) >= first, in_or_before))


def interactions(item: dict) -> int:
    return item["like_count"] + item["comments_count"]


def test_defaults_are_the_documented_constants() -> None:
    assert DEFAULT_SEED == 7 and DEFAULT_SIZE == 200
    assert date(2026, 11, 1) == DEFAULT_ANCHOR
    beside_the_module = Path(__file__).parents[2] / "simulator/default_roster.csv"
    assert beside_the_module == DEFAULT_ROSTER_PATH


def test_same_seed_gives_the_same_world_and_another_seed_a_different_one() -> None:
    first, second, other = SimulatedWorld(seed=3), SimulatedWorld(seed=3), SimulatedWorld(seed=4)
    assert first.creators == second.creators
    assert first.roster_rows() == second.roster_rows()
    for creator in first.creators[:20]:
        for day in (days(-700), days(-30), ANCHOR, days(200)):
            assert first.profile(creator.handle, day) == second.profile(creator.handle, day)
            assert first.media(creator.handle, day)[:10] == second.media(creator.handle, day)[:10]
    assert [c.handle for c in first.creators] != [c.handle for c in other.creators]


def test_creators_look_like_instagram_accounts(world: SimulatedWorld) -> None:
    assert len(world.creators) == DEFAULT_SIZE
    handles = [creator.handle for creator in world.creators]
    assert len(set(handles)) == len(handles)
    assert len({creator.ig_id for creator in world.creators}) == len(handles)
    for creator in world.creators:
        assert creator.ig_id.isdigit() and creator.ig_id.startswith("178414")
        assert creator.handle == creator.handle.lower()
        assert set(creator.handle) <= set("abcdefghijklmnopqrstuvwxyz0123456789._")
        assert len(creator.country) == 2 and creator.country.isupper()
        assert creator.archetype in ARCHETYPES
        assert world.creator(creator.handle) is creator
    with pytest.raises(KeyError):
        world.creator("no.such.creator")


def test_every_archetype_is_present_in_the_default_world(world: SimulatedWorld) -> None:
    counts = Counter(creator.archetype for creator in world.creators)
    assert counts["riser"] >= 5 and counts["bought"] >= 5
    assert counts["decliner"] >= 5 and counts["viral"] >= 3
    assert 0.65 <= counts["steady"] / DEFAULT_SIZE <= 0.85
    assert 0.5 <= sum(creator.connected for creator in world.creators) / DEFAULT_SIZE <= 0.7


def test_tier_mix_at_the_anchor_is_mostly_micro(world: SimulatedWorld) -> None:
    tiers = Counter(tier_of(world.followers(creator.handle, ANCHOR)) for creator in world.creators)
    shares = {tier: tiers[tier] / DEFAULT_SIZE for tier in ENGAGEMENT_BANDS}
    assert 0.05 <= shares["nano"] <= 0.18
    assert 0.55 <= shares["micro"] <= 0.80
    assert 0.10 <= shares["macro"] <= 0.25
    assert 0.02 <= shares["mega"] <= 0.09


def test_engagement_per_tier_lands_in_the_published_bands(world: SimulatedWorld) -> None:
    rates_by_tier: dict[str, list[float]] = {tier: [] for tier in ENGAGEMENT_BANDS}
    for creator in of_archetype(world, "steady"):
        rates = [
            interactions(item) / world.followers(creator.handle, published_on(item))
            for item in settled_posts(world, creator.handle, days(-60), days(-10))
            if "like_count" in item
        ]
        tier = tier_of(world.followers(creator.handle, days(-35)))
        rates_by_tier[tier].append(statistics.mean(rates))
    for tier, (low, high) in ENGAGEMENT_BANDS.items():
        assert rates_by_tier[tier], tier
        assert low <= statistics.mean(rates_by_tier[tier]) <= high, tier
    assert (
        statistics.mean(rates_by_tier["nano"])
        > statistics.mean(rates_by_tier["micro"])
        > statistics.mean(rates_by_tier["macro"])
        > statistics.mean(rates_by_tier["mega"])
    )


def test_organic_growth_of_steady_creators_stays_in_monthly_bands(world: SimulatedWorld) -> None:
    for creator in of_archetype(world, "steady"):
        before = world.followers(creator.handle, days(-365))
        after = world.followers(creator.handle, ANCHOR)
        monthly = (after / before) ** (1 / 12) - 1
        assert -0.025 <= monthly <= 0.035, creator.handle


def test_comments_are_a_small_share_of_interactions(world: SimulatedWorld) -> None:
    posts = [
        item
        for creator in world.creators
        for item in world.media(creator.handle, ANCHOR)[5:15]
        if "like_count" in item
    ]
    share = sum(item["comments_count"] for item in posts) / sum(map(interactions, posts))
    assert 0.03 <= share <= 0.10


def test_risers_are_micro_eight_weeks_before_and_macro_soon_after(world: SimulatedWorld) -> None:
    risers = of_archetype(world, "riser")
    assert len(risers) >= 5
    for creator in risers:
        assert tier_of(world.followers(creator.handle, days(-56))) == "micro", creator.handle
        assert tier_of(world.followers(creator.handle, days(45))) == "macro", creator.handle
        still_growing = world.followers(creator.handle, days(365))
        assert still_growing > world.followers(creator.handle, days(45))


def test_some_decliners_fall_out_of_micro_near_the_anchor(world: SimulatedWorld) -> None:
    falling = [
        creator
        for creator in of_archetype(world, "decliner")
        if tier_of(world.followers(creator.handle, days(-60))) == "micro"
        and tier_of(world.followers(creator.handle, days(45))) == "nano"
    ]
    assert falling
    for creator in of_archetype(world, "decliner"):
        assert world.followers(creator.handle, days(60)) < world.followers(creator.handle, ANCHOR)


def largest_one_day_jump(world: SimulatedWorld, handle: str) -> tuple[date, float]:
    window = [days(offset) for offset in range(-41, 1)]
    counts = [world.followers(handle, day) for day in window]
    ratio, day = max(
        (after / before, day)
        for before, after, day in zip(counts, counts[1:], window[1:], strict=False)
    )
    return day, ratio


def test_bought_followers_jump_in_one_day_without_more_interactions(world: SimulatedWorld) -> None:
    bought = of_archetype(world, "bought")
    assert len(bought) >= 5
    for creator in bought:
        jump_day, ratio = largest_one_day_jump(world, creator.handle)
        assert ratio > 1.15, creator.handle
        before = settled_posts(
            world, creator.handle, jump_day - timedelta(days=28), jump_day - timedelta(days=1)
        )
        after = settled_posts(world, creator.handle, jump_day, jump_day + timedelta(days=27))
        before = [item for item in before if "like_count" in item]
        after = [item for item in after if "like_count" in item]
        mean_before = statistics.mean(map(interactions, before))
        mean_after = statistics.mean(map(interactions, after))
        assert 0.75 <= mean_after / mean_before <= 1.33, creator.handle
        rate_before = mean_before / world.followers(creator.handle, jump_day - timedelta(days=1))
        rate_after = mean_after / world.followers(creator.handle, jump_day)
        assert rate_after < rate_before, creator.handle


def test_viral_creators_jump_with_an_engagement_spike(world: SimulatedWorld) -> None:
    for creator in of_archetype(world, "viral"):
        jump_day, ratio = largest_one_day_jump(world, creator.handle)
        assert ratio > 1.09, creator.handle
        spike = settled_posts(
            world, creator.handle, jump_day - timedelta(days=1), jump_day + timedelta(days=1)
        )
        usual = settled_posts(
            world, creator.handle, jump_day - timedelta(days=40), jump_day - timedelta(days=10)
        )
        spike_mean = statistics.mean(item["comments_count"] for item in spike)
        usual_mean = statistics.mean(item["comments_count"] for item in usual)
        assert spike_mean > 2.0 * usual_mean, creator.handle


def test_observed_counts_only_grow_with_as_of(world: SimulatedWorld) -> None:
    for creator in world.creators[:40]:
        by_day = [
            {item["id"]: item for item in world.media(creator.handle, day)[:25]}
            for day in (days(-3), days(-2), days(-1), ANCHOR, days(5))
        ]
        for earlier, later in itertools.pairwise(by_day):
            common = earlier.keys() & later.keys()
            assert len(common) >= 10
            for media_id in common:
                item = earlier[media_id]
                for count in ("like_count", "comments_count"):
                    if count in item:
                        assert later[media_id][count] >= item[count] >= 0


def test_media_are_newest_first_and_well_formed(world: SimulatedWorld) -> None:
    creator = world.creators[0]
    timeline = world.media(creator.handle, ANCHOR)
    posts = list(timeline)
    assert len(posts) == len(timeline) > 300
    timestamps = [item["timestamp"] for item in posts]
    assert timestamps == sorted(timestamps, reverse=True)
    assert published_on(posts[0]) <= ANCHOR
    assert len({item["id"] for item in posts}) == len(posts)
    assert timeline[-1] == posts[-1] and timeline[3:5] == posts[3:5]
    for item in posts[:50]:
        assert item["id"].isdigit()
        assert item["media_type"] in ("IMAGE", "CAROUSEL_ALBUM", "VIDEO")
        assert item["permalink"].startswith("https://www.instagram.com/p/")
        assert item["timestamp"].endswith("+0000") and item["caption"]
    weekly = len(settled_posts(world, creator.handle, days(-364), ANCHOR)) / 52
    assert 2.5 <= weekly <= 5.5


def test_media_types_follow_the_usual_mix(world: SimulatedWorld) -> None:
    types = Counter(
        item["media_type"]
        for creator in world.creators
        for item in world.media(creator.handle, ANCHOR)[:20]
    )
    total = sum(types.values())
    assert 0.48 <= types["IMAGE"] / total <= 0.62
    assert 0.23 <= types["CAROUSEL_ALBUM"] / total <= 0.37
    assert 0.10 <= types["VIDEO"] / total <= 0.20


def test_media_count_grows_by_one_per_post(world: SimulatedWorld) -> None:
    creator = world.creators[1]
    for offset in range(-20, 0):
        day = days(offset)
        newest = world.media(creator.handle, day)[:3]
        posted_that_day = sum(published_on(item) == day for item in newest)
        grew = (
            world.profile(creator.handle, day)["media_count"]
            - world.profile(creator.handle, day - timedelta(days=1))["media_count"]
        )
        assert grew == posted_that_day


def test_profile_fields(world: SimulatedWorld) -> None:
    creator = world.creators[2]
    profile = world.profile(creator.handle, ANCHOR)
    assert profile["id"] == creator.ig_id and profile["username"] == creator.handle
    assert profile["name"] == creator.name
    assert profile["followers_count"] == world.followers(creator.handle, ANCHOR)
    assert 100 <= profile["follows_count"] <= 3_000
    assert profile["media_count"] > len(world.media(creator.handle, ANCHOR))


def test_hidden_likes_are_omitted_not_zero(world: SimulatedWorld) -> None:
    hiders = [creator for creator in world.creators if creator.hides_likes]
    assert 1 <= len(hiders) <= 0.12 * DEFAULT_SIZE
    hidden = [
        item
        for creator in hiders
        for item in world.media(creator.handle, ANCHOR)[:40]
        if "like_count" not in item
    ]
    shown = [
        item
        for creator in hiders
        for item in world.media(creator.handle, ANCHOR)[:40]
        if "like_count" in item
    ]
    assert hidden and shown
    for creator in world.creators:
        if not creator.hides_likes:
            assert all("like_count" in item for item in world.media(creator.handle, ANCHOR)[:20])


def test_demographics_of_connected_creators_sum_to_followers(world: SimulatedWorld) -> None:
    connected = [creator for creator in world.creators if creator.connected]
    for creator in connected[:40]:
        followers = world.followers(creator.handle, ANCHOR)
        breakdowns = {
            breakdown: world.demographics(creator.handle, breakdown, ANCHOR)
            for breakdown in ("age", "gender", "country", "city")
        }
        for buckets in breakdowns.values():
            assert abs(sum(count for _, count in buckets) - followers) <= 0.01 * followers
            assert all(count >= 0 for _, count in buckets)
        assert [bucket for bucket, _ in breakdowns["age"]] == list(AGE_BUCKETS)
        assert [bucket for bucket, _ in breakdowns["gender"]] == list(GENDER_BUCKETS)
        countries = [bucket for bucket, _ in breakdowns["country"]]
        assert 8 <= len(countries) <= 15 and countries[0] == creator.country
        assert max(breakdowns["country"], key=lambda bucket: bucket[1])[0] == creator.country
        cities = [bucket for bucket, _ in breakdowns["city"]]
        assert 8 <= len(cities) <= 12 and all(", " in city for city in cities)


def test_demographics_drift_only_slightly(world: SimulatedWorld) -> None:
    creator = next(creator for creator in world.creators if creator.connected)
    now = dict(world.demographics(creator.handle, "gender", ANCHOR))
    later = dict(world.demographics(creator.handle, "gender", days(90)))
    now_share = now["F"] / sum(now.values())
    later_share = later["F"] / sum(later.values())
    assert abs(now_share - later_share) < 0.05


def test_beauty_audiences_skew_female(world: SimulatedWorld) -> None:
    beauty = [
        creator for creator in world.creators if creator.connected and creator.category == "beauty"
    ]
    assert beauty
    for creator in beauty:
        genders = dict(world.demographics(creator.handle, "gender", ANCHOR))
        assert genders["F"] > genders["M"]


def test_no_demographics_without_consent(world: SimulatedWorld) -> None:
    prospect = next(creator for creator in world.creators if not creator.connected)
    with pytest.raises(PermissionError):
        world.demographics(prospect.handle, "age", ANCHOR)
    member = next(creator for creator in world.creators if creator.connected)
    with pytest.raises(ValueError):
        world.demographics(member.handle, "income", ANCHOR)


def test_dates_outside_the_simulated_range_are_refused(world: SimulatedWorld) -> None:
    handle = world.creators[0].handle
    assert world.profile(handle, days(-730)) and world.profile(handle, days(365))
    for outside in (days(-731), days(366)):
        with pytest.raises(ValueError):
            world.profile(handle, outside)
        with pytest.raises(ValueError):
            world.followers(handle, outside)


def test_write_roster_round_trips(world: SimulatedWorld, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    write_roster(path, world)
    with path.open(newline="", encoding="utf-8") as roster:
        reader = csv.DictReader(roster)
        assert reader.fieldnames == ["platform", "handle", "connected", "country", "category"]
        assert list(reader) == roster_rows(world)


def test_committed_default_roster_is_current(tmp_path: Path) -> None:
    regenerated = tmp_path / "default_roster.csv"
    write_roster(
        regenerated, SimulatedWorld(seed=DEFAULT_SEED, size=DEFAULT_SIZE, anchor=DEFAULT_ANCHOR)
    )
    assert DEFAULT_ROSTER_PATH.read_bytes() == regenerated.read_bytes(), (
        "regenerate with write_roster(DEFAULT_ROSTER_PATH, SimulatedWorld())"
    )
