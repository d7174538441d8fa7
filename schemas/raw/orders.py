"""Contracts of a shop's landed orders and of the FX rates that convert them.

:class:`RawOrder` judges one landed order record (``sources.orders``: one per order, its line
items folded in, no personal data), its fields as text as the export wrote them. Amounts are
read exactly (``schemas.raw.files.with_exported_number``: the digits, never a float) and must be
plain numbers, finite, not negative, below an absurd bound and in cents at most; the discount
cannot exceed the order's gross, nor the refund what the shopper paid. ``ordered_at_utc`` is the
timestamp as the transform read it (``transforms.orders.orders_to_judge``, with the mapping's
format and timezone), compared as ``YYYY-MM-DD HH:MM:SS`` text: no order before 2000, none after
the import.

:class:`RawFxRate` judges one row of the FX rates CSV (``currency,rate_date,base_currency,rate``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final, TypeVar

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.raw.base import LandedRecord
from schemas.raw.files import TOO_LARGE, UNREADABLE, is_unknown, with_exported_number

AMOUNT_FIELDS: Final = (
    "subtotal",
    "shipping",
    "taxes",
    "total",
    "discount_amount",
    "refunded_amount",
)
# No order of any shop in any currency is worth this much: a unit or decimal-point error.
MAX_ORDER_AMOUNT: Final = 10**10
AMOUNT_DECIMALS: Final = 2
MAX_FX_RATE: Final = 10**6
RATE_DECIMALS: Final = 8
EARLIEST_ORDER: Final = "2000-01-01 00:00:00"
UTC_TEXT_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
CURRENCY: Final = r"^[A-Z]{3}$"
NON_FINITE: Final = ("nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")
# Digits, grouping and one decimal mark: no currency symbol, suffix (3.3k) or percent.
_PLAIN_NUMBER: Final = r"^[+-]?[\d.,'\s\u00a0\u202f]*\d[\d.,'\s\u00a0\u202f]*$"
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

AMOUNT_NOT_A_NUMBER = "{column}: not a number ({value})"
AMOUNT_NEGATIVE = "{column}: negative amount ({value})"
AMOUNT_ABSURD = f"{{column}}: implausible amount ({{value}} >= 10^{len(str(MAX_ORDER_AMOUNT)) - 1})"
AMOUNT_TOO_PRECISE = f"{{column}}: more than {AMOUNT_DECIMALS} decimal places ({{value}})"
NO_ORDER_KEY = (
    "order_key: missing ({value}): the line's {key_column} is empty, so it belongs to no order; "
    "fill it in or delete the line"
)
NO_AMOUNT = "total: missing ({value}), and no subtotal to compute the order's amount from"
DISCOUNT_ABOVE_GROSS = "discount_amount: more than the order's gross amount ({value})"
REFUND_ABOVE_PAID = "refunded_amount: more than the shopper paid ({value} > total {total})"
NOT_A_TIMESTAMP = (
    "ordered_at: not a timestamp ({value}); write it like 2026-10-03 14:05:11 +0200 or "
    "2026-10-03T14:05:11+02:00, or give timestamp_format in the mapping"
)
ORDERED_IN_THE_FUTURE = "ordered_at: in the future ({value} is after the import)"
ORDERED_BEFORE_2000 = "ordered_at: before 2000 ({value})"
NOT_A_CURRENCY = "{column}: not an ISO 4217 code of 3 capitals ({value})"


# -- amounts ---------------------------------------------------------------------------------
def amount_column(field: str) -> str:
    """The column :func:`with_order_amounts` reads ``field`` into."""
    return f"__amount_{field}"


GROSS: Final = "__gross"
DISCOUNT: Final = "__discount"
REFUNDED: Final = "__refunded"
REFUNDED_AS_EXPORTED: Final = "__refunded_as_exported"
PAID: Final = "__paid"
TOTAL_PAID: Final = "__total_paid"


def with_order_amounts(frame: Frame) -> Frame:
    """``frame`` plus each amount read exactly (``Decimal(38, 9)``; NULL when empty or not a
    number) and the order's ``__gross``, ``__discount`` and ``__refunded`` (0 when empty) and
    ``__paid`` (gross - discount).

    gross is what the shopper bought, before discounts: the merchandise, without shipping and
    taxes (they are not the brand's sales). That is the Subtotal, else Total - Shipping - Taxes
    (empty parts counted as 0); with ``total_after_discount`` (Shopify: Subtotal is after
    discounts, and Total = Subtotal + Shipping + Taxes) plus the discount.
    """
    for field in AMOUNT_FIELDS:
        frame = frame.pipe(
            with_exported_number,
            field,
            amount_column(field),
            decimal_separator=pl.col("decimal_separator"),
        ).with_columns(
            pl.col(amount_column(field)).struct.field("value").alias(amount_column(field))
        )
    zero = pl.lit(Decimal(0), dtype=pl.Decimal(38, 9))

    def part(field: str) -> pl.Expr:
        return pl.col(amount_column(field)).fill_null(zero)

    discount = part("discount_amount")
    from_total = pl.when(pl.col(amount_column("total")).is_not_null()).then(
        part("total") - part("shipping") - part("taxes")
    )
    merchandise = pl.coalesce(pl.col(amount_column("subtotal")), from_total)
    gross = (
        pl.when(pl.col("total_after_discount")).then(merchandise + discount).otherwise(merchandise)
    )
    # What the shopper paid in all (shipping and taxes included): a refund cannot exceed it. The
    # part of a refund that counts against the sale is at most the merchandise paid for (a full
    # refund also returns the shipping, which was never a sale).
    total_paid = pl.coalesce(
        pl.col(amount_column("total")),
        pl.when(pl.col(amount_column("subtotal")).is_not_null()).then(
            part("subtotal") + part("shipping") + part("taxes")
        ),
    )
    return (
        frame.with_columns(
            gross.alias(GROSS),
            discount.alias(DISCOUNT),
            part("refunded_amount").alias(REFUNDED_AS_EXPORTED),
            total_paid.alias(TOTAL_PAID),
        )
        .with_columns((pl.col(GROSS) - pl.col(DISCOUNT)).alias(PAID))
        .with_columns(
            pl.min_horizontal(
                pl.col(REFUNDED_AS_EXPORTED), pl.col(PAID).clip(lower_bound=zero)
            ).alias(REFUNDED)
        )
    )


def _amounts_judged(data: PolarsData, condition: pl.Expr) -> pl.LazyFrame:
    return data.lazyframe.pipe(with_order_amounts).select(condition)


def _number_judged(data: PolarsData, condition: pl.Expr) -> pl.LazyFrame:
    return data.lazyframe.pipe(
        with_exported_number, data.key, "__number", decimal_separator=pl.col("decimal_separator")
    ).select(condition)


def _number(field: str) -> pl.Expr:
    return pl.col("__number").struct.field(field)


def _is_non_finite(text: pl.Expr) -> pl.Expr:
    return text.str.strip_chars().str.to_lowercase().is_in(NON_FINITE).fill_null(False)


def _finite(cls: type, data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(~_is_non_finite(pl.col(data.key)))


def _readable(cls: type, data: PolarsData) -> pl.LazyFrame:
    text = pl.col(data.key)
    plain = text.str.strip_chars().str.contains(_PLAIN_NUMBER)
    return _number_judged(
        data,
        is_unknown(text)
        | _is_non_finite(text)
        | (plain & (_number("problem") != UNREADABLE).fill_null(True)).fill_null(False),
    )


def _not_negative(cls: type, data: PolarsData) -> pl.LazyFrame:
    return _number_judged(data, ~_number("negative") | _number("value").is_null())


def _plausible(cls: type, data: PolarsData) -> pl.LazyFrame:
    return _number_judged(
        data,
        (_number("problem") != TOO_LARGE).fill_null(True)
        & (_number("value") < MAX_ORDER_AMOUNT).fill_null(True),
    )


def _in_cents(cls: type, data: PolarsData) -> pl.LazyFrame:
    value = _number("value")
    return _number_judged(data, (value.round(AMOUNT_DECIMALS) == value).fill_null(True))


def amount_checks(*columns: str) -> tuple[classmethod[Any, Any, Any], ...]:
    """The checks of an order's amounts; each failing value gets one reason at most of the
    first four (a NaN is no negative number)."""
    return (
        pa.check(*columns, name="finite_amount", error=AMOUNT_NOT_A_NUMBER)(_finite),
        pa.check(*columns, name="readable_amount", error=AMOUNT_NOT_A_NUMBER)(_readable),
        pa.check(*columns, name="not_negative", error=AMOUNT_NEGATIVE)(_not_negative),
        pa.check(*columns, name="plausible_amount", error=AMOUNT_ABSURD)(_plausible),
        pa.check(*columns, name="in_cents", error=AMOUNT_TOO_PRECISE)(_in_cents),
    )


class RawOrder(LandedRecord):
    """One landed order, its fields as the export wrote them: grain (landed file, line).

    ``key_column``, ``decimal_separator``, ``total_after_discount`` and ``imported_at`` are the
    same on every row of an import (the mapping's, and the import's UTC time): checks read them.
    ``landed_file`` and ``line_number`` are the landed record's; ``source_lines`` the export's.
    """

    key_column: str = pa.Field(description="The file's column grouping an order's rows (Name).")
    decimal_separator: str = pa.Field(isin=[".", ","], description="The mapping's separator.")
    total_after_discount: bool = pa.Field(description="Total is after discounts (Shopify).")
    imported_at: str = pa.Field(description="UTC time of the import, YYYY-MM-DD HH:MM:SS.")
    order_key: str = pa.Field(nullable=True, description="The value grouping the order's rows.")
    order_id: str = pa.Field(nullable=True, description="The order's id (Shopify: Id).")
    order_name: str = pa.Field(nullable=True, description="The order's number (Shopify: Name).")
    ordered_at: str = pa.Field(nullable=True, description="When it was placed, as written.")
    ordered_at_utc: str = pa.Field(
        nullable=True, description="ordered_at in UTC, YYYY-MM-DD HH:MM:SS; NULL if unreadable."
    )
    currency: str = pa.Field(nullable=True, description="ISO 4217 code, as written.")
    subtotal: str = pa.Field(nullable=True, description="Line items after discounts.")
    shipping: str = pa.Field(nullable=True, description="Shipping.")
    taxes: str = pa.Field(nullable=True, description="Taxes.")
    total: str = pa.Field(nullable=True, description="What the shopper paid (Shopify).")
    discount_amount: str = pa.Field(nullable=True, description="The order's discount.")
    refunded_amount: str = pa.Field(nullable=True, description="Refunded so far.")
    discount_codes: str = pa.Field(nullable=True, description="Codes, as written.")
    landing_url: str = pa.Field(nullable=True, description="Landing page, utm_* kept only.")
    source_lines: str = pa.Field(nullable=True, description="The export's lines (JSON list).")

    @pa.check("order_key", name="order_key_present", error=NO_ORDER_KEY)
    def _order_key_present(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~is_unknown(pl.col(data.key)))

    @pa.check("order_id", name="missing")
    def _order_id_present(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.strip_chars().fill_null("") != "")

    @pa.check("ordered_at", name="missing")
    def _ordered_at_present(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~is_unknown(pl.col(data.key)))

    @pa.check("ordered_at", name="timestamp", error=NOT_A_TIMESTAMP)
    def _ordered_at_readable(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            is_unknown(pl.col(data.key)) | pl.col("ordered_at_utc").is_not_null()
        )

    @pa.check("ordered_at", name="not_in_the_future", error=ORDERED_IN_THE_FUTURE)
    def _ordered_at_not_in_the_future(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("ordered_at_utc") <= pl.col("imported_at")).fill_null(True)
        )

    @pa.check("ordered_at", name="not_before_2000", error=ORDERED_BEFORE_2000)
    def _ordered_at_since_2000(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("ordered_at_utc") >= EARLIEST_ORDER).fill_null(True))

    @pa.check("currency", name="missing")
    def _currency_present(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~is_unknown(pl.col(data.key)))

    @pa.check("currency", name="currency_code", error=NOT_A_CURRENCY)
    def _currency_code(cls, data: PolarsData) -> pl.LazyFrame:
        currency = pl.col(data.key)
        return data.lazyframe.select(is_unknown(currency) | currency.str.contains(CURRENCY))

    (_finite, _readable, _not_negative, _plausible, _in_cents) = amount_checks(*AMOUNT_FIELDS)

    @pa.check("total", name="amount_present", error=NO_AMOUNT)
    def _amount_present(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.any_horizontal(
                ~is_unknown(pl.col(field)) | _is_non_finite(pl.col(field))
                for field in ("total", "subtotal")
            )
        )

    @pa.check("discount_amount", name="discount_within_gross", error=DISCOUNT_ABOVE_GROSS)
    def _discount_within_gross(cls, data: PolarsData) -> pl.LazyFrame:
        # A negative amount fails its own check: one reason.
        return _amounts_judged(
            data, ((pl.col(DISCOUNT) <= pl.col(GROSS)) | (pl.col(GROSS) < 0)).fill_null(True)
        )

    @pa.check("refunded_amount", name="refund_within_paid", error=REFUND_ABOVE_PAID)
    def _refund_within_paid(cls, data: PolarsData) -> pl.LazyFrame:
        return _amounts_judged(
            data,
            (
                (pl.col(REFUNDED_AS_EXPORTED) <= pl.coalesce(pl.col(TOTAL_PAID), pl.col(PAID)))
                | (pl.col(PAID) < 0)
                | (pl.col(DISCOUNT) < 0)
            ).fill_null(True),
        )


# -- FX rates --------------------------------------------------------------------------------
RATE_NOT_A_NUMBER = "rate: not a number ({value})"
RATE_NOT_POSITIVE = "rate: not above 0 ({value})"
RATE_ABSURD = f"rate: implausible ({{value}} >= 10^{len(str(MAX_FX_RATE)) - 1})"
RATE_TOO_PRECISE = f"rate: more than {RATE_DECIMALS} decimal places ({{value}})"
RATE_DATE_NOT_A_DATE = "rate_date: not a date ({value}); write it as YYYY-MM-DD"
RATE_DATE_IN_THE_FUTURE = "rate_date: in the future ({value} is after {imported_on})"
SAME_CURRENCY = "base_currency: the same as currency ({value})"


class RawFxRate(LandedRecord):
    """One row of the FX rates CSV: grain (landed file, line). ``rate`` is how many units of
    ``base_currency`` one unit of ``currency`` buys on ``rate_date`` (EUR,2026-10-03,USD,1.0842).
    """

    imported_on: str = pa.Field(description="UTC date of the import (ISO); later dates fail.")
    currency: str = pa.Field(nullable=True, description="ISO 4217 code converted from.")
    rate_date: str = pa.Field(nullable=True, description="Date of the rate, YYYY-MM-DD.")
    base_currency: str = pa.Field(nullable=True, description="ISO 4217 code converted to.")
    rate: str = pa.Field(nullable=True, description="Units of base_currency per unit.")

    @pa.check("currency", "base_currency", "rate_date", "rate", name="missing")
    def _present(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.strip_chars().fill_null("") != "")

    @pa.check("currency", "base_currency", name="currency_code", error=NOT_A_CURRENCY)
    def _currency_code(cls, data: PolarsData) -> pl.LazyFrame:
        currency = pl.col(data.key)
        return data.lazyframe.select(is_unknown(currency) | currency.str.contains(CURRENCY))

    @pa.check("base_currency", name="other_currency", error=SAME_CURRENCY)
    def _other_currency(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col(data.key) != pl.col("currency")).fill_null(True))

    @pa.check("rate_date", name="iso_date", error=RATE_DATE_NOT_A_DATE)
    def _rate_date_is_a_date(cls, data: PolarsData) -> pl.LazyFrame:
        text = pl.col(data.key)
        return data.lazyframe.select(
            is_unknown(text)
            | text.str.strip_chars().str.to_date("%Y-%m-%d", strict=False).is_not_null()
        )

    @pa.check("rate_date", name="not_in_the_future", error=RATE_DATE_IN_THE_FUTURE)
    def _rate_date_not_in_the_future(cls, data: PolarsData) -> pl.LazyFrame:
        date = pl.col(data.key).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
        today = pl.col("imported_on").str.to_date("%Y-%m-%d")
        return data.lazyframe.select((date <= today).fill_null(True))

    @pa.check("rate", name="finite_rate", error=RATE_NOT_A_NUMBER)
    def _rate_finite(cls, data: PolarsData) -> pl.LazyFrame:
        text = pl.col(data.key)
        plain = text.str.strip_chars().str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)$")
        return data.lazyframe.select((plain | (text.str.strip_chars() == "")).fill_null(True))

    @pa.check("rate", name="positive_rate", error=RATE_NOT_POSITIVE)
    def _rate_positive(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((_rate_value(data.key) > 0).fill_null(True))

    @pa.check("rate", name="plausible_rate", error=RATE_ABSURD)
    def _rate_plausible(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((_rate_value(data.key) < MAX_FX_RATE).fill_null(True))

    @pa.check("rate", name="precise_rate", error=RATE_TOO_PRECISE)
    def _rate_precise(cls, data: PolarsData) -> pl.LazyFrame:
        fraction = pl.col(data.key).str.strip_chars().str.extract(r"\.(\d*)$").fill_null("")
        return data.lazyframe.select(
            fraction.str.strip_chars_end("0").str.len_chars() <= RATE_DECIMALS
        )


def _rate_value(column: str) -> pl.Expr:
    """The rate's text as an exact decimal (NULL when it is not a plain number)."""
    text = pl.col(column).str.strip_chars()
    plain = text.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)$").fill_null(False)
    return pl.when(plain).then(text).cast(pl.Decimal(38, 12), strict=False)
