"""Reading an order export into PII-free order records: one per order, its line items folded in.

The CSV is split by the file imports' reader (``sources.files.reading``: charset detection, the
first physical line of every record, ragged and truncated records named), asked for the mapped
columns only; the whole-row text it also produces (``raw_record``, which would hold the shoppers'
names and addresses) is dropped at once, before anything else sees it.

Shopify writes one row per line item and the order's own fields on its first row only, so the
rows of one order (the same ``Name``) are folded into one record: each field is the first
non-empty value of its rows. Rows whose key is empty cannot be placed in any order: each becomes
a record of its own, without a key, which its contract then refuses. An order's rows are
adjacent in the export, so the reader holds back the last order of a batch until the next batch
shows where it ends: memory stays bounded by a batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import polars as pl

from sources.files.reading import read_cells
from sources.orders.mapping import OrderMapping

# The fields of a landed order record, besides the mapped ones.
ORDER_KEY: Final = "order_key"
LINE_ITEMS: Final = "line_items"
SOURCE_LINES: Final = "source_lines"
LINE_PROBLEM: Final = "line_problem"
ORDER_FIELDS: Final = (
    "order_id",
    "order_name",
    "ordered_at",
    "currency",
    "subtotal",
    "shipping",
    "taxes",
    "total",
    "discount_codes",
    "discount_amount",
    "refunded_amount",
    "landing_url",
    "financial_status",
)
# Query parameters of a landing URL that are kept: the campaign's tags. Anything else (fbclid,
# gclid, a newsletter's ?email=...) may identify the shopper, and is dropped.
KEPT_QUERY_PREFIX: Final = "utm_"
_GROUP: Final = "__order_group"


def order_records(
    path: Path,
    mapping: OrderMapping,
    *,
    charset: str,
    landed_file: str,
    batch_rows: int,
) -> Iterator[pl.DataFrame]:
    """The export's orders, a batch at a time, as frames of PII-free order records."""
    columns = mapping.columns.named()
    key_field = mapping.lines_grouped_by
    pending: pl.DataFrame | None = None
    for cells in read_cells(
        path,
        landed_file=landed_file,
        file_format="csv",
        charset=charset,
        columns=columns,
        delimiter=mapping.delimiter,
        batch_rows=batch_rows,
    ):
        lines = cells.drop("raw_record", "landed_file")
        if pending is not None:
            lines = pl.concat([pending, lines])
        last_key = _key(pl.col(key_field)).alias("key")
        last = lines.select(last_key.last()).item()
        held = (_key(pl.col(key_field)) == last).fill_null(False)
        pending = lines.filter(held) if last is not None else None
        complete = lines.filter(~held) if last is not None else lines
        if not complete.is_empty():
            yield orders_from_lines(complete, key_field)
    if pending is not None and not pending.is_empty():
        yield orders_from_lines(pending, key_field)


def _key(cell: pl.Expr) -> pl.Expr:
    stripped = cell.str.strip_chars()
    return pl.when(stripped != "").then(stripped)


def orders_from_lines(lines: pl.DataFrame, key_field: str) -> pl.DataFrame:
    """One record per order of ``lines`` (``line_number``, ``record_problem`` and the mapped
    fields as text): the first non-empty value of each field, the order's line numbers, and why
    it is no order (a line that is no record, or lines that disagree on an order field)."""
    fields = [field for field in ORDER_FIELDS if field in lines.columns]
    grouped = lines.with_columns(_key(pl.col(key_field)).alias(ORDER_KEY)).with_columns(
        pl.coalesce(
            pl.lit("key:") + pl.col(ORDER_KEY),
            pl.lit("line:") + pl.col("line_number").cast(pl.String),
        ).alias(_GROUP)
    )
    present = {field: pl.col(field).filter(_key(pl.col(field)).is_not_null()) for field in fields}
    orders = grouped.group_by(_GROUP, maintain_order=True).agg(
        pl.col(ORDER_KEY).first(),
        *(present[field].first().alias(field) for field in fields),
        *(present[field].n_unique().alias(f"__distinct_{field}") for field in fields),
        pl.len().cast(pl.Int64).alias(LINE_ITEMS),
        pl.col("line_number").alias(SOURCE_LINES),
        pl.format("line {}: {}", pl.col("line_number"), pl.col("record_problem"))
        .drop_nulls()
        .str.join("; ")
        .alias("__line_problems"),
    )
    disagreeing = pl.concat_str(
        [pl.when(pl.col(f"__distinct_{field}") > 1).then(pl.lit(field)) for field in fields],
        separator=", ",
        ignore_nulls=True,
    )
    problem = (
        pl.when(pl.col("__line_problems") != "")
        .then(pl.col("__line_problems"))
        .when(disagreeing != "")
        .then(
            pl.format(
                "record: the order's lines disagree on {} (two orders under one key?)",
                disagreeing,
            )
        )
    )
    return (
        orders.with_columns(problem.alias(LINE_PROBLEM))
        .select(
            ORDER_KEY,
            *fields,
            *(
                pl.lit(None, pl.String).alias(field)
                for field in ORDER_FIELDS
                if field not in fields
            ),
            LINE_ITEMS,
            SOURCE_LINES,
            LINE_PROBLEM,
        )
        .with_columns(
            pl.col("landing_url").map_elements(
                kept_landing_url, return_dtype=pl.String, skip_nulls=True
            )
        )
    )


def kept_landing_url(url: str) -> str:
    """``url`` with only its path and its ``utm_*`` parameters (the rest may identify the
    shopper); a URL that does not parse keeps its path alone."""
    try:
        parts = urlsplit(url.strip())
        query = [
            (name, value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if name.lower().startswith(KEPT_QUERY_PREFIX)
        ]
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0].strip()
    host = parts.netloc.rsplit("@", 1)[-1]  # never a user:password@ part
    return urlunsplit((parts.scheme, host, parts.path, urlencode(query), ""))
