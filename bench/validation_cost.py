"""What judging the records costs against reading them: where the floor's 1.5x target is lost.

On the largest landed file of a night (Instagram media: two thirds of its records), at SF=1
and 10, each step on its own, one after the other in this process:

- **read_json, typed**: DuckDB reads the file straight into typed columns, as the floor does, into
  a Parquet file (each DuckDB step writes one, streamed, as a staged batch is written);
- **lines and fields**: the landed lines and every field as text, as ours reads them (``read_csv``
  then ``from_json``), into a Parquet file: what any design that quarantines a bad line with its
  number and text must read;
- **+ the contract's checks in SQL**: the same, with the media contract's checks written as SQL
  reason expressions in the same query, then the valid and the rejected rows counted. A sketch of
  the checks for this measurement, not the contract: the night judges with Pandera;
- **the same, each line's text kept only if it fails**: the least a SQL design must write;
- **ours, lines and fields**: ``read_landed_lines`` and ``parse_landed_records``, into Polars;
- **ours, + Pandera's checks**: the same, then ``split_by_contract`` with ``RawInstagramMedia``.

    .venv/bin/python -m bench.validation_cost --sf 1 --sf 10
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from bench.measure import load_average, machine
from bench.scale import landing
from schemas.checks import DIGITS_ID, GRAPH_TIMESTAMP, ISO_DATE
from schemas.contract import split_by_contract
from schemas.raw import json_paths
from schemas.raw.instagram import MEDIA_TYPES, RawInstagramMedia
from schemas.vocabulary import MAX_PLAUSIBLE_COUNT
from transforms.raw_records import (
    LANDED_LINES,
    fields_sql,
    parse_landed_records,
    read_landed_lines,
)

SCALES = (1.0, 10.0)
QUICK_SCALES = (0.001,)
BATCH_LINES = 100_000
ENTITY = "media"


def _count_reasons(column: str) -> str:
    """A count field's reasons, one per failing value, in the contract's order of precedence."""
    number = f"try_cast({column} as double)"
    return f"""case
        when {column} in ('NaN', 'Infinity', '-Infinity') or isnan({number}) or isinf({number})
            then '{column}: not a number (' || {column} || ')'
        when {number} < 0 then '{column}: negative count (' || {column} || ')'
        when {number} > {MAX_PLAUSIBLE_COUNT}
            then '{column}: implausible count (' || {column} || ' > 10^10)'
        when not regexp_full_match({column}, '{DIGITS_ID[1:-1]}')
            then '{column}: non_negative_integer (got ' || {column} || ')' end"""


def _media_reasons() -> str:
    """The media contract's checks as one list of reasons per row (empty when it passes)."""
    required = ["handle", "as_of", "account_id", "post_id", "timestamp", "media_type"]
    required.append("comments_count")
    media_types = ", ".join(f"'{media_type}'" for media_type in MEDIA_TYPES)
    published = "try_strptime(timestamp, '%Y-%m-%dT%H:%M:%S%z')"
    reasons = [
        *(
            f"case when {name} is null then '{name}: not_nullable (got nothing)' end"
            for name in required
        ),
        f"case when not regexp_full_match(as_of, '{ISO_DATE[1:-1]}') "
        "then 'as_of: str_matches (got ' || as_of || ')' end",
        *(
            f"case when not regexp_full_match({name}, '{DIGITS_ID[1:-1]}') "
            f"then '{name}: digits_id (got ' || {name} || ')' end"
            for name in ("account_id", "post_id")
        ),
        f"case when not regexp_full_match(timestamp, '{GRAPH_TIMESTAMP[1:-1]}') "
        "then 'timestamp: graph_timestamp (got ' || timestamp || ')' end",
        f"case when {published} >= try_cast(as_of as date) + 1 then 'timestamp: published after "
        "the night''s date (' || timestamp || ' > end of ' || as_of || ')' end",
        f"case when media_type not in ({media_types}) "
        "then 'media_type: isin (got ' || media_type || ')' end",
        _count_reasons("like_count"),
        _count_reasons("comments_count"),
    ]
    return f"list_filter([{', '.join(reasons)}], reason -> reason is not null)"


def _timed(step: Callable[[], int]) -> dict[str, float]:
    started, cpu = time.perf_counter(), time.process_time()
    rows = step()
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "rows": rows,
    }


def measure(sf: float) -> dict[str, Any]:
    return {"sf": sf, **measure_file(landing(sf).files(ENTITY))}


