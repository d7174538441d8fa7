import datetime as dt
from types import SimpleNamespace

import pytest

from flows.backfill import MAX_BACKFILL_DAYS, dates_between
from flows.nightly import partition_date_for


def test_a_range_includes_both_ends() -> None:
    assert dates_between(dt.date(2026, 11, 29), dt.date(2026, 12, 1)) == [
        dt.date(2026, 11, 29),
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 1),
    ]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (dt.date(2026, 11, 2), dt.date(2026, 11, 1), "end 2026-11-01 is before its start"),
        (dt.date(2025, 1, 1), dt.date(2026, 11, 1), f"more than {MAX_BACKFILL_DAYS}"),
    ],
    ids=["reversed", "too-long"],
)
def test_a_bad_range_is_refused_saying_why(start: dt.date, end: dt.date, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dates_between(start, end)


def test_an_explicit_date_wins_over_the_schedule() -> None:
    assert partition_date_for(dt.date(2026, 11, 3), "Europe/Paris") == dt.date(2026, 11, 3)


@pytest.mark.parametrize(
    ("timezone", "expected"),
    [("Europe/Paris", dt.date(2026, 11, 24)), ("America/New_York", dt.date(2026, 11, 23))],
    ids=["paris-after-midnight", "new-york-still-the-evening-before"],
)
def test_a_scheduled_run_loads_the_day_before_its_start_in_the_schedule_timezone(
    timezone: str, expected: dt.date, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 01:30 UTC is 02:30 in Paris on the 25th, but 20:30 on the 24th in New York.
    scheduled = dt.datetime(2026, 11, 25, 1, 30, tzinfo=dt.UTC)
    monkeypatch.setattr("flows.nightly.flow_run", SimpleNamespace(scheduled_start_time=scheduled))

    assert partition_date_for(None, timezone) == expected
