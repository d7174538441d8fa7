"""Contracts of the brand tables (``dim_brand``, ``brand_dimension_weight``, ``brand_target``).

``DimBrand``, ``BrandDimensionWeight`` and ``BrandTarget`` are the tables as loaded. The
``...FromFile`` models add where each row came from in the brand file and the checks that need
another table (a weighted dimension must be targeted); ``brand_file_problems`` validates against
them and says, per problem, which line of the file to fix and how.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.errors import SchemaErrors

from schemas.checks import bucket_is_known
from schemas.vocabulary import AGE_BUCKETS, AUDIENCE_DIMENSIONS, GENDER_BUCKETS, TIER_NAMES

DEFAULT_RECRUIT_TIERS = ["micro"]
# λ of a targeted dimension the file gives no weight for: equal weights by default.
DEFAULT_DIMENSION_WEIGHT = 1.0
BUCKET_RULES = {
    "age": "one of " + ", ".join(AGE_BUCKETS),
    "gender": ", ".join(GENDER_BUCKETS[:-1]) + f" or {GENDER_BUCKETS[-1]}",
    "country": "an ISO 3166 two-letter code in capitals, e.g. US",
    "city": '"City, Region" as the platform spells it, e.g. "London, England"',
    "interest": "any non-empty text",
}
# Brand ids end up in report rows, artifact keys and file names: keep them plain.
BRAND_ID = r"^[a-z0-9][a-z0-9_-]*$"


def _known_dimension(data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col(data.key).is_in(AUDIENCE_DIMENSIONS))


def _finite_non_negative(data: PolarsData) -> pl.LazyFrame:
    # NaN compares greater than every number in polars, so `>= 0` alone would let it through.
    weight = pl.col(data.key)
    return data.lazyframe.select(weight.is_finite() & (weight >= 0))


class DimBrand(pa.DataFrameModel):
    """One row per brand_id: a brand whose audience match is reported."""

    brand_id: str = pa.Field(description="Short id of the brand, e.g. glowco; used in reports.")
    name: str = pa.Field(description="The brand's display name.")
    recruit_tiers: list[str] = pa.Field(
        description="Follower tiers the brand recruits creators from (nano, micro, macro, mega)."
    )

    @pa.check("brand_id")
    def brand_id_is_plain(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.contains(BRAND_ID))

    @pa.check("name")
    def name_is_not_blank(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.strip_chars().str.len_chars() > 0)

    @pa.check("recruit_tiers")
    def recruits_known_tiers(cls, data: PolarsData) -> pl.LazyFrame:
        tiers = pl.col(data.key)
        return data.lazyframe.select(
            (tiers.list.len() > 0) & tiers.list.eval(pl.element().is_in(TIER_NAMES)).list.all()
        )

    @pa.dataframe_check()
    def brand_id_listed_once(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.col("brand_id").is_duplicated())


class BrandDimensionWeight(pa.DataFrameModel):
    """One row per (brand_id, dimension) the brand targets: its weight λ before normalising.

    Reports normalise λ to sum 1 over the brand's targeted dimensions, so only ratios matter.
    """

    brand_id: str = pa.Field(description="The brand (dim_brand.brand_id).")
    dimension: str = pa.Field(description="Audience dimension: age, gender, country, city, ...")
    weight: float = pa.Field(description="λ, how much the dimension counts; ≥ 0, default 1.0.")

    @pa.check("dimension")
    def known_dimension(cls, data: PolarsData) -> pl.LazyFrame:
        return _known_dimension(data)

    @pa.check("weight")
    def finite_non_negative_weight(cls, data: PolarsData) -> pl.LazyFrame:
        return _finite_non_negative(data)

    @pa.dataframe_check()
    def some_dimension_weight_above_zero(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("weight") > 0).any().over("brand_id"))


class BrandTarget(pa.DataFrameModel):
    """One row per (brand_id, dimension, bucket): how much the brand wants that audience bucket.

    Weights are relative within a (brand, dimension): reports normalise them to sum 1. Each
    (brand, dimension, bucket) is unique because a TOML table cannot repeat a key and brand ids
    are unique (``DimBrand``).
    """

    brand_id: str = pa.Field(description="The brand (dim_brand.brand_id).")
    dimension: str = pa.Field(description="Audience dimension: age, gender, country, city, ...")
    bucket: str = pa.Field(description="Bucket as the platform reports it: 18-24, F, US, ...")
    weight: float = pa.Field(description="Relative weight of the bucket in its dimension; ≥ 0.")

    @pa.check("dimension")
    def known_dimension(cls, data: PolarsData) -> pl.LazyFrame:
        return _known_dimension(data)

    @pa.check("weight")
    def finite_non_negative_weight(cls, data: PolarsData) -> pl.LazyFrame:
        return _finite_non_negative(data)

    @pa.dataframe_check()
    def bucket_in_vocabulary(cls, data: PolarsData) -> pl.LazyFrame:
        # An unknown dimension is reported by `known_dimension`, not once per bucket here.
        return data.lazyframe.select(bucket_is_known(pl.col("dimension"), pl.col("bucket")))

    @pa.dataframe_check()
    def some_bucket_weight_above_zero(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("weight") > 0).any().over("brand_id", "dimension"))


class DimBrandFromFile(DimBrand):
    """``DimBrand`` rows read from the brand file, one per ``[[brand]]``, with their lines."""

    brand_position: int = pa.Field(ge=1, description="1 for the file's first [[brand]], ...")
    line_number: int = pa.Field(ge=1, description="Line of the brand's id (or [[brand]]).")
    name_line: int = pa.Field(ge=1, description="Line of its name (or [[brand]]).")
    recruit_tiers_line: int = pa.Field(ge=1, description="Line of its recruit_tiers.")
    targeted_dimensions: int = pa.Field(ge=0, description="Dimensions it has targets in.")

    @pa.dataframe_check()
    def targets_some_dimension(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("targeted_dimensions") > 0)


class BrandDimensionWeightFromFile(BrandDimensionWeight):
    """``BrandDimensionWeight`` rows from the file, plus weights given to untargeted dimensions."""

    brand_position: int = pa.Field(ge=1, description="Position of the brand in the file.")
    line_number: int = pa.Field(ge=1, description="Line of the weight (or of the targets).")
    dimension_weights_line: int = pa.Field(
        ge=1, description="Line of [brand.dimension_weights] (or of [[brand]])."
    )
    target_buckets: int = pa.Field(ge=0, description="Buckets the brand targets in the dimension.")

    @pa.dataframe_check()
    def weighted_dimension_is_targeted(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("target_buckets") > 0) | ~pl.col("dimension").is_in(AUDIENCE_DIMENSIONS)
        )


class BrandTargetFromFile(BrandTarget):
    """``BrandTarget`` rows read from the brand file, with their lines."""

    brand_position: int = pa.Field(ge=1, description="Position of the brand in the file.")
    line_number: int = pa.Field(ge=1, description="Line of the bucket's weight.")
    dimension_line: int = pa.Field(ge=1, description="Line of [brand.targets.<dimension>].")


class BrandFileFailure(NamedTuple):
    """One failed check of one row, said so that a person editing the file can fix it."""

    line_number: int
    brand_id: str | None
    brand_position: int
    message: str


Row = Mapping[str, Any]
# check name (or "<column>.not_nullable") -> (columns that may hold the line to fix, the first
# one the row has wins; what is wrong)
Explanation = tuple[tuple[str, ...], Callable[[Row], str]]


def _tiers_problem(row: Row) -> str:
    unknown = [tier for tier in row["recruit_tiers"] if tier not in TIER_NAMES]
    if unknown:
        return (
            f"recruit_tiers names unknown tier(s) {', '.join(map(repr, unknown))}; "
            f"use {', '.join(TIER_NAMES)}"
        )
    return f"recruit_tiers is empty; list one or more of {', '.join(TIER_NAMES)}"


def _weight_key(row: Row) -> str:
    if "bucket" in row:
        return f'targets.{row["dimension"]}."{row["bucket"]}"'
    return f"dimension_weights.{row['dimension']}"


EXPLANATIONS: dict[str, Explanation] = {
    "brand_id.not_nullable": (
        ("line_number",),
        lambda row: 'has no id: add id = "..." (lower-case letters, digits, - and _)',
    ),
    "brand_id_is_plain": (
        ("line_number",),
        lambda row: (
            f"id {row['brand_id']!r} must be lower-case letters, digits, - and _, "
            "starting with a letter or digit"
        ),
    ),
    "brand_id_listed_once": (
        ("line_number",),
        lambda row: f"id {row['brand_id']!r} is used by more than one brand; ids must be unique",
    ),
    "name.not_nullable": (("name_line",), lambda row: 'has no name: add name = "..."'),
    "name_is_not_blank": (("name_line",), lambda row: "name is blank"),
    "recruits_known_tiers": (
        ("recruit_tiers_line",),
        _tiers_problem,
    ),
    "targets_some_dimension": (
        ("line_number",),
        lambda row: (
            "targets no audience: add a [brand.targets.<dimension>] table "
            f"({', '.join(AUDIENCE_DIMENSIONS)})"
        ),
    ),
    "known_dimension": (
        ("dimension_line", "line_number"),
        lambda row: (
            f"{row['dimension']!r} is not an audience dimension; use one of "
            f"{', '.join(AUDIENCE_DIMENSIONS)}"
        ),
    ),
    "weight.not_nullable": (("line_number",), lambda row: f"{_weight_key(row)} is not a number"),
    "finite_non_negative_weight": (
        ("line_number",),
        lambda row: f"{_weight_key(row)} = {row['weight']} must be a number ≥ 0",
    ),
    "some_dimension_weight_above_zero": (
        ("dimension_weights_line",),
        lambda row: (
            "no dimension weight is above 0; give at least one targeted dimension a weight above 0"
        ),
    ),
    "weighted_dimension_is_targeted": (
        ("line_number",),
        lambda row: (
            f"dimension_weights.{row['dimension']} weighs a dimension with no targets: "
            f"add [brand.targets.{row['dimension']}] or remove the weight"
        ),
    ),
    "bucket_in_vocabulary": (
        ("line_number",),
        lambda row: (
            f"{row['bucket']!r} is not a bucket of {row['dimension']}; use "
            f"{BUCKET_RULES[row['dimension']]}"
        ),
    ),
    "some_bucket_weight_above_zero": (
        ("dimension_line",),
        lambda row: (
            f"no weight in [brand.targets.{row['dimension']}] is above 0; give at "
            "least one bucket a weight above 0, or remove the table"
        ),
    ),
}


def brand_file_problems(
    dim_brand: pl.DataFrame, brand_dimension_weight: pl.DataFrame, brand_target: pl.DataFrame
) -> list[BrandFileFailure]:
    """Every failed check of the three ``...FromFile`` frames, by the line to fix, in order.

    A row failing for a reason these contracts do not explain (a column missing or of the wrong
    type) is a bug in the code building the frames, so its ``SchemaErrors`` is raised as is.
    """
    failures: set[BrandFileFailure] = set()
    for frame, model in (
        (dim_brand, DimBrandFromFile),
        (brand_dimension_weight, BrandDimensionWeightFromFile),
        (brand_target, BrandTargetFromFile),
    ):
        try:
            model.validate(frame, lazy=True)
        except SchemaErrors as errors:
            failures.update(_explain(frame, model, errors))
    return sorted(failures, key=lambda f: (f.line_number, f.brand_position, f.message))


def _explain(
    frame: pl.DataFrame, model: type[pa.DataFrameModel], errors: SchemaErrors
) -> list[BrandFileFailure]:
    explained = []
    for case in errors.failure_cases.iter_rows(named=True):
        check = case["check"]
        key = f"{case['column']}.{check}" if check == "not_nullable" else check
        if case["column"] == "brand_id" and model is not DimBrandFromFile:
            # A brand without an id is reported once, from dim_brand, not once per target.
            continue
        if case["index"] is None or key not in EXPLANATIONS:
            raise errors
        line_columns, explain = EXPLANATIONS[key]
        row = frame.row(case["index"], named=True)
        line_column = next(column for column in line_columns if column in row)
        explained.append(
            BrandFileFailure(
                line_number=row[line_column],
                brand_id=row["brand_id"],
                brand_position=row["brand_position"],
                message=explain(row),
            )
        )
    return explained
