"""Deployments on a real Prefect server with two workers, as `make up` starts them, set up for
scale-out as docs/scale-out.md describes: the server's database and the lake's catalog are two
databases of one PostgreSQL cluster, and both workers share the lake's data path.

One module-scoped stack (server, work pool, concurrency limit, deployments from prefect.yaml,
two process workers, the simulated platforms on a fixed port) serves every test here; each test
reads what the backfills it triggers leave behind. With the catalog on PostgreSQL the nightly
runs take no `warehouse-writer` slot, so the dates of a backfill load at the same time
(``tests/flows/test_warehouse_writer.py`` covers the slot a SQLite catalog needs).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from postgres_cluster import DB_NAME, database_url, free_port, lake_catalog, postgres_cluster

from simulator import FaultConfig, SimulatedWorld, SimulatorServer, write_roster
from warehouse.lake import LakeLocation, open_lake

PROJECT = Path(__file__).resolve().parents[2]
DATES = [dt.date(2026, 10, 12) + dt.timedelta(days=offset) for offset in range(7)]
DOWN_DATE = DATES[3]
TOKEN = "tok-deploy-5b0c1e9d7a"
TIMEZONE = "Europe/Paris"
LAKE_DATABASE = "lake"
# The key of each contract table's grain, and the date column of the partitioned ones.
GRAINS = {
    "roster": ("platform", "handle"),
    "dim_influencer": ("platform", "account_id"),
    "fact_profile_daily": ("platform", "account_id", "snapshot_date"),
    "fact_post_metrics": ("platform", "post_id", "observed_date"),
    "fact_audience_share": ("platform", "account_id", "as_of_date", "dimension", "bucket"),
    "quarantine": ("source", "entity", "partition_date", "landed_file", "line_number"),
}

# A Prefect server and two workers on PostgreSQL, backfilling seven nights of three platforms: four
# minutes, so the module runs in `make test-all`; test_prefect_on_postgres keeps the server on
# PostgreSQL in the default run.
pytestmark = [pytest.mark.timeout(900), pytest.mark.postgres, pytest.mark.slow]


@dataclass
class Stack:
    env: dict[str, str]
    api_url: str
    run_dir: Path
    data_dir: Path
    world: SimulatedWorld
    simulator_port: int
    # The lake the workers write, as this test process reads it (password included).
    lake: LakeLocation | None = None

    def prefect(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PROJECT / ".venv/bin/prefect"), *args],
            env=self.env,
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=600,
            check=check,
        )

    def api(self, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.api_url}/{path}",
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST" if body is not None else "GET",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def backfill(self, start: dt.date, end: dt.date, mode: str) -> dict[str, Any]:
        """Run the backfill deployment to its end; return its flow run."""
        created = self.prefect(
            "deployment",
            "run",
            "backfill/backfill",
            "--param",
            f"start={start}",
            "--param",
            f"end={end}",
            "--param",
            f"mode={mode}",
        )
        run_id = next(
            line.split("UUID:")[1].strip()
            for line in created.stdout.splitlines()
            if "UUID:" in line
        )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            run = self.api(f"flow_runs/{run_id}")
            if run["state"] and run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED"):
                return run
            time.sleep(2)
        raise AssertionError(f"backfill {run_id} did not finish in 10 minutes")

    def nightly_runs(self) -> dict[str, list[dict[str, Any]]]:
        """Every nightly flow run, by name, oldest first."""
        runs = self.api(
            "flow_runs/filter",
            {"flow_runs": {"name": {"like_": "nightly-"}}, "sort": "EXPECTED_START_TIME_ASC"},
        )
        by_name: dict[str, list[dict[str, Any]]] = {}
        for run in runs:
            by_name.setdefault(run["name"], []).append(run)
        return by_name


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("deployments")
    world = SimulatedWorld(size=24)
    roster = root / "roster.csv"
    write_roster(roster, world)
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFECT_", "INFLUENCERS_"))
    }
    env.update(
        PREFECT_HOME=str(root / "prefect-home"),
        PREFECT_PORT=str(port),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        # Workers poll every 10 s by default; the test should not wait that long, but each poll
        # is a write to the server's SQLite, so not much less either.
        PREFECT_WORKER_QUERY_SECONDS="5",
        INFLUENCERS_RUN_DIR=str(root / "run"),
        INFLUENCERS_WORKERS="2",
        # Two runs at a time per worker (the backfill itself takes one), so both take work.
        INFLUENCERS_WORKER_LIMIT="2",
        INFLUENCERS_DATA_DIR=str(root / "data"),
        INFLUENCERS_ROSTER_PATH=str(roster),
        INFLUENCERS_SIMULATOR_SIZE="24",
        INFLUENCERS_SCHEDULE_TIMEZONE=TIMEZONE,
        INFLUENCERS_INSTAGRAM__ACCESS_TOKEN=TOKEN,
        INFLUENCERS_INSTAGRAM__SUPPORTS_AS_OF="true",
        # The down date fails fast instead of after minutes of backoff.
        INFLUENCERS_HTTP_MAX_RETRIES="1",
    )
    simulator_port = free_port()
    env["INFLUENCERS_INSTAGRAM__API_URL"] = f"http://127.0.0.1:{simulator_port}"
    stack = Stack(
        env=env,
        api_url=env["PREFECT_API_URL"],
        run_dir=root / "run",
        data_dir=root / "data",
        world=world,
        simulator_port=simulator_port,
    )
    # Several workers run flows in parallel, and every task state they report is a write to the
    # server's database: on SQLite, Prefect 3.9.1's worker heartbeats then hit "database is
    # locked" (seen in 2 of 3 runs here). PostgreSQL is the documented setup for that.
    with postgres_cluster(root, (DB_NAME, LAKE_DATABASE)) as (pg_port, password):
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url(pg_port, password)
        # The lake's catalog in the same cluster, its password from libpq's PGPASSWORD, and one
        # data path for both workers (on several machines: a share mounted at the same path).
        env["INFLUENCERS_LAKE_CATALOG"] = lake_catalog(pg_port, LAKE_DATABASE)
        env["INFLUENCERS_LAKE_DATA_PATH"] = str(root / "shared" / "lake")
        env["PGPASSWORD"] = password
        stack.lake = LakeLocation(
            f"{env['INFLUENCERS_LAKE_CATALOG']} password={password}", root / "shared" / "lake"
        )
        try:
            subprocess.run(
                [str(PROJECT / "scripts/up.sh")],
                env=env,
                check=True,
                timeout=300,
                capture_output=True,
                text=True,
            )
            yield stack
        finally:
            subprocess.run([str(PROJECT / "scripts/down.sh")], env=env, timeout=120, check=False)


@pytest.fixture(scope="module")
def first_backfill(stack: Stack) -> dict[str, Any]:
    """Backfill seven dates while the platform is down for one of them."""
    faults = FaultConfig(down_dates=frozenset({DOWN_DATE}))
    simulator = SimulatorServer(
        stack.world, access_token=TOKEN, port=stack.simulator_port, faults=faults
    )
    with simulator:
        return stack.backfill(DATES[0], DATES[-1], "extract")


@pytest.fixture(scope="module")
def rerun_of_failed_date(stack: Stack, first_backfill: dict[str, Any]) -> dict[str, Any]:
    """Later, with the platform back up, re-run only the date that failed."""
    with SimulatorServer(stack.world, access_token=TOKEN, port=stack.simulator_port):
        return stack.backfill(DOWN_DATE, DOWN_DATE, "extract")


def read_lake(stack: Stack) -> duckdb.DuckDBPyConnection:
    assert stack.lake is not None
    return open_lake(stack.lake, read_only=True)


def warehouse_rows(stack: Stack) -> dict[str, list[tuple[object, ...]]]:
    connection = read_lake(stack)
    try:
        return {
            table: connection.execute(f"select * from {table} order by all").fetchall()
            for table in GRAINS
        }
    finally:
        connection.close()


def test_a_date_the_platform_is_down_for_fails_only_its_own_run(
    stack: Stack, first_backfill: dict[str, Any]
) -> None:
    runs = stack.nightly_runs()

    assert first_backfill["state"]["type"] == "FAILED"
    assert str(DOWN_DATE) in first_backfill["state"]["message"]
    states = {name: [run["state"]["type"] for run in group] for name, group in runs.items()}
    assert states == {
        f"nightly-{day}": ["FAILED" if day == DOWN_DATE else "COMPLETED"] for day in DATES
    }
    failed = runs[f"nightly-{DOWN_DATE}"][0]
    assert "unavailable" in failed["state"]["message"].lower()
    assert TOKEN not in failed["state"]["message"]


def test_rerunning_the_failed_date_alone_completes_it_and_loads_each_date_once(
    stack: Stack, rerun_of_failed_date: dict[str, Any]
) -> None:
    runs = stack.nightly_runs()

    assert rerun_of_failed_date["state"]["type"] == "COMPLETED"
    assert [run["state"]["type"] for run in runs[f"nightly-{DOWN_DATE}"]] == [
        "FAILED",
        "COMPLETED",
    ]
    connection = read_lake(stack)
    per_date = connection.execute(
        "select snapshot_date, count(*), count(distinct account_id) from fact_profile_daily"
        " where platform = 'instagram' group by snapshot_date order by snapshot_date"
    ).fetchall()
    repeated_keys = {
        table: connection.execute(
            f"select count(*) - count(distinct ({', '.join(key)})) from {table}"
        ).fetchall()[0][0]
        for table, key in GRAINS.items()
    }
    accounts = connection.execute(
        "select count(*) from dim_influencer where platform = 'instagram'"
    ).fetchall()
    connection.close()
    assert per_date == [(day, 24, 24) for day in DATES]
    # no key of any table's grain twice, though the dates were loaded at the same time
    assert repeated_keys == dict.fromkeys(GRAINS, 0)
    assert accounts == [(24,)]


def test_both_workers_took_work_and_nothing_locked(
    stack: Stack, rerun_of_failed_date: dict[str, Any]
) -> None:
    logs = {path.name: path.read_text() for path in stack.run_dir.glob("*.log")}

    worker_logs = {name: text for name, text in logs.items() if name.startswith("worker-")}
    assert len(worker_logs) == 2
    assert all("nightly-" in text for text in worker_logs.values()), worker_logs.keys()
    # SQLite's lock error in Prefect's server, or DuckDB's when two processes open the warehouse.
    locked = [
        name
        for name, text in logs.items()
        if "database is locked" in text or "Could not set lock on file" in text
    ]
    assert locked == []


def test_dates_load_at_the_same_time_without_the_warehouse_writer_slot(
    stack: Stack, rerun_of_failed_date: dict[str, Any]
) -> None:
    connection = read_lake(stack)
    # Each Instagram load's window: from its run's start (pipeline_runs) to its commit.
    windows = connection.execute(
        """
        with runs as (
            select run_id, min(partition_date) as day, min(started_at) as started_at
            from pipeline_runs where source = 'instagram' group by run_id
        ),
        commits as (
            select json_extract_string(commit_extra_info, '$.run_id') as run_id,
                   snapshot_time at time zone 'UTC' as committed_at
            from ducklake_snapshots('lake') where commit_message like 'nightly instagram %'
        )
        select day, started_at, committed_at from runs join commits using (run_id)
        order by started_at
        """
    ).fetchall()
    connection.close()
    events = stack.api(
        "events/filter",
        {"filter": {"event": {"prefix": ["prefect.concurrency-limit.acquired"]}}, "limit": 50},
    )["events"]
    retried = stack.api("logs/filter", {"logs": {"level": {"ge_": 30}}, "limit": 200})

    overlapping = [
        (first[0], second[0])
        for index, first in enumerate(windows)
        for second in windows[index + 1 :]
        if second[1] < first[2] and first[1] < second[2]
    ]
    assert {day for day, _, _ in windows} == set(DATES)
    assert overlapping, f"no two dates were loading at the same time: {windows}"
    # For the record (-rP): the loads DuckLake refused for a concurrent commit, and ran again.
    print("overlapping loads:", overlapping)
    print("commits retried:", [r["message"] for r in retried if "commit refused" in r["message"]])
    writer_slots = [
        event
        for event in events
        if "warehouse-writer" in event["resource"].get("prefect.resource.name", "")
    ]
    assert writer_slots == []


def test_a_backfill_over_loaded_dates_changes_nothing(
    stack: Stack, rerun_of_failed_date: dict[str, Any]
) -> None:
    before = warehouse_rows(stack)

    run = stack.backfill(DATES[0], DATES[-1], "replay")

    assert run["state"]["type"] == "COMPLETED"
    assert warehouse_rows(stack) == before


def test_the_nightly_schedule_has_the_configured_cron_and_timezone(stack: Stack) -> None:
    deployment = stack.api("deployments/name/nightly/nightly")

    schedules = [item["schedule"] for item in deployment["schedules"]]
    assert [(s["cron"], s["timezone"]) for s in schedules] == [("0 2 * * *", TIMEZONE)]
    parameters = stack.api("deployments/name/backfill/backfill")["parameter_openapi_schema"]
    assert parameters["properties"]["start"]["format"] == "date"
    assert parameters["definitions"]["BackfillMode"]["enum"] == ["replay", "extract"]
    assert parameters["definitions"]["Source"]["enum"] == ["instagram", "youtube", "tiktok"]


@pytest.mark.browser
def test_a_person_backfills_from_the_prefect_ui(
    stack: Stack, rerun_of_failed_date: dict[str, Any]
) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "run `make browser` (apt-get install chromium)"
    ui = stack.api_url.removesuffix("/api")
    submitted_after = dt.datetime.now(dt.UTC).isoformat()
    output = PROJECT / "test-output"
    output.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{ui}/deployments", wait_until="networkidle")
        page.get_by_role("link", name="backfill").first.click()
        page.wait_for_load_state("networkidle")
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_role("button", name="Custom run").click()
        page.wait_for_load_state("networkidle")
        for empty_pickers, day in ((2, DATES[0]), (1, DATES[1])):
            # Wait for the previous pick to show before opening the next picker.
            expect(page.get_by_text("Select date")).to_have_count(empty_pickers)
            page.get_by_text("Select date").first.click()
            page.locator("input[type=date]").fill(day.isoformat())
            page.get_by_role("button", name="Apply").click()
        expect(page.get_by_text("Select date")).to_have_count(0)
        page.screenshot(path=str(output / "ui-backfill-form.png"))
        page.get_by_role("button", name="Submit").click()

        run = wait_for_ui_run(stack, submitted_after)
        page.goto(f"{ui}/runs/flow-run/{run['id']}", wait_until="networkidle")
        page.get_by_text("Completed").first.wait_for(timeout=30_000)
        page.screenshot(path=str(output / "ui-backfill-run.png"), full_page=True)
        browser.close()

    assert run["state"]["type"] == "COMPLETED"
    assert run["parameters"]["start"] == str(DATES[0])
    assert run["parameters"]["end"] == str(DATES[1])
    assert (output / "ui-backfill-run.png").stat().st_size > 10_000


CHROMIUM = "/usr/bin/chromium"
# As root Chromium needs --no-sandbox; the rest keeps it off the (closed) network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def wait_for_ui_run(stack: Stack, submitted_after: str) -> dict[str, Any]:
    """The backfill run the form created, once it is final."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        runs = stack.api(
            "flow_runs/filter",
            {
                "flow_runs": {
                    "name": {"like_": "backfill-"},
                    "start_time": {"after_": submitted_after},
                },
            },
        )
        final = [r for r in runs if r["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED")]
        if final:
            return final[0]
        time.sleep(2)
    raise AssertionError("the backfill submitted from the UI did not finish in 5 minutes")
