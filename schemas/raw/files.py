"""Contracts of the rows of a file import (other tools' exports), and how their numbers are read.

Exports write numbers for people: ``3.3k``, ``475.8m``, ``29.0b``, ``1.39%``, ``1,234``,
``2.28E+11``, ``0.89k``; and unknowns as ``unknown``, ``-``, ``N/A`` or nothing.
:func:`exported_number` reads them exactly, column-wise: the digits are moved past the decimal
point as text (``475.8m`` -> ``475800000``) and only then cast to a decimal, so no value ever
passes through a binary float (475.8m is 475 800 000, not 475 799 999.99). Every cell stays text
until a check has judged it, so a value that cannot be read is a failed check (and the row is
quarantined with the reason) rather than a parse error that loses the row.

Two contracts: :class:`RawImportedRow`, one row of the file with its mapped profile fields, and
:class:`RawImportedMetric`, one extra metric of one row (long form, so any number of metrics is
judged by one static model). A row is loaded only if it and all its metrics pass.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.checks import IMPLAUSIBLE_COUNT, NEGATIVE_COUNT, NOT_A_NUMBER
from schemas.raw.base import LandedRecord
from schemas.vocabulary import MAX_PLAUSIBLE_COUNT

# What exports write for "no value": read as NULL (unknown), never as 0.
UNKNOWN_TOKENS: Final = (
    "",
    "-",
    "--",
    "\u2014",  # em dash
    "\u2013",  # en dash
    "?",
    "unknown",
    "nan",
    "n/a",
    "na",
    "null",
    "none",
    "nil",
    "#n/a",
)
# Scale words after a number: 3.3k, 475.8m, 1.2b / 1.2bn, 1t; % moves the point two places left.
SUFFIX_EXPONENTS: Final = {
    "k": 3,
    "K": 3,
    "m": 6,
    "M": 6,
    "mn": 6,
    "b": 9,
    "B": 9,
    "bn": 9,
    "Bn": 9,
    "BN": 9,
    "t": 12,
    "T": 12,
    "%": -2,
}
# The warehouse keeps imported values as DECIMAL(38, 9): 29 integer digits, 9 decimals.
DECIMAL_SCALE: Final = 9
INTEGER_DIGITS: Final = 38 - DECIMAL_SCALE
DECIMAL_TYPE: Final = pl.Decimal(38, DECIMAL_SCALE)
METRIC_KINDS: Final = ("count", "average", "rate", "number")
NUMBER_TYPE: Final = pl.Struct(
    {
        "value": DECIMAL_TYPE,
        "unknown": pl.Boolean,
        "problem": pl.String,
        "negative": pl.Boolean,
        "whole": pl.Boolean,
        "percent": pl.Boolean,
    }
)
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

_NUMBER = (
    r"^(?P<sign>[+-]?)(?P<int>\d*)(?:\.(?P<frac>\d*))?(?:[eE](?P<exp>[+-]?\d{1,4}))?\s*"
    r"(?P<suffix>" + "|".join(sorted(SUFFIX_EXPONENTS, key=len, reverse=True)) + r")?$"
)
# Digit grouping, only where it is unambiguous: groups of exactly three digits.
_GROUPED = r"^[+-]?\d{{1,3}}(?:[{group}\s\u00a0\u202f']\d{{3}})+(?:[{decimal}]\d*)?\s*[A-Za-z%]*$"
_GROUP_CHARACTERS = r"[{group}\s\u00a0\u202f']"
_MINUS_SIGNS = r"[\u2212\u2012\u2013]"
# Zeros to pad a shifted number with: enough for any value the decimal type can hold.
_ZEROS = "0" * 64

# Problems a cell can have, as ``exported_number`` reports them in its ``problem`` field.
UNREADABLE = "unreadable"
TOO_PRECISE = "too_precise"
TOO_LARGE = "too_large"

NOT_A_WHOLE_NUMBER = "{column}: not a whole number ({value})"
TOO_PRECISE_NUMBER = f"{{column}}: more than {DECIMAL_SCALE} decimal places ({{value}})"
PERCENT_FOR_A_COUNT = "{column}: a percentage where a count is expected ({value})"
HANDLE_AGAINST_RULE = "{column}: not {handle_rule} ({value})"
AS_OF_IN_THE_FUTURE = "{column}: in the future ({value} is after {imported_on})"
NOT_A_DATE = "{column}: not a date ({value}); write it as YYYY-MM-DD or set date_format"
METRIC_NOT_A_NUMBER = "{metric}: not a number ({value})"
METRIC_TOO_PRECISE = f"{{metric}}: more than {DECIMAL_SCALE} decimal places ({{value}})"
METRIC_NOT_WHOLE = "{metric}: not a whole number ({value})"
METRIC_NEGATIVE = "{metric}: negative ({value})"
METRIC_ABOVE_MAX = "{metric}: above the mapping's max of {max_value} ({value})"
METRIC_PERCENT_FOR_A_COUNT = "{metric}: a percentage where a count is expected ({value})"


def is_unknown(text: pl.Expr) -> pl.Expr:
    """Whether a cell says "no value" (NULL, blank, ``unknown``, ``-``, ``N/A``, ``nan``...)."""
    return text.is_null() | text.str.strip_chars().str.to_lowercase().is_in(UNKNOWN_TOKENS)


def with_exported_number(
    frame: Frame,
    text: str,
    out: str,
    *,
    decimal_separator: str | pl.Expr = ".",
    bare_shift: int | pl.Expr = 0,
) -> Frame:
    """``frame`` plus ``out``: the cell ``text`` read as other tools write numbers, a struct of

    - ``value``: the number as ``Decimal(38, 9)``, exact; a percentage as a fraction
      (``1.39%`` -> 0.0139); NULL when unknown or not readable;
    - ``unknown``: the cell says "no value" (see :data:`UNKNOWN_TOKENS`);
    - ``problem``: NULL, ``unreadable``, ``too_precise`` (more than 9 decimals) or ``too_large``;
    - ``negative``, ``whole``, ``percent``: what the checks need to say what is wrong.

    ``decimal_separator`` is ``.`` (``1,234.5``) or ``,`` (``1.234,5``), or an expression giving
    one of them per row; ``bare_shift`` moves the point of numbers written without a ``%``
    (``-2``: bare numbers are percentages too). Computed in steps, each over the columns of the
    one before: one expression holding every step would repeat the earlier ones in each later
    one, and grow too large for Polars to plan quickly.
    """
    t = _TemporaryNames(out)
    separator = (
        pl.lit(decimal_separator) if isinstance(decimal_separator, str) else decimal_separator
    )
    stripped = pl.col(text).str.strip_chars().str.replace_all(_MINUS_SIGNS, "-")
    staged = frame.with_columns(
        stripped.alias(t.stripped), is_unknown(pl.col(text)).alias(t.unknown)
    ).with_columns(
        pl.when(separator == ",")
        .then(_ungrouped(pl.col(t.stripped), group=".", decimal=","))
        .otherwise(_ungrouped(pl.col(t.stripped), group=",", decimal="."))
        .str.extract_groups(_NUMBER)
        .alias(t.parts)
    )
    parts = pl.col(t.parts)
    staged = staged.with_columns(
        parts.struct.field("int").fill_null("").alias(t.integer),
        parts.struct.field("frac").fill_null("").alias(t.fraction),
        (parts.struct.field("suffix") == "%").fill_null(False).alias(t.percent),
        parts.struct.field("int").is_not_null().alias(t.matched),
        (parts.struct.field("sign") == "-").fill_null(False).alias(t.minus),
        (
            parts.struct.field("exp").cast(pl.Int32, strict=False).fill_null(0)
            + parts.struct.field("suffix")
            .replace_strict(SUFFIX_EXPONENTS, default=0, return_dtype=pl.Int32)
            .fill_null(0)
        ).alias(t.shift),
    ).with_columns(
        (pl.col(t.integer) + pl.col(t.fraction)).alias(t.digits),
        (pl.col(t.shift) + pl.when(pl.col(t.percent)).then(0).otherwise(bare_shift)).alias(t.shift),
    )
    staged = staged.with_columns(
        pl.col(t.digits).str.strip_chars_start("0").alias(t.significant)
    ).with_columns(
        pl.col(t.significant).str.len_chars().cast(pl.Int32).alias(t.length),
        # Where the decimal point falls in the significant digits once the suffix is applied.
        (
            pl.col(t.integer).str.len_chars().cast(pl.Int32)
            + pl.col(t.shift)
            - (pl.col(t.digits).str.len_chars() - pl.col(t.significant).str.len_chars()).cast(
                pl.Int32
            )
        ).alias(t.point),
    )
    length, significant = pl.col(t.length), pl.col(t.significant)
    staged = staged.with_columns(
        pl.col(t.point).clip(-(DECIMAL_SCALE + 1) - length, INTEGER_DIGITS + 1).alias(t.point)
    )
    point = pl.col(t.point)
    staged = staged.with_columns(
        pl.when(point >= length)
        .then(significant + _zeros(point - length))
        .when(point <= 0)
        .then(pl.lit(""))
        .otherwise(significant.str.slice(0, point))
        .alias(t.whole_part),
        pl.when(point >= length)
        .then(pl.lit(""))
        .when(point <= 0)
        .then(_zeros(-point) + significant)
        .otherwise(significant.str.slice(point))
        .str.strip_chars_end("0")
        .alias(t.fraction_part),
    )
    is_zero = significant == ""
    whole_part, fraction_part = pl.col(t.whole_part), pl.col(t.fraction_part)
    readable = pl.col(t.matched) & ((pl.col(t.integer) != "") | (pl.col(t.fraction) != ""))
    staged = staged.with_columns(
        pl.when(pl.col(t.unknown))
        .then(pl.lit(None, dtype=pl.String))
        .when(~readable.fill_null(False))
        .then(pl.lit(UNREADABLE))
        .when(~is_zero & (whole_part.str.len_chars() > INTEGER_DIGITS))
        .then(pl.lit(TOO_LARGE))
        .when(~is_zero & (fraction_part.str.len_chars() > DECIMAL_SCALE))
        .then(pl.lit(TOO_PRECISE))
        .alias(t.problem),
        (pl.col(t.minus) & ~is_zero).fill_null(False).alias(t.negative),
        ((fraction_part == "") | is_zero).fill_null(True).alias(t.whole),
        is_zero.alias(t.is_zero),
    )
    canonical = pl.concat_str(
        pl.when(pl.col(t.negative)).then(pl.lit("-")).otherwise(pl.lit("")),
        pl.when(whole_part == "").then(pl.lit("0")).otherwise(whole_part),
        pl.lit("."),
        pl.when(fraction_part == "").then(pl.lit("0")).otherwise(fraction_part),
    )
    value = (
        pl.when(pl.col(t.problem).is_null() & ~pl.col(t.unknown))
        .then(pl.when(pl.col(t.is_zero)).then(pl.lit("0")).otherwise(canonical))
        .cast(DECIMAL_TYPE, strict=False)
    )
    return staged.with_columns(
        pl.struct(
            value=value,
            unknown=pl.col(t.unknown),
            problem=pl.col(t.problem),
            negative=pl.col(t.negative),
            whole=pl.col(t.whole),
            percent=pl.col(t.percent),
        ).alias(out)
    ).drop(t.all())


def exported_number(text: pl.Expr, *, decimal_separator: str = ".", bare_shift: int = 0) -> pl.Expr:
    """:func:`with_exported_number` of one expression, for small frames and tests (as one
    expression it plans slowly: on frames, use :func:`with_exported_number`)."""
    return text.map_batches(
        lambda series: with_exported_number(
            series.rename("text").to_frame(),
            "text",
            "number",
            decimal_separator=decimal_separator,
            bare_shift=bare_shift,
        ).get_column("number"),
        return_dtype=NUMBER_TYPE,
    )


class _TemporaryNames:
    """The intermediate columns of one number's steps, named so they collide with nothing."""

    def __init__(self, out: str) -> None:
        self._prefix = f"__{out}__"
        self._names: list[str] = []

    def __getattr__(self, name: str) -> str:
        column = self._prefix + name
        if column not in self._names:
            self._names.append(column)
        return column

    def all(self) -> list[str]:
        return list(self._names)


