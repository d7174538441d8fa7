"""Pandera (polars) contracts: one model per raw entity and per warehouse table."""
