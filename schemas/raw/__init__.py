"""Contracts of the raw entities, one module per source: ``RAW_CONTRACTS[source][entity]``.

A source's module imports ``LandedRecord`` and ``json_field`` from ``schemas.raw.base`` and
exports ``<SOURCE>_CONTRACTS`` (entity -> model); adding a source is its import and one entry
below.
"""

from __future__ import annotations

from schemas.raw.base import LandedRecord, json_field, json_paths
from schemas.raw.instagram import INSTAGRAM_CONTRACTS
from schemas.raw.tiktok import TIKTOK_CONTRACTS
from schemas.raw.youtube import YOUTUBE_CONTRACTS

RAW_CONTRACTS: dict[str, dict[str, type[LandedRecord]]] = {
    "instagram": INSTAGRAM_CONTRACTS,
    "youtube": YOUTUBE_CONTRACTS,
    "tiktok": TIKTOK_CONTRACTS,
}

__all__ = ["RAW_CONTRACTS", "LandedRecord", "json_field", "json_paths"]