def measure_file(path: Path) -> dict[str, Any]:
    """Each step on the landed media file at ``path``; the two ways of checking must find the
    same number of valid records."""
    # The fields as the night reads them (transforms.raw_records), from the lines of the file.
    parse, fields, parameters = fields_sql(json_paths(RawInstagramMedia), "raw_record")
    lines_and_fields = (
        f"select raw_record, {fields} from "
        f"(select raw_record, {parse} as fields from {LANDED_LINES})"
    )
    connection = duckdb.connect()
    valid: dict[str, int] = {}  # the rows each way of checking found valid: they must agree

    def sql(query: str, **extra: Any) -> int:
        """Run ``query`` into a Parquet file, as a staged batch is written: streamed, its
        memory bounded."""
        copied = connection.execute(
            f"copy ({query}) to '{output}' (format parquet)", {"path": str(path), **extra}
        )
        return int(copied.fetchone()[0])  # type: ignore[index]

    def read_json_typed() -> int:
        return sql(
            """select id as post_id, _account_id as account_id,
                   try_cast("timestamp" as timestamp) as published, media_type,
                   try_cast(like_count as bigint) as likes,
                   try_cast(comments_count as bigint) as comments,
                   caption, permalink, try_cast(_as_of as date) as as_of
            from read_json($path, format = 'newline_delimited')"""
        )

    def sql_checked() -> int:
        rows = sql(
            f"select *, {_media_reasons()} as failed_checks from ({lines_and_fields})",
            **parameters,
        )
        judged = connection.execute(
            f"select count(*) filter (len(failed_checks) = 0) from '{output}'"
        )
        valid["sql"] = int(judged.fetchone()[0])  # type: ignore[index]
        return rows

    def ours(check: bool) -> Callable[[], int]:
        def step() -> int:
            rows = 0
            paths = json_paths(RawInstagramMedia)
            for lines in read_landed_lines(path, BATCH_LINES):
                lines = lines.select(pl.lit(path.name).alias("landed_file"), pl.all())
                parsed = parse_landed_records(lines.lazy(), paths).collect()
                if check:
                    split = split_by_contract(parsed, RawInstagramMedia)
                    rows += split.valid.height + split.rejected.height
                    valid["pandera"] = valid.get("pandera", 0) + split.valid.height
                else:
                    rows += parsed.height
            return rows

        return step

    steps = {
        "read_json, typed (the floor's read)": read_json_typed,
        "lines and fields, in DuckDB": lambda: sql(lines_and_fields, **parameters),
        "lines and fields + the checks in SQL": sql_checked,
        "the same, each line's text kept only if it fails": lambda: sql(
            f"""select * exclude (raw_record),
                case when len(failed_checks) > 0 then raw_record end as raw_record
            from (select *, {_media_reasons()} as failed_checks from ({lines_and_fields}))""",
            **parameters,
        ),
        "ours: lines and fields, into Polars": ours(check=False),
        "ours: lines and fields + Pandera's checks": ours(check=True),
    }
    with tempfile.TemporaryDirectory(prefix="bench-validation-cost-") as work_dir:
        output = Path(work_dir) / "step.parquet"
        results = {name: _timed(step) for name, step in steps.items()}
    connection.close()
    if valid["sql"] != valid["pandera"]:
        raise RuntimeError(f"the SQL checks and Pandera's disagree on {path}: {valid}")
    return {"file": path.name, "valid": valid["sql"], "steps": results}


def run(quick: bool) -> dict[str, Any]:
    before = load_average()
    scales = [measure(sf) for sf in (QUICK_SCALES if quick else SCALES)]
    for scale in scales:
        counts = {step["rows"] for step in scale["steps"].values()}
        if len(counts) != 1:
            raise RuntimeError(f"the steps read different numbers of rows: {scale}")
    return {"machine": machine(), "load_average": before, "scales": scales}


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Machine: {results['machine']}. 1-minute load average before: "
        f"{results['load_average']:.1f}.",
        "",
        "| SF | media lines | step | seconds | CPU seconds | ÷ the floor's read |",
        "|---:|---:|---|---:|---:|---:|",
    ]
    for scale in results["scales"]:
        steps = scale["steps"]
        floor = next(iter(steps.values()))["seconds"]
        for name, step in steps.items():
            lines.append(
                f"| {scale['sf']:g} | {step['rows']:,} | {name} | {step['seconds']:.2f} | "
                f"{step['cpu_seconds']:.2f} | {step['seconds'] / floor:.2f}x |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sf", type=float, action="append", help="scale factor (repeatable)")
    arguments = parser.parse_args()
    scales = [measure(sf) for sf in arguments.sf or SCALES]
    print(markdown({"machine": machine(), "load_average": load_average(), "scales": scales}))


if __name__ == "__main__":
    main()
