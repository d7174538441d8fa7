"""The mapping of an order export: which of its columns holds which order field.

Shopify's layout ships as ``mappings/shopify.toml`` (the default); any other shop's CSV is read
through a TOML file of the same shape, parsed with ``tomllib`` and validated with pydantic, every
problem reported at once with its key path (as the file imports' mappings are)::

    description = "Our WooCommerce export"
    default_currency = "EUR"          # when the file has no currency column
    decimal_separator = ","           # 59,90
    timestamp_format = "%d/%m/%Y %H:%M"   # only for timestamps without a UTC offset...
    timezone = "Europe/Paris"             # ...which are read in this timezone

    [columns]
    order_id = "Order Number"
    ordered_at = "Order Date"
    total = "Order Total"
    discount_codes = "Coupons"

The fields are an allow-list: there is no field for a name, an e-mail, an address, a phone or a
note, so a mapping cannot bring the shoppers' personal data in (an unknown key is refused).
"""

from __future__ import annotations

import codecs
import hashlib
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from sources.files.errors import ImportRefused
from sources.files.mapping import ColumnTable, read_toml_model

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
DEFAULT_MAPPING = "shopify"
ColumnName = Annotated[str, StringConstraints(min_length=1)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderColumns(ColumnTable):
    """``[columns]``: the file's column for each order field."""

    order_id: ColumnName = Field(description="The order's id, unique in the shop.")
    order_name: ColumnName | None = Field(None, description="The order's number, e.g. #1001.")
    ordered_at: ColumnName = Field(description="When the order was placed.")
    currency: ColumnName | None = Field(None, description="ISO 4217 code of the amounts.")
    subtotal: ColumnName | None = Field(None, description="Line items, after discounts.")
    shipping: ColumnName | None = Field(None, description="Shipping charged.")
    taxes: ColumnName | None = Field(None, description="Taxes charged.")
    total: ColumnName | None = Field(None, description="What the order cost the shopper.")
    discount_codes: ColumnName | None = Field(None, description="The codes used, ', '-separated.")
    discount_amount: ColumnName | None = Field(None, description="The order's total discount.")
    refunded_amount: ColumnName | None = Field(None, description="Refunded so far.")
    landing_url: ColumnName | None = Field(None, description="The page the shopper landed on.")
    financial_status: ColumnName | None = Field(None, description="paid, refunded, ...")


class OrderMapping(_Strict):
    """A whole order mapping file."""

    description: str | None = Field(None, description="What the export is, for people.")
    charset: str | None = Field(None, description="The file's charset; detected when absent.")
    delimiter: str = Field(",", min_length=1, max_length=1, description="CSV field separator.")
    decimal_separator: Literal[".", ","] = Field(".", description="'.' (59.90) or ',' (59,90).")
    lines_grouped_by: Literal["order_id", "order_name"] = Field(
        "order_id",
        description="The field whose value the rows of one order share (a file with one row "
        "per line item); a file with one row per order needs nothing.",
    )
    total_after_discount: bool = Field(
        True,
        description="The total is what the shopper paid, discounts already taken off (Shopify); "
        "false when it is the amount before discounts.",
    )
    code_separator: str = Field(",", min_length=1, description="Between two discount codes.")
    default_currency: CurrencyCode | None = Field(
        None, description="Currency of every order, when the file has no currency column."
    )
    timestamp_format: str | None = Field(
        None,
        description="strftime format of ordered_at when it is neither Shopify's "
        "(2026-10-03 14:05:11 +0200) nor ISO 8601 with an offset.",
    )
    timezone: str = Field("UTC", description="Timezone of timestamps written without a UTC offset.")
    columns: OrderColumns

    @field_validator("charset")
    @classmethod
    def _known_charset(cls, charset: str | None) -> str | None:
        if charset is None:
            return None
        try:
            return codecs.lookup(charset).name
        except LookupError:
            raise ValueError(f"unknown charset {charset!r}: use e.g. utf-8 or cp1252") from None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, timezone: str) -> str:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {timezone!r}: use e.g. UTC, Europe/Paris") from None
        return timezone

    @field_validator("timestamp_format")
    @classmethod
    def _format_has_a_directive(cls, timestamp_format: str | None) -> str | None:
        if timestamp_format is not None and "%" not in timestamp_format:
            raise ValueError("must be a strftime format such as %d/%m/%Y %H:%M")
        return timestamp_format

    @model_validator(mode="after")
    def _amounts_and_currency_are_known(self) -> OrderMapping:
        if self.columns.total is None and self.columns.subtotal is None:
            raise ValueError("columns: map total (or subtotal, shipping and taxes)")
        if self.columns.currency is None and self.default_currency is None:
            raise ValueError("columns: map currency, or give default_currency")
        if self.lines_grouped_by == "order_name" and self.columns.order_name is None:
            raise ValueError("lines_grouped_by = 'order_name' needs columns.order_name")
        return self

    @property
    def key_column(self) -> str:
        """The file's column that groups an order's rows."""
        column = getattr(self.columns, self.lines_grouped_by)
        assert isinstance(column, str)
        return column


@dataclass(frozen=True)
class LoadedOrderMapping:
    """A validated mapping, its name (the file's stem) and its SHA-256."""

    name: str
    sha256: str
    mapping: OrderMapping


def read_order_mapping(path: Path) -> LoadedOrderMapping:
    """Parse and validate the mapping at ``path``; :class:`ImportRefused` lists every problem."""
    payload, mapping = read_toml_model(path, OrderMapping, "order mapping")
    return LoadedOrderMapping(
        name=path.stem, sha256=hashlib.sha256(payload).hexdigest(), mapping=mapping
    )


def shipped_order_mappings() -> list[str]:
    """Names of the order mappings that ship with the project (``--mapping NAME``)."""
    return sorted(path.stem for path in MAPPINGS_DIR.glob("*.toml"))


def resolve_order_mapping(mapping: str | None) -> LoadedOrderMapping:
    """A TOML file's path, the name of a shipped mapping, or (``None``) Shopify's."""
    shipped = shipped_order_mappings()
    name = mapping or DEFAULT_MAPPING
    path = Path(name)
    if not path.exists() and name in shipped:
        path = MAPPINGS_DIR / f"{name}.toml"
    if not path.exists():
        raise ImportRefused(
            f"mapping {name} does not exist: give the path of an order mapping TOML file, or "
            f"the name of a shipped one ({', '.join(shipped)})"
        )
    return read_order_mapping(path)
