from pathlib import Path

import pytest

from schemas.roster import RosterProblem, split_roster
from sources.roster import RosterFileError, read_roster_rows


def test_rows_keep_their_line_numbers_and_skip_blank_lines(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "platform,handle,connected,country,category\n"
        "instagram, maya.bakes ,true,GB,food\n"
        "\n"
        "instagram,tomruns_42,false,,\n",
        encoding="utf-8",
    )

    rows = read_roster_rows(roster)

    assert rows.to_dicts() == [
        {
            "platform": "instagram",
            "handle": "maya.bakes",
            "connected": "true",
            "country": "GB",
            "category": "food",
            "line_number": 2,
        },
        {
            "platform": "instagram",
            "handle": "tomruns_42",
            "connected": "false",
            "country": "",
            "category": "",
            "line_number": 4,
        },
    ]


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("platform,handle\ninstagram,a\n", encoding="utf-8")

    with pytest.raises(RosterFileError, match="lacks column\\(s\\) connected"):
        read_roster_rows(roster)


def test_a_missing_file_says_which_setting_to_fix(tmp_path: Path) -> None:
    with pytest.raises(RosterFileError, match="INFLUENCERS_ROSTER_PATH"):
        read_roster_rows(tmp_path / "nope.csv")


def roster_file(tmp_path: Path, *lines: str) -> Path:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "platform,handle,connected,country,category\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    return roster


@pytest.mark.parametrize(
    ("platform", "handle"),
    [
        ("instagram", "maya.bakes"),
        ("instagram", "a"),
        ("instagram", "x" * 30),
        ("instagram", "_under_score."),
        ("youtube", "UC" + "aZ09_-" * 3 + "abcd"),
        ("youtube", "@Zoë.Café"),
        ("youtube", "@東京ビューティー"),
        ("youtube", "@नमस्ते_दुनिया"),
        ("youtube", "@abc"),
        ("youtube", "@" + "x" * 30),
        ("tiktok", "tom.runs_42"),
        ("tiktok", "ab"),
        ("tiktok", "x" * 24),
    ],
    ids=[
        "instagram-plain",
        "instagram-one-character",
        "instagram-30-characters",
        "instagram-underscores-and-period",
        "youtube-channel-id",
        "youtube-handle-latin-accents",
        "youtube-handle-japanese",
        "youtube-handle-devanagari-with-marks",
        "youtube-handle-3-characters",
        "youtube-handle-30-characters",
        "tiktok-plain",
        "tiktok-2-characters",
        "tiktok-24-characters",
    ],
)
def test_a_handle_that_follows_its_platform_rule_is_valid(
    tmp_path: Path, platform: str, handle: str
) -> None:
    roster = roster_file(tmp_path, f"{platform},{handle},true,,")

    split = split_roster(read_roster_rows(roster))

    assert split.problems == []
    assert split.valid.rows() == [(platform, handle, True, None, None)]


INSTAGRAM_RULE = '1 to 30 of A-Z, a-z, 0-9, "." and "_", without @'
YOUTUBE_RULE = (
    'a channel id (UC and 22 of A-Z, a-z, 0-9, "_" and "-") or an @handle '
    '(@ and 3 to 30 letters of any script, digits, "_", "-" and ".")'
)
TIKTOK_RULE = '2 to 24 of A-Z, a-z, 0-9, "." and "_", not ending with "."'


