import polars as pl
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
