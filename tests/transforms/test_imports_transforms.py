"""The pure transforms of a file import: charset repair, handles, countries, account ids."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from transforms.imports import (
    country_code,
    handle_key,
    repair_mojibake,
    repaired_text,
    resolve_account_ids,
)


def mis_decoded(text: str, charset: str = "cp1252") -> str:
    """What another tool shows of UTF-8 ``text`` when it decodes it as ``charset`` (the five
    bytes cp1252 leaves undefined shown as latin-1 does, as spreadsheet programs do)."""
    return "".join(
        bytes([byte]).decode(charset, errors="ignore") or chr(byte) for byte in text.encode("utf-8")
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CÃ´te d'Ivoire", "Côte d'Ivoire"),  # noqa: RUF001 (the mis-decoded text itself)
        (mis_decoded("Zoë Müller"), "Zoë Müller"),
        (mis_decoded("été à São Paulo"), "été à São Paulo"),
        (
            mis_decoded("O\u2019Brien \u201cquoted\u201d \u2013 €5"),
            "O\u2019Brien \u201cquoted\u201d \u2013 €5",
        ),
        (mis_decoded("Łódź"), "Łódź"),
        (mis_decoded("Ñandú", "latin-1"), "Ñandú"),
        (mis_decoded(mis_decoded("Côte")), "Côte"),  # decoded wrongly twice
    ],
)
def test_utf8_decoded_with_the_wrong_charset_is_repaired(text: str, expected: str) -> None:
    assert repaired_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Côte d'Ivoire",  # already right
        "plain ascii",
        "Müller Ã©",  # a real ü beside mojibake: which is right is not clear
        "Ã",  # a lone A-tilde: no sequence to repair
        "€100",
    ],
)
def test_text_that_needs_no_repair_or_has_no_unambiguous_one_is_left_alone(text: str) -> None:
    assert repaired_text(text) is None


def test_repairs_are_listed_with_the_original_and_the_line() -> None:
    cells = pl.DataFrame(
        {
            "line_number": [2, 3, 4],
            "handle": ["a", "b", "c"],
            "country": [mis_decoded("Côte d'Ivoire"), "France", mis_decoded("Côte d'Ivoire")],
        }
    )

    repaired, repairs = repair_mojibake(cells, ["handle", "country", "category"])

    assert repaired["country"].to_list() == ["Côte d'Ivoire", "France", "Côte d'Ivoire"]
    assert repairs.to_dicts() == [
        {
            "field": "country",
            "line_number": line,
            "original": mis_decoded("Côte d'Ivoire"),
            "repaired": "Côte d'Ivoire",
        }
        for line in (2, 4)
    ]


@pytest.mark.parametrize(
    ("platform", "handle", "key"),
    [
        ("instagram", "Shakira", "shakira"),
        ("youtube", "@SomeChannel", "@somechannel"),
        ("youtube", "UCabcdefghijklmnopqrstuV", "UCabcdefghijklmnopqrstuV"),
    ],
)
def test_handle_keys_ignore_case_except_youtube_channel_ids(
    platform: str, handle: str, key: str
) -> None:
    frame = pl.DataFrame({"platform": [platform], "handle": [handle]})

    assert frame.select(handle_key(pl.col("platform"), pl.col("handle"))).item() == key


def test_countries_become_iso_codes_from_the_mapping_or_stay_unknown() -> None:
    frame = pl.DataFrame({"country": ["Spain", "us", " united states ", "GB", "Atlantis", None]})
    names = {"Spain": "ES", "United States": "US"}

    codes = frame.select(country_code(pl.col("country"), names)).to_series().to_list()

    assert codes == ["ES", "US", "US", "GB", None, None]


def test_a_known_handle_gets_its_platform_id_an_unknown_one_a_stable_derived_id() -> None:
    profiles = pl.LazyFrame(
        {
            "platform": ["instagram", "instagram", "youtube"],
            "handle_key": ["cristiano", "newcomer", "UCabcdefghijklmnopqrstuv"],
        }
    )
    known = pl.LazyFrame(
        {
            "platform": ["instagram", "instagram"],
            "handle_key": ["cristiano", "cristiano"],
            "account_id": ["173560420", "handle:cristiano"],  # the platform id listed first
        }
    )

    resolved = resolve_account_ids(profiles, known).collect()

    assert_frame_equal(
        resolved,
        profiles.collect().with_columns(
            account_id=pl.Series(
                ["173560420", "handle:newcomer", "UCabcdefghijklmnopqrstuv"], dtype=pl.String
            ),
            id_known=pl.Series([True, False, False]),
        ),
    )
