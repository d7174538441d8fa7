"""From landed order records to the frame their contract judges, and to ``fact_order`` rows.

Pure Polars: :func:`orders_to_judge` adds what the checks of ``schemas.raw.orders.RawOrder``
read (the import's settings, the timestamp read in UTC); :func:`typed_orders` types the orders
that passed into ``fact_order``'s columns. :func:`typed_fx_rates` does the same for FX rates.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from schemas.raw.orders import (
    DISCOUNT,
    GROSS,
    REFUNDED,
    UTC_TEXT_FORMAT,
    with_order_amounts,
)

ORDERED_AT_PARSED: Final = "ordered_at_parsed"
# Shopify's (2026-10-03 14:05:11 +0200), then ISO 8601 with an offset or Z.
TIMESTAMP_FORMATS: Final = (
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%dT%H:%M:%S%#z",
    "%Y-%m-%dT%H:%M:%S%.f%#z",
)
MONEY: Final = pl.Decimal(18, 2)
RATE: Final = pl.Decimal(18, 8)


def utc_timestamp(
    text: pl.Expr, timestamp_format: str | None = None, timezone: str = "UTC"
) -> pl.Expr:
    """``text`` as a naive UTC timestamp: Shopify's format or ISO 8601 with an offset, else
    ``timestamp_format`` (read in ``timezone`` when it has no ``%z``); NULL when none fits."""
    stripped = text.str.strip_chars()
    candidates = [
        stripped.str.to_datetime(form, time_zone="UTC", strict=False, time_unit="us")
        for form in TIMESTAMP_FORMATS
    ]
    if timestamp_format is not None:
        if "%z" in timestamp_format:
            candidates.append(
                stripped.str.to_datetime(
                    timestamp_format, time_zone="UTC", strict=False, time_unit="us"
                )
            )
        else:
            candidates.append(
                stripped.str.to_datetime(timestamp_format, strict=False, time_unit="us")
                .dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
                .dt.convert_time_zone("UTC")
            )
    return pl.coalesce(candidates).dt.replace_time_zone(None)


def orders_to_judge(
    records: pl.LazyFrame,
    *,
    key_column: str,
    decimal_separator: str,
    total_after_discount: bool,
    imported_at: str,
    default_currency: str | None = None,
    timestamp_format: str | None = None,
    timezone: str = "UTC",
) -> pl.LazyFrame:
    """``records`` (landed order records as text) with the columns ``RawOrder`` checks read."""
    parsed = utc_timestamp(pl.col("ordered_at"), timestamp_format, timezone)
    currency = pl.col("currency").str.strip_chars()
    if default_currency is not None:
        currency = pl.coalesce(pl.when(currency != "").then(currency), pl.lit(default_currency))
    return records.with_columns(
        key_column=pl.lit(key_column),
        decimal_separator=pl.lit(decimal_separator),
        total_after_discount=pl.lit(total_after_discount),
        imported_at=pl.lit(imported_at),
        currency=currency,
        ordered_at_parsed=parsed,
        ordered_at_utc=parsed.dt.strftime(UTC_TEXT_FORMAT),
    )


def discount_codes(text: pl.Expr, separator: str = ",") -> pl.Expr:
    """The codes of a cell (``"spring10, MAYA01"``), upper-cased, without blanks or repeats."""
    return (
        text.fill_null("")
        .str.split(separator)
        .list.eval(pl.element().str.strip_chars().str.to_uppercase())
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.unique(maintain_order=True)
    )


def _text(column: str) -> pl.Expr:
    stripped = pl.col(column).str.strip_chars()
    return pl.when(stripped != "").then(stripped)


def typed_orders(
    valid: pl.LazyFrame, *, shop: str, import_id: str, code_separator: str = ","
) -> pl.LazyFrame:
    """``fact_order`` rows of the orders that passed their contract.

    net_amount = gross - discount - refunded (REPORTS.md), each exact to the cent.
    """
    return valid.pipe(with_order_amounts).select(
        shop=pl.lit(shop),
        order_id=_text("order_id"),
        order_name=_text("order_name"),
        ordered_at=pl.col(ORDERED_AT_PARSED),
        currency=_text("currency"),
        gross_amount=pl.col(GROSS).cast(MONEY),
        discount_amount=pl.col(DISCOUNT).cast(MONEY),
        refunded_amount=pl.col(REFUNDED).cast(MONEY),
        net_amount=(pl.col(GROSS) - pl.col(DISCOUNT) - pl.col(REFUNDED)).cast(MONEY),
        discount_codes=discount_codes(pl.col("discount_codes"), code_separator),
        landing_url=_text("landing_url"),
        financial_status=_text("financial_status").str.to_lowercase(),
        line_items=pl.col("line_items").cast(pl.Int32, strict=False),
        import_id=pl.lit(import_id),
    )


def typed_fx_rates(valid: pl.LazyFrame, *, import_id: str) -> pl.LazyFrame:
    """``fx_rate`` rows of the FX rates that passed their contract."""
    return valid.select(
        currency=pl.col("currency").str.strip_chars(),
        rate_date=pl.col("rate_date").str.strip_chars().str.to_date("%Y-%m-%d"),
        base_currency=pl.col("base_currency").str.strip_chars(),
        rate=pl.col("rate").str.strip_chars().cast(RATE),
        import_id=pl.lit(import_id),
    )
