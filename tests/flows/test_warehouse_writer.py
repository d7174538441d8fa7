"""The `warehouse-writer` slot: a deployed run holds it while it writes a lake whose catalog is a
SQLite file (two processes committing to one SQLite catalog at once fail with "database is
locked", docs/scale-out.md), and never for a PostgreSQL catalog, so that dates load at once; runs
outside a deployment take turns on the machine (the demo runs two nights at once, in two
processes).

Against the session's Prefect API (the test harness); a deployed run is what Prefect's runtime
reports when ``PREFECT__RUNTIME__DEPLOYMENT__ID`` is set.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import prefect.runtime.deployment
import pytest
from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

from flows.nightly import WAREHOUSE_WRITER_LIMIT, started_by_deployment, warehouse_writer
from warehouse.lake import LakeLocation


@pytest.fixture
def client() -> Iterator[SyncPrefectClient]:
    """A client of the harness's API, with the one-slot limit that scripts/up.sh creates."""
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=WAREHOUSE_WRITER_LIMIT, limit=1)
        )
        try:
            yield client
        finally:
            client.delete_global_concurrency_limit_by_name(WAREHOUSE_WRITER_LIMIT)


def slots_taken(client: SyncPrefectClient) -> int:
    return client.read_global_concurrency_limit_by_name(WAREHOUSE_WRITER_LIMIT).active_slots


@pytest.mark.parametrize(
    ("catalog", "taken"),
    [("lake.sqlite", 1), ("postgres:dbname=lake host=127.0.0.1 user=pipeline", 0)],
    ids=["sqlite-catalog-takes-the-slot", "postgres-catalog-takes-none"],
)
def test_a_deployed_run_holds_the_writer_slot_only_for_a_sqlite_catalog(
    client: SyncPrefectClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    catalog: str,
    taken: int,
) -> None:
    monkeypatch.setenv("PREFECT__RUNTIME__DEPLOYMENT__ID", str(uuid.uuid4()))
    lake = LakeLocation(
        catalog if catalog.startswith("postgres:") else str(tmp_path / catalog), tmp_path / "lake"
    )

    with warehouse_writer(lake):
        while_writing = slots_taken(client)

    assert (while_writing, slots_taken(client)) == (taken, 0)


def test_a_run_outside_a_deployment_takes_no_slot(
    client: SyncPrefectClient, tmp_path: Path
) -> None:
    with warehouse_writer(LakeLocation.in_directory(tmp_path)):
        assert slots_taken(client) == 0


def test_runs_outside_a_deployment_take_turns_within_their_process(tmp_path: Path) -> None:
    lake = LakeLocation.in_directory(tmp_path)
    writing: list[int] = []
    most_at_once = 0
    lock = threading.Lock()

    def write(number: int) -> None:
        nonlocal most_at_once
        with warehouse_writer(lake):
            with lock:
                writing.append(number)
                most_at_once = max(most_at_once, len(writing))
            time.sleep(0.05)
            with lock:
                writing.remove(number)

    threads = [threading.Thread(target=write, args=(number,)) for number in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert most_at_once == 1


def hold_the_writer(directory: str, everyone_ready: threading.Barrier) -> tuple[float, float]:
    """In a process of its own: take the writer once every process is ready, hold it a while."""
    everyone_ready.wait(timeout=120)
    with warehouse_writer(LakeLocation.in_directory(Path(directory))):
        started = time.monotonic()
        time.sleep(0.3)
        return started, time.monotonic()


def test_runs_outside_a_deployment_take_turns_across_processes(tmp_path: Path) -> None:
    # The demo's nights run in two processes: their commits must not meet in the SQLite catalog.
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(2, mp_context=context) as processes:
        everyone_ready = manager.Barrier(2)
        held = list(processes.map(hold_the_writer, [str(tmp_path)] * 2, [everyone_ready] * 2))

    (_, first_released), (second_taken, _) = sorted(held)
    assert first_released <= second_taken


def test_a_flow_run_tells_it_was_not_deployed_without_asking_the_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_api_call(flow_run_id: object) -> None:
        raise AssertionError("asked the API for the flow run")

    monkeypatch.setattr(prefect.runtime.deployment, "_get_flow_run", no_api_call)

    @flow
    def probe() -> bool:
        return started_by_deployment()

    assert probe() is False
