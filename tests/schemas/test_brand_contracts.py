import pandera.polars as pa
import polars as pl
import pytest
from pandera.errors import SchemaErrors

from schemas.brands import (
    BrandDimensionWeight,
    BrandFileFailure,
    BrandTarget,
    DimBrand,
    brand_file_problems,
)


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


def with_lines(frame: pl.DataFrame, **lines: int | list[int]) -> pl.DataFrame:
    return frame.with_columns(
        pl.Series(name, value if isinstance(value, list) else [value] * frame.height, pl.Int64)
        for name, value in lines.items()
    )


def file_frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """One brand as brand_frames builds it from a file: dim_brand, weights, targets."""
    brand = dim_brand(brand_id=["glowco"], name=["GlowCo"], recruit_tiers=[["micro"]])
    return (
        with_lines(
            brand,
            brand_position=1,
            line_number=2,
            name_line=3,
            recruit_tiers_line=4,
            targeted_dimensions=1,
        ),
        with_lines(
            dimension_weights(brand_id=["glowco"], dimension=["age"], weight=[1.0]),
            brand_position=1,
            line_number=6,
            target_buckets=2,
            dimension_weights_line=5,
        ),
        with_lines(
            targets(
                brand_id=["glowco"] * 2,
                dimension=["age"] * 2,
                bucket=["18-24", "25-34"],
                weight=[1.0, 1.0],
            ),
            brand_position=1,
            line_number=[8, 9],
            dimension_line=7,
        ),
    )


def test_a_good_file_has_no_problems() -> None:
    assert brand_file_problems(*file_frames()) == []


def test_a_dimension_problem_is_reported_once_at_its_table_header() -> None:
    brand, weights, zero_targets = file_frames()
    zero_targets = zero_targets.with_columns(weight=pl.lit(0.0))

    assert brand_file_problems(brand, weights, zero_targets) == [
        BrandFileFailure(
            7,
            "glowco",
            1,
            "no weight in [brand.targets.age] is above 0; give at least one bucket a weight "
            "above 0, or remove the table",
        )
    ]


def test_a_weight_for_an_untargeted_dimension_points_at_the_weight() -> None:
    brand, weights, brand_targets = file_frames()
    weights = pl.concat(
        [
            weights,
            with_lines(
                weights.with_columns(dimension=pl.lit("city")), line_number=7, target_buckets=0
            ),
        ]
    )

    assert brand_file_problems(brand, weights, brand_targets) == [
        BrandFileFailure(
            7,
            "glowco",
            1,
            "dimension_weights.city weighs a dimension with no targets: add "
            "[brand.targets.city] or remove the weight",
        )
    ]


def test_a_brand_without_id_is_reported_once_not_per_target() -> None:
    brand, weights, brand_targets = file_frames()
    no_id = pl.col("brand_id").replace("glowco", None)

    problems = brand_file_problems(
        brand.with_columns(no_id),
        weights.with_columns(no_id),
        brand_targets.with_columns(no_id),
    )

    assert [(p.line_number, p.brand_id, p.message[:10]) for p in problems] == [
        (2, None, "has no id:")
    ]


def test_a_frame_missing_a_column_is_a_bug_not_a_file_problem() -> None:
    brand, weights, brand_targets = file_frames()

    with pytest.raises(SchemaErrors):
        brand_file_problems(brand.drop("name_line"), weights, brand_targets)