def _ungrouped(stripped: pl.Expr, *, group: str, decimal: str) -> pl.Expr:
    """The text without its digit grouping (only where the grouping is unambiguous: groups of
    three), with ``.`` as the decimal point."""
    grouped = stripped.str.contains(
        _GROUPED.format(group=_escaped(group), decimal=_escaped(decimal))
    )
    ungrouped = (
        pl.when(grouped)
        .then(stripped.str.replace_all(_GROUP_CHARACTERS.format(group=_escaped(group)), ""))
        .otherwise(stripped)
    )
    if decimal == ".":
        return ungrouped
    # A point left over is no grouping of three digits: not a number in this convention.
    return (
        pl.when(ungrouped.str.contains(".", literal=True))
        .then(pl.lit("?"))
        .otherwise(ungrouped.str.replace(",", ".", literal=True))
    )


def _zeros(count: pl.Expr) -> pl.Expr:
    return pl.lit(_ZEROS).str.slice(0, count.clip(0, len(_ZEROS)))


def _escaped(character: str) -> str:
    return "\\" + character


# -- checks ---------------------------------------------------------------------------------
_NUMBER_COLUMN = "__number"


def _judged(data: PolarsData, condition: pl.Expr, bare_shift: int | pl.Expr = 0) -> pl.LazyFrame:
    """``condition`` over the checked column read as a number (``__number``), with the
    import's decimal separator (a column, the same on every row)."""
    return data.lazyframe.pipe(
        with_exported_number,
        data.key,
        _NUMBER_COLUMN,
        decimal_separator=pl.col("decimal_separator"),
        bare_shift=bare_shift,
    ).select(condition)


