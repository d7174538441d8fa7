"""The order export reader: line items folded into orders whatever the batch size, landing URLs
stripped to their path and utm_* tags, and order mappings refused with every problem."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sources.files.errors import ImportRefused
from sources.orders.mapping import read_order_mapping, resolve_order_mapping
from sources.orders.reading import kept_landing_url, order_records

EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "orders" / "shopify_orders.csv"


def read_all(batch_rows: int) -> pl.DataFrame:
    mapping = resolve_order_mapping(None).mapping
    return pl.concat(
        order_records(EXPORT, mapping, charset="utf-8", landed_file="x", batch_rows=batch_rows)
    )


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 5], ids=lambda rows: f"{rows} rows a batch")
def test_an_order_split_across_batches_is_folded_the_same(batch_rows: int) -> None:
    whole = read_all(10_000)

    assert_frame_equal(read_all(batch_rows), whole)
    assert whole.height == 16
    assert whole.filter(pl.col("order_key") == "#1003").select(
        "line_items", "source_lines", "total", "discount_codes"
    ).row(0) == (3, [5, 6, 7], "116.64", "maya01, FREESHIP")


def test_only_the_mapped_order_fields_are_read() -> None:
    records = read_all(10_000)

    assert set(records.columns) == {
        "order_key",
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
        "line_items",
        "source_lines",
        "line_problem",
    }
    assert not any("@" in str(value) for value in records.rows())


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        (
            "/p?utm_source=ig&utm_campaign=c1&utm_content=maya01&fbclid=abc",
            "/p?utm_source=ig&utm_campaign=c1&utm_content=maya01",
        ),
        (
            "https://user:pw@shop.example.com/p?email=a%40b.com&UTM_Content=x",
            "https://shop.example.com/p?UTM_Content=x",
        ),
        ("/products/x", "/products/x"),
        ("/p?utm_content=a%20b#section", "/p?utm_content=a+b"),
    ],
    ids=["click ids dropped", "email and credentials dropped", "plain path", "fragment dropped"],
)
def test_a_landing_url_keeps_its_path_and_utm_tags_only(url: str, kept: str) -> None:
    assert kept_landing_url(url) == kept


def test_a_bad_order_mapping_lists_every_problem(tmp_path: Path) -> None:
    mapping = tmp_path / "bad.toml"
    mapping.write_text(
        'timezone = "Mars/Olympus"\n[columns]\nordered_at = "Date"\nemail = "E-mail"\n',
        encoding="utf-8",
    )

    with pytest.raises(ImportRefused) as refused:
        read_order_mapping(mapping)

    assert str(refused.value).splitlines()[1:] == [
        "  - timezone: unknown timezone 'Mars/Olympus': use e.g. UTC, Europe/Paris",
        "  - columns.order_id: missing (required)",
        "  - columns.email: unknown key (a typo?)",
    ]
