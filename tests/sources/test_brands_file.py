from pathlib import Path

import pytest

from sources.brands import (
    DEFAULT_BRANDS_PATH,
    BrandFileError,
    key_lines,
    line_of,
    read_brand_file,
)


def line_containing(text: str, snippet: str, after: int = 0) -> int:
    """1-based number of the first line after line ``after`` that contains ``snippet``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number > after and snippet in line:
            return number
    raise AssertionError(f"{snippet!r} not found after line {after}")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "brands.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sample_file_reads_as_three_brands_with_their_lines() -> None:
    text = DEFAULT_BRANDS_PATH.read_text(encoding="utf-8")

    records = read_brand_file(DEFAULT_BRANDS_PATH)

    assert [(r["brand_id"], r["name"], r["recruit_tiers"]) for r in records] == [
        ("glowco", "GlowCo Skincare", ["micro"]),
        ("peakform", "PeakForm Athletics", ["micro", "macro"]),
        ("respawn", "Respawn Gear", ["nano", "micro"]),
    ]
    glowco = records[0]
    id_line = line_containing(text, 'id = "glowco"')
    assert glowco["header_line"] == id_line - 1
    assert glowco["id_line"] == id_line
    assert glowco["name_line"] == id_line + 1
    assert glowco["recruit_tiers_line"] == id_line + 2
    assert glowco["dimension_weights"] == [
        {"dimension": "age", "weight": 2.0, "line_number": line_containing(text, "age = 2.0")},
        {"dimension": "gender", "weight": 2.0, "line_number": line_containing(text, "gender =")},
        {"dimension": "country", "weight": 1.0, "line_number": line_containing(text, "country =")},
    ]
    gb_line = line_containing(text, '"GB" = 1.0')
    assert glowco["targets"][-1] == {
        "dimension": "country",
        "bucket": "GB",
        "weight": 1.0,
        "line_number": gb_line,
        "dimension_line": line_containing(text, "[brand.targets.country]"),
    }
    respawn = records[2]
    assert respawn["dimension_weights"] == []
    assert [(t["dimension"], t["bucket"]) for t in respawn["targets"]] == [
        ("age", "13-17"),
        ("age", "18-24"),
        ("gender", "M"),
    ]


def test_an_absent_key_points_at_its_brand_header(tmp_path: Path) -> None:
    path = write(tmp_path, '[[brand]]\nname = "No id"\n[brand.targets.gender]\nF = 1\n')

    (record,) = read_brand_file(path)

    assert record["brand_id"] is None
    assert (record["id_line"], record["recruit_tiers_line"]) == (1, 1)
    assert record["recruit_tiers"] is None


def test_key_lines_follow_inline_tables_multiline_values_and_quoted_keys() -> None:
    text = (
        "[[brand]]\n"  # 1
        'id = "a"  # a comment with = in it\n'  # 2
        'name = """two\n'  # 3
        'lines"""\n'  # 4
        "recruit_tiers = [\n"  # 5
        '  "micro", # x = y\n'  # 6
        "]\n"  # 7
        "[brand.targets.age]\n"  # 8
        "'18-24' = 1\n"  # 9
        "[[ brand ]]\n"  # 10
        "targets = { gender = { F = 1.0 }, country.US = 1 }\n"  # 11
        "dimension_weights.gender = 3\n"  # 12
        '[brand . targets . "city"]\n'  # 13
        '"São Paulo, São Paulo" = 1\n'  # 14
    )

    lines = key_lines(text)

    assert lines[("brand", 0)] == 1
    assert lines[("brand", 0, "name")] == 3
    assert lines[("brand", 0, "recruit_tiers")] == 5
    assert lines[("brand", 0, "targets", "age")] == 8
    assert lines[("brand", 0, "targets", "age", "18-24")] == 9
    assert lines[("brand", 1)] == 10
    assert lines[("brand", 1, "targets", "gender", "F")] == 11
    assert lines[("brand", 1, "targets", "country", "US")] == 11
    assert lines[("brand", 1, "dimension_weights", "gender")] == 12
    assert lines[("brand", 1, "targets", "city")] == 13
    assert lines[("brand", 1, "targets", "city", "São Paulo, São Paulo")] == 14
    assert line_of(lines, ("brand", 1, "id")) == 10


SHAPE_PROBLEMS = [
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\n[brand.targets.age]\n"18-24" = \n',
        'line 5, brand "glowco": not valid TOML',
        id="not-toml",
    ),
    pytest.param(
        'just some notes\n[[brand]]\nid = "glowco"\n',
        "line 1, before the first [[brand]]: not valid TOML",
        id="not-toml-before-any-brand",
    ),
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\nrecruit_tier = ["micro"]\n'
        "[brand.targets.gender]\nF = 1\n",
        "line 4, brand \"glowco\": unknown key 'recruit_tier'",
        id="unknown-brand-key",
    ),
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\n[brand.targets.gender]\nF = "lots"\n',
        'line 5, brand "glowco": targets.gender."F" must be a number',
        id="weight-not-a-number",
    ),
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\n[brand.targets]\ngender = 1\n',
        'line 5, brand "glowco": targets.gender must be a table',
        id="dimension-not-a-table",
    ),
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\n[brand.targets.age]\n'
        "[brand.targets.gender]\nF = 1\n",
        'line 4, brand "glowco": [brand.targets.age] lists no buckets',
        id="empty-target-table",
    ),
    pytest.param(
        '[[brand]]\nid = 7\nname = "GlowCo"\n[brand.targets.gender]\nF = 1\n',
        "line 2, brand #1 (no id): id must be text in quotes",
        id="id-not-text",
    ),
    pytest.param(
        '[[brand]]\nid = "glowco"\nname = "GlowCo"\nrecruit_tiers = "micro"\n',
        'line 4, brand "glowco": recruit_tiers must be a list',
        id="tiers-not-a-list",
    ),
    pytest.param(
        '[brands]\nid = "glowco"\n',
        "line 1: unknown top-level key 'brands'",
        id="unknown-top-level-key",
    ),
    pytest.param("# nothing yet\n", "the file defines no brand", id="no-brand"),
]


@pytest.mark.parametrize(("text", "expected"), SHAPE_PROBLEMS)
def test_a_misshapen_file_is_refused_naming_brand_and_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(BrandFileError) as refused:
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

    with pytest.raises(BrandFileError) as refused:
        read_brand_file(path)

    assert [str(problem) for problem in refused.value.problems] == [
        "line 4, brand \"glowco\": unknown key 'colour'; a brand has only id, name, "
        "recruit_tiers, dimension_weights, targets",
        'line 6, brand "glowco": targets.gender."F" must be a number, got \'lots\'',
        'line 11, brand "respawn": dimension_weights.age must be a number, got True',
    ]
    assert "refused (3 problems)" in str(refused.value)


def test_a_missing_file_says_which_setting_to_fix(tmp_path: Path) -> None:
    with pytest.raises(BrandFileError, match="INFLUENCERS_BRANDS_PATH"):
        read_brand_file(tmp_path / "nope.toml")


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "brands.toml"
    path.write_bytes(b'[[brand]]\nname = "Caf\xe9"\n')

    with pytest.raises(BrandFileError, match="line 2: the file is not UTF-8 text"):
        read_brand_file(path)
