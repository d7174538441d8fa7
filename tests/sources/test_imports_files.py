"""The file source: source names, mappings, landing byte for byte, formats, charsets, records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from sources.files.errors import ImportRefused
from sources.files.landing import check_source_name, land_file
from sources.files.mapping import MAPPINGS_DIR, read_mapping, resolve_mapping
from sources.files.reading import detect_charset, detect_format, read_cells

FIXTURES = Path(__file__).parents[1] / "fixtures" / "imports"


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "/",
        "/etc",
        "a/b",
        "..",
        ".",
        "x/../../y",
        "with space",
        "UPPER",
        "",
        "_manifests",
        "a" * 64,
        "nul\x00",
        "back\\slash",
        "instagram",
        "lake",
    ],
    ids=repr,
)
def test_a_source_that_is_no_plain_name_is_refused(name: str) -> None:
    with pytest.raises(ImportRefused, match="--source"):
        check_source_name(name)


@pytest.mark.parametrize("name", ["kaggle_top_instagram", "hypeauditor-2026", "a", "x9"])
def test_plain_source_names_pass(name: str) -> None:
    assert check_source_name(name) == name


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_mapping_with_problems_lists_every_one_with_its_key_path(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "bad.toml",
        """
platform = "myspace"
charset = "klingon-8"
delimiter = ";;"
as_of_date = "yesterday"

[columns]
followers = "Followers"
folowers = "typo"

[metrics."Avg Likes"]
column = "Avg likes"
kind = "average"

[metrics.engagement]
column = "ER"
kind = "ratio"

[metrics.reach]
column = "Reach"
kind = "count"
percent = true

