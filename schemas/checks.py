"""Vectorised checks shared by the raw contracts.

Raw fields arrive as JSON text (see ``transforms.raw_records``), so a count that is a string, an
object or negative fails the same pattern check and is named in quarantine by the check's name.
Polars expressions, not ``element_wise`` checks: those run Python per value.
"""

from __future__ import annotations

import polars as pl
from pandera.api.polars.types import PolarsData

NON_NEGATIVE_INTEGER = r"^\d+$"
DIGITS_ID = r"^\d+$"
# The Graph API's timestamp format: 2026-11-20T14:03:00+0000
GRAPH_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


def matches(data: PolarsData, pattern: str) -> pl.LazyFrame:
    """Whether each value of the checked column matches ``pattern`` (nulls are judged elsewhere)."""
    return data.lazyframe.select(pl.col(data.key).str.contains(pattern))
