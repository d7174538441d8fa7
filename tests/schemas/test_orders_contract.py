"""RawOrder and RawFxRate on hand-made rows: every reason, and exact amounts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from schemas.contract import split_by_contract
from schemas.raw.orders import RawFxRate, RawOrder
from transforms.orders import orders_to_judge, typed_orders

GOOD: dict[str, Any] = {
    "order_key": "#1",
    "order_id": "1",
    "order_name": "#1",
    "ordered_at": "2026-10-03 14:05:11 +0200",
    "currency": "USD",
    "subtotal": "50.00",
    "shipping": "5.00",
    "taxes": "4.00",
    "total": "59.00",
    "discount_amount": "10.00",
    "refunded_amount": "",
    "discount_codes": "A1, b2",
    "landing_url": None,
    "financial_status": "paid",
    "line_items": "1",
    "source_lines": "[2]",
}


def judged(rows: list[dict[str, Any]], *, total_after_discount: bool = True) -> pl.DataFrame:
    records = pl.DataFrame(
        [
            {
                "landed_file": "f",
                "line_number": number,
                "raw_record": "{}",
                "record_problem": None,
                **{**GOOD, **row},
            }
            for number, row in enumerate(rows, start=1)
        ],
        schema_overrides={"record_problem": pl.String, "landing_url": pl.String},
    )
    return orders_to_judge(
        records.lazy(),
        key_column="Name",
        decimal_separator=".",
        total_after_discount=total_after_discount,
        imported_at="2026-11-01 00:00:00",
    ).collect()


def test_a_good_order_types_to_exact_amounts() -> None:
    split = split_by_contract(judged([{}]), RawOrder)

    assert split.rejected.is_empty()
    order = typed_orders(split.valid.lazy(), shop="s", import_id="i").collect().row(0, named=True)
    assert (
        order["gross_amount"],
        order["discount_amount"],
        order["refunded_amount"],
        order["net_amount"],
        order["discount_codes"],
        # gross: the merchandise before discounts (Subtotal 50 + discount 10); shipping and
        # taxes are not sales
    ) == (Decimal("60.00"), Decimal("10.00"), Decimal("0.00"), Decimal("50.00"), ["A1", "B2"])


@pytest.mark.parametrize(
    ("row", "reasons"),
    [
        ({"total": "59.999"}, ["total: more than 2 decimal places (59.999)"]),
        ({"total": "$59.00"}, ["total: not a number ($59.00)"]),
        ({"total": "Infinity"}, ["total: not a number (Infinity)"]),
        ({"total": "12000000000"}, ["total: implausible amount (12000000000 >= 10^10)"]),
        ({"refunded_amount": "59.01"}, [
            "refunded_amount: more than the shopper paid (59.01 > total 59.00)"
        ]),
        ({"currency": "usd"}, ["currency: not an ISO 4217 code of 3 capitals (usd)"]),
        ({"ordered_at": "1999-12-31 23:59:59 +0000"}, [
            "ordered_at: before 2000 (1999-12-31 23:59:59 +0000)"
        ]),
        ({"total": None, "subtotal": None}, [
            "total: missing (nothing), and no subtotal to compute the order's amount from"
        ]),
    ],
    ids=["cents", "symbol", "infinity", "absurd", "refund above paid", "currency", "1999",
         "no amount"],
)  # fmt: skip
def test_a_bad_order_is_rejected_with_one_clear_reason(
    row: dict[str, Any], reasons: list[str]
) -> None:
    split = split_by_contract(judged([{}, row]), RawOrder)

    assert split.valid.height == 1
    assert split.rejected.get_column("failed_checks").to_list() == [reasons]


def test_a_discount_above_a_gross_total_is_rejected() -> None:
    split = split_by_contract(
        judged([{"total": "9.00", "subtotal": ""}], total_after_discount=False), RawOrder
    )

    assert split.rejected.get_column("failed_checks").to_list() == [
        ["discount_amount: more than the order's gross amount (10.00)"]
    ]


def test_fx_rates_are_judged_row_by_row() -> None:
    rows = pl.DataFrame(
        {
            "landed_file": "f",
            "line_number": [2, 3, 4, 5],
            "raw_record": "{}",
            "record_problem": None,
            "imported_on": "2026-11-01",
            "currency": ["EUR", "EUR", "GBP", "EUR"],
            "rate_date": ["2026-10-03", "2026-12-01", "2026-10-03", "2026-10-03"],
            "base_currency": ["USD", "USD", "GBP", "USD"],
            "rate": ["1.0842", "1.1", "1", "NaN"],
        },
        schema_overrides={"record_problem": pl.String},
    )

    split = split_by_contract(rows, RawFxRate)

    assert split.valid.get_column("line_number").to_list() == [2]
    assert split.rejected.get_column("failed_checks").to_list() == [
        ["rate_date: in the future (2026-12-01 is after 2026-11-01)"],
        ["base_currency: the same as currency (GBP)"],
        ["rate: not a number (NaN)"],
    ]
