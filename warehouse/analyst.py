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
    if not statements:
        raise QueryRefused('give a query, e.g. "select * from roster limit 10"')
    if len(statements) != 1 and not _is_one_pivot(statements):
        raise QueryRefused(
            f"give exactly one query, not {len(statements)} statements: run them one at a time"
        )
    kind = statements[-1].type
    if kind not in READ_STATEMENTS:
        raise QueryRefused(
            f"`influencers sql` only reads: this is a {kind.name} statement. The lake is "
            "written by the pipeline's flows alone (nightly, weekly-reports, maintenance); to "
            "keep a result, use --format csv|parquet --output FILE"
        )
    if kind == duckdb.StatementType.EXPLAIN:
        # EXPLAIN ANALYZE runs what it explains: `explain analyze copy ... to 'file'` writes.
        check_read_only(_explained(statements[0].query))
    return sql


def _is_one_pivot(statements: list[duckdb.Statement]) -> bool:
    """Whether the parser expanded one PIVOT (its CREATE TYPE of the pivoted values, then the
    SELECT): the statements it made up carry no text of their own."""
    return (
        all(statement.query == "" for statement in statements)
        and statements[-1].type == duckdb.StatementType.SELECT
        and all(statement.type == duckdb.StatementType.CREATE for statement in statements[:-1])
    )


def _explained(explain: str) -> str:
    """The statement an ``EXPLAIN [ANALYZE] [(options)] ...`` explains: the first rest of the
    text, token by token, that parses as one statement."""
    for offset, _ in duckdb.tokenize(explain)[1:]:
        rest = explain[offset:]
        try:
            if len(duckdb.extract_statements(rest)) == 1:
                return rest
        except duckdb.ParserException:
            continue
    raise QueryRefused(f"cannot tell what this EXPLAIN explains: {explain}")


def preview(location: LakeLocation, sql: str, max_rows: int) -> QueryPreview:
    """Run ``sql`` read-only and keep its first ``max_rows`` rows."""
    connection = open_lake(location, read_only=True)
    try:
        result = connection.execute(check_read_only(sql))
        columns = _column_names(result)
        rows = result.fetchmany(max_rows + 1)
    finally:
        connection.close()
    return QueryPreview(columns, rows[:max_rows], truncated=len(rows) > max_rows)


def export(location: LakeLocation, sql: str, output: Path, output_format: str) -> int:
    """Write the whole result of ``sql`` to ``output`` (DuckDB streams it); return its rows."""
    if output_format not in OUTPUT_FORMATS:
        raise QueryRefused(f"--format {output_format!r}: choose one of {', '.join(OUTPUT_FORMATS)}")
    query = _without_final_semicolons(check_read_only(sql))
    options = "format csv, header" if output_format == "csv" else "format parquet"
    target = "'" + str(output).replace("'", "''") + "'"
    output.parent.mkdir(parents=True, exist_ok=True)
    connection = open_lake(location, read_only=True)
    try:
        # On lines of their own, so that a `-- comment` ending the query ends before the `)`.
        result = connection.execute(f"copy (\n{query}\n) to {target} ({options})")
        written = result.fetchone() if _column_names(result) == ["Count"] else None
        if written is None:
            # A PIVOT runs as two statements, and the COPY's count is not the last result.
            reader = "read_csv" if output_format == "csv" else "read_parquet"
            written = connection.execute(f"select count(*) from {reader}({target})").fetchone()
    finally:
        connection.close()
    return int(written[0]) if written else 0


def _without_final_semicolons(sql: str) -> str:
    """``sql`` up to its final ``;`` and anything after it (comments, spaces)."""
    end = len(sql)
    for offset, _ in reversed(duckdb.tokenize(sql)):
        if sql[offset] != ";":
            break
        end = offset
    return sql[:end]


def _column_names(result: duckdb.DuckDBPyConnection) -> list[str]:
    return [column[0] for column in result.description or []]
