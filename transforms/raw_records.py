"""From landed JSON lines to one text column per contract field.

The fields are read by DuckDB's JSON functions: ``json_extract_string`` with the list of every
field's path parses each line once, on every core, where Polars' ``json_path_match`` parses the
line again for each field (measured on 20,000 media lines of ten fields: 58 ms against 390 ms).
The text of a field is the same either way: a string's value, a number's or an object's JSON text.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl

from schemas.contract import RECORD_PROBLEM

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

PROVENANCE_COLUMNS = ("landed_file", "line_number", "raw_record")
# A JSON string, or a bare NaN / Infinity / -Infinity outside any string (Python's json writes
# them; strict parsers, polars' included, then refuse the whole line).
_STRING_OR_NON_FINITE = r'("(?:[^"\\]|\\.)*")|(-?Infinity|NaN)'
# Valid JSON holds no raw control character, so NUL can mark the two cases of one replacement.
_MARK = "\x00"
# The landing wraps an item that is not a JSON object as {<context>, "_not_an_object": <item>}.
_NOT_AN_OBJECT_PATH = "$._not_an_object"
_NOT_AN_OBJECT_KEY = r'[{,]\s*"_not_an_object"\s*:'
_NOT_AN_OBJECT_STRING = r'[{,]\s*"_not_an_object"\s*:\s*("(?:[^"\\]|\\.)*")'
EXCERPT_CHARS = 60
# The lines of the landed file at $path, one VARCHAR column ``raw_record`` (read_landed_lines).
LANDED_LINES = """read_csv(
    $path, columns = {'raw_record': 'VARCHAR'}, header = false, delim = '\x01', quote = '',
    escape = '', new_line = '\\n', auto_detect = false
)"""
_ORDER = "__order"
_READABLE = "__readable"


def read_landed_lines(path: Path, batch_lines: int) -> Iterator[pl.DataFrame]:
    """The non-empty lines of a landed file (gzipped JSON lines) as frames of ``line_number``
    (1-based) and ``raw_record``, about ``batch_lines`` at a time.

    DuckDB decompresses and splits the file, streaming: no Python object is made per line and
    no more than a batch is held. Every line is one column: JSON text holds no raw control
    character, so the \\x01 delimiter never occurs in a landed line (a line that held one would
    stop the read with DuckDB's error naming the line, rather than be cut). Quoting is off, so a
    line is taken exactly as written.
    """
    reader = duckdb.connect()
    try:
        lines = reader.execute(
            f"select raw_record from {LANDED_LINES}", {"path": str(path)}
        ).to_arrow_reader(batch_lines)
        first_line = 1
        for batch in lines:
            frame = pl.DataFrame(pl.from_arrow(batch)).with_row_index(
                "line_number", offset=first_line
            )
            first_line += frame.height
            yield frame.select(pl.col("line_number").cast(pl.Int64), "raw_record").filter(
                pl.col("raw_record").is_not_null() & (pl.col("raw_record") != "")
            )
    finally:
        reader.close()


def parse_landed_records(lines: pl.LazyFrame, json_paths: Mapping[str, str]) -> pl.LazyFrame:
    """Add ``record_problem`` and one String column per field, read from ``raw_record``.

    Values stay text (numbers as their JSON literal, objects as JSON), so the raw contract can
    judge a wrong type instead of a parser losing the record; a missing field becomes NULL. A bare
    ``NaN`` or ``Infinity`` reads as that text, so only its field fails (``not a number``) instead
    of the whole line. ``record_problem`` says why a line is no record at all: not JSON, or an
    item that was not a JSON object; NULL for a record. The rows keep their order.
    """
    raw = pl.col("raw_record")
    frame = lines.with_row_index(_ORDER).collect()
    # Literal searches first: a regex over every record costs more than the rest of the parse.
    maybe_non_finite = raw.str.contains("NaN", literal=True) | raw.str.contains(
        "Infinity", literal=True
    )
    non_finite = frame.select(maybe_non_finite.fill_null(False)).to_series()
    if non_finite.any():
        readable = (
            _where(
                frame.lazy(),
                raw.str.contains("NaN|Infinity"),
                _READABLE,
                then=_quote_non_finite_literals(raw),
                otherwise=raw,
            )
            .sort(_ORDER)
            .collect()
        )
    else:  # the usual batch: nothing to rewrite, no copy of the records
        readable = frame.with_columns(raw.alias(_READABLE))
    fields = _with_fields(readable, json_paths)
    # A line that is not a JSON object yields no field at all: only those need a second look.
    no_field = pl.all_horizontal(pl.lit(True), *(pl.col(c).is_null() for c in json_paths))
    suspect = no_field | (
        raw.str.contains('"_not_an_object"', literal=True) & raw.str.contains(_NOT_AN_OBJECT_KEY)
    )
    if not fields.select(suspect.fill_null(False).any()).item():
        problems = fields.lazy().with_columns(pl.lit(None, dtype=pl.String).alias(RECORD_PROBLEM))
    else:
        problems = _where(
            fields.lazy(),
            suspect,
            RECORD_PROBLEM,
            then=_record_problem(pl.col(_READABLE)),
            otherwise=pl.lit(None, dtype=pl.String),
        ).sort(_ORDER)
    return problems.select(*PROVENANCE_COLUMNS, RECORD_PROBLEM, *json_paths)


def _with_fields(frame: pl.DataFrame, json_paths: Mapping[str, str]) -> pl.DataFrame:
    """``frame`` plus one String column per field, read from ``_READABLE`` in one parse per line
    (NULL for every field of a line that is not JSON: ``record_problem`` then says why)."""
    if not json_paths:
        return frame
    parse, selected, parameters = fields_sql(json_paths, "record")
    connection = _connection()
    connection.register("landed_lines", frame.select(pl.col(_READABLE).alias("record")))
    try:
        # DuckDB keeps the order of the rows it reads (preserve_insertion_order is on).
        fields = pl.DataFrame(
            pl.from_arrow(
                connection.execute(
                    f"select {selected} from (select {parse} as fields from landed_lines)",
                    parameters,
                ).arrow()
            )
        )
    finally:
        connection.unregister("landed_lines")
    if fields.height != frame.height:
        raise RuntimeError(f"read {fields.height} rows of fields from {frame.height} lines")
    return frame.hstack(fields)


def fields_sql(json_paths: Mapping[str, str], record: str) -> tuple[str, str, dict[str, object]]:
    """How DuckDB reads the fields of the JSON text in column ``record``: the expression that
    parses it once (to select as ``fields``), the select list of one column per field read from
    ``fields``, and the parameters both need.

    ``from_json`` into a struct of the paths' shape, every leaf VARCHAR, parses a line once into
    all its fields (twice as fast as ``json_extract_string`` with the list of paths); both give
    the same text: a string's value, a number's or an object's JSON, NULL when absent or when
    the line has another shape. Paths it cannot express fall back to ``json_extract_string``. A
    line that is not JSON makes the parse fail: ``try()`` turns that into NULL fields (cheaper
    than ``json_valid`` on every line first, which parses it a second time).
    """
    shape = _struct_shape(json_paths.values())
    if shape is None:
        paths = list(json_paths.values())
        parse = f"try(json_extract_string({record}, $paths))"
        columns = [f"fields[{position}]" for position in range(1, len(paths) + 1)]
        parameters: dict[str, object] = {"paths": paths}
    else:
        parse = f"try(from_json({record}, $shape))"
        columns = [_struct_access("fields", path) for path in json_paths.values()]
        parameters = {"shape": json.dumps(shape)}
    selected = ", ".join(
        f"{access} as {_quoted(column)}" for access, column in zip(columns, json_paths, strict=True)
    )
    return parse, selected, parameters


_PATH = re.compile(r"\$((?:\.[A-Za-z_][A-Za-z0-9_]*)+)(?:\[(\d+)\])?")


def _struct_shape(paths: Iterable[str]) -> dict[str, Any] | None:
    """The ``from_json`` structure that holds every path (``$.a.b``, ``$.a[0]``), or None."""
    shape: dict[str, Any] = {}
    for path in paths:
        matched = _PATH.fullmatch(path)
        if matched is None:
            return None
        *parents, leaf = matched.group(1)[1:].split(".")
        node = shape
        for key in parents:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                return None
            node = child
        leaf_type = "VARCHAR[]" if matched.group(2) is not None else "VARCHAR"
        if node.setdefault(leaf, leaf_type) != leaf_type:
            return None
    return shape


def _struct_access(struct: str, path: str) -> str:
    matched = _PATH.fullmatch(path)
    assert matched is not None
    access = struct + "".join(f"[{_literal(key)}]" for key in matched.group(1)[1:].split("."))
    if matched.group(2) is not None:
        access += f"[{int(matched.group(2)) + 1}]"
    return access


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_LOCAL = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """This thread's in-memory DuckDB, for reading fields (opened once, ~10 ms)."""
    connection = getattr(_LOCAL, "connection", None)
    if connection is None:
        connection = _LOCAL.connection = duckdb.connect()
    return connection


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _where(
    frame: pl.LazyFrame, condition: pl.Expr, column: str, *, then: pl.Expr, otherwise: pl.Expr
) -> pl.LazyFrame:
    """``frame`` plus ``column``: ``then`` where ``condition`` holds, else ``otherwise``.

    Unlike ``pl.when``, which computes both sides on every row, each side runs only on its rows:
    the costly side (a regex over every string, a second JSON parse) is for the rare rows.
    """
    holds = condition.fill_null(False)
    return pl.concat(
        [
            frame.filter(holds).with_columns(then.alias(column)),
            frame.filter(~holds).with_columns(otherwise.alias(column)),
        ]
    )


def _quote_non_finite_literals(record: pl.Expr) -> pl.Expr:
    """``record`` with each bare NaN / Infinity / -Infinity turned into a JSON string.

    One regex pass matches strings (kept as they are) and bare literals; the replacement marks
    which one matched, so strings that merely contain "NaN" are never touched.
    """
    marked = record.str.replace_all(_STRING_OR_NON_FINITE, f"${{1}}{_MARK}${{2}}{_MARK}")
    return marked.str.replace_all(_MARK * 2, "", literal=True).str.replace_all(
        _MARK, '"', literal=True
    )


def _record_problem(record: pl.Expr) -> pl.Expr:
    whole = record.str.json_path_match("$")
    is_json = whole.is_not_null() | (record.str.strip_chars() == "null")
    is_object = record.str.strip_chars_start().str.starts_with("{")
    item = pl.coalesce(
        record.str.extract(_NOT_AN_OBJECT_STRING, 1),
        record.str.json_path_match(_NOT_AN_OBJECT_PATH),
        pl.lit("null"),
    )
    return (
        pl.when(~is_json)
        .then(pl.format("record: not valid JSON ({})", _excerpt(pl.col("raw_record"))))
        .when(~is_object)
        .then(pl.format("record: not a JSON object (got {})", _excerpt(record)))
        .when(record.str.contains(_NOT_AN_OBJECT_KEY))
        .then(pl.format("item: not a JSON object (got {})", _excerpt(item)))
    )


def _excerpt(text: pl.Expr) -> pl.Expr:
    return (
        pl.when(text.str.len_chars() > EXCERPT_CHARS)
        .then(text.str.slice(0, EXCERPT_CHARS) + "…")
        .otherwise(text)
    )


def keep_last_landed(records: Frame, key: list[str]) -> Frame:
    """One row per ``key``: the one landed last (latest file, then latest line) wins."""
    return records.sort("landed_file", "line_number").unique(
        subset=key, keep="last", maintain_order=True
    )
