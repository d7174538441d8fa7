"""Contracts of the programme tables: ``dim_campaign``, ``collaboration`` (as read from the
campaign files, by handle) and ``collaboration_stage_history``.

The files are judged key by key and line by line by ``sources.programme``; these models are the
frames it yields, validated again at the boundary before they are loaded.
"""

from __future__ import annotations

from typing import Annotated, Final, NamedTuple

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.vocabulary import PLATFORMS

STAGES: Final = ("prospect", "contacted", "negotiating", "active", "paused", "ended")
# Campaign ids end up in UTM links, report rows and file names: keep them plain.
CAMPAIGN_ID: Final = r"^[a-z0-9][a-z0-9_-]*$"
CURRENCY: Final = r"^[A-Z]{3}$"
DEFAULT_ATTRIBUTION_WINDOW_DAYS: Final = 30


def _listed_once(data: PolarsData, *columns: str) -> pl.LazyFrame:
    return data.lazyframe.select(~pl.struct(*columns).is_duplicated())


class DimCampaign(pa.DataFrameModel):
    """One row per campaign_id."""

    campaign_id: str = pa.Field(str_matches=CAMPAIGN_ID, description="The campaign's id.")
    brand_id: str = pa.Field(description="The brand running it (dim_brand.brand_id).")
    name: str = pa.Field(description="The campaign's display name.")
    start_date: pl.Date = pa.Field(description="First day of the campaign.")
    end_date: pl.Date = pa.Field(description="Last day of the campaign (≥ start_date).")
    currency: str = pa.Field(str_matches=CURRENCY, description="ISO 4217 code of its money.")
    attribution_window_days: int = pa.Field(
        ge=0, le=365, description="Days after end_date an order can still be attributed."
    )
    hashtags: list[str] = pa.Field(description="Its hashtags, lower case, without '#'.")
    mentions: list[str] = pa.Field(description="Handles to mention, lower case, without '@'.")

    @pa.dataframe_check()
    def campaign_id_listed_once(cls, data: PolarsData) -> pl.LazyFrame:
        return _listed_once(data, "campaign_id")

    @pa.dataframe_check()
    def ends_on_or_after_start(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("end_date") >= pl.col("start_date"))


class CollaborationByHandle(pa.DataFrameModel):
    """One row per (campaign_id, platform, handle_key): a collaboration as the file writes it,
    before its handle is resolved to an account_id."""

    campaign_id: str = pa.Field(description="The campaign (dim_campaign.campaign_id).")
    platform: str = pa.Field(isin=list(PLATFORMS), description="Platform of the creator.")
    handle: str = pa.Field(description="Handle as in the roster (YouTube: @handle or UC... id).")
    handle_key: str = pa.Field(
        description="What identifies the handle: lower-cased (a YouTube channel id as it is)."
    )
    fee: Annotated[pl.Decimal, 18, 2] = pa.Field(description="Fee in the campaign currency, ≥ 0.")
    promo_code: str = pa.Field(nullable=True, description="The creator's discount code.")
    utm_content: str = pa.Field(nullable=True, description="utm_content of the creator's link.")
    posts_agreed: int = pa.Field(ge=0, description="Posts the creator agreed to publish.")
    stage: str = pa.Field(isin=list(STAGES), description="Stage of the relationship.")

    @pa.check("fee")
    def fee_is_not_negative(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key) >= 0)

    @pa.dataframe_check()
    def one_row_per_campaign_platform_handle(cls, data: PolarsData) -> pl.LazyFrame:
        return _listed_once(data, "campaign_id", "platform", "handle_key")


class Campaigns(NamedTuple):
    """The campaign files' content: ``dim_campaign`` and the collaborations by handle."""

    dim_campaign: pl.DataFrame
    collaboration: pl.DataFrame
