"""Reading back one week's report rows for the outputs an analyst sees (artifacts, HTML)."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import duckdb
import polars as pl

OUTPUTS = ("engagement", "audience_match", "drift", "trajectories", "campaigns")


def read_week_outputs(
    connection: duckdb.DuckDBPyConnection, week_start: dt.date, as_of: dt.date
) -> dict[str, pl.DataFrame]:
    """The week's rows of each report, with handles, and the trajectories of drifting accounts."""
    parameters = {"week_start": week_start, "as_of": as_of}
    sql_dir = resources.files("warehouse").joinpath("sql", "outputs")
    outputs = {}
    for name in OUTPUTS:
        sql = sql_dir.joinpath(f"{name}.sql").read_text(encoding="utf-8")
        # DuckDB refuses parameters a statement does not use.
        used = {key: value for key, value in parameters.items() if f"${key}" in sql}
        outputs[name] = connection.sql(sql, params=used).pl()
    return outputs