@pytest.mark.parametrize(
    ("line", "expected_reason"),
    [
        (
            "instagram,zoë.café,true,,",
            f'handle: "zoë.café" is not an Instagram username ({INSTAGRAM_RULE})',
        ),
        (
            "instagram,@maya.bakes,true,,",
            f'handle: "@maya.bakes" is not an Instagram username ({INSTAGRAM_RULE})',
        ),
        (
            "instagram," + "x" * 31 + ",true,,",
            f'handle: "{"x" * 31}" is not an Instagram username ({INSTAGRAM_RULE})',
        ),
        (
            "youtube,UCshort,true,,",
            f'handle: "UCshort" is not a YouTube channel id or @handle ({YOUTUBE_RULE})',
        ),
        (
            "youtube,Zoë.Café,true,,",
            f'handle: "Zoë.Café" is not a YouTube channel id or @handle ({YOUTUBE_RULE})',
        ),
        (
            "youtube,@ab,true,,",
            f'handle: "@ab" is not a YouTube channel id or @handle ({YOUTUBE_RULE})',
        ),
        (
            "youtube,@zoë café,true,,",
            f'handle: "@zoë café" is not a YouTube channel id or @handle ({YOUTUBE_RULE})',
        ),
        (
            "tiktok,tom.runs.,true,,",
            f'handle: "tom.runs." is not a TikTok username ({TIKTOK_RULE})',
        ),
        ("tiktok,t,true,,", f'handle: "t" is not a TikTok username ({TIKTOK_RULE})'),
        (
            "myspace,maya.bakes,true,,",
            'platform: unknown platform "myspace" (expected instagram, youtube or tiktok)',
        ),
        (",maya.bakes,true,,", "platform: missing (expected instagram, youtube or tiktok)"),
        ("instagram,,true,GB,", "handle: missing"),
        (
            "instagram,maya.bakes,maybe,,",
            'connected: "maybe" is not true or false (use true/false, yes/no or 1/0)',
        ),
    ],
    ids=[
        "instagram-non-ascii",
        "instagram-with-at",
        "instagram-31-characters",
        "youtube-short-channel-id",
        "youtube-handle-without-at",
        "youtube-handle-too-short",
        "youtube-handle-with-space",
        "tiktok-ending-with-period",
        "tiktok-one-character",
        "unknown-platform",
        "no-platform",
        "no-handle",
        "connected-not-boolean",
    ],
)
def test_a_bad_line_is_reported_with_its_number_and_the_good_lines_still_run(
    tmp_path: Path, line: str, expected_reason: str
) -> None:
    roster = roster_file(
        tmp_path, "instagram,ava.cooks,true,GB,food", line, "youtube,@Zoë.Café,no,FR,"
    )

    split = split_roster(read_roster_rows(roster))

    assert split.problems == [RosterProblem(3, line.split(",")[1], expected_reason)]
    assert split.valid.rows() == [
        ("instagram", "ava.cooks", True, "GB", "food"),
        ("youtube", "@Zoë.Café", False, "FR", None),
    ]


def test_a_handle_listed_twice_runs_once_and_names_its_first_line(tmp_path: Path) -> None:
    roster = roster_file(
        tmp_path,
        "instagram,Maya.Bakes,true,GB,food",
        "youtube,@Zoë.Café,true,,",
        "",
        "instagram,maya.bakes,false,,",
        "tiktok,maya.bakes,true,,",
        "youtube,@zoë.café,true,,",
        "youtube,UCaaaaaaaaaaaaaaaaaaaaaa,true,,",
        "youtube,UCAAAAAAAAAAAAAAAAAAAAAA,true,,",
    )

    split = split_roster(read_roster_rows(roster))

    assert [str(problem) for problem in split.problems] == [
        "line 5 (maya.bakes): handle: already listed on line 2",
        "line 7 (@zoë.café): handle: already listed on line 3",
    ]
    assert split.valid.select("platform", "handle").rows() == [
        ("instagram", "Maya.Bakes"),
        ("youtube", "@Zoë.Café"),
        ("tiktok", "maya.bakes"),
        ("youtube", "UCaaaaaaaaaaaaaaaaaaaaaa"),
        ("youtube", "UCAAAAAAAAAAAAAAAAAAAAAA"),
    ]


def test_every_reason_of_a_line_is_given_at_once(tmp_path: Path) -> None:
    roster = roster_file(tmp_path, "instagram,zoë,perhaps,,")

    split = split_roster(read_roster_rows(roster))

    assert [str(problem) for problem in split.problems] == [
        f'line 2 (zoë): handle: "zoë" is not an Instagram username ({INSTAGRAM_RULE}); '
        'connected: "perhaps" is not true or false (use true/false, yes/no or 1/0)'
    ]
    assert split.valid.is_empty()
    assert split.valid.columns == ["platform", "handle", "connected", "country", "category"]
