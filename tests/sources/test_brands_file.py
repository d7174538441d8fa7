from pathlib import Path

import pytest

from sources.programme import DEFAULT_BRANDS_PATH, ProgrammeFileError, read_brand_file


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "brands.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sample_file_reads_as_three_brands() -> None:
    brands = read_brand_file(DEFAULT_BRANDS_PATH)

    assert brands.dim_brand.rows() == [
        ("glowco", "GlowCo Skincare", ["micro"]),
        ("peakform", "PeakForm Athletics", ["micro", "macro"]),
        ("respawn", "Respawn Gear", ["nano", "micro"]),
    ]
    glowco = brands.brand_dimension_weight.filter(brand_id="glowco")
    assert glowco.select("dimension", "weight").rows() == [
        ("age", 2.0),
        ("gender", 2.0),
        ("country", 1.0),
    ]
    assert brands.brand_target.filter(brand_id="respawn").select("dimension", "bucket").rows() == [
        ("age", "13-17"),
        ("age", "18-24"),
        ("gender", "M"),
    ]


def test_an_absent_optional_key_takes_its_default(tmp_path: Path) -> None:
    path = write(tmp_path, '[[brand]]\nid = "solo"\nname = "Solo"\n[brand.targets.gender]\nF = 1\n')

    brands = read_brand_file(path)

    assert brands.dim_brand.rows() == [("solo", "Solo", ["micro"])]
    assert brands.brand_dimension_weight.rows() == [("solo", "gender", 1.0)]


def test_keys_may_be_written_inline_dotted_or_quoted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[ brand ]]\nid = "a"  # a comment with = in it\nname = """two\nlines"""\n'
        "dimension_weights.gender = 3\n"
        "targets.gender = { F = 1.0 }\n"
        "targets.country.US = 1\n"
        '[brand . targets . "city"]\n"São Paulo, São Paulo" = 1\n',
    )

    brands = read_brand_file(path)

    assert brands.brand_target.select("dimension", "bucket").rows() == [
        ("gender", "F"),
        ("country", "US"),
        ("city", "São Paulo, São Paulo"),
    ]
    assert brands.brand_dimension_weight.select("dimension", "weight").rows() == [
        ("gender", 3.0),
        ("country", 1.0),
        ("city", 1.0),
    ]


# The key path replaces the line number the hand-written scanner used to recover; a TOML syntax
# error still names its line (tomllib gives it).
SHAPE_PROBLEMS = [
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\n[brand.targets.age]\n"18-24" = \n',
        "brands.toml line 5: not valid TOML",
        id="not-toml",
    ),
    pytest.param(
        'just some notes\n[[brand]]\nid = "glowco"\n',
        "brands.toml line 1: not valid TOML",
        id="not-toml-before-any-brand",
    ),
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\nrecruit_tier = ["micro"]\n'
        "[brand.targets.gender]\nF = 1\n",
        'brands.toml: brand "glowco" → recruit_tier: unknown key',
        id="unknown-brand-key",
    ),
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\n[brand.targets.gender]\nF = "lots"\n',
        "brands.toml: brand \"glowco\" → targets.gender.F: must be a number (got 'lots')",
        id="weight-not-a-number",
    ),
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\n[brand.targets]\ngender = 1\n',
        'brands.toml: brand "glowco" → targets.gender: must be a table',
        id="dimension-not-a-table",
    ),
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\n[brand.targets.age]\n'
        "[brand.targets.gender]\nF = 1\n",
        'brands.toml: brand "glowco" → targets.age: [brand.targets.age] lists no buckets',
        id="empty-target-table",
    ),
    pytest.param(
        '[[brand]]\nid = 7\nname = "GlowCo"\n[brand.targets.gender]\nF = 1\n',
        "brands.toml: brand #1 (no id) → id: must be text in quotes (got 7)",
        id="id-not-text",
    ),
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\nrecruit_tiers = "micro"\n',
        'brands.toml: brand "glowco" → recruit_tiers: must be a list',
        id="tiers-not-a-list",
    ),
    pytest.param(
        '[brands]\nid = "glowco"\n',
        "brands.toml: brands: unknown top-level key",
        id="unknown-top-level-key",
    ),
    pytest.param(
        '[brand]\nid = "glowco"\n',
        "brands.toml: brand: must be a list of tables, each written as a [[brand]] section",
        id="brand-not-an-array-of-tables",
    ),
    pytest.param("# nothing yet\n", "the file defines no brand", id="no-brand"),
]


@pytest.mark.parametrize(("text", "expected"), SHAPE_PROBLEMS)
def test_a_misshapen_file_is_refused_naming_brand_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ProgrammeFileError) as refused:
        read_brand_file(path)

    assert expected in str(refused.value)
    assert str(path) in str(refused.value)


def test_every_shape_problem_is_listed_in_one_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\ncolour = "pink"\n'
        '[brand.targets.gender]\nF = "lots"\n'
        '[[brand]]\nid = "respawn"\nname = "Respawn"\n[brand.dimension_weights]\nage = true\n',
    )

    with pytest.raises(ProgrammeFileError) as refused:
        read_brand_file(path)

    assert [str(problem) for problem in refused.value.problems] == [
        "brands.toml: brand \"glowco\" → targets.gender.F: must be a number (got 'lots')",
        'brands.toml: brand "glowco" → colour: unknown key (a typo?)',
        'brands.toml: brand "respawn" → dimension_weights.age: must be a number (got True)',
    ]
    assert "refused (3 problems)" in str(refused.value)


def test_a_missing_file_says_which_setting_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ProgrammeFileError, match="INFLUENCERS_BRANDS_PATH"):
        read_brand_file(tmp_path / "nope.toml")


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "brands.toml"
    path.write_bytes(b'[[brand]]\nname = "Caf\xe9"\n')

    with pytest.raises(
        ProgrammeFileError, match=r"brands\.toml line 2: the file is not UTF-8 text"
    ):
        read_brand_file(path)
