"""Contracts of the brand tables (``dim_brand``, ``brand_dimension_weight``, ``brand_target``).

The brand file is judged, key by key, by ``sources.programme``; these are the tables it yields,
validated again at the boundary before they are loaded.
"""

from __future__ import annotations

from typing import NamedTuple

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

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


class Brands(NamedTuple):
    """The three brand tables, with exactly their warehouse columns."""

    dim_brand: pl.DataFrame
    brand_dimension_weight: pl.DataFrame
    brand_target: pl.DataFrame
