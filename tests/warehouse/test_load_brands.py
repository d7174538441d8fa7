from pathlib import Path

import duckdb
import polars as pl
import pytest

from sources.programme import DEFAULT_BRANDS_PATH, ProgrammeFileError, read_brand_file
from warehouse.brands import BrandFrames, load_brands
from warehouse.lake import LakeLocation, open_lake

# The tables as REPORTS.md defines them, for as long as their migration has not landed.
BRAND_TABLES_IF_MISSING = """
create table if not exists dim_brand (
    brand_id varchar primary key, name varchar not null, recruit_tiers varchar[] not null
);
create table if not exists brand_dimension_weight (
    brand_id varchar, dimension varchar, weight double not null
);
create table if not exists brand_target (
    brand_id varchar, dimension varchar, bucket varchar, weight double not null
);
"""


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = open_lake(LakeLocation.in_directory(tmp_path))
    connection.execute(BRAND_TABLES_IF_MISSING)
    return connection


def rows(connection: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return connection.execute(f"select * from {table} order by all").fetchall()


def read(tmp_path: Path, text: str) -> BrandFrames:
    path = tmp_path / "brands.toml"
    path.write_text(text, encoding="utf-8")
    return read_brand_file(path)


def test_the_sample_file_loads_into_the_three_tables(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    load_brands(warehouse, read_brand_file(DEFAULT_BRANDS_PATH))

    assert rows(warehouse, "dim_brand") == [
        ("glowco", "GlowCo Skincare", ["micro"]),
        ("peakform", "PeakForm Athletics", ["micro", "macro"]),
        ("respawn", "Respawn Gear", ["nano", "micro"]),
    ]
    assert rows(warehouse, "brand_dimension_weight") == [
        ("glowco", "age", 2.0),
        ("glowco", "country", 1.0),
        ("glowco", "gender", 2.0),
        ("peakform", "age", 1.0),
        ("peakform", "city", 0.5),
        ("peakform", "country", 1.0),
        ("peakform", "gender", 1.0),
        # respawn gives no dimension weights: each targeted dimension counts 1.0
        ("respawn", "age", 1.0),
        ("respawn", "gender", 1.0),
    ]
    assert rows(warehouse, "brand_target") == [
        ("glowco", "age", "18-24", 1.0),
        ("glowco", "age", "25-34", 1.0),
        ("glowco", "country", "GB", 1.0),
        ("glowco", "country", "US", 2.0),
        ("glowco", "gender", "F", 1.0),
        ("peakform", "age", "18-24", 1.0),
        ("peakform", "age", "25-34", 1.0),
        ("peakform", "city", "Berlin, Berlin", 1.0),
        ("peakform", "city", "Los Angeles, California", 1.0),
        ("peakform", "city", "São Paulo, São Paulo", 1.0),
        ("peakform", "country", "BR", 1.0),
        ("peakform", "country", "DE", 1.0),
        ("peakform", "country", "US", 1.0),
        ("peakform", "gender", "F", 1.0),
        ("peakform", "gender", "M", 1.0),
        ("respawn", "age", "13-17", 1.0),
        ("respawn", "age", "18-24", 1.0),
        ("respawn", "gender", "M", 1.0),
    ]


def test_a_brand_without_tiers_recruits_micro_creators(tmp_path: Path) -> None:
    frames = read(
        tmp_path, '[[brand]]\nid = "solo"\nname = "Solo"\n[brand.targets.gender]\nF = 1\n'
    )

    assert frames.dim_brand.to_dicts() == [
        {"brand_id": "solo", "name": "Solo", "recruit_tiers": ["micro"]}
    ]
    assert frames.brand_dimension_weight.to_dicts() == [
        {"brand_id": "solo", "dimension": "gender", "weight": 1.0}
    ]


def test_loading_again_replaces_every_brand_table(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_brands(warehouse, read_brand_file(DEFAULT_BRANDS_PATH))

    load_brands(
        warehouse,
        read(tmp_path, '[[brand]]\nid = "solo"\nname = "Solo"\n[brand.targets.gender]\nF = 1\n'),
    )

    assert rows(warehouse, "dim_brand") == [("solo", "Solo", ["micro"])]
    assert rows(warehouse, "brand_dimension_weight") == [("solo", "gender", 1.0)]
    assert rows(warehouse, "brand_target") == [("solo", "gender", "F", 1.0)]


def test_a_failing_load_keeps_the_previous_brands(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    frames = read_brand_file(DEFAULT_BRANDS_PATH)
    load_brands(warehouse, frames)
    before = {table: rows(warehouse, table) for table in frames._fields}
    broken = frames._replace(
        brand_target=frames.brand_target.with_columns(weight=pl.lit(None, pl.Float64))
    )

    with pytest.raises(duckdb.ConstraintException):
        load_brands(warehouse, broken)

    assert {table: rows(warehouse, table) for table in frames._fields} == before


GOOD_BRAND = """\
# A brand with nothing wrong, so that the bad one below is not on line 1.
[[brand]]
id = "glowco"
name = "GlowCo Skincare"
[brand.targets.gender]
F = 1.0

"""

# Each case: the second brand of a file, and where the error must point: the brand, and the key
# path in it (the hand-written scanner named the line; tomllib does only for a syntax error).
BAD_BRANDS = [
    pytest.param(
        '[[brand]]\nid = "respawn"\nname = "Respawn"\n[brand.targets.colour]\nred = 1.0\n',
        "brand \"respawn\" → targets.colour: got 'colour'; use 'age', 'gender', 'country', "
        "'city' or 'interest'",
        id="unknown-dimension",
    ),
    pytest.param(
        '[[brand]]\nid = "respawn"\nname = "Respawn"\n'
        '[brand.targets.age]\n"13-17" = 1.0\n"18-24" = -1.0\n',
        'brand "respawn" → targets.age."18-24": must be ≥ 0 (got -1.0)',
        id="negative-target-weight",
    ),
    pytest.param(
        '[[brand]]\nid = "respawn"\nname = "Respawn"\n'
        '[brand.dimension_weights]\nage = -2\n[brand.targets.age]\n"13-17" = 1.0\n',
        'brand "respawn" → dimension_weights.age: must be ≥ 0 (got -2)',
        id="negative-dimension-weight",
    ),
    pytest.param(
        '[[brand]]\nid = "respawn"\nname = "Respawn"\n'
        '[brand.targets.age]\n"13-17" = 0\n"18-24" = 0.0\n',
        'brand "respawn" → targets.age: no weight in [brand.targets.age] is above 0',
        id="dimension-weights-all-zero",
    ),
    pytest.param(
        '[[brand]]\nid = "respawn"\nname = "Respawn"\n'
        'recruit_tiers = ["micro", "influencer"]\n[brand.targets.gender]\nM = 1.0\n',
        "brand \"respawn\" → recruit_tiers[1]: got 'influencer'; use 'nano', 'micro', 'macro' "
        "or 'mega'",
        id="unknown-tier",
    ),
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo again"\n[brand.targets.gender]\nM = 1.0\n',
        "brand \"glowco\" → id: id 'glowco' is used by more than one brand",
        id="duplicate-brand-id",
    ),
    pytest.param(
        '[[brand]]\nname = "Respawn"\n[brand.targets.gender]\nM = 1.0\n',
        "brand #2 (no id) → id: missing (required)",
        id="missing-id",
    ),
    pytest.param(
        '[[brand]]\nid = "respawn"\n[brand.targets.gender]\nM = 1.0\n',
        'brand "respawn" → name: missing (required)',
        id="missing-name",
    ),
    pytest.param(
        '[[brand]]\nid = "respawn"\nname = "Respawn"\n'
        "[brand.dimension_weights]\ngender = 1.0\ncountry = 2.0\n"
        "[brand.targets.gender]\nM = 1.0\n",
        'brand "respawn" → dimension_weights.country: weighs a dimension with no targets',
        id="weight-for-untargeted-dimension",
    ),
    pytest.param(
        '[[brand]]\nid = "respawn"\nname = "Respawn"\n[brand.targets.age]\n"13-17" 1.0\n',
        "line 12: not valid TOML",
        id="not-toml",
    ),
    pytest.param(
        '[[brand]]\nid = "respawn"\nname = "Respawn"\n[brand.targets.country]\n"uk" = 1.0\n',
        "brand \"respawn\" → targets.country.uk: 'uk' is not a bucket of country",
        id="bucket-outside-vocabulary",
    ),
    pytest.param(
        '[[brand]]\nid = "respawn"\nname = "Respawn"\n',
        'brand "respawn": targets no audience',
        id="no-targets",
    ),
]


@pytest.mark.parametrize(("bad_brand", "expected"), BAD_BRANDS)
def test_a_bad_file_is_refused_naming_the_brand_and_key(
    tmp_path: Path, bad_brand: str, expected: str
) -> None:
    with pytest.raises(ProgrammeFileError) as refused:
        read(tmp_path, GOOD_BRAND + bad_brand)

    message = str(refused.value)
    assert f"brands.toml{'' if expected.startswith('line') else ':'} {expected}" in message, message
    assert str(tmp_path / "brands.toml") in message


def test_every_problem_is_listed_in_one_error_and_nothing_is_loaded(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_brands(warehouse, read_brand_file(DEFAULT_BRANDS_PATH))
    loaded = rows(warehouse, "dim_brand")
    text = (
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\nrecruit_tiers = ["mikro"]\n'  # 1-4
        "[brand.targets.age]\n"  # 5
        '"18-24" = -1\n'  # 6
        '"25-34" = 1\n'  # 7
        "[[brand]]\n"  # 8
        'name = "Respawn"\n'  # 9
        "[brand.targets.gender]\n"  # 10
        "M = 1.0\n"  # 11
    )

    with pytest.raises(ProgrammeFileError) as refused:
        load_brands(warehouse, read(tmp_path, text))

    assert [str(problem) for problem in refused.value.problems] == [
        "brands.toml: brand \"glowco\" → recruit_tiers[0]: got 'mikro'; use 'nano', 'micro', "
        "'macro' or 'mega'",
        'brands.toml: brand "glowco" → targets.age."18-24": must be ≥ 0 (got -1)',
        "brands.toml: brand #2 (no id) → id: missing (required)",
    ]
    assert rows(warehouse, "dim_brand") == loaded
