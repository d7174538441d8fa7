"""One read-only query against the lake, for ``influencers sql``.

The lake is attached read-only, so nothing an analyst types can change it; a statement that is
not a query is refused first anyway, with a message saying what to do instead, rather than
running against the scratch in-memory database the lake is attached to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.lake import LakeLocation, open_lake

READ_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
OUTPUT_FORMATS = ("csv", "parquet")


class QueryRefused(ValueError):
    """The text is not one read-only query."""


@dataclass(frozen=True)
class QueryPreview:
    """The first rows of a result, and whether there were more."""

    columns: list[str]
    rows: list[tuple[object, ...]]
    truncated: bool


def check_read_only(sql: str) -> str:
    """``sql`` if it is exactly one query (SELECT, FROM, WITH, DESCRIBE, SHOW, EXPLAIN...)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.ParserException as error:
        raise QueryRefused(f"the query does not parse: {error}") from None
    if len(statements) != 1:
        raise QueryRefused(
            f"give exactly one query, not {len(statements)} statements: run them one at a time"
        )
    kind = statements[0].type
    if kind not in READ_STATEMENTS:
        raise QueryRefused(
            f"`influencers sql` only reads: this is a {kind.name} statement. The lake is "
            "written by the pipeline's flows alone (nightly, weekly-reports, maintenance); to "
            "keep a result, use --format csv|parquet --output FILE"
        )
    return sql


def preview(location: LakeLocation, sql: str, max_rows: int) -> QueryPreview:
    """Run ``sql`` read-only and keep its first ``max_rows`` rows."""
    connection = open_lake(location, read_only=True)
    try:
        result = connection.execute(check_read_only(sql))
        columns = [column[0] for column in result.description or []]
        rows = result.fetchmany(max_rows + 1)
    finally:
        connection.close()
    return QueryPreview(columns, rows[:max_rows], truncated=len(rows) > max_rows)


def export(location: LakeLocation, sql: str, output: Path, output_format: str) -> int:
    """Write the whole result of ``sql`` to ``output`` (DuckDB streams it); return its rows."""
    if output_format not in OUTPUT_FORMATS:
        raise QueryRefused(f"--format {output_format!r}: choose one of {', '.join(OUTPUT_FORMATS)}")
    query = check_read_only(sql).strip().rstrip(";")
    options = "format csv, header" if output_format == "csv" else "format parquet"
    target = "'" + str(output).replace("'", "''") + "'"
    output.parent.mkdir(parents=True, exist_ok=True)
    connection = open_lake(location, read_only=True)
    try:
        written = connection.execute(f"copy ({query}) to {target} ({options})").fetchone()
    finally:
        connection.close()
    return int(written[0]) if written else 0
