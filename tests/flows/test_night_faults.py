"""One account misbehaving, one fault at a time, against the simulated Graph API over loopback:
the other accounts load, the bad one is recorded with its reason, and the night ends as README's
"What fails an account" table says."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flows.nightly import NightFailed, nightly
from simulator import FaultConfig, SimulatedWorld, SimulatorServer
from warehouse.lake import LakeLocation, open_lake

INSTAGRAM_ACCOUNTS = 24


@dataclass(frozen=True)
class Fault:
    """What one account's fault must leave behind."""

    name: str
    outcome: str  # failed | partly | quarantined | noted | loaded
    reason: str | None = None  # a fragment of the failed_accounts reason or quarantine check
    http_status: int | None = None
    api_error_code: str | None = None


FAULTS = [
    Fault("truncated_json", "failed", "answer is not JSON", 200),
    Fault("html_502", "failed", "HTTP 502", 502),
    Fault("token_expired", "failed", "access token refused", 400, "190"),
    Fault("slow", "failed", "no answer within"),
    Fault("trickle", "failed", "still arriving at the", 200),
    Fault("redirect_other_host", "failed", "redirected to another host", 302),
    Fault("retry_after_day", "failed", "asked to wait 86400 s (Retry-After)", 429, "4"),
    Fault("error_in_200", "failed", "gave up after", 200, "1"),
    Fault("short_body", "failed", "answer cut short", 200),
    Fault("not_found", "failed", "not found: not a business or creator account", 400, "110"),
    Fault("media_data_not_list", "partly", "the answer's data is not a list"),
    Fault("next_without_cursors", "partly", "a next page without an 'after' cursor"),
    Fault("cursor_loop", "partly", "came back again"),
    Fault("media_bare_string", "quarantined", "item: not a JSON object"),
    Fault("unknown_age_bucket", "quarantined", "bucket: unknown age bucket (90+)"),
    Fault("future_post", "quarantined", "timestamp: published after the night's date"),
    Fault("absurd_followers", "quarantined", "followers_count: implausible count"),
    Fault("nan_comments", "quarantined", "comments_count: not a number (NaN)"),
    Fault("insights_no_permission", "noted", "insights permission withdrawn"),
    Fault("renamed", "noted", "renamed?"),
    Fault("bom", "loaded"),
    Fault("string_code", "loaded"),
    Fault("text_plain_no_charset", "loaded"),
]