def _field(name: str) -> pl.Expr:
    return pl.col(_NUMBER_COLUMN).struct.field(name)


def _readable(cls: type, data: PolarsData) -> pl.LazyFrame:
    return _judged(data, (_field("problem") != UNREADABLE).fill_null(True))


def _precise_enough(cls: type, data: PolarsData) -> pl.LazyFrame:
    return _judged(data, (_field("problem") != TOO_PRECISE).fill_null(True))


def _count_not_percent(cls: type, data: PolarsData) -> pl.LazyFrame:
    return _judged(data, ~(_field("percent") & _field("value").is_not_null()))


def _count_whole(cls: type, data: PolarsData) -> pl.LazyFrame:
    # A percentage fails its own check: one reason per value.
    return _judged(data, _field("whole") | _field("value").is_null() | _field("percent"))


def _count_not_negative(cls: type, data: PolarsData) -> pl.LazyFrame:
    return _judged(data, ~_field("negative") | _field("value").is_null())


def _count_plausible(cls: type, data: PolarsData) -> pl.LazyFrame:
    return _judged(
        data,
        (_field("problem") != TOO_LARGE).fill_null(True)
        & (_field("value") <= MAX_PLAUSIBLE_COUNT).fill_null(True),
    )


def exported_count_checks(*columns: str) -> tuple[classmethod[Any, Any, Any], ...]:
    """The checks of a profile count (followers, following, media_count) as exports write it;
    each failing value gets one reason (the first that applies, in this order)."""
    return (
        pa.check(*columns, name="readable_number", error=NOT_A_NUMBER)(_readable),
        pa.check(*columns, name="precise_enough", error=TOO_PRECISE_NUMBER)(_precise_enough),
        pa.check(*columns, name="count_not_percent", error=PERCENT_FOR_A_COUNT)(_count_not_percent),
        pa.check(*columns, name="not_negative", error=NEGATIVE_COUNT)(_count_not_negative),
        pa.check(*columns, name="plausible_count", error=IMPLAUSIBLE_COUNT)(_count_plausible),
        pa.check(*columns, name="whole_number", error=NOT_A_WHOLE_NUMBER)(_count_whole),
    )


