"""The Prefect server on PostgreSQL (the scale-out path of docs/scale-out.md), end to end.

A throwaway PostgreSQL cluster (Debian's binaries, `make postgres` installs them) on a free
loopback port, a `prefect server start` on it, a flow run made by a separate process through the
API, read back through the API and found in PostgreSQL's own `flow_run` table.

Independent of the session's Prefect test harness: every process started here gets its own
environment (its own PREFECT_HOME and PREFECT_API_URL), and is stopped in ``finally``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from postgres_cluster import (
    DB_NAME,
    DB_USER,
    base_env,
    database_url,
    free_port,
    postgres_cluster,
    run,
)

HEALTH_TIMEOUT_SECONDS = 90
FLOW_RUN_MARKER = "FLOW_RUN_ID="

# Runs in its own process, against the server of PREFECT_API_URL only.
SMOKE_FLOW = f"""
from prefect import flow
from prefect.runtime import flow_run

@flow(name="postgres-smoke")
def smoke(x: int) -> int:
    print("{FLOW_RUN_MARKER}" + str(flow_run.id), flush=True)
    return x + 1

assert smoke(41) == 42
"""


@contextmanager
def prefect_server(api_port: int, db_url: str, workdir: Path) -> Iterator[str]:
    """`prefect server start` on 127.0.0.1:api_port with db_url; yields its API URL."""
    api_url = f"http://127.0.0.1:{api_port}/api"
    env = base_env()
    env.update(
        PREFECT_HOME=str(workdir / "server-home"),
        PREFECT_API_DATABASE_CONNECTION_URL=db_url,
        PREFECT_UI_API_URL=api_url,
    )
    prefect = Path(sys.executable).parent / "prefect"
    log_path = workdir / "prefect-server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(api_port)],
            env=env,
            cwd=workdir,  # no prefect.toml / .env of the project is picked up
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole below
        )
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"prefect server exited {server.returncode}:\n{log_path.read_text()[-4000:]}",
                    pytrace=False,
                )
            try:
                if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"prefect server not healthy within {HEALTH_TIMEOUT_SECONDS} s:\n"
                    f"{log_path.read_text()[-4000:]}",
                    pytrace=False,
                )
            time.sleep(0.5)
        yield api_url
    finally:
        stop_process_group(server)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=grace)
            # The leader is gone; make sure nothing it started lingers in its group.
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
        break


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_prefect_server_runs_on_postgres(tmp_path: Path) -> None:
    start = time.monotonic()

    def phase(name: str) -> None:  # printed with the output of a failure
        print(f"{time.monotonic() - start:6.1f} s  {name}", flush=True)

    with postgres_cluster(tmp_path) as (pg_port, password):
        phase(f"PostgreSQL up on 127.0.0.1:{pg_port}")
        db_url = database_url(pg_port, password)
        with prefect_server(free_port(), db_url, tmp_path) as api_url:
            phase(f"Prefect server healthy at {api_url}")
            client_env = base_env()
            client_env.update(PREFECT_API_URL=api_url, PREFECT_HOME=str(tmp_path / "client-home"))
            flow = subprocess.run(
                [sys.executable, "-c", SMOKE_FLOW],
                env=client_env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert flow.returncode == 0, f"flow failed:\n{flow.stdout}\n{flow.stderr}"
            ids = [
                line.removeprefix(FLOW_RUN_MARKER).strip()
                for line in flow.stdout.splitlines()
                if line.startswith(FLOW_RUN_MARKER)
            ]
            assert len(ids) == 1, f"no flow run id printed:\n{flow.stdout}\n{flow.stderr}"
            flow_run_id = ids[0]
            phase(f"flow run {flow_run_id} done")

            answer = httpx.post(
                f"{api_url}/flow_runs/filter",
                json={"flow_runs": {"id": {"any_": [flow_run_id]}}},
                timeout=10,
            )
            answer.raise_for_status()
            runs = answer.json()
            assert [run["id"] for run in runs] == [flow_run_id]
            assert runs[0]["state_type"] == "COMPLETED", runs[0]["state"]

            # The run is in PostgreSQL (over TCP, with the password), not in a SQLite file.
            query = (
                "select count(*), count(*) filter (where id = '"
                + flow_run_id
                + "' and state_type = 'COMPLETED') from flow_run"
            )
            counts = run(
                [
                    *("psql", "-h", "127.0.0.1", "-p", str(pg_port), "-U", DB_USER, "-d", DB_NAME),
                    *("-v", "ON_ERROR_STOP=1", "-tA", "-c", query),
                ],
                env={**base_env(), "PGPASSWORD": password},
            )
            total, ours = (int(value) for value in counts.strip().split("|"))
            assert total >= 1
            assert ours == 1
            assert not list((tmp_path / "server-home").glob("*.db")), "server wrote SQLite"
