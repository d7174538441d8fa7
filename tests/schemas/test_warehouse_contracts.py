import datetime as dt

import pandera.errors
import polars as pl
import pytest

from schemas.warehouse import FactAudienceShare, FactProfileDaily


def shares(values: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "platform": "instagram",
            "account_id": "1",
            "as_of_date": dt.date(2026, 11, 20),
            "dimension": "gender",
            "bucket": [f"b{i}" for i in range(len(values))],
            "share": values,
        }
    )


@pytest.mark.parametrize(
    ("values", "valid"),
    [([0.5, 0.5], True), ([0.6, 0.405], True), ([0.6, 0.3], False)],
    ids=["exact", "within-tolerance", "short-of-one"],
)
def test_shares_of_a_dimension_sum_to_one(values: list[float], valid: bool) -> None:
    if valid:
        FactAudienceShare.validate(shares(values))
    else:
        with pytest.raises(pandera.errors.SchemaError, match="shares_sum_to_one"):
            FactAudienceShare.validate(shares(values))


def test_a_profile_snapshot_is_unique_per_account_and_date() -> None:
    snapshot = {
        "platform": "instagram",
        "account_id": "1",
        "snapshot_date": dt.date(2026, 11, 20),
        "followers": 10,
        "following": 1,
        "media_count": 2,
    }
    with pytest.raises(pandera.errors.SchemaError):
        FactProfileDaily.validate(pl.DataFrame([snapshot, snapshot]))