class RawImportedRow(LandedRecord):
    """One row of an imported file, its mapped fields as text: grain (landed file, line).

    ``platform``, ``handle_rule``, ``decimal_separator`` and ``imported_on`` are the same on
    every row of an import (the mapping's, and the import's UTC date): the checks read them.
    """

    platform: str = pa.Field(description="Platform of the mapping, e.g. instagram.")
    handle_rule: str = pa.Field(description="The platform's handle rule, in words.")
    decimal_separator: str = pa.Field(isin=[".", ","], description="The mapping's separator.")
    imported_on: str = pa.Field(description="UTC date of the import (ISO); later dates fail.")
    handle: str = pa.Field(nullable=True, description="Account handle, as the export writes it.")
    as_of: str = pa.Field(
        nullable=True, description="Date the row's counts are as of (ISO), or NULL if unknown."
    )
    followers: str = pa.Field(nullable=True, description="Followers, as written (3.3k...).")
    following: str = pa.Field(nullable=True, description="Accounts followed, as written.")
    media_count: str = pa.Field(nullable=True, description="Posts, as written.")
    display_name: str = pa.Field(nullable=True, description="Display name.")
    country: str = pa.Field(nullable=True, description="Country, as written (name or ISO-2).")
    category: str = pa.Field(nullable=True, description="Content category.")

    @pa.check("handle", name="missing")
    def _handle_present(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~is_unknown(pl.col(data.key)))

    @pa.check("handle", name="handle_follows_its_platform_rule", error=HANDLE_AGAINST_RULE)
    def _handle_rule(cls, data: PolarsData) -> pl.LazyFrame:
        from schemas.roster import handle_follows_its_platform_rule

        handle = pl.col(data.key)
        return data.lazyframe.select(
            handle_follows_its_platform_rule(pl.col("platform"), handle) | is_unknown(handle)
        )

    @pa.check("as_of", name="missing: give --date, or as_of_date in the mapping")
    def _as_of_present(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).is_not_null())

    @pa.check("as_of", name="iso_date", error=NOT_A_DATE)
    def _as_of_is_a_date(cls, data: PolarsData) -> pl.LazyFrame:
        date = pl.col(data.key).str.to_date("%Y-%m-%d", strict=False)
        return data.lazyframe.select(date.is_not_null() | pl.col(data.key).is_null())

    @pa.check("as_of", name="not_in_the_future", error=AS_OF_IN_THE_FUTURE)
    def _as_of_not_in_the_future(cls, data: PolarsData) -> pl.LazyFrame:
        date = pl.col(data.key).str.to_date("%Y-%m-%d", strict=False)
        today = pl.col("imported_on").str.to_date("%Y-%m-%d", strict=False)
        return data.lazyframe.select((date <= today).fill_null(True))

    (
        _readable_count,
        _precise_count,
        _count_not_percent,
        _not_negative_count,
        _plausible_count,
        _whole_count,
    ) = exported_count_checks("followers", "following", "media_count")


