"""The campaign files: every problem the loader must find, each named by file and key or line."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from schemas.brands import Brands
from sources.programme import (
    DEFAULT_BRANDS_PATH,
    DEFAULT_CAMPAIGNS_DIR,
    ProgrammeFileError,
    read_brand_file,
    read_campaigns,
)

CAMPAIGNS = """\
brand = "glowco"
collaborations = "glowco.collaborations.csv"

[[campaign]]
id = "glowco-spring-glow"
name = "Spring Glow"
start_date = 2026-09-14
end_date = 2026-10-11
currency = "USD"
hashtags = ["SpringGlow", "#glowcoserum"]
mentions = ["@GlowCo"]

[[campaign]]
id = "glowco-winter"
name = "Winter"
start_date = 2026-12-01
end_date = 2026-12-31
currency = "EUR"
attribution_window_days = 0
hashtags = ["springglow"]
"""
HEADER = "campaign_id,platform,handle,stage,fee,promo_code,utm_content,posts_agreed\n"
COLLABORATIONS = (
    HEADER
    + "glowco-spring-glow,instagram,sarar_skincare,active,450.00,SARA15,sarar01,3\n"
    + "glowco-spring-glow,youtube,@Sarar_Skincare,contacted,0,,,0\n"
    + "glowco-spring-glow,tiktok,@emma_brooks,active,300,emma15,emmab01,2\n"
    + "glowco-winter,instagram,sarar_skincare,prospect,0,SARA15,sarar01,0\n"
)


@pytest.fixture(scope="module")
def brands() -> Brands:
    return read_brand_file(DEFAULT_BRANDS_PATH)


def write(
    directory: Path,
    campaigns: str = CAMPAIGNS,
    collaborations: str | bytes = COLLABORATIONS,
    brand: str = "glowco",
) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / f"{brand}.campaigns.toml").write_text(campaigns, encoding="utf-8")
    csv = directory / f"{brand}.collaborations.csv"
    if isinstance(collaborations, bytes):
        csv.write_bytes(collaborations)
    else:
        csv.write_text(collaborations, encoding="utf-8")
    return directory


def problems(directory: Path, brands: Brands) -> list[str]:
    with pytest.raises(ProgrammeFileError) as refused:
        read_campaigns(directory, brands)
    assert str(directory) in str(refused.value)
    return [str(problem) for problem in refused.value.problems]


def test_the_shipped_samples_read_for_the_three_brands(brands: Brands) -> None:
    campaigns = read_campaigns(DEFAULT_CAMPAIGNS_DIR, brands)

    assert set(campaigns.dim_campaign["brand_id"]) == {"glowco", "peakform", "respawn"}
    assert set(campaigns.collaboration["platform"]) == {"instagram", "youtube", "tiktok"}
    assert campaigns.collaboration.height >= 12


def test_a_good_directory_reads_as_campaign_and_collaboration_rows(
    tmp_path: Path, brands: Brands
) -> None:
    campaigns = read_campaigns(write(tmp_path), brands)

    assert campaigns.dim_campaign.rows() == [
        (
            "glowco-spring-glow",
            "glowco",
            "Spring Glow",
            dt.date(2026, 9, 14),
            dt.date(2026, 10, 11),
            "USD",
            30,
            ["springglow", "glowcoserum"],
            ["glowco"],
        ),
        (
            "glowco-winter",
            "glowco",
            "Winter",
            dt.date(2026, 12, 1),
            dt.date(2026, 12, 31),
            "EUR",
            0,
            ["springglow"],
            [],
        ),
    ]
    assert campaigns.collaboration.rows() == [
        (
            "glowco-spring-glow",
            "instagram",
            "sarar_skincare",
            "sarar_skincare",
            Decimal("450.00"),
            "SARA15",
            "sarar01",
            3,
            "active",
        ),
        # YouTube keeps its @, as the roster writes it; the key is lower case.
        (
            "glowco-spring-glow",
            "youtube",
            "@Sarar_Skincare",
            "@sarar_skincare",
            Decimal("0.00"),
            None,
            None,
            0,
            "contacted",
        ),
        # Instagram and TikTok handles lose an @ the file gives them.
        (
            "glowco-spring-glow",
            "tiktok",
            "emma_brooks",
            "emma_brooks",
            Decimal("300.00"),
            "emma15",
            "emmab01",
            2,
            "active",
        ),
        (
            "glowco-winter",
            "instagram",
            "sarar_skincare",
            "sarar_skincare",
            Decimal("0.00"),
            "SARA15",
            "sarar01",
            0,
            "prospect",
        ),
    ]


def replace_line(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


TOML_PROBLEMS = [
    pytest.param(
        replace_line(CAMPAIGNS, 'brand = "glowco"', 'brand = "glowko"'),
        "glowco.campaigns.toml: brand: unknown brand 'glowko'; the brand file has glowco, "
        "peakform, respawn",
        id="unknown-brand",
    ),
    pytest.param(
        replace_line(CAMPAIGNS, "end_date = 2026-10-11", "end_date = 2026-09-01"),
        'glowco.campaigns.toml: campaign "glowco-spring-glow" → end_date: must be on or after '
        "start_date 2026-09-14 (got 2026-09-01)",
        id="end-before-start",
    ),
    pytest.param(
        replace_line(CAMPAIGNS, 'currency = "USD"', 'currency = "usd"'),
        "glowco.campaigns.toml: campaign \"glowco-spring-glow\" → currency: 'usd': an ISO 4217 "
        "code, 3 capitals, e.g. USD",
        id="currency-lower-case",
    ),
    pytest.param(
        replace_line(CAMPAIGNS, 'currency = "EUR"', 'currency = "EURO"'),
        "glowco.campaigns.toml: campaign \"glowco-winter\" → currency: 'EURO': an ISO 4217",
        id="currency-four-letters",
    ),
    pytest.param(
        replace_line(CAMPAIGNS, 'id = "glowco-winter"', 'id = "glowco-spring-glow"'),
        'glowco.campaigns.toml: campaign "glowco-spring-glow" → id: also defined above; '
        "campaign ids are unique across brands",
        id="duplicate-campaign-id",
    ),
    pytest.param(
        replace_line(CAMPAIGNS, "start_date = 2026-12-01", "start_date = 2026-10-11"),
        'glowco.campaigns.toml: campaign "glowco-winter" → start_date: 2026-10-11..2026-12-31 '
        'overlaps campaign "glowco-spring-glow" (2026-09-14..2026-10-11), which shares hashtag '
        "#springglow",
        id="overlap-sharing-a-hashtag",
    ),
    pytest.param(
        replace_line(CAMPAIGNS, "attribution_window_days = 0", "attribution_window_days = 400"),
        'glowco.campaigns.toml: campaign "glowco-winter" → attribution_window_days: must be '
        "≤ 365 (got 400)",
        id="window-too-long",
    ),
    pytest.param(
        replace_line(CAMPAIGNS, "start_date = 2026-09-14", 'start_date = "2026-09-14"'),
        'campaign "glowco-spring-glow" → start_date: must be a TOML date like 2026-09-14, '
        "without quotes",
        id="date-in-quotes",
    ),
    pytest.param(
        replace_line(CAMPAIGNS, 'hashtags = ["springglow"]', 'hashtags = ["spring glow"]'),
        "campaign \"glowco-winter\" → hashtags[0]: 'spring glow': a hashtag is letters, digits "
        "and _",
        id="hashtag-with-a-space",
    ),
    pytest.param(
        replace_line(CAMPAIGNS, 'name = "Winter"', 'nmae = "Winter"'),
        'campaign "glowco-winter" → nmae: unknown key (a typo?)',
        id="unknown-campaign-key",
    ),
    pytest.param(
        replace_line(
            CAMPAIGNS, 'collaborations = "glowco.collaborations.csv"', 'collaborations = "../x.csv"'
        ),
        "glowco.campaigns.toml: collaborations: '../x.csv' is not a plain file name",
        id="collaborations-path-up",
    ),
    pytest.param(
        replace_line(
            CAMPAIGNS,
            'collaborations = "glowco.collaborations.csv"',
            'collaborations = "/etc/passwd.csv"',
        ),
        "glowco.campaigns.toml: collaborations: '/etc/passwd.csv' is not a plain file name",
        id="collaborations-absolute",
    ),
    pytest.param(
        replace_line(CAMPAIGNS, 'collaborations = "glowco.collaborations.csv"\n', ""),
        "glowco.campaigns.toml: collaborations: missing (required)",
        id="collaborations-missing",
    ),
    pytest.param(
        replace_line(
            CAMPAIGNS, 'collaborations = "glowco.collaborations.csv"', 'collaborations = "gc.csv"'
        ),
        "glowco.campaigns.toml: collaborations: gc.csv does not exist next to "
        "glowco.campaigns.toml",
        id="collaborations-not-there",
    ),
    pytest.param(
        'brand = "glowco"\ncollaborations = "glowco.collaborations.csv"\ncampaign = [\n',
        "glowco.campaigns.toml line 3: not valid TOML",
        id="truncated-toml",
    ),
]


@pytest.mark.parametrize(("campaigns", "expected"), TOML_PROBLEMS)
def test_a_bad_campaign_file_is_refused_naming_file_and_key(
    tmp_path: Path, brands: Brands, campaigns: str, expected: str
) -> None:
    found = problems(write(tmp_path, campaigns=campaigns), brands)

    assert any(expected in problem for problem in found), found


def test_campaigns_sharing_no_hashtag_may_overlap(tmp_path: Path, brands: Brands) -> None:
    campaigns = replace_line(CAMPAIGNS, "start_date = 2026-12-01", "start_date = 2026-10-01")
    campaigns = replace_line(campaigns, 'hashtags = ["springglow"]', 'hashtags = ["wintertime"]')

    read = read_campaigns(write(tmp_path, campaigns=campaigns), brands)

    assert read.dim_campaign.height == 2


def test_a_campaign_id_used_by_two_brands_is_refused(tmp_path: Path, brands: Brands) -> None:
    write(tmp_path)
    peakform = replace_line(CAMPAIGNS, 'brand = "glowco"', 'brand = "peakform"')
    peakform = replace_line(peakform, "glowco.collaborations.csv", "peakform.collaborations.csv")
    peakform = replace_line(peakform, 'id = "glowco-winter"', 'id = "peakform-winter"')
    write(tmp_path, peakform, HEADER, brand="peakform")

    assert (
        'peakform.campaigns.toml: campaign "glowco-spring-glow" → id: also defined in '
        "glowco.campaigns.toml; campaign ids are unique across brands"
    ) in problems(tmp_path, brands)


def test_a_file_named_for_another_brand_is_refused(tmp_path: Path, brands: Brands) -> None:
    campaigns = replace_line(CAMPAIGNS, 'brand = "glowco"', 'brand = "peakform"')

    assert problems(write(tmp_path, campaigns), brands) == [
        "glowco.campaigns.toml: brand: is 'peakform' but the file is named "
        "glowco.campaigns.toml: name it peakform.campaigns.toml"
    ]


def with_line(line: str, number: int = 2) -> str:
    """The collaborations with ``line`` in place of line ``number``."""
    lines = COLLABORATIONS.splitlines(keepends=True)
    lines[number - 1] = line + "\n"
    return "".join(lines)


CSV_PROBLEMS = [
    pytest.param(
        with_line("glowco-autumn,instagram,sarar_skincare,active,450,,,3"),
        "glowco.collaborations.csv line 2: campaign_id: unknown campaign 'glowco-autumn'; this "
        "file's campaigns are glowco-spring-glow, glowco-winter",
        id="unknown-campaign",
    ),
    pytest.param(
        with_line("glowco-spring-glow,instagram,sarar_skincare,signed,450,,,3"),
        "glowco.collaborations.csv line 2: stage: got 'signed'; use 'prospect', 'contacted', "
        "'negotiating', 'active', 'paused' or 'ended'",
        id="unknown-stage",
    ),
    pytest.param(
        with_line("glowco-spring-glow,twitter,sarar_skincare,active,450,,,3"),
        "glowco.collaborations.csv line 2: platform: got 'twitter'; use 'instagram', 'youtube' "
        "or 'tiktok'",
        id="unknown-platform",
    ),
    pytest.param(
        with_line("glowco-spring-glow,instagram,sarar_skincare,active,-50,,,3"),
        "glowco.collaborations.csv line 2: fee: must be ≥ 0 (got -50)",
        id="negative-fee",
    ),
    pytest.param(
        with_line("glowco-spring-glow,instagram,sarar_skincare,active,lots,,,3"),
        "glowco.collaborations.csv line 2: fee: must be a number (got 'lots')",
        id="fee-not-a-number",
    ),
    pytest.param(
        with_line('glowco-spring-glow,instagram,sarar_skincare,active,"1,000",,,3'),
        "glowco.collaborations.csv line 2: fee: must be a number (got '1,000')",
        id="fee-with-thousands-separator",
    ),
    pytest.param(
        with_line("glowco-spring-glow,instagram,sarar_skincare,active,NaN,,,3"),
        "glowco.collaborations.csv line 2: fee: must be a finite number (got NaN)",
        id="fee-nan",
    ),
    pytest.param(
        with_line("glowco-spring-glow,instagram,sarar_skincare,active,12.345,,,3"),
        "glowco.collaborations.csv line 2: fee: at most 2 decimals (got 12.345)",
        id="fee-fraction-of-a-cent",
    ),
    pytest.param(
        with_line("glowco-spring-glow,instagram,sarar_skincare,active,1e30,,,3"),
        "glowco.collaborations.csv line 2: fee: too large (got 1e30)",
        id="fee-absurd",
    ),
    pytest.param(
        with_line("glowco-spring-glow,instagram,sarar_skincare,active,,,,3"),
        "glowco.collaborations.csv line 2: fee: is empty: a value is required",
        id="fee-empty",
    ),
    pytest.param(
        with_line("glowco-spring-glow,instagram,sarar_skincare,active,450,,,-1"),
        "glowco.collaborations.csv line 2: posts_agreed: must be ≥ 0 (got -1)",
        id="posts-negative",
    ),
    pytest.param(
        with_line("glowco-spring-glow,instagram,sarar_skincare,active,450,,,2.5"),
        "glowco.collaborations.csv line 2: posts_agreed: must be a whole number (got '2.5')",
        id="posts-fractional",
    ),
    pytest.param(
        with_line("glowco-spring-glow,instagram,sarar_skincare,active,450,,,two"),
        "glowco.collaborations.csv line 2: posts_agreed: must be a whole number (got 'two')",
        id="posts-not-a-number",
    ),
    pytest.param(
        with_line("glowco-spring-glow,tiktok,emma_brooks,active,300,Sara15,emmab01,2", 4),
        "glowco.collaborations.csv line 4: promo_code: 'Sara15' is already on line 2 for "
        "campaign 'glowco-spring-glow'; each creator needs their own code (case does not count)",
        id="promo-code-twice-in-a-campaign",
    ),
    pytest.param(
        with_line("glowco-spring-glow,tiktok,emma_brooks,active,300,EMMA15,sarar01,2", 4),
        "glowco.collaborations.csv line 4: utm_content: 'sarar01' is already on line 2 for "
        "campaign 'glowco-spring-glow'; each creator needs their own utm_content",
        id="utm-content-twice-in-a-campaign",
    ),
    pytest.param(
        with_line("glowco-spring-glow,instagram,Sarar_Skincare,paused,0,,,0", 4),
        "glowco.collaborations.csv line 4: handle: 'instagram Sarar_Skincare' is already on line "
        "2 for campaign 'glowco-spring-glow'; one line per campaign, platform and handle",
        id="same-creator-twice-in-a-campaign",
    ),
    pytest.param(
        with_line("glowco-spring-glow,youtube,sarar_skincare,contacted,0,,,0", 3),
        "glowco.collaborations.csv line 3: handle: 'sarar_skincare' is not a YouTube channel id "
        "or @handle",
        id="youtube-handle-without-at",
    ),
    pytest.param(
        with_line("glowco-spring-glow,instagram,sarar_skin", 3),
        "glowco.collaborations.csv line 3: 3 fields where the header has 8: the line is cut "
        "short (a truncated file?)",
        id="truncated-line",
    ),
    pytest.param(
        COLLABORATIONS + 'glowco-winter,tiktok,emma_brooks,active,"300,,,1\n',
        "glowco.collaborations.csv line 6: not readable as CSV (unexpected end of data): a quote "
        "left open?",
        id="quote-left-open",
    ),
    pytest.param(
        "campaign,platform,handle,stage,fee,promo_code,utm_content,posts_agreed\n",
        "glowco.collaborations.csv line 1: header: must be campaign_id,platform,handle,stage,fee,"
        "promo_code,utm_content,posts_agreed (missing: campaign_id; unknown: campaign)",
        id="header-misspelt",
    ),
    pytest.param("", "glowco.collaborations.csv: the file is empty", id="empty-file"),
    pytest.param(
        COLLABORATIONS.replace("sarar_skincare,active", "sarar_skincaré,active").encode("cp1252"),
        "glowco.collaborations.csv line 2: the file is not UTF-8 text (it reads as "
        "Windows-1252, Excel's plain 'CSV' export): save it as 'CSV UTF-8' and re-run",
        id="cp1252",
    ),
]


@pytest.mark.parametrize(("collaborations", "expected"), CSV_PROBLEMS)
def test_a_bad_collaborations_file_is_refused_naming_file_and_line(
    tmp_path: Path, brands: Brands, collaborations: str | bytes, expected: str
) -> None:
    found = problems(write(tmp_path, collaborations=collaborations), brands)

    assert any(expected in problem for problem in found), found


def test_a_utf8_file_with_a_byte_order_mark_reads(tmp_path: Path, brands: Brands) -> None:
    directory = write(tmp_path, collaborations=COLLABORATIONS.encode("utf-8-sig"))

    assert read_campaigns(directory, brands).collaboration.height == 4


def test_every_problem_of_every_file_is_listed_at_once(tmp_path: Path, brands: Brands) -> None:
    campaigns = replace_line(CAMPAIGNS, "end_date = 2026-10-11", "end_date = 2026-09-01")
    collaborations = (
        HEADER
        + "glowco-spring-glow,instagram,sarar_skincare,active,50,SARA,,3\n"
        + "glowco-spring-glow,instagram,the.noah.lashes,active,10,sara,,1\n"
        + "glowco-autumn,instagram,emma_brooks,actif,-50,,,1\n"
    )

    found = problems(write(tmp_path, campaigns, collaborations), brands)

    assert found == [
        'glowco.campaigns.toml: campaign "glowco-spring-glow" → end_date: must be on or after '
        "start_date 2026-09-14 (got 2026-09-01)",
        "glowco.collaborations.csv line 3: promo_code: 'sara' is already on line 2 for campaign "
        "'glowco-spring-glow'; each creator needs their own code (case does not count)",
        "glowco.collaborations.csv line 4: campaign_id: unknown campaign 'glowco-autumn'; this "
        "file's campaigns are glowco-spring-glow, glowco-winter",
        "glowco.collaborations.csv line 4: stage: got 'actif'; use 'prospect', 'contacted', "
        "'negotiating', 'active', 'paused' or 'ended'",
        "glowco.collaborations.csv line 4: fee: must be ≥ 0 (got -50)",
    ]


def test_a_missing_folder_says_which_setting_to_fix(tmp_path: Path, brands: Brands) -> None:
    with pytest.raises(ProgrammeFileError, match="INFLUENCERS_CAMPAIGNS_DIR"):
        read_campaigns(tmp_path / "nope", brands)
