"""The nightly flow end to end: real Prefect API, real HTTP on loopback, real DuckDB files."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from flows.nightly import ExtractMode, NightFailed, nightly
from simulator import SimulatorServer
from warehouse.lake import LakeLocation, open_lake


def reconciled(summary_counts: dict) -> dict[str, bool]:
    return {
        entity: c.landed == c.loaded + c.quarantined + c.deduplicated
        for entity, c in summary_counts.items()
    }


def loaded_counts(database: Path) -> dict[str, int]:
    connection = open_lake(LakeLocation.in_directory(database), read_only=True)
    try:
        return {
            table: connection.execute(
                f"select count(*) from {table} where platform = 'instagram'"
            ).fetchall()[0][0]
            for table in ("fact_profile_daily", "fact_post_metrics", "fact_audience_share")
        }
    finally:
        connection.close()


def test_a_run_on_the_embedded_simulator_loads_every_landed_record(
    pipeline_env: Path, run_date: dt.date
) -> None:
    summary = nightly(date=run_date)

    assert not summary.sources["instagram"].replayed
    assert reconciled(summary.sources["instagram"].counts) == {
        "profiles": True,
        "media": True,
        "audience": True,
    }
    assert summary.sources["instagram"].counts["profiles"].landed == 24
    assert summary.sources["instagram"].counts["media"].loaded > 24
    youtube = summary.sources["youtube"]
    assert reconciled(youtube.counts) == {"channels": True, "videos": True}
    assert youtube.accounts == youtube.accounts_fetched == youtube.counts["channels"].landed > 0
    assert youtube.counts["videos"].loaded > 0
    assert summary.sources["instagram"].counts["audience"].loaded > 0
    assert loaded_counts(pipeline_env) == {
        "fact_profile_daily": summary.sources["instagram"].counts["profiles"].loaded,
        "fact_post_metrics": summary.sources["instagram"].counts["media"].loaded,
        "fact_audience_share": summary.sources["instagram"].counts["audience"].loaded,
    }
    connection = open_lake(LakeLocation.in_directory(pipeline_env), read_only=True)
    runs = connection.execute(
        "select step, entity, rows_in, rows_valid, rows_quarantined, rows_deduplicated,"
        " rows_loaded, status from pipeline_runs where step in ('validate', 'load')"
        " and source = 'instagram'"
        " order by step, entity"
    ).fetchall()
    connection.close()
    counts = summary.sources["instagram"].counts
    assert runs == [
        (
            "load",
            "fact_audience_share",
            counts["audience"].valid,
            None,
            None,
            counts["audience"].deduplicated,
            counts["audience"].loaded,
            "ok",
        ),
        (
            "load",
            "fact_post_metrics",
            counts["media"].valid,
            None,
            None,
            counts["media"].deduplicated,
            counts["media"].loaded,
            "ok",
        ),
        (
            "load",
            "fact_profile_daily",
            counts["profiles"].valid,
            None,
            None,
            counts["profiles"].deduplicated,
            counts["profiles"].loaded,
            "ok",
        ),
        (
            "validate",
            "audience",
            counts["audience"].landed,
            counts["audience"].valid,
            counts["audience"].quarantined,
            None,
            None,
            "ok",
        ),
        (
            "validate",
            "media",
            counts["media"].landed,
            counts["media"].valid,
            counts["media"].quarantined,
            None,
            None,
            "ok",
        ),
        ("validate", "profiles", 24, 24, 0, None, None, "ok"),
    ]


@pytest.mark.parametrize(
    "second_mode", [ExtractMode.auto, ExtractMode.extract], ids=["replayed", "re-extracted"]
)
def test_running_a_date_twice_leaves_every_table_identical(
    pipeline_env: Path,
    second_mode: ExtractMode,
    run_date: dt.date,
    table_contents: Callable[[Path], dict],
) -> None:
    first = nightly(date=run_date)
    once = table_contents(pipeline_env)

    second = nightly(date=run_date, mode=second_mode)

    assert second.sources["instagram"].replayed is (second_mode is ExtractMode.auto)
    assert second.sources["instagram"].counts == first.sources["instagram"].counts
    assert table_contents(pipeline_env) == once
    assert all(
        once[table]
        for table in (
            "fact_profile_daily",
            "fact_post_metrics",
            "fact_audience_share",
            "dim_influencer",
        )
    )


@pytest.mark.faults(malformed_rate=0.05, seed=3)
def test_malformed_records_are_quarantined_with_reasons_while_the_rest_loads(
    simulator: SimulatorServer,
    pipeline_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_date: dt.date,
) -> None:
    monkeypatch.setenv("INFLUENCERS_MAX_QUARANTINE_SHARE", "0.5")

    summary = nightly(date=run_date)

    assert reconciled(summary.sources["instagram"].counts) == {
        "profiles": True,
        "media": True,
        "audience": True,
    }
    assert summary.sources["instagram"].counts["media"].quarantined > 0
    assert summary.sources["instagram"].counts["media"].deduplicated > 0
    connection = open_lake(LakeLocation.in_directory(pipeline_env), read_only=True)
    quarantined = connection.execute(
        "select entity, raw_record, failed_checks, landed_file, line_number from quarantine"
    ).fetchall()
    connection.close()
    assert len(quarantined) == sum(
        c.quarantined for c in summary.sources["instagram"].counts.values()
    )
    for entity, raw_record, failed_checks, landed_file, line_number in quarantined:
        assert failed_checks, raw_record
        assert landed_file.startswith(f"instagram/{entity}/date={run_date}/")
        landed_lines = gzip.decompress((pipeline_env / "raw" / landed_file).read_bytes())
        assert landed_lines.decode().splitlines()[line_number - 1] == raw_record
        json.loads(raw_record)
    reasons = {check.split(" (got")[0] for *_, checks, _, _ in quarantined for check in checks}
    assert reasons & {
        "comments_count: non_negative_integer",
        "like_count: non_negative_integer",
        "post_id: not_nullable",
        "timestamp: not_nullable",
        "comments_count: not_nullable",
        "followers_count: non_negative_integer",
        "followers_count: not_nullable",
    }


@pytest.mark.faults(malformed_rate=0.05, seed=3)
def test_a_run_over_the_quarantine_threshold_fails_after_loading_the_valid_rows(
    simulator: SimulatorServer,
    pipeline_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_date: dt.date,
) -> None:
    monkeypatch.setenv("INFLUENCERS_MAX_QUARANTINE_SHARE", "0.001")

    with pytest.raises(NightFailed, match=r"quarantined share above 0\.1%"):
        nightly(date=run_date)

    connection = open_lake(LakeLocation.in_directory(pipeline_env), read_only=True)
    loaded_posts = connection.execute("select count(*) from fact_post_metrics").fetchall()[0][0]
    statuses = connection.execute(
        "select distinct status from pipeline_runs where step = 'validate' and entity = 'media'"
    ).fetchall()
    connection.close()
    assert loaded_posts > 0
    assert statuses == [("quarantine_exceeded",)]


def test_faults_on_the_wire_do_not_change_the_warehouse(
    pipeline_env: Path,
    world,
    monkeypatch: pytest.MonkeyPatch,
    all_logs: list[str],
    run_date: dt.date,
    token: str,
    table_contents: Callable[[Path], dict],
) -> None:
    from simulator import FaultConfig

    nightly(date=run_date)
    fault_free = table_contents(pipeline_env)
    faulty = FaultConfig(error_rate=0.2, slow_rate=0.05, slow_seconds=0.2, seed=11)
    with SimulatorServer(world, access_token=token, faults=faulty) as server:
        monkeypatch.setenv("INFLUENCERS_INSTAGRAM__API_URL", server.url)
        monkeypatch.setenv("INFLUENCERS_INSTAGRAM__ACCESS_TOKEN", token)
        monkeypatch.setenv("INFLUENCERS_INSTAGRAM__SUPPORTS_AS_OF", "true")
        monkeypatch.setenv("INFLUENCERS_DATA_DIR", str(pipeline_env.parent / "faulty"))

        nightly(date=run_date)

    assert any("retrying" in line for line in all_logs), "the faults were not exercised"
    assert table_contents(pipeline_env.parent / "faulty") == fault_free


@pytest.mark.faults(error_rate=0.3, malformed_rate=0.02, seed=5)
def test_the_token_never_reaches_logs_raw_files_or_the_warehouse(
    simulator: SimulatorServer,
    pipeline_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    all_logs: list[str],
    capfd: pytest.CaptureFixture[str],
    run_date: dt.date,
    token: str,
    youtube_key: str,
) -> None:
    monkeypatch.setenv("INFLUENCERS_MAX_QUARANTINE_SHARE", "0.5")
    nightly(date=run_date)
    monkeypatch.setenv("INFLUENCERS_INSTAGRAM__ACCESS_TOKEN", "wrong-" + token)
    with pytest.raises(NightFailed, match="renew the credential") as failure:
        nightly(date=run_date, mode=ExtractMode.extract)

    assert any("access_token=***" in line for line in all_logs)
    places = {
        "logs": "\n".join(all_logs),
        "console": "".join(capfd.readouterr()),
        "error": str(failure.value),
    }
    for path in (pipeline_env / "raw").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            places[str(path)] = (gzip.decompress(data) if path.suffix == ".gz" else data).decode()
    connection = open_lake(LakeLocation.in_directory(pipeline_env), read_only=True)
    for table in ("pipeline_runs", "quarantine"):
        places[table] = str(connection.execute(f"select * from {table}").fetchall())
    stopped = connection.execute(
        "select step, message from pipeline_runs where status = 'stopped'"
    ).fetchall()
    refused = connection.execute(
        "select distinct failure_kind, http_status, api_error_code from failed_accounts"
        " where reason like 'access token refused: %Invalid OAuth%'"
    ).fetchall()
    places["failed_accounts"] = str(connection.execute("select * from failed_accounts").fetchall())
    connection.close()
    assert stopped and stopped[0][0] == "extract" and "renew the credential" in stopped[0][1]
    assert refused == [("auth", 400, "190")]
    for secret in (token, youtube_key):
        leaks = [line for line in all_logs if secret in line][:3]
        assert [place for place, text in places.items() if secret in text] == [], leaks
