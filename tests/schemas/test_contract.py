"""How split_by_contract words its reasons: default wording, and reason templates."""

import pandera.polars as pa
import polars as pl
import pytest
from pandera.api.polars.types import PolarsData

from schemas.contract import split_by_contract


class Shipment(pa.DataFrameModel):
    """A toy contract: one built-in check, one named check, two reason templates."""

    line_number: int
    code: str = pa.Field(str_matches=r"^[A-Z]{2}\d{2}$")
    weight: str
    sent: str
    arrived: str = pa.Field(nullable=True)

    @pa.check("weight", name="digits")
    def _digits(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.contains(r"^\d+$"))

    @pa.check(
        "arrived", name="after_sent", error="{column}: arrived before sent ({value} < {sent})"
    )
    def _after_sent(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key) >= pl.col("sent"))

    @pa.check("code", name="not_xx", error="{column}: {value} is no {carrier} code")
    def _not_xx(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.col(data.key).str.starts_with("XX"))


GOOD = {"code": "AB12", "weight": "5", "sent": "2026-10-01", "arrived": "2026-10-02"}


@pytest.mark.parametrize(
    ("change", "expected_reasons"),
    [
        ({"weight": "heavy"}, ["weight: digits (got heavy)"]),
        ({"code": "ab"}, [r"code: str_matches('^[A-Z]{2}\d{2}$') (got ab)"]),
        ({"arrived": "2026-09-30"}, ["arrived: arrived before sent (2026-09-30 < 2026-10-01)"]),
        ({"code": "XX12"}, ["code: XX12 is no {carrier} code"]),
        (
            {"weight": "-", "arrived": "2026-09-01"},
            ["arrived: arrived before sent (2026-09-01 < 2026-10-01)", "weight: digits (got -)"],
        ),
    ],
    ids=[
        "named-check-default-wording",
        "built-in-check-with-braces-untouched",
        "template-with-a-row-column",
        "unknown-placeholder-left-as-is",
        "reasons-sorted",
    ],
)
def test_reasons_are_worded_from_the_check(
    change: dict[str, str], expected_reasons: list[str]
) -> None:
    batch = pl.DataFrame([{"line_number": 1, **GOOD}, {"line_number": 2, **GOOD, **change}])

    split = split_by_contract(batch, Shipment)

    assert split.valid["line_number"].to_list() == [1]
    assert split.rejected["failed_checks"].to_list() == [expected_reasons]


def test_a_batch_level_failure_condemns_the_whole_batch() -> None:
    batch = pl.DataFrame([{"line_number": 1, **GOOD}]).drop("weight")

    split = split_by_contract(batch, Shipment)

    assert split.valid.is_empty()
    assert split.rejected["line_number"].to_list() == [1]
    assert "weight" in split.rejected["failed_checks"][0][0]
