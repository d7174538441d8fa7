"""From the brand file's raw records to the validated brand tables.

Lives in ``flows/`` because it joins the file reader's records (``sources``), the contracts
(``schemas``) and the warehouse's table shapes: fills the defaults, validates, and reports every
problem by brand and line.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from schemas.brands import (
    DEFAULT_DIMENSION_WEIGHT,
    DEFAULT_RECRUIT_TIERS,
    BrandDimensionWeight,
    BrandTarget,
    DimBrand,
    brand_file_problems,
)
from sources.brands import BrandFileError, BrandFileProblem, RawBrand, brand_label
from warehouse.brands import BrandFrames

# Instances, not classes: a mix of both types as `object` for mypy.
DIM_BRAND_FILE_SCHEMA = pl.Schema(
    {
        "brand_id": pl.String(),
        "name": pl.String(),
        "recruit_tiers": pl.List(pl.String),
        "brand_position": pl.Int64(),
        "line_number": pl.Int64(),
        "name_line": pl.Int64(),
        "recruit_tiers_line": pl.Int64(),
        "targeted_dimensions": pl.Int64(),
    }
)
DIMENSION_WEIGHT_FILE_SCHEMA = pl.Schema(
    {
        "brand_id": pl.String,
        "dimension": pl.String,
        "weight": pl.Float64,
        "brand_position": pl.Int64,
        "line_number": pl.Int64,
        "target_buckets": pl.Int64,
        "dimension_weights_line": pl.Int64,
    }
)
TARGET_FILE_SCHEMA = pl.Schema(
    {
        "brand_id": pl.String,
        "dimension": pl.String,
        "bucket": pl.String,
        "weight": pl.Float64,
        "brand_position": pl.Int64,
        "line_number": pl.Int64,
        "dimension_line": pl.Int64,
    }
)


def brand_frames(records: Sequence[RawBrand]) -> BrandFrames:
    """The brand tables of the records ``read_brand_file`` returned, validated.

    Fills the defaults (recruit tiers ``["micro"]``, λ = 1.0 for each targeted dimension without
    a weight). Raises ``BrandFileError`` listing every problem by brand and line.
    """
    dim_brand = pl.DataFrame(
        [
            {
                "brand_id": record["brand_id"],
                "name": record["name"],
                "recruit_tiers": (
                    record["recruit_tiers"]
                    if record["recruit_tiers"] is not None
                    else DEFAULT_RECRUIT_TIERS
                ),
                "brand_position": record["brand_position"],
                "line_number": record["id_line"],
                "name_line": record["name_line"],
                "recruit_tiers_line": record["recruit_tiers_line"],
                "targeted_dimensions": len({target["dimension"] for target in record["targets"]}),
            }
            for record in records
        ],
        schema=DIM_BRAND_FILE_SCHEMA,
    )
    brand_dimension_weight = pl.DataFrame(
        [row for record in records for row in _dimension_weight_rows(record)],
        schema=DIMENSION_WEIGHT_FILE_SCHEMA,
    )
    brand_target = pl.DataFrame(
        [
            {"brand_id": record["brand_id"], "brand_position": record["brand_position"], **target}
            for record in records
            for target in record["targets"]
        ],
        schema=TARGET_FILE_SCHEMA,
    )
    failures = brand_file_problems(dim_brand, brand_dimension_weight, brand_target)
    if failures:
        raise BrandFileError(
            records[0]["source_file"],
            [
                BrandFileProblem(
                    failure.line_number,
                    brand_label(failure.brand_id, failure.brand_position),
                    failure.message,
                )
                for failure in failures
            ],
        )
    return BrandFrames(
        dim_brand=dim_brand.select(DimBrand.to_schema().columns.keys()),
        brand_dimension_weight=brand_dimension_weight.select(
            BrandDimensionWeight.to_schema().columns.keys()
        ),
        brand_target=brand_target.select(BrandTarget.to_schema().columns.keys()),
    )


def _dimension_weight_rows(record: RawBrand) -> list[dict[str, object]]:
    """One row per dimension the brand targets or weighs, in the order the file names them."""
    buckets: dict[str, int] = {}
    target_lines: dict[str, int] = {}
    for target in record["targets"]:
        buckets[target["dimension"]] = buckets.get(target["dimension"], 0) + 1
        target_lines.setdefault(target["dimension"], target["dimension_line"])
    given = {weight["dimension"]: weight for weight in record["dimension_weights"]}
    dimensions = list(given) + [dimension for dimension in target_lines if dimension not in given]
    return [
        {
            "brand_id": record["brand_id"],
            "dimension": dimension,
            "weight": given[dimension]["weight"]
            if dimension in given
            else DEFAULT_DIMENSION_WEIGHT,
            "brand_position": record["brand_position"],
            "line_number": (
                given[dimension]["line_number"] if dimension in given else target_lines[dimension]
            ),
            "target_buckets": buckets.get(dimension, 0),
            "dimension_weights_line": record["dimension_weights_line"],
        }
        for dimension in dimensions
    ]