[countries]
Spain = "Spain"
""",
    )

    with pytest.raises(ImportRefused) as refused:
        read_mapping(mapping)

    message = str(refused.value)
    assert "(10 problems)" in message
    for problem in (
        "platform: Input should be 'instagram', 'youtube' or 'tiktok' (got 'myspace')",
        "charset: unknown charset 'klingon-8'",
        "delimiter: String should have at most 1 character",
        "as_of_date: Input should be a valid date",
        "columns.handle: missing (required)",
        "columns.folowers: unknown key (a typo?)",
        "metrics.Avg Likes: metric names are lower case letters, digits and _",
        "metrics.engagement.kind: Input should be 'count', 'average', 'rate' or 'number' "
        "(got 'ratio')",
        "metrics.reach: percent = true only applies to kind = 'rate', not 'count'",
        "countries.Spain: String should match pattern",
    ):
        assert problem in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("platform = \n", "is not valid TOML: Invalid value (at line 1, column 12)"),
        (
            'platform = "instagram"\n[columns]\nhandle = "h"\n[metrics.followers]\ncolumn = "F"\n'
            'kind = "count"\n',
            "metrics ['followers'] are profile fields: map them under [columns]",
        ),
    ],
)
def test_a_mapping_that_is_no_toml_or_misplaces_a_field_is_refused(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ImportRefused, match="mapping") as refused:
        read_mapping(write(tmp_path, "m.toml", text))

    assert expected in str(refused.value)


def test_the_shipped_mapping_is_found_by_the_source_name_or_its_own() -> None:
    by_source = resolve_mapping(None, "top_insta_influencers")
    by_name = resolve_mapping("top_insta_influencers", "another_source")

    assert by_source.path == by_name.path == MAPPINGS_DIR / "top_insta_influencers.toml"
    assert by_source.mapping.platform == "instagram"
    assert by_source.mapping.countries["Côte d'Ivoire"] == "CI"


def test_no_mapping_for_an_unknown_source_says_what_to_give() -> None:
    with pytest.raises(ImportRefused, match=r"give --mapping FILE .*\(top_insta_influencers\)"):
        resolve_mapping(None, "some_tool")


def test_a_file_lands_byte_for_byte_under_its_checksum_never_its_name(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    export = tmp_path / "in" / "exp\nort (1).csv"  # a hostile name is only data
    payload = (FIXTURES / "messy_export.csv").read_bytes()
    export.write_bytes(payload)
    raw = tmp_path / "raw"

    landing = land_file(raw, "messy", export, "csv")

    sha256 = hashlib.sha256(payload).hexdigest()
    assert landing.path == f"messy/file/{sha256}.csv"
    assert (raw / landing.path).read_bytes() == payload
    manifest = json.loads((raw / "messy" / "_manifests" / f"{sha256}.json").read_text())
    assert manifest["original_name"] == "exp\nort (1).csv"
    assert manifest["sha256"] == sha256
    assert manifest["size"] == len(payload)


def test_landing_the_same_file_twice_changes_nothing(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    first = land_file(raw, "messy", FIXTURES / "messy_export.csv", "csv")
    before = {path: path.read_bytes() for path in raw.rglob("*") if path.is_file()}

    second = land_file(raw, "messy", FIXTURES / "messy_export.csv", "csv")

    assert second == first
    assert {path: path.read_bytes() for path in raw.rglob("*") if path.is_file()} == before


@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    [
        ("export.csv", b"a,b\r\n1,2\r\n", "csv"),
        ("export.json", b'  [{"a": 1}]', "json"),
        ("export.json", b'{"a": 1}\n{"a": 2}\n', "ndjson"),
        ("export.jsonl", b'{"a": 1}\n', "ndjson"),
        ("noextension", b'[{"a": 1}]', "json"),
        ("export.data", b"PAR1\x00\x00", "parquet"),
    ],
)
def test_the_format_comes_from_the_name_and_the_first_bytes(
    tmp_path: Path, name: str, payload: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(payload)

    assert detect_format(path, name, None) == expected


@pytest.mark.parametrize(
    ("name", "payload", "says"),
    [
        ("export.xlsx", b"PK\x03\x04rest", "zip archive (an Excel workbook?)"),
        ("export.csv", b"<!DOCTYPE html><html>", "looks like HTML or XML"),
        ("export.txt", b"a,b\n1,2\n", "unknown format: export.txt"),
        ("export.parquet", b"a,b\n", "is named .parquet but is not a Parquet file"),
        ("export.csv", b"", "is empty"),
    ],
)
def test_what_the_import_cannot_read_is_refused_naming_what_it_looks_like(
    tmp_path: Path, name: str, payload: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(payload)

    with pytest.raises(ImportRefused) as refused:
        detect_format(path, name, None)

    assert says in str(refused.value)


@pytest.mark.parametrize(
    ("payload", "declared", "expected"),
    [
        ("Zoë".encode(), None, "utf-8"),
        (b"\xef\xbb\xbf" + "Zoë".encode(), None, "utf-8-sig"),
        ("Zoë “x” €".encode("cp1252"), None, "cp1252"),
        (b"Zo\xeb \x81", None, "latin-1"),  # 0x81: no cp1252 character
        ("Zoë".encode("latin-1"), "latin-1", "latin-1"),
        (b"\xef\xbb\xbfx", "utf-8", "utf-8-sig"),
    ],
)
def test_the_charset_is_utf8_when_it_decodes_else_cp1252_else_latin1(
    tmp_path: Path, payload: bytes, declared: str | None, expected: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(payload)

    assert detect_charset(path, declared) == expected


def cells_of(
    path: Path, file_format: str, columns: dict[str, str], **options: object
) -> pl.DataFrame:
    return pl.concat(
        read_cells(
            path,
            landed_file="s/file/x",
            file_format=file_format,
            charset=options.pop("charset", "utf-8"),  # type: ignore[arg-type]
            columns=columns,
            **options,  # type: ignore[arg-type]
        )
    )


def test_csv_records_keep_their_first_line_through_quoted_newlines_and_blank_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(b'h,n\r\na,"two\r\nlines"\r\n\r\nb,x\r\nc,y,extra\r\nd\r\n')

    cells = cells_of(path, "csv", {"handle": "h"}, batch_rows=2)

    assert cells.select("line_number", "handle", "record_problem").rows() == [
        (2, "a", None),
        (5, "b", None),
        (6, "c", "record: 3 fields where the header has 2 (a separator or a quote out of place?)"),
        (7, "d", "record: 1 fields where the header has 2 (a separator or a quote out of place?)"),
    ]
    assert json.loads(cells["raw_record"][0]) == {"h": "a", "n": "two\r\nlines"}
    assert json.loads(cells["raw_record"][2]) == {"h": "c", "n": "y", "_extra_fields": ["extra"]}


def test_a_missing_column_is_refused_naming_the_columns_the_file_has(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("Handle,Followers\nx,1\n")

    with pytest.raises(ImportRefused) as refused:
        cells_of(path, "csv", {"handle": "handle", "followers": "Folowers", "country": "Country"})

    assert str(refused.value).startswith(
        "the mapping names column(s) the file does not have: 'Folowers' (followers), "
        "'Country' (country); the file's columns are 'Handle', 'Followers'"
    )


def test_json_values_are_read_as_their_literal_text(tmp_path: Path) -> None:
    path = tmp_path / "e.ndjson"
    path.write_text(
        '{"h": "a", "f": 12345678901234.123456789, "g": 2.28E+11, "s": "3.3k", "o": {"x": 1}}\n'
        "\n"
        '{"h": "b", "f": NaN, "g": -0}\n'
        "not json\n"
        '["a list"]\n'
    )

    cells = cells_of(path, "ndjson", {"handle": "h", "f": "f", "g": "g", "s": "s", "o": "o"})

    assert cells.select("line_number", "handle", "f", "g", "s", "o", "record_problem").rows() == [
        (1, "a", "12345678901234.123456789", "2.28E+11", "3.3k", '{"x":"1"}', None),
        (3, "b", "NaN", "-0", None, None, None),
        (4, None, None, None, None, None, "record: not valid JSON (not json)"),
        (5, None, None, None, None, None, 'record: not a JSON object (got ["a list"])'),
    ]


def test_a_truncated_json_array_keeps_the_records_before_the_break(tmp_path: Path) -> None:
    cells = cells_of(
        FIXTURES / "export.json", "json", {"handle": "channel", "followers": "subscribers"}
    )

    assert cells.select("line_number", "handle", "followers").rows()[:3] == [
        (2, "@json_one", "475800000"),
        (3, "UCabcdefghijklmnopqrstuv", "1.2b"),
        (4, "@json_three", '{"value":"5"}'),
    ]
    assert cells["record_problem"].to_list()[3:] == [
        'record: not a JSON object (got "not an object")',
        None,
        None,
        'record: not valid JSON ({"channel": "@json_seven", "subscribers": 100, "vid)',
    ]


def test_parquet_rows_are_read_as_text_with_their_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    pl.DataFrame(
        {"user": ["a", "b", "c"], "followers": [475_800_000, None, 3], "rate": [0.0139, 0.5, 1.0]}
    ).write_parquet(path)

    cells = cells_of(
        path, "parquet", {"handle": "user", "followers": "followers", "r": "rate"}, batch_rows=2
    )

    assert cells.select("line_number", "handle", "followers", "r").rows() == [
        (1, "a", "475800000", "0.0139"),
        (2, "b", None, "0.5"),
        (3, "c", "3", "1.0"),
    ]
