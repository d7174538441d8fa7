"""From landed JSON lines to one text column per contract field."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

PROVENANCE_COLUMNS = ("landed_file", "line_number", "raw_record")


def parse_landed_records(lines: pl.LazyFrame, json_paths: Mapping[str, str]) -> pl.LazyFrame:
    """Add one String column per field, read from ``raw_record`` by its JSON path.

    Values stay text (numbers as their JSON literal, objects as JSON), so the raw contract can
    judge a wrong type instead of a parser losing the record; a missing field becomes NULL.
    """
    return lines.select(
        *PROVENANCE_COLUMNS,
        *(
            pl.col("raw_record").str.json_path_match(path).alias(column)
            for column, path in json_paths.items()
        ),
    )


def keep_last_landed(records: pl.LazyFrame, key: list[str]) -> pl.LazyFrame:
    """One row per ``key``: the one landed last (latest file, then latest line) wins."""
    return records.sort("landed_file", "line_number").unique(
        subset=key, keep="last", maintain_order=True
    )
