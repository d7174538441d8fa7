"""Numbers as other tools write them, read exactly; and the contracts of an imported row."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from schemas.contract import split_by_contract
from schemas.raw.files import UNKNOWN_TOKENS, RawImportedMetric, RawImportedRow, exported_number


def read(texts: list[str | None], **options: object) -> list[dict[str, object]]:
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.String})
    parsed = frame.select(exported_number(pl.col("text"), **options).alias("n")).unnest("n")  # type: ignore[arg-type]
    return parsed.to_dicts()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.3k", Decimal("3300")),
        ("475.8m", Decimal("475800000")),
        ("1.2b", Decimal("1200000000")),
        ("29.0b", Decimal("29000000000")),
        ("1.39%", Decimal("0.0139")),
        ("1,234", Decimal("1234")),
        ("2.28E+11", Decimal("228000000000")),
        ("0.89k", Decimal("890")),
        ("12,345,678.5", Decimal("12345678.5")),
        ("1 234", Decimal("1234")),
        ("1\u00a0234", Decimal("1234")),
        ("5.2K", Decimal("5200")),
        ("1.2bn", Decimal("1200000000")),
        ("12.5 %", Decimal("0.125")),
        ("1.5e-3%", Decimal("0.000015")),
        ("+7", Decimal("7")),
        ("-5", Decimal("-5")),
        ("\u22123", Decimal("-3")),
        ("000.000k", Decimal("0")),
        (".5k", Decimal("500")),
        ("12345678901234.123456789", Decimal("12345678901234.123456789")),
        ("0.000000001", Decimal("0.000000001")),
    ],
    ids=lambda value: str(value),
)
def test_a_number_is_read_exactly_as_written(text: str, expected: Decimal) -> None:
    (parsed,) = read([text])

    assert parsed["value"] == expected
    assert parsed["problem"] is None


def test_475_8m_is_475_800_000_exactly_not_a_float_away() -> None:
    (parsed,) = read(["475.8m"])

    assert str(parsed["value"]) == "475800000.000000000"


@pytest.mark.parametrize("text", [*UNKNOWN_TOKENS, "N/A", "NaN", "Unknown", "NULL", " - ", None])
def test_unknowns_are_null_never_zero(text: str | None) -> None:
    (parsed,) = read([text])

    assert parsed["value"] is None
    assert parsed["unknown"] is True
    assert parsed["problem"] is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("lots", "unreadable"),
        ("1,23", "unreadable"),
        ("1e", "unreadable"),
        ("k", "unreadable"),
        ("12.3.4", "unreadable"),
        ("Infinity", "unreadable"),
        ("1e400", "too_large"),
        ("1e-12", "too_precise"),
        ("0.0000000001", "too_precise"),
    ],
)
def test_what_is_no_number_says_why(text: str, problem: str) -> None:
    (parsed,) = read([text])

    assert parsed["value"] is None
    assert parsed["problem"] == problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,5k", Decimal("12500")),
        ("1.234,5k", Decimal("1234500")),
        ("1.234.567,89", Decimal("1234567.89")),
        ("2,5%", Decimal("0.025")),
        ("12.5k", None),  # a point that groups nothing: not a number in this convention
    ],
)
def test_a_decimal_comma_when_the_mapping_says_so(text: str, expected: Decimal | None) -> None:
    (parsed,) = read([text], decimal_separator=",")

    assert parsed["value"] == expected


def test_bare_numbers_can_be_percentages() -> None:
    parsed = read(["1.39", "1.39%"], bare_shift=-2)

    assert [row["value"] for row in parsed] == [Decimal("0.0139"), Decimal("0.0139")]


def row(**cells: str | None) -> dict[str, str | None]:
    base: dict[str, str | None] = {
        "landed_file": "x/file/abc.csv",
        "line_number": "2",
        "raw_record": "{}",
        "record_problem": None,
        "platform": "instagram",
        "handle_rule": "an Instagram username (rule)",
        "decimal_separator": ".",
        "imported_on": "2026-05-02",
        "handle": "alpha",
        "as_of": "2026-05-01",
        "followers": "3.3k",
        "following": "1",
        "media_count": "1",
        "display_name": None,
        "country": None,
        "category": None,
    }
    return {**base, **cells}


def judged_rows(*rows: dict[str, str | None]) -> list[list[str]]:
    numbered = [{**r, "line_number": str(position)} for position, r in enumerate(rows, start=2)]
    frame = pl.DataFrame(numbered, schema=dict.fromkeys(numbered[0], pl.String)).with_columns(
        pl.col("line_number").cast(pl.Int64)
    )
    split = split_by_contract(frame, RawImportedRow)
    reasons = dict(
        zip(
            split.rejected["line_number"].to_list(),
            split.rejected["failed_checks"].to_list(),
            strict=True,
        )
    )
    return [reasons.get(position, []) for position in range(2, len(rows) + 2)]


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ({"handle": None}, "handle: missing (got nothing)"),
        ({"handle": "unknown"}, "handle: missing (got unknown)"),
        ({"handle": "mu handle"}, "handle: not an Instagram username (rule) (mu handle)"),
        ({"followers": "-5k"}, "followers: negative count (-5k)"),
        ({"followers": "20000000000"}, "followers: implausible count (20000000000 > 10^10)"),
        ({"followers": "1e400"}, "followers: implausible count (1e400 > 10^10)"),
        ({"followers": "lots"}, "followers: not a number (lots)"),
        ({"followers": "1.2345k"}, "followers: not a whole number (1.2345k)"),
        ({"followers": "1.39%"}, "followers: a percentage where a count is expected (1.39%)"),
        ({"media_count": "1e-12"}, "media_count: more than 9 decimal places (1e-12)"),
        ({"as_of": "2026-05-03"}, "as_of: in the future (2026-05-03 is after 2026-05-02)"),
        (
            {"as_of": "05/01/2026"},
            "as_of: not a date (05/01/2026); write it as YYYY-MM-DD or set date_format",
        ),
        (
            {"as_of": None},
            "as_of: missing: give --date, or as_of_date in the mapping (got nothing)",
        ),
    ],
    ids=lambda value: str(value),
)
def test_a_row_that_cannot_be_read_fails_with_one_reason(
    cells: dict[str, str | None], reason: str
) -> None:
    good, bad = judged_rows(row(handle="good"), row(**{"handle": "bad", **cells}))

    assert good == []
    assert bad == [reason]


def test_unknown_counts_pass_as_unknown() -> None:
    (reasons,) = judged_rows(row(followers="N/A", following="-", media_count=""))

    assert reasons == []


def metric(kind: str, value: str | None, *, max_value: str | None = None) -> dict[str, object]:
    return {
        "landed_file": "x/file/abc.csv",
        "line_number": 2,
        "raw_record": "",
        "record_problem": None,
        "metric": "m",
        "kind": kind,
        "bare_shift": 0,
        "max_value": max_value,
        "decimal_separator": ".",
        "value": value,
    }


@pytest.mark.parametrize(
    ("kind", "value", "max_value", "reason"),
    [
        ("count", "1.5", None, "m: not a whole number (1.5)"),
        ("count", "-1", None, "m: negative (-1)"),
        ("average", "-0.5", None, "m: negative (-0.5)"),
        ("average", "5%", None, "m: a percentage where a count is expected (5%)"),
        ("rate", "high", None, "m: not a number (high)"),
        ("number", "101", "100", "m: above the mapping's max of 100 (101)"),
        ("count", "29.0b", None, None),
        ("rate", "-1.5%", None, None),
        ("number", "-3.25", None, None),
        ("average", "unknown", None, None),
    ],
)
def test_a_metric_is_judged_by_its_kind(
    kind: str, value: str, max_value: str | None, reason: str | None
) -> None:
    frame = pl.DataFrame(
        [metric(kind, value, max_value=max_value)],
        schema_overrides={"value": pl.String, "max_value": pl.String, "record_problem": pl.String},
    )

    split = split_by_contract(frame, RawImportedMetric)

    assert split.rejected["failed_checks"].to_list() == ([[reason]] if reason else [])
