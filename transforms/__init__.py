"""Pure Polars functions, LazyFrame in and LazyFrame out: no I/O, no Prefect, no settings."""
