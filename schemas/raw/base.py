"""What every raw contract shares: the landed record's provenance, and how a field is read.

Every column is the JSON text of one field of the landed record (``json_path`` in its metadata),
so a wrong type is a failed check rather than a parse error that would lose the record. Context
fields added at extraction start with ``_``. ``landed_file``, ``line_number`` and ``raw_record``
travel along so a failing row can be quarantined with its provenance; ``record_problem`` says why
a line is no record at all (not JSON, or an item that was not a JSON object).
"""

from __future__ import annotations

from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData


def json_field(path: str, description: str, *, nullable: bool = False, **checks: Any) -> Any:
    """A contract field read from the landed record at JSON ``path``."""
    return pa.Field(
        nullable=nullable, description=description, metadata={"json_path": path}, **checks
    )


class LandedRecord(pa.DataFrameModel):
    """Provenance columns every raw frame carries."""

    landed_file: str = pa.Field(description="Landed file, relative to the raw directory.")
    line_number: int = pa.Field(ge=1, description="1-based line of the record in that file.")
    raw_record: str = pa.Field(description="The landed record as JSON text.")
    record_problem: str = pa.Field(
        nullable=True,
        description="Why the line is no record (not JSON, not an object); NULL for a record.",
    )

    # The problem is the whole reason: its fields' failures would only repeat it. (Named by its
    # method: pandera forgets an inherited check's ``name`` once a first subclass is built.)
    @pa.check("record_problem", error="{value}")
    def is_a_record(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).is_null())


def json_paths(model: type[pa.DataFrameModel]) -> dict[str, str]:
    """Column name -> JSON path of the landed record, from the model's field metadata."""
    return {
        name: column.metadata["json_path"]
        for name, column in model.to_schema().columns.items()
        if column.metadata and "json_path" in column.metadata
    }
