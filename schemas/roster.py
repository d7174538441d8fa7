"""Contract of the roster file the user maintains."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

SUPPORTED_PLATFORMS = ["instagram"]
BOOLEAN_WORDS = ["true", "false", "yes", "no", "1", "0"]
# Instagram handles: letters, digits, periods and underscores, at most 30 characters.
INSTAGRAM_HANDLE = r"^[A-Za-z0-9._]{1,30}$"


class RosterEntry(pa.DataFrameModel):
    """One tracked account: grain (platform, handle)."""

    line_number: int = pa.Field(ge=2, description="Line of the entry in the roster CSV.")
    platform: str = pa.Field(isin=SUPPORTED_PLATFORMS, description="Platform of the account.")
    handle: str = pa.Field(str_matches=INSTAGRAM_HANDLE, description="Handle, without @.")
    connected: str = pa.Field(
        description="true when the creator gave a token for insights (audience data)."
    )
    country: str = pa.Field(nullable=True, description="ISO-3166 alpha-2 country, or empty.")
    category: str = pa.Field(nullable=True, description="Content category, or empty.")

    @pa.check("connected", name="true_or_false")
    def _true_or_false(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.to_lowercase().is_in(BOOLEAN_WORDS))

    @pa.dataframe_check(name="handle_listed_once")
    def _handle_listed_once(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            ~pl.struct(pl.col("platform"), pl.col("handle").str.to_lowercase()).is_duplicated()
        )
