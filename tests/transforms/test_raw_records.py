import polars as pl
import pytest
from polars.testing import assert_frame_equal

from transforms.raw_records import keep_last_landed, parse_landed_records


def lines(*records: str) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "landed_file": ["f.jsonl.gz"] * len(records),
            "line_number": list(range(1, len(records) + 1)),
            "raw_record": list(records),
        }
    )


def test_fields_stay_json_text_and_missing_ones_are_null() -> None:
    parsed = parse_landed_records(
        lines('{"id": "1", "n": 5, "o": {"v": 1}, "l": ["18-24"]}', '{"n": "n/a"}'),
        {"id": "$.id", "n": "$.n", "o": "$.o", "first": "$.l[0]"},
    ).collect()

    assert parsed.select("id", "n", "o", "first").to_dicts() == [
        {"id": "1", "n": "5", "o": '{"v":1}', "first": "18-24"},
        {"id": None, "n": "n/a", "o": None, "first": None},
    ]
    assert parsed.columns[:3] == ["landed_file", "line_number", "raw_record"]


def test_keep_last_landed_prefers_the_later_file_then_line() -> None:
    records = pl.LazyFrame(
        {
            "landed_file": ["b", "a", "a", "a"],
            "line_number": [1, 2, 1, 3],
            "key": ["x", "x", "y", "y"],
            "value": [10, 20, 30, 40],
        }
    )

    kept = keep_last_landed(records, ["key"]).collect().sort("key")

    assert_frame_equal(
        kept,
        pl.DataFrame(
            {"landed_file": ["b", "a"], "line_number": [1, 3], "key": ["x", "y"], "value": [10, 40]}
        ),
    )


def test_a_bare_nan_reads_as_its_text_and_the_other_fields_still_parse() -> None:
    line = '{"id": "1", "n": NaN, "i": Infinity, "m": -Infinity, "l": [NaN], "c": "NaN, Infinity"}'

    parsed = parse_landed_records(
        lines(line), {"id": "$.id", "n": "$.n", "i": "$.i", "m": "$.m", "l0": "$.l[0]", "c": "$.c"}
    ).collect()

    assert parsed.select("id", "n", "i", "m", "l0", "c").row(0) == (
        "1",
        "NaN",
        "Infinity",
        "-Infinity",
        "NaN",
        "NaN, Infinity",
    )
    assert parsed["raw_record"].to_list() == [line]
    assert parsed["record_problem"].to_list() == [None]


def test_strings_that_spell_nan_or_hold_quotes_are_left_alone() -> None:
    line = r'{"caption": "say \"NaN\" -Infinity \\", "n": 5}'

    parsed = parse_landed_records(lines(line), {"caption": "$.caption", "n": "$.n"}).collect()

    assert parsed.select("caption", "n").row(0) == ('say "NaN" -Infinity \\', "5")


@pytest.mark.parametrize(
    ("line", "expected_problem"),
    [
        ('{"id": "1"}', None),
        ('{"_handle": "a", "_not_an_object": "abc"}', 'item: not a JSON object (got "abc")'),
        ('{"_handle": "a", "_not_an_object": {"x": 1}}', 'item: not a JSON object (got {"x":1})'),
        ('{"_handle": "a", "_not_an_object": 7}', "item: not a JSON object (got 7)"),
        ('{"caption": "{\\"_not_an_object\\": 1}"}', None),
        ('{"id": "1"', 'record: not valid JSON ({"id": "1")'),
        ("", "record: not valid JSON ()"),
        ("[1, 2]", "record: not a JSON object (got [1, 2])"),
    ],
    ids=[
        "object",
        "wrapped-string",
        "wrapped-object-as-is",
        "wrapped-number",
        "key-spelled-in-a-string",
        "truncated",
        "empty-line",
        "array",
    ],
)
def test_record_problem_says_why_a_line_is_no_record(
    line: str, expected_problem: str | None
) -> None:
    parsed = parse_landed_records(lines(line), {"id": "$.id"}).collect()

    assert parsed["record_problem"].to_list() == [expected_problem]
