"""Vectorised checks shared by the raw contracts, and the reasons their failures are given.

Raw fields arrive as JSON text (see ``transforms.raw_records``), so a count that is a string, an
object or negative fails a check on its text. Polars expressions, never ``element_wise`` checks:
those run Python per value.

A check whose ``error`` holds ``{value}`` is a *reason template*: ``schemas.contract`` fills in
``{column}`` (the checked column), ``{value}`` (its failing value) and ``{<name>}`` (the failing
row's column ``<name>``), so quarantine reads ``like_count: negative count (-3)`` rather than the
check's name.
"""

from __future__ import annotations

from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.vocabulary import (
    AGE_BUCKETS,
    CITY_BUCKET_PATTERN,
    COUNTRY_BUCKET_PATTERN,
    GENDER_BUCKETS,
    MAX_PLAUSIBLE_COUNT,
)

NON_NEGATIVE_INTEGER = r"^\d+$"
DIGITS_ID = r"^\d+$"
# The Graph API's timestamp format: 2026-11-20T14:03:00+0000
GRAPH_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$"
GRAPH_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
# What Python's json module writes for float("nan") and the infinities; strict JSON has no such
# literals, so ``transforms.raw_records`` reads them as these texts.
NON_FINITE_TOKENS = ("NaN", "Infinity", "-Infinity")


def _power_of_ten(number: int) -> str:
    digits = str(number)
    if digits.startswith("1") and set(digits[1:]) <= {"0"} and len(digits) > 1:
        return f"10^{len(digits) - 1}"
    return digits


NOT_A_NUMBER = "{column}: not a number ({value})"
NEGATIVE_COUNT = "{column}: negative count ({value})"
IMPLAUSIBLE_COUNT = (
    f"{{column}}: implausible count ({{value}} > {_power_of_ten(MAX_PLAUSIBLE_COUNT)})"
)
PUBLISHED_AFTER_THE_NIGHT = "{column}: published after the night's date ({value} > end of {as_of})"
UNKNOWN_BUCKET = "{column}: unknown {breakdown} bucket ({value})"


def matches(data: PolarsData, pattern: str) -> pl.LazyFrame:
    """Whether each value of the checked column matches ``pattern`` (nulls are judged elsewhere)."""
    return data.lazyframe.select(pl.col(data.key).str.contains(pattern))


def _number(text: pl.Expr) -> pl.Expr:
    return text.cast(pl.Float64, strict=False)


def _is_non_finite(text: pl.Expr) -> pl.Expr:
    number = _number(text)
    return (text.is_in(NON_FINITE_TOKENS) | number.is_nan() | number.is_infinite()).fill_null(False)


def _is_negative(text: pl.Expr) -> pl.Expr:
    return (~_is_non_finite(text) & (_number(text) < 0)).fill_null(False)


def _is_implausibly_large(text: pl.Expr) -> pl.Expr:
    # As a float: polars reads integers beyond 64 bits as floats (1e+30), and they are counts too.
    return (~_is_non_finite(text) & (_number(text) > MAX_PLAUSIBLE_COUNT)).fill_null(False)


def _finite(cls: Any, data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(~_is_non_finite(pl.col(data.key)))


def _not_negative(cls: Any, data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(~_is_negative(pl.col(data.key)))


def _plausible(cls: Any, data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(~_is_implausibly_large(pl.col(data.key)))


def _whole_number(cls: Any, data: PolarsData) -> pl.LazyFrame:
    # NaN, infinities, negatives and huge counts fail their own, more precise check instead:
    # one reason per value.
    text = pl.col(data.key)
    return data.lazyframe.select(
        text.str.contains(NON_NEGATIVE_INTEGER)
        | _is_non_finite(text)
        | _is_negative(text)
        | _is_implausibly_large(text)
    )


def count_checks(*columns: str) -> tuple[classmethod[Any, Any, Any], ...]:
    """The checks of count fields (followers, likes, ...), to assign in a model's body.

    Each failing value gets exactly one reason: ``not a number (NaN)``, ``negative count (-3)``,
    ``implausible count (... > 10^10)``, or ``non_negative_integer`` for any other text.

        _finite, _not_negative, _plausible, _whole_number = count_checks("followers_count")
    """
    return (
        pa.check(*columns, name="finite_number", error=NOT_A_NUMBER)(_finite),
        pa.check(*columns, name="not_negative", error=NEGATIVE_COUNT)(_not_negative),
        pa.check(*columns, name="plausible_count", error=IMPLAUSIBLE_COUNT)(_plausible),
        pa.check(*columns, name="non_negative_integer")(_whole_number),
    )


def published_by_end_of_as_of(
    data: PolarsData, timestamp_format: str, as_of: str = "as_of"
) -> pl.LazyFrame:
    """Whether a post was published before the end (UTC) of the date its counts are as of.

    A post from after the night it was fetched for is a clock or platform bug, not a post; a
    timestamp or date that does not parse passes here and fails its own format check.
    """
    published = pl.col(data.key).str.to_datetime(timestamp_format, time_zone="UTC", strict=False)
    end_of_night = (
        pl.col(as_of)
        .str.to_date("%Y-%m-%d", strict=False)
        .dt.offset_by("1d")
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
    )
    return data.lazyframe.select((published < end_of_night).fill_null(True))


def bucket_is_known(dimension: pl.Expr, bucket: pl.Expr) -> pl.Expr:
    """Whether ``bucket`` is one the platforms report for ``dimension`` (the vocabulary's lists).

    An unknown dimension passes: its own check reports it once, not once per bucket.
    """
    return (
        pl.when(dimension == "age")
        .then(bucket.is_in(AGE_BUCKETS))
        .when(dimension == "gender")
        .then(bucket.is_in(GENDER_BUCKETS))
        .when(dimension == "country")
        .then(bucket.str.contains(COUNTRY_BUCKET_PATTERN))
        .when(dimension == "city")
        .then(bucket.str.contains(CITY_BUCKET_PATTERN))
        .when(dimension == "interest")
        .then(bucket.str.strip_chars().str.len_chars() > 0)
        .otherwise(True)
    )
