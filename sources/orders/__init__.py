"""The shop's orders: Shopify's orders export, or any order CSV read through a mapping.

An order export carries the shoppers' personal data (names, e-mails, addresses, phones, notes):
none of it may reach the raw zone or the warehouse. So, unlike the file imports, the landing is
not the original bytes: the reader keeps only the columns a mapping names (an allow-list whose
fields include no personal data at all), folds the line items of each order into one record, and
lands those PII-free records (``sources.orders.landing``), with the original file's SHA-256,
size and name in the manifest.
"""

from __future__ import annotations

from typing import Final

ENTITY: Final = "order"
SOURCE_PREFIX: Final = "orders_"


def source_of(shop: str) -> str:
    """The source name of a shop's orders: ``orders_<shop>`` (its raw-zone folder)."""
    return SOURCE_PREFIX + shop
