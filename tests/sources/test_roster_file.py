from pathlib import Path

import pytest

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

    assert rows == [
        {
            "platform": "instagram",
            "handle": "maya.bakes",
            "connected": "true",
            "country": "GB",
            "category": "food",
            "line_number": "2",
        },
        {
            "platform": "instagram",
            "handle": "tomruns_42",
            "connected": "false",
            "country": "",
            "category": "",
            "line_number": "4",
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
