"""The pipeline killed with SIGKILL at each of its kill points (``warehouse/crashpoints.py``).

Every case runs one step of the pipeline (a night, a weekly build, a maintenance pass) in a child
process that kills itself at a named point, on a copy of the lake as it stood before that step.
Then:

- the lake opens: read-only for a reader at once, read-write for the re-run;
- a reader sees the last complete snapshot: the killed lake's snapshots are the first ones of
  the uninterrupted run, and its tables hold what the uninterrupted run's lake held at that
  snapshot (before the step, when the kill came before the step's first commit);
- a re-run of the step (without the kill) brings every table to what the uninterrupted run gave;
- maintenance (retention 0, no grace age) deletes every file the kill orphaned: afterwards each
  file under the data path is one the current snapshot lists, and the tables are still the same;
  what the kill left beside the lake (a landing without its manifest, a work directory) goes too.

The uninterrupted run is built once per module on the same small roster, step by step, and each
state is kept so that a case starts where its step starts. A lake's catalog records the absolute
path of its data files, so every state is restored to the one data directory the settings name.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import multiprocessing.forkserver
import os
import re
import shutil
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from prefect.settings import PREFECT_API_URL

from flows.accounting import NightlySummary
from flows.maintenance import maintenance
from flows.nightly import nightly
from flows.validation import discard_abandoned_work
from flows.weekly import weekly_reports
from simulator import SimulatedWorld, write_roster
from sources.landing import discard_partial_landings
from warehouse.crashpoints import CRASH_POINTS, ENVIRONMENT_VARIABLE, crash_point
from warehouse.lake import LakeLocation, open_lake
from warehouse.maintenance import maintain

# Eight Instagram accounts and three YouTube channels: a night costs about a second.
WORLD_SIZE = 8
FIRST_NIGHT = dt.date(2026, 10, 17)
NIGHT = dt.date(2026, 10, 18)  # a Sunday: Instagram's audiences are extracted too
WEEK = "2026-W42"  # the week of both nights
# Small validation batches, so a landed file takes several and a kill can fall between two.
BATCH_ROWS = 20
# Columns whose values belong to one run, so a re-run legitimately writes others: run ids, the
# Prefect flow run, the landing (its run id is in the landed file's path) and clock times.
PER_RUN_COLUMNS = {
    "pipeline_runs": ("run_id", "flow_run_id", "landing_run_id", "started_at", "finished_at"),
    "quarantine": ("run_id", "landed_file"),
    "failed_accounts": ("run_id", "landing_run_id"),
    "schema_migrations": ("applied_at",),
}
# The run log grows with every run, the killed one included: compared as a multiset.
RUN_LOG = "pipeline_runs"
RUN_LOG_COLUMNS = (
    "source",
    "partition_date",
    "step",
    "entity",
    "rows_in",
    "rows_valid",
    "rows_quarantined",
    "rows_deduplicated",
    "rows_loaded",
    "status",
    "message",
    "accounts_fetched",
    "accounts_failed",
)
PACKAGE_DIRS = ("flows", "sources", "transforms", "warehouse", "schemas")
CHILD_TIMEOUT_SECONDS = 120
# The killed children are forked from a server that has imported the pipeline once, which
# saves each case the seconds of importing it. (Python 3.11's fork server does not get the test
# directory on its path: each child imports this module, cheaply, on top of the pipeline.)
FORK_SERVER = multiprocessing.get_context("forkserver")
PRELOADED = ["pytest", "flows.nightly", "flows.weekly", "flows.maintenance", "simulator"]

Contents = dict[str, list[tuple[object, ...]]]


@dataclass(frozen=True)
class Step:
    """One step of the pipeline, as the child process runs it and as the test re-runs it."""

    name: str
    run: Callable[[], object]
    # The state of the uninterrupted run that the step starts from.
    starts_from: str


STEPS = {
    "nightly": Step("nightly", lambda: nightly(date=NIGHT), "first night"),
    "weekly": Step("weekly", lambda: weekly_reports(week=WEEK), "nightly"),
    # With no retention every snapshot but the last expires: maintenance has files to delete.
    "maintenance": Step(
        "maintenance", lambda: maintenance(retention_days=0, orphan_min_age_hours=0), "weekly"
    ),
}


@dataclass(frozen=True)
class Kill:
    """A kill point (``name`` or ``name:N``, the N-th pass) in one step, and what it leaves."""

    at: str
    step: str
    # The sources whose landing of the night was complete when the process died: the re-run
    # replays those and extracts the others (a landing without its manifest is never replayed).
    landed: tuple[str, ...] = ()
    # Whether the kill came after Parquet files were written into the lake but before the
    # catalog recorded them, leaving files that maintenance has to delete.
    orphans: bool = False
    # Whether the kill left a landing without its manifest in the raw zone.
    partial_landing: bool = False
    slow: bool = False

    @property
    def point(self) -> str:
        return self.at.partition(":")[0]

    @property
    def id(self) -> str:
        return f"{self.step}-{self.at}"


# The kill points, step by step: each declared point at least once. The night loads Instagram,
# then YouTube; the ``slow`` ones repeat what a neighbour already shows and run in `make test-all`.
KILLS = (
    # Instagram's extraction: 3 accounts landed, in temporary files.
    Kill("extract.after_account:3", "nightly", partial_landing=True),
    # Instagram extracted, no landed file in place yet.
    Kill("landing.before_finish", "nightly", partial_landing=True, slow=True),
    # Instagram's files in place, without their manifest.
    Kill("landing.before_manifest", "nightly", partial_landing=True, slow=True),
    # Two batches of Instagram's profiles written to the work Parquet file.
    Kill("validate.after_batch:2", "nightly", landed=("instagram",)),
    # Instagram's fact_profile_daily work file complete, the posts' not.
    Kill("validate.after_facts_file", "nightly", landed=("instagram",), slow=True),
    # Inside Instagram's transaction: two fact tables written into the lake, uncommitted.
    Kill("load.after_fact_table:2", "nightly", landed=("instagram",), orphans=True),
    # Instagram's whole load written into the lake, the catalog commit not made.
    Kill("commit.before", "nightly", landed=("instagram",), orphans=True, slow=True),
    # Instagram committed, the task not yet returned.
    Kill("commit.after", "nightly", landed=("instagram",)),
    # Instagram committed and its work files removed, YouTube not started.
    Kill("nightly.between_sources", "nightly", landed=("instagram",)),
    # Instagram committed, YouTube's files in place without their manifest.
    Kill("landing.before_manifest:2", "nightly", landed=("instagram",), partial_landing=True),
    # Instagram committed, YouTube's load written into the lake, uncommitted.
    Kill("commit.before:2", "nightly", landed=("instagram", "youtube"), orphans=True, slow=True),
    # The week: two of the three report tables rebuilt in the open transaction.
    Kill("weekly.after_report:2", "weekly", orphans=True, slow=True),
    # The week's reports written into the lake, the catalog commit not made.
    Kill("commit.before", "weekly", orphans=True),
    # The week committed, its HTML report not written.
    Kill("weekly.after_commit", "weekly"),
    # Maintenance: the inlined rows flushed to Parquet and committed, nothing merged.
    Kill("commit.after", "maintenance"),
    # Small files merged (committed), no snapshot expired.
    Kill("maintenance.after_merge", "maintenance", slow=True),
    # Old snapshots expired, their files not deleted.
    Kill("maintenance.after_expire", "maintenance", slow=True),
    # Files no snapshot needs deleted, orphans not yet.
    Kill("maintenance.before_orphans", "maintenance"),
)


@dataclass
class Reference:
    """The uninterrupted run: every state a step starts from, and what each step committed."""

    data_dir: Path
    saved: Path
    # The tables at each snapshot of the steps, and as each step left them.
    contents_at: dict[int, Contents] = field(default_factory=dict)
    snapshots: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    before: dict[str, Contents] = field(default_factory=dict)
    after: dict[str, Contents] = field(default_factory=dict)

    @property
    def lake(self) -> LakeLocation:
        return LakeLocation.in_directory(self.data_dir)

    def save(self, state: str) -> None:
        shutil.copytree(self.data_dir, self.saved / state)

    def restore(self, state: str) -> None:
        shutil.rmtree(self.data_dir)
        shutil.copytree(self.saved / state, self.data_dir)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    """The uninterrupted run of the first night, then the night, the week and maintenance."""
    root = tmp_path_factory.mktemp("crash")
    roster = root / "roster.csv"
    write_roster(roster, SimulatedWorld(size=WORLD_SIZE))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("INFLUENCERS_DATA_DIR", str(root / "data"))
        env.setenv("INFLUENCERS_ROSTER_PATH", str(roster))
        env.setenv("INFLUENCERS_SIMULATOR_SIZE", str(WORLD_SIZE))
        env.setenv("INFLUENCERS_VALIDATION_BATCH_ROWS", str(BATCH_ROWS))
        # The fork server reads Prefect's settings once, when it imports Prefect.
        env.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
        FORK_SERVER.set_forkserver_preload(PRELOADED)
        built = Reference(data_dir=root / "data", saved=root / "saved")
        nightly(date=FIRST_NIGHT)
        built.save("first night")
        with reading(built.lake) as connection:
            earlier = snapshot_list(connection)
            contents = read_tables(connection)
        for step in STEPS.values():
            built.before[step.name] = built.contents_at[earlier[-1][0]] = contents
            step.run()
            with reading(built.lake) as connection:
                built.snapshots[step.name] = snapshot_list(connection)
                contents = read_tables(connection)
                # Maintenance expires the snapshots before its own: nothing to travel back to.
                if step.name != "maintenance":
                    for snapshot_id, _ in built.snapshots[step.name][len(earlier) : -1]:
                        built.contents_at[snapshot_id] = read_tables(connection, snapshot_id)
            built.after[step.name] = built.contents_at[built.snapshots[step.name][-1][0]] = contents
            earlier = built.snapshots[step.name]
            built.save(step.name)
        yield built
    # The fork server the children came from (started by the first kill) ends with the module.
    multiprocessing.forkserver._forkserver._stop()


def test_every_declared_kill_point_is_in_the_code_once_and_killed_here() -> None:
    root = Path(__file__).resolve().parents[2]
    in_code = Counter(
        point
        for directory in PACKAGE_DIRS
        for path in (root / directory).rglob("*.py")
        for point in re.findall(r'crash_point\("([^"]+)"\)', path.read_text(encoding="utf-8"))
    )
    assert sorted(in_code.elements()) == sorted(CRASH_POINTS)
    assert {kill.point for kill in KILLS} == set(CRASH_POINTS)
    default_run = [kill for kill in KILLS if not kill.slow]
    assert len(default_run) >= 10


def test_a_kill_point_that_does_not_exist_is_refused_naming_the_real_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "commit.befor")
    with pytest.raises(ValueError, match=r"'commit\.befor' names no kill point: .*commit\.before"):
        crash_point("commit.before")
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "commit.before:0")
    with pytest.raises(ValueError, match="names no kill point"):
        crash_point("commit.before")
    monkeypatch.delenv(ENVIRONMENT_VARIABLE)
    crash_point("commit.before")


@pytest.mark.parametrize(
    "kill",
    [
        pytest.param(kill, id=kill.id, marks=[pytest.mark.slow] if kill.slow else [])
        for kill in KILLS
    ],
)
def test_a_killed_step_leaves_the_last_snapshot_and_a_rerun_finishes_it(
    kill: Kill, reference: Reference, tmp_path: Path
) -> None:
    step = STEPS[kill.step]
    reference.restore(step.starts_from)
    before = reference.before[step.name]
    log = tmp_path / "killed.log"

    exit_code = run_killed(step, kill.at, log)

    assert exit_code == -signal.SIGKILL, log.read_text()[-3000:]
    with reading(reference.lake) as connection:
        history = snapshot_list(connection)
        seen = read_tables(connection)
    if kill.step == "maintenance":
        # Maintenance changes files and snapshots, never what a table holds.
        assert seen == before
    else:
        assert history == reference.snapshots[kill.step][: len(history)]
        assert seen == reference.contents_at[history[-1][0]]
    partial = partial_landings(reference.data_dir)
    assert bool(partial) is kill.partial_landing

    rerun = step.run()  # which opens the lake read-write

    if isinstance(rerun, NightlySummary):
        nights = rerun.sources.values()
        assert {night.source for night in nights if night.replayed} == set(kill.landed)
        assert not partial & {night.landing_run_id for night in nights}
    connection = open_lake(reference.lake, threads=1)
    try:
        after = read_tables(connection)
        report = maintain(
            connection,
            reference.lake.data_path,
            retention=dt.timedelta(0),
            orphan_min_age=dt.timedelta(0),
        )
        listed = files_of_the_current_snapshot(connection)
        maintained = read_tables(connection)
    finally:
        connection.close()
    expected = reference.after[step.name]
    assert without(after, RUN_LOG) == without(expected, RUN_LOG)
    # The log keeps what the killed run committed, then the re-run's rows: the uninterrupted
    # run's, but with "replayed" for the landings the killed run had completed.
    killed_log = Counter(seen[RUN_LOG]) - Counter(before[RUN_LOG])
    uninterrupted_log = Counter(expected[RUN_LOG]) - Counter(before[RUN_LOG])
    rerun_log = Counter(as_replayed(row, kill.landed) for row in uninterrupted_log.elements())
    assert Counter(after[RUN_LOG]) == Counter(before[RUN_LOG]) + killed_log + rerun_log
    on_disk = {path.resolve() for path in reference.lake.data_path.rglob("*") if path.is_file()}
    assert on_disk == listed
    assert (report.orphans_deleted > 0) is kill.orphans
    assert maintained == after
    # What the maintenance flow also deletes: what the killed run left beside the lake.
    now = dt.datetime.now(dt.UTC)
    assert bool(discard_partial_landings(reference.data_dir / "raw", now)) is kill.partial_landing
    assert bool(discard_abandoned_work(reference.data_dir / "work", now)) is bool(kill.landed)
    assert partial_landings(reference.data_dir) == set()
    assert list(reference.data_dir.rglob("*.tmp")) == []
    assert list((reference.data_dir / "work").iterdir()) == []


def run_killed(step: Step, at: str, log: Path) -> int | None:
    """Run ``step`` in a child process that kills itself at ``at``; return its exit code.

    The child is forked from a process that has already imported the pipeline (multiprocessing's
    fork server), so each case does not pay the imports again. It reads the same settings and
    reports to the same Prefect API (the session's test harness); its output goes to ``log``.
    """
    child = FORK_SERVER.Process(
        target=run_step, args=(step.name, {**os.environ, ENVIRONMENT_VARIABLE: at}, log)
    )
    child.start()
    child.join(timeout=CHILD_TIMEOUT_SECONDS)
    if child.exitcode is None:
        child.kill()
        child.join()
    return child.exitcode


def run_step(step: str, environment: dict[str, str], log: Path) -> None:
    """The child's work: the step, with the test's settings and the kill point set."""
    os.environ.update(environment)
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(output, 1)
    os.dup2(output, 2)
    STEPS[step].run()


@contextmanager
def reading(lake: LakeLocation) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_lake(lake, read_only=True)
    try:
        yield connection
    finally:
        connection.close()


def read_tables(connection: duckdb.DuckDBPyConnection, snapshot_id: int | None = None) -> Contents:
    """Every table of the lake (at a snapshot), sorted, without the columns of one run."""
    tables = connection.execute(
        "select table_name from duckdb_tables() where database_name = 'lake'"
    ).fetchall()
    at = "" if snapshot_id is None else f" at (version => {snapshot_id})"
    contents = {}
    for (table,) in tables:
        excluded = PER_RUN_COLUMNS.get(table)
        columns = f"* exclude ({', '.join(excluded)})" if excluded else "*"
        rows = connection.execute(f"select {columns} from {table}{at} order by all")
        if table == RUN_LOG:
            assert tuple(column[0] for column in rows.description) == RUN_LOG_COLUMNS
        contents[table] = rows.fetchall()
    return contents


def snapshot_list(connection: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    """(id, message) of every snapshot, oldest first."""
    return [
        (int(snapshot_id), str(message))
        for snapshot_id, message in connection.execute(
            "select snapshot_id, coalesce(commit_message, '') from ducklake_snapshots('lake')"
            " order by snapshot_id"
        ).fetchall()
    ]


def files_of_the_current_snapshot(connection: duckdb.DuckDBPyConnection) -> set[Path]:
    """The data and delete files of every table, as the catalog lists them."""
    files: set[Path] = set()
    tables = connection.execute(
        "select table_name from duckdb_tables() where database_name = 'lake'"
    ).fetchall()
    for (table,) in tables:
        for data_file, delete_file in connection.execute(
            "select data_file, delete_file from ducklake_list_files('lake', ?)", [table]
        ).fetchall():
            files.update(Path(path).resolve() for path in (data_file, delete_file) if path)
    return files


def partial_landings(data_dir: Path) -> set[str]:
    """The landing run ids with files in the raw zone (in place or still temporary) but no
    manifest."""
    raw = data_dir / "raw"
    complete = {path.stem for path in raw.glob("*/_manifests/*/*.json")}
    landed = {
        path.name.lstrip(".").split(".")[0]
        for path in raw.glob("*/*/date=*/*")
        if "_manifests" not in path.parts
    }
    return landed - complete


def as_replayed(row: tuple[object, ...], sources: tuple[str, ...]) -> tuple[object, ...]:
    """A run log row as a run that replayed the landing of ``sources`` would have written it."""
    named = dict(zip(RUN_LOG_COLUMNS, row, strict=True))
    if named["step"] == "extract" and named["source"] in sources:
        named["status"] = "replayed"
    return tuple(named.values())


def without(contents: Contents, table: str) -> Contents:
    return {name: rows for name, rows in contents.items() if name != table}