def _metric_judged(data: PolarsData, condition: pl.Expr) -> pl.LazyFrame:
    """``condition`` over the metric read as the warehouse keeps it: rates as fractions
    (``bare_shift`` -2: the mapping says bare numbers in the column are percentages)."""
    return _judged(data, condition, bare_shift=pl.col("bare_shift"))


class RawImportedMetric(LandedRecord):
    """One extra metric of one imported row: grain (landed file, line, metric).

    ``kind`` says what the number is: ``count`` (whole, not negative), ``average`` (not
    negative), ``rate`` (a fraction; ``1.39%`` is 0.0139) or ``number`` (any). Counts of likes
    over a lifetime pass 10^10 (29.0b), so only a mapping's ``max`` bounds a metric.
    """

    metric: str = pa.Field(description="Metric name, from the mapping.")
    kind: str = pa.Field(isin=list(METRIC_KINDS), description="count, average, rate or number.")
    bare_shift: int = pa.Field(
        isin=[0, -2], description="-2 when bare numbers in the column are percentages, else 0."
    )
    max_value: str = pa.Field(nullable=True, description="The mapping's upper bound, if any.")
    decimal_separator: str = pa.Field(isin=[".", ","], description="The mapping's separator.")
    value: str = pa.Field(nullable=True, description="The cell, as written.")

    @pa.check("value", name="readable_number", error=METRIC_NOT_A_NUMBER)
    def _readable(cls, data: PolarsData) -> pl.LazyFrame:
        return _metric_judged(data, (_field("problem") != UNREADABLE).fill_null(True))

    @pa.check("value", name="precise_enough", error=METRIC_TOO_PRECISE)
    def _precise(cls, data: PolarsData) -> pl.LazyFrame:
        return _metric_judged(
            data, ~_field("problem").is_in([TOO_PRECISE, TOO_LARGE]).fill_null(False)
        )

    @pa.check("value", name="count_not_percent", error=METRIC_PERCENT_FOR_A_COUNT)
    def _count_not_percent(cls, data: PolarsData) -> pl.LazyFrame:
        counted = pl.col("kind").is_in(["count", "average"])
        return _metric_judged(data, ~(counted & _field("percent") & _field("value").is_not_null()))

    @pa.check("value", name="not_negative", error=METRIC_NEGATIVE)
    def _not_negative(cls, data: PolarsData) -> pl.LazyFrame:
        counted = pl.col("kind").is_in(["count", "average"])
        return _metric_judged(data, ~(counted & _field("negative") & _field("value").is_not_null()))

    @pa.check("value", name="whole_number", error=METRIC_NOT_WHOLE)
    def _whole(cls, data: PolarsData) -> pl.LazyFrame:
        return _metric_judged(
            data,
            (pl.col("kind") != "count")
            | _field("whole")
            | _field("value").is_null()
            | _field("percent"),
        )

    @pa.check("value", name="within_max", error=METRIC_ABOVE_MAX)
    def _within_max(cls, data: PolarsData) -> pl.LazyFrame:
        bound = pl.col("max_value").cast(DECIMAL_TYPE, strict=False)
        return _metric_judged(data, (_field("value") <= bound).fill_null(True))
