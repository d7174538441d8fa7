import pandera.polars as pa
import polars as pl
import pytest
from pandera.errors import SchemaErrors

from schemas.brands import BrandDimensionWeight, BrandTarget, DimBrand


def dim_brand(**overrides: list[object]) -> pl.DataFrame:
    columns: dict[str, list[object]] = {
        "brand_id": ["glowco", "respawn"],
        "name": ["GlowCo Skincare", "Respawn Gear"],
        "recruit_tiers": [["micro"], ["nano", "micro"]],
    }
    return pl.DataFrame(
        {**columns, **overrides},
        schema={"brand_id": pl.String, "name": pl.String, "recruit_tiers": pl.List(pl.String)},
    )


def dimension_weights(**overrides: list[object]) -> pl.DataFrame:
    columns: dict[str, list[object]] = {
        "brand_id": ["glowco", "glowco"],
        "dimension": ["age", "gender"],
        "weight": [2.0, 1.0],
    }
    return pl.DataFrame(
        {**columns, **overrides},
        schema={"brand_id": pl.String, "dimension": pl.String, "weight": pl.Float64},
    )


def targets(**overrides: list[object]) -> pl.DataFrame:
    columns: dict[str, list[object]] = {
        "brand_id": ["glowco"] * 6,
        "dimension": ["age", "age", "gender", "country", "city", "interest"],
        "bucket": ["18-24", "65+", "F", "GB", "São Paulo, São Paulo", "skincare"],
        "weight": [1.0, 0.0, 1.0, 2.0, 1.0, 1.0],
    }
    return pl.DataFrame(
        {**columns, **overrides},
        schema={
            "brand_id": pl.String,
            "dimension": pl.String,
            "bucket": pl.String,
            "weight": pl.Float64,
        },
    )


@pytest.mark.parametrize(
    ("model", "frame"),
    [
        pytest.param(DimBrand, dim_brand(), id="dim_brand"),
        pytest.param(BrandDimensionWeight, dimension_weights(), id="brand_dimension_weight"),
        pytest.param(BrandTarget, targets(), id="brand_target"),
    ],
)
def test_good_rows_pass(model: type[pa.DataFrameModel], frame: pl.DataFrame) -> None:
    assert model.validate(frame).equals(frame)


def failed(model: type[pa.DataFrameModel], frame: pl.DataFrame) -> list[tuple[str, int]]:
    with pytest.raises(SchemaErrors) as errors:
        model.validate(frame, lazy=True)
    cases = errors.value.failure_cases.sort("index", "check")
    return list(zip(cases["check"].to_list(), cases["index"].to_list(), strict=True))


@pytest.mark.parametrize(
    ("model", "frame", "expected"),
    [
        pytest.param(
            DimBrand,
            dim_brand(brand_id=["glowco", "glowco"]),
            [("brand_id_listed_once", 0), ("brand_id_listed_once", 1)],
            id="duplicate-brand-id",
        ),
        pytest.param(
            DimBrand, dim_brand(brand_id=[None, "respawn"]), [("not_nullable", 0)], id="no-id"
        ),
        pytest.param(
            DimBrand,
            dim_brand(brand_id=["Glow Co", "respawn"]),
            [("brand_id_is_plain", 0)],
            id="id-with-capitals-and-spaces",
        ),
        pytest.param(
            DimBrand, dim_brand(name=["GlowCo", "  "]), [("name_is_not_blank", 1)], id="blank-name"
        ),
        pytest.param(
            DimBrand,
            dim_brand(recruit_tiers=[["micro", "giga"], []]),
            [("recruits_known_tiers", 0), ("recruits_known_tiers", 1)],
            id="unknown-and-no-tiers",
        ),
        pytest.param(
            BrandDimensionWeight,
            dimension_weights(dimension=["age", "colour"]),
            [("known_dimension", 1)],
            id="unknown-dimension-weight",
        ),
        pytest.param(
            BrandDimensionWeight,
            dimension_weights(weight=[2.0, -1.0]),
            [("finite_non_negative_weight", 1)],
            id="negative-dimension-weight",
        ),
        pytest.param(
            BrandDimensionWeight,
            dimension_weights(weight=[0.0, 0.0]),
            [("some_dimension_weight_above_zero", 0), ("some_dimension_weight_above_zero", 1)],
            id="all-dimension-weights-zero",
        ),
        pytest.param(
            BrandTarget,
            targets(weight=[1.0, -0.5, 1.0, float("inf"), 1.0, 1.0]),
            [("finite_non_negative_weight", 1), ("finite_non_negative_weight", 3)],
            id="infinite-and-negative-target-weight",
        ),
        pytest.param(
            BrandTarget,
            targets(weight=[0.0, 0.0, 1.0, 2.0, 1.0, 1.0]),
            [("some_bucket_weight_above_zero", 0), ("some_bucket_weight_above_zero", 1)],
            id="all-bucket-weights-zero",
        ),
        pytest.param(
            BrandTarget,
            targets(bucket=["18-25", "65+", "f", "gb", "London", " "]),
            [
                ("bucket_in_vocabulary", 0),
                ("bucket_in_vocabulary", 2),
                ("bucket_in_vocabulary", 3),
                ("bucket_in_vocabulary", 4),
                ("bucket_in_vocabulary", 5),
            ],
            id="buckets-outside-the-vocabulary",
        ),
        pytest.param(
            BrandTarget,
            targets(dimension=["age", "age", "gender", "country", "colour", "interest"]),
            [("known_dimension", 4)],
            id="unknown-target-dimension",
        ),
    ],
)
def test_bad_rows_fail_the_named_check(
    model: type[pa.DataFrameModel], frame: pl.DataFrame, expected: list[tuple[str, int]]
) -> None:
    assert failed(model, frame) == expected
