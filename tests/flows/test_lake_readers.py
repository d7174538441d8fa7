"""Analysts read the lake from another process while a nightly run commits: the DuckDB CLI of
``make sql`` (``duckdb-cli`` from PyPI) attached read-only, never blocking the run and never
blocked by it, keeps the snapshot its transaction started on and sees the new one after."""

from __future__ import annotations

import datetime as dt
import queue
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows.nightly import nightly
from warehouse.lake import LakeLocation, install_extensions, open_lake

DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
# Only a guard against a hung shell: no test asserts how long anything takes.
ANSWER_TIMEOUT_SECONDS = 120


class DuckDBShell:
    """The DuckDB CLI driven through its pipes, as an analyst would type into it."""

    def __init__(self, location: LakeLocation) -> None:
        self.process = subprocess.Popen(
            [str(DUCKDB_CLI), "-batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read_lines, daemon=True).start()
        self.run(".mode csv\n.headers off")
        self.run(f"{location.attach_statement(read_only=True)};\nuse lake;")

    def _read_lines(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def run(self, statements: str) -> list[str]:
        """Send ``statements``; return the lines they printed, failing on any error."""
        assert self.process.stdin is not None
        sentinel = f"END-{uuid.uuid4().hex}"
        self.process.stdin.write(f"{statements}\nselect '{sentinel}';\n")
        self.process.stdin.flush()
        lines: list[str] = []
        while True:
            line = self._lines.get(timeout=ANSWER_TIMEOUT_SECONDS)
            if line is None:
                raise AssertionError(f"the DuckDB CLI exited: {lines}")
            if line == sentinel:
                break
            lines.append(line)
        errors = [line for line in lines if "Error" in line]
        assert not errors, f"the DuckDB CLI answered {statements!r} with {lines}"
        return lines

    def count(self, table: str) -> int:
        (answer,) = self.run(f"select count(*) from {table};")
        return int(answer)

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module", autouse=True)
def extensions_installed() -> None:
    """The extensions the CLI loads, installed from their wheels (as on a fresh machine)."""
    connection = duckdb.connect()
    try:
        install_extensions(connection)
    finally:
        connection.close()


@pytest.fixture
def shells() -> Iterator[list[DuckDBShell]]:
    """DuckDB CLI processes the test opens; each is stopped at the end, pass or fail."""
    opened: list[DuckDBShell] = []
    yield opened
    for shell in opened:
        shell.close()


def lake_count(data_dir: Path, table: str) -> int:
    connection = open_lake(LakeLocation.in_directory(data_dir), read_only=True)
    try:
        return int(connection.execute(f"select count(*) from {table}").fetchall()[0][0])
    finally:
        connection.close()


def test_a_nightly_run_commits_while_the_cli_reads_and_readers_see_it_after(
    pipeline_env: Path, run_date: dt.date, shells: list[DuckDBShell]
) -> None:
    nightly(date=run_date)
    location = LakeLocation.in_directory(pipeline_env)
    pinned = DuckDBShell(location)
    shells.append(pinned)
    autocommit = DuckDBShell(location)
    shells.append(autocommit)
    pinned.run("begin transaction;")
    count_before = pinned.count("fact_post_metrics")
    assert autocommit.count("fact_post_metrics") == count_before

    # Two CLIs hold the lake open, one inside a transaction: the run neither waits nor fails.
    summary = nightly(date=run_date + dt.timedelta(days=1))

    count_after = lake_count(pipeline_env, "fact_post_metrics")
    assert count_after > count_before
    assert summary.partition_date == run_date + dt.timedelta(days=1)
    assert pinned.count("fact_post_metrics") == count_before
    assert autocommit.count("fact_post_metrics") == count_after
    pinned.run("commit;")
    assert pinned.count("fact_post_metrics") == count_after
    assert pinned.run("select max(observed_date) from fact_post_metrics;") == [
        (run_date + dt.timedelta(days=1)).isoformat()
    ]