@pytest.fixture
def fast_failing_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deadlines and waits short enough that a misbehaving account fails in seconds. In a world
    of 24 accounts one account's audience is 7 % of the night's buckets, so the quarantine
    threshold is raised to keep one bad account from being a bad night."""
    for name, value in {
        "MAX_QUARANTINE_SHARE": "0.10",
        "HTTP_TIMEOUT_SECONDS": "1",
        "HTTP_DEADLINE_SECONDS": "3",
        "HTTP_MAX_RETRIES": "2",
        "HTTP_MAX_WAIT_SECONDS": "5",
        "INSTAGRAM__PAGE_SIZE": "3",
        "SOURCES": '["instagram"]',
    }.items():
        monkeypatch.setenv(f"INFLUENCERS_{name}", value)


@pytest.fixture
def faulty_platform(
    request: pytest.FixtureRequest,
    world: SimulatedWorld,
    pipeline_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    token: str,
) -> Iterator[tuple[str, SimulatorServer]]:
    """The simulated platforms with one connected Instagram account answering ``fault``."""
    fault: Fault = request.param
    handle = next(creator.handle for creator in world.creators if creator.connected)
    faults = FaultConfig(account_faults={handle: fault.name}, slow_seconds=5.0, trickle_seconds=0.5)
    with SimulatorServer(world, access_token=token, faults={"instagram": faults}) as server:
        monkeypatch.setenv("INFLUENCERS_INSTAGRAM__API_URL", server.url)
        monkeypatch.setenv("INFLUENCERS_INSTAGRAM__ACCESS_TOKEN", token)
        monkeypatch.setenv("INFLUENCERS_INSTAGRAM__SUPPORTS_AS_OF", "true")
        yield handle, server


def query(database: Path, sql: str, *parameters: object) -> list[tuple[object, ...]]:
    connection = open_lake(LakeLocation.in_directory(database), read_only=True)
    try:
        return connection.execute(sql, list(parameters)).fetchall()
    finally:
        connection.close()


@pytest.mark.usefixtures("fast_failing_http")
@pytest.mark.parametrize(
    "faulty_platform", FAULTS, ids=[fault.name for fault in FAULTS], indirect=True
)
def test_one_misbehaving_account_never_fails_the_night_for_the_others(
    faulty_platform: tuple[str, SimulatorServer],
    request: pytest.FixtureRequest,
    pipeline_env: Path,
    run_date: dt.date,
) -> None:
    handle, server = faulty_platform
    fault: Fault = request.node.callspec.params["faulty_platform"]

    summary = nightly(date=run_date)

    night = summary.sources["instagram"]
    database = pipeline_env
    failed = query(
        database,
        "select handle, reason, http_status, api_error_code from failed_accounts",
    )
    loaded_handles = {
        row[0].lower()
        for row in query(
            database,
            "select r.handle from roster r join dim_influencer i"
            " on i.platform = r.platform and lower(i.handle) = lower(r.handle)"
            " where r.platform = 'instagram'",
        )
    }
    others = {c.handle.lower() for c in server.world.creators if c.handle != handle}
    assert others - loaded_handles == set() or fault.name == "renamed", "a good account is missing"
    assert night.accounts == night.accounts_fetched + night.accounts_failed == INSTAGRAM_ACCOUNTS
    assert all(counts.reconciles for counts in night.counts.values()), night.counts
    if fault.outcome in ("failed", "partly"):
        assert len(failed) == 1, failed
        failed_handle, reason, status, code = failed[0]
        assert failed_handle == handle
        assert fault.reason in reason
        if fault.http_status is not None:
            assert status == fault.http_status
        if fault.api_error_code is not None:
            assert code == fault.api_error_code
        assert server.redact(reason) == reason, "a credential reached failed_accounts"
    else:
        assert failed == []
    if fault.outcome == "partly":
        assert handle.lower() in loaded_handles, "what was fetched before the failure loads"
    if fault.outcome == "quarantined":
        checks = query(
            database,
            "select distinct unnest(failed_checks) from quarantine"
            " where raw_record like '%' || ? || '%'",
            handle,
        )
        assert any(fault.reason in check for (check,) in checks), checks
    if fault.outcome == "noted":
        messages = query(
            database,
            "select message from pipeline_runs where step = 'extract' and source = 'instagram'",
        )
        assert any(fault.reason in (message or "") for (message,) in messages), messages
    if fault.name == "text_plain_no_charset":
        names = query(database, "select display_name from dim_influencer")
        assert any("Zoë Café" in (name or "") for (name,) in names), names
    if fault.name == "redirect_other_host":
        assert server.stats()["other_host_request_count"] == 0, "the token followed the redirect"


def test_a_token_refused_for_every_account_stops_the_night_early_with_one_message(
    simulator: SimulatorServer,
    pipeline_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_date: dt.date,
    token: str,
) -> None:
    monkeypatch.setenv("INFLUENCERS_SOURCES", '["instagram"]')
    monkeypatch.setenv("INFLUENCERS_INSTAGRAM__ACCESS_TOKEN", "expired-" + token)
    monkeypatch.setenv("INFLUENCERS_HTTP_CONCURRENCY", "1")

    with pytest.raises(NightFailed) as failure:
        nightly(date=run_date)

    message = str(failure.value)
    assert "instagram: stopped early after 0 of 24 accounts" in message
    assert "renew the credential" in message
    assert simulator.request_count == 3, "it tried every account instead of stopping"
    recorded = query(
        pipeline_env,
        "select reason like 'not tried:%', failure_kind, count(*) from failed_accounts"
        " group by all order by all",
    )
    assert recorded == [(False, "auth", 3), (True, "auth", 21)]
