"""What a night reports: the verdict, the run log, failed accounts, the quota; plain values in."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.accounting import (
    FAILED_ACCOUNTS_SCHEMA,
    RUN_LOG_SCHEMA,
    EntityCounts,
    NightlySummary,
    SourceNight,
    entities_over_threshold,
    extract_summary,
    failed_accounts_frame,
    failure_records,
    night_verdict,
    quota_text,
    run_log_frame,
)
from sources.extraction import AccountFailure, ExtractResult
from sources.http import FailureKind

DATE = dt.date(2026, 11, 20)
STARTED = dt.datetime(2026, 11, 21, 2, 0)
FINISHED = dt.datetime(2026, 11, 21, 2, 5)
AUTH_STOP = (
    "3 accounts in a row failed the same way (access token refused: Error validating access "
    "token): renew the credential (token or API key) in the settings, then re-run this date"
)


def night(
    source: str = "instagram",
    *,
    accounts: int = 100,
    failed: int = 0,
    replayed: bool = False,
    counts: dict[str, EntityCounts] | None = None,
    **extract: Any,
) -> SourceNight:
    return SourceNight(
        source=source,
        partition_date=DATE,
        landing_run_id="20261121T020000Z-aaaaaa",
        replayed=replayed,
        extract={"accounts": accounts, "fetched": accounts - failed, "failed": failed, **extract},
        counts=counts if counts is not None else {"profiles": EntityCounts(100, 99, 1, 0, 99)},
        tables={"profiles": "fact_profile_daily", "media": "fact_post_metrics"},
    )


def summary(*nights: SourceNight, roster_problems: list[str] | None = None) -> NightlySummary:
    return NightlySummary(
        partition_date=DATE,
        run_id="20261121T020000Z-bbbbbb",
        sources={each.source: each for each in nights},
        roster_problems=roster_problems or [],
    )


def verdict(
    nightly: NightlySummary, failed_handles: dict[str, list[str]] | None = None
) -> str | None:
    return night_verdict(
        nightly,
        max_failed_account_share=0.05,
        max_quarantine_share=0.10,
        failed_handles=failed_handles or {},
    )


# --- night_verdict ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nightly",
    [
        summary(night(failed=2)),
        summary(night(failed=5)),
        summary(night(counts={"media": EntityCounts(landed=100, quarantined=10)})),
        summary(night(accounts=0)),
        summary(),
    ],
    ids=[
        "a few accounts failed",
        "failed share at the threshold",
        "quarantine share at the threshold",
        "no accounts",
        "no sources",
    ],
)
def test_a_night_within_its_thresholds_is_green(nightly: NightlySummary) -> None:
    assert verdict(nightly, {"instagram": ["a", "b"]}) is None


def test_a_source_that_stopped_early_names_itself_and_what_to_do() -> None:
    nightly = summary(night(failed=97, stopped=AUTH_STOP), night("youtube"))

    assert verdict(nightly) == (
        f"2026-11-20: instagram: stopped early after 3 of 100 accounts: {AUTH_STOP}"
    )


def test_a_source_stopped_by_its_quota_says_what_is_left() -> None:
    stopped = "quotaExceeded: the API quota is spent; the rest is fetched when it resets"
    nightly = summary(
        night("youtube", failed=40, stopped=stopped, quota_used=9_990, quota_budget=10_000)
    )

    assert verdict(nightly) == (
        f"2026-11-20: youtube: stopped early after 60 of 100 accounts: {stopped} (quota: 9990 "
        "of 10000 units used, 10 left (YouTube resets it at midnight Pacific time))"
    )


def test_too_many_failed_accounts_name_the_first_ten_handles_and_count_the_rest() -> None:
    handles = [f"creator{number:02d}" for number in range(12)]

    message = verdict(summary(night(failed=12)), {"instagram": handles})

    assert message == (
        "2026-11-20: instagram: 12 of 100 accounts failed (12.0%, above 5.0%): "
        + ", ".join(handles[:10])
        + " and 2 more. What was fetched is loaded; see select handle, reason from "
        "failed_accounts where source = 'instagram' and partition_date = '2026-11-20'"
    )


def test_a_few_failed_handles_are_all_named() -> None:
    message = verdict(summary(night(accounts=10, failed=2)), {"instagram": ["ana", "bo"]})

    assert message is not None
    assert "2 of 10 accounts failed (20.0%, above 5.0%): ana, bo. What was fetched" in message
    assert "more" not in message


def test_a_quarantined_share_above_the_threshold_names_the_entity() -> None:
    counts = {
        "profiles": EntityCounts(landed=50, quarantined=1),
        "media": EntityCounts(landed=200, quarantined=30),
    }

    assert verdict(summary(night(counts=counts))) == (
        "2026-11-20: instagram: quarantined share above 10.0% (media: 30 of 200 (15.0%)). The "
        "valid records were loaded; inspect the rest with: select entity, failed_checks, "
        "raw_record from quarantine where source = 'instagram' and partition_date = "
        "'2026-11-20'"
    )


def test_refused_roster_lines_make_the_night_red_naming_them() -> None:
    problems = ["line 4: 'ana bo' is not an Instagram handle", "line 9: unknown platform 'myspace'"]

    assert verdict(summary(night(), roster_problems=problems)) == (
        "2026-11-20: roster lines refused (the other lines ran): line 4: 'ana bo' is not an "
        "Instagram handle; line 9: unknown platform 'myspace'. Fix them in the roster file."
    )


def test_several_problems_are_told_in_one_message() -> None:
    nightly = summary(
        night(failed=97, stopped=AUTH_STOP),
        night("youtube", failed=30),
        roster_problems=["line 4: empty handle"],
    )

    message = verdict(nightly, {"youtube": ["UCa", "UCb"]})

    assert message is not None
    parts = message.removeprefix("2026-11-20: ").split(" || ")
    assert [part.split(":")[0] for part in parts] == [
        "instagram",
        "youtube",
        "roster lines refused (the other lines ran)",
    ]
    assert "30 of 100 accounts failed (30.0%, above 5.0%): UCa, UCb." in parts[1]


# --- entities_over_threshold, quota_text, extract_summary ----------------------------------


def test_entities_over_threshold_are_those_strictly_above_it() -> None:
    counts = {
        "profiles": EntityCounts(landed=10, quarantined=1),
        "media": EntityCounts(landed=10, quarantined=2),
        "audience": EntityCounts(landed=0, quarantined=0),
    }

    assert entities_over_threshold(night(counts=counts), 0.1) == {"media"}


@pytest.mark.parametrize(
    ("extract", "text"),
    [
        ({}, None),
        ({"quota_budget": None, "quota_used": 5}, None),
        (
            {"quota_budget": 10_000, "quota_used": 2_500},
            "quota: 2500 of 10000 units used, 7500 left (YouTube resets it at midnight Pacific "
            "time)",
        ),
        (
            {"quota_budget": 10_000, "quota_used": None},
            "quota: 0 of 10000 units used, 10000 left (YouTube resets it at midnight Pacific time)",
        ),
        (
            {"quota_budget": 100, "quota_used": 130},
            "quota: 130 of 100 units used, 0 left (YouTube resets it at midnight Pacific time)",
        ),
    ],
    ids=["no quota", "no budget", "part used", "nothing used yet", "overspent"],
)
def test_quota_text(extract: dict[str, Any], text: str | None) -> None:
    assert quota_text(extract) == text


def test_extract_summary_keeps_counts_the_first_notes_and_the_quota() -> None:
    result = ExtractResult(
        accounts=3,
        fetched=2,
        failures=[AccountFailure("bo", "gone", FailureKind.ACCOUNT, 404, "110")],
        notes=[f"note {number}" for number in range(150)],
        stopped=None,
        requests_made=17,
        quota_used=42,
        quota_budget=10_000,
    )

    assert extract_summary(result) == {
        "accounts": 3,
        "fetched": 2,
        "failed": 1,
        "requests": 17,
        "stopped": None,
        "notes": [f"note {number}" for number in range(100)],
        "notes_total": 150,
        "quota_used": 42,
        "quota_budget": 10_000,
    }
    assert "quota_budget" not in extract_summary(ExtractResult())


# --- run_log_frame -----------------------------------------------------------------------------


def run_log(source_night: SourceNight, over_threshold: set[str] | None = None) -> pl.DataFrame:
    return run_log_frame(
        source_night,
        run_id="run-1",
        flow_run_id="flow-1",
        started_at=STARTED,
        finished_at=FINISHED,
        over_threshold=over_threshold or set(),
    )


def test_the_run_log_has_an_extract_row_then_validate_and_load_rows_per_entity() -> None:
    counts = {
        "profiles": EntityCounts(landed=100, valid=98, quarantined=2, deduplicated=0, loaded=98),
        "media": EntityCounts(landed=500, valid=400, quarantined=100, deduplicated=5, loaded=395),
    }

    frame = run_log(night(failed=0, counts=counts), over_threshold={"media"})

    assert frame.schema == RUN_LOG_SCHEMA
    columns = [
        "step",
        "entity",
        "rows_in",
        "rows_valid",
        "rows_quarantined",
        "rows_deduplicated",
        "rows_loaded",
        "accounts_fetched",
        "accounts_failed",
        "status",
    ]
    assert frame.select(columns).rows() == [
        ("extract", None, 100, None, None, None, None, 100, 0, "ok"),
        ("validate", "profiles", 100, 98, 2, None, None, None, None, "ok"),
        ("load", "fact_profile_daily", 98, None, None, 0, 98, None, None, "ok"),
        ("validate", "media", 500, 400, 100, None, None, None, None, "quarantine_exceeded"),
        ("load", "fact_post_metrics", 400, None, None, 5, 395, None, None, "ok"),
    ]
    assert frame.select("run_id", "flow_run_id", "landing_run_id", "source").unique().rows() == [
        ("run-1", "flow-1", "20261121T020000Z-aaaaaa", "instagram")
    ]
    assert frame["partition_date"].unique().to_list() == [DATE]
    assert (frame["started_at"].unique().to_list(), frame["finished_at"].unique().to_list()) == (
        [STARTED],
        [FINISHED],
    )
    assert frame["message"].to_list() == [None] * 5


@pytest.mark.parametrize(
    ("source_night", "status"),
    [
        (night(failed=0), "ok"),
        (night(failed=3), "accounts_failed"),
        (night(failed=97, stopped=AUTH_STOP), "stopped"),
        (night(failed=97, stopped=AUTH_STOP, replayed=True), "replayed"),
        (night(failed=3, replayed=True), "replayed"),
    ],
    ids=["ok", "accounts failed", "stopped", "replayed after a stop", "replayed"],
)
def test_the_extract_status_says_how_the_extraction_went(
    source_night: SourceNight, status: str
) -> None:
    extract_row = run_log(source_night).row(0, named=True)

    assert (extract_row["step"], extract_row["status"]) == ("extract", status)
    assert extract_row["accounts_failed"] == source_night.accounts_failed


def test_the_extract_message_tells_why_it_stopped_the_quota_and_the_notes() -> None:
    source_night = night(
        "youtube",
        failed=40,
        stopped="quotaExceeded: the API quota is spent",
        quota_used=10_000,
        quota_budget=10_000,
        notes=["UCa: renamed?", "UCb: no videos"],
        notes_total=5,
    )

    assert run_log(source_night)["message"][0] == (
        "stopped early: quotaExceeded: the API quota is spent | quota: 10000 of 10000 units "
        "used, 0 left (YouTube resets it at midnight Pacific time) | notes: UCa: renamed?; "
        "UCb: no videos; and 3 more"
    )


# --- failed_accounts_frame ---------------------------------------------------------------------


def test_failed_accounts_have_one_row_per_handle_the_last_one_winning() -> None:
    failures = [
        AccountFailure("ana", "gone", FailureKind.ACCOUNT, 400, "110"),
        AccountFailure("bo", "timed out", FailureKind.UNAVAILABLE),
        AccountFailure("ana", "not tried: the night stopped early", FailureKind.AUTH),
    ]
    landed = pl.DataFrame(list(failure_records(failures)))

    frame = failed_accounts_frame(landed, night(), run_id="run-1")

    expected = pl.DataFrame(
        {
            "source": ["instagram", "instagram"],
            "partition_date": [DATE, DATE],
            "handle": ["ana", "bo"],
            "run_id": ["run-1", "run-1"],
            "landing_run_id": ["20261121T020000Z-aaaaaa"] * 2,
            "reason": ["not tried: the night stopped early", "timed out"],
            "failure_kind": ["auth", "unavailable"],
            "http_status": [None, None],
            "api_error_code": [None, None],
        },
        schema=FAILED_ACCOUNTS_SCHEMA,
    )
    assert_frame_equal(frame.sort("handle"), expected)


def test_failed_accounts_keep_status_and_code() -> None:
    landed = pl.DataFrame(
        list(failure_records([AccountFailure("ana", "gone", FailureKind.ACCOUNT, 400, "110")]))
    )

    frame = failed_accounts_frame(landed, night(), run_id="run-1")

    assert frame.schema == FAILED_ACCOUNTS_SCHEMA
    assert frame.select("handle", "failure_kind", "http_status", "api_error_code").rows() == [
        ("ana", "account", 400, "110")
    ]


def test_no_failed_accounts_is_an_empty_frame_of_the_schema() -> None:
    frame = failed_accounts_frame(pl.DataFrame(), night(), run_id="run-1")

    assert frame.is_empty()
    assert frame.schema == FAILED_ACCOUNTS_SCHEMA
