"""What an analyst runs against the lake: ``influencers sql`` (a rich table, or the whole result
as CSV or Parquet; never a write), ``influencers snapshots`` and time travel to an earlier
snapshot, and ``make sql`` (the DuckDB CLI attached read-only)."""

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import duckdb
import polars as pl
import pytest
from test_load import partition
from typer.testing import CliRunner

from flows import cli
from warehouse.analyst import QueryRefused, check_read_only
from warehouse.lake import LakeLocation, open_lake
from warehouse.load import load_partition
from warehouse.reports import build_weekly_reports
from warehouse.snapshots import list_snapshots

REPO = Path(__file__).parents[2]
WEEK_START = dt.date(2026, 11, 16)  # Monday of 2026-W47
WEEK = [WEEK_START + dt.timedelta(days=offset) for offset in range(7)]
SUNDAY = WEEK[-1]
FOLLOWERS = {day: 50_000 + 100 * offset for offset, day in enumerate(WEEK)}
CORRECTED_SUNDAY_FOLLOWERS = 60_000
PROFILE_QUERY = "select snapshot_date, followers from fact_profile_daily order by snapshot_date"


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A week loaded night by night and its report built; then Sunday re-loaded with a
    correction and the week rebuilt, so that the first report lives on only in a snapshot."""
    directory = tmp_path_factory.mktemp("analyst") / "data"
    connection = open_lake(LakeLocation.in_directory(directory))
    try:
        for day, followers in FOLLOWERS.items():
            load_partition(connection, partition(day, followers))
        build_weekly_reports(connection, WEEK_START)
        load_partition(connection, partition(SUNDAY, CORRECTED_SUNDAY_FOLLOWERS))
        build_weekly_reports(connection, WEEK_START)
    finally:
        connection.close()
    return directory


@pytest.fixture
def lake(lake_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The settings point at the lake; rich draws as wide as a big terminal."""
    monkeypatch.setenv("INFLUENCERS_DATA_DIR", str(lake_dir))
    monkeypatch.setattr(cli.console, "width", 400)
    return lake_dir


@pytest.fixture(scope="module")
def as_built(lake_dir: Path) -> tuple[list[int], list[tuple[object, ...]]]:
    return lake_state(lake_dir)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def table_rows(output: str) -> list[list[str]]:
    """The cells of each row of the rich table in ``output`` (header first); a cell that
    wrapped keeps its first line."""
    rows = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if line.startswith(("┃", "│")) and cells and cells[0]:
            rows.append(cells)
    return rows


def lake_state(directory: Path) -> tuple[list[int], list[tuple[object, ...]]]:
    """The lake's snapshot ids (any write to a lake commits a new one) and a table's rows."""
    connection = open_lake(LakeLocation.in_directory(directory), read_only=True)
    try:
        return (
            list_snapshots(connection)["snapshot_id"].to_list(),
            connection.execute("select * from fact_profile_daily order by all").fetchall(),
        )
    finally:
        connection.close()


def test_a_query_prints_its_rows_as_a_table(lake: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli.app, ["sql", PROFILE_QUERY])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("┏")
    assert [[line.strip() for line in result.output.splitlines()[1].split("┃")[1:-1]]] == [
        ["snapshot_date", "followers"]
    ]
    assert table_rows(result.output) == [
        [day.isoformat(), str(FOLLOWERS[day])] for day in WEEK[:-1]
    ] + [[SUNDAY.isoformat(), str(CORRECTED_SUNDAY_FOLLOWERS)]]


def test_a_long_result_shows_its_first_rows_and_says_how_to_get_them_all(
    lake: Path, runner: CliRunner
) -> None:
    result = runner.invoke(cli.app, ["sql", PROFILE_QUERY, "--max-rows", "3"])

    assert result.exit_code == 0, result.output
    assert WEEK[2].isoformat() in result.output
    assert WEEK[3].isoformat() not in result.output
    assert "(first 3 rows;" in result.output
    assert "--format csv --output FILE" in result.output


@pytest.mark.parametrize(
    ("output_format", "query"),
    [
        ("csv", PROFILE_QUERY),
        ("parquet", PROFILE_QUERY),
        ("csv", f"{PROFILE_QUERY}; -- the week, corrected Sunday included"),
        ("parquet", f"-- each day\n{PROFILE_QUERY}\n-- done\n"),
        ("csv", "from fact_profile_daily select snapshot_date, followers order by all;;"),
    ],
    ids=["csv", "parquet", "semicolon-and-comment", "comment-lines", "from-first"],
)
def test_an_export_writes_every_row_of_the_result(
    lake: Path, runner: CliRunner, tmp_path: Path, output_format: str, query: str
) -> None:
    output = tmp_path / "out" / f"profiles.{output_format}"

    # `--` ends the options: a query may start with a `-- comment`.
    result = runner.invoke(
        cli.app, ["sql", "--format", output_format, "--output", str(output), "--", query]
    )

    assert result.exit_code == 0, result.output
    assert f"7 rows written to {output}" in result.output
    written = (
        pl.read_csv(output, try_parse_dates=True)
        if output_format == "csv"
        else (pl.read_parquet(output))
    )
    assert written.rows() == [
        (day, CORRECTED_SUNDAY_FOLLOWERS if day == SUNDAY else FOLLOWERS[day]) for day in WEEK
    ]


def test_a_pivot_is_one_query_and_exports(lake: Path, runner: CliRunner, tmp_path: Path) -> None:
    # DuckDB's parser makes a PIVOT into two statements (a CREATE TYPE, then the SELECT).
    query = "pivot fact_profile_daily on platform using max(followers) group by account_id"
    output = tmp_path / "pivot.csv"

    shown = runner.invoke(cli.app, ["sql", query])
    exported = runner.invoke(cli.app, ["sql", query, "--format", "csv", "--output", str(output)])

    assert shown.exit_code == 0, shown.output
    assert str(CORRECTED_SUNDAY_FOLLOWERS) in shown.output
    assert exported.exit_code == 0, exported.output
    assert "1 rows written" in exported.output
    assert pl.read_csv(output).rows() == [(1, CORRECTED_SUNDAY_FOLLOWERS)]


WRITES = {
    "insert": "insert into roster values ('instagram', 'x', false, null, null)",
    "update": "update fact_profile_daily set followers = 0",
    "delete": "delete from fact_profile_daily",
    "create": "create table lake.scratch as select 1 as one",
    "drop": "drop table fact_profile_daily",
    "copy": "copy fact_profile_daily to '{tmp}/copied.csv'",
    "attach": "attach '{tmp}/other.duckdb' as other",
    "set": "set threads = 1",
    "two-statements": "select 1; delete from fact_profile_daily",
    "explain-analyze-copy": "explain analyze copy (select 1) to '{tmp}/explained.csv'",
    "maintenance-call": "call ducklake_expire_snapshots('lake', older_than => now())",
}


@pytest.mark.parametrize("statement", list(WRITES.values()), ids=list(WRITES))
def test_a_write_is_refused_and_the_lake_is_unchanged(
    lake: Path,
    as_built: tuple[list[int], list[tuple[object, ...]]],
    runner: CliRunner,
    tmp_path: Path,
    statement: str,
) -> None:
    result = runner.invoke(cli.app, ["sql", statement.format(tmp=tmp_path)])

    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert "only reads" in result.output or "exactly one query" in result.output
    assert "Traceback" not in result.output
    assert lake_state(lake) == as_built
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("statement", list(WRITES.values()), ids=list(WRITES))
def test_a_write_is_refused_as_an_export_too(
    lake: Path, runner: CliRunner, tmp_path: Path, statement: str
) -> None:
    output = tmp_path / "result.csv"

    result = runner.invoke(
        cli.app,
        ["sql", statement.format(tmp=tmp_path), "--format", "csv", "--output", str(output)],
    )

    assert result.exit_code == 2, result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "query",
    [
        "select 1",
        "with x as (select 2) select * from x",
        "from roster",
        "describe roster",
        "show tables",
        "summarize roster",
        "explain select * from roster",
        "explain analyze select * from roster",
        "explain (select 1) union (select 2)",
        "values (1), (2)",
        "select 1; -- a comment",
    ],
)
def test_queries_are_read_only(query: str) -> None:
    assert check_read_only(query) == query


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "give a query"),
        ("selec 1", "does not parse"),
        ("explain analyze insert into roster select * from roster", "INSERT statement"),
        ("create type mood as enum ('ok'); select 1", "not 2 statements"),
    ],
    ids=["empty", "typo", "explain-analyze-insert", "create-and-select"],
)
def test_what_is_not_one_query_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(QueryRefused, match=message):
        check_read_only(text)


def test_a_failing_query_says_so_without_a_traceback(lake: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli.app, ["sql", "select no_such_column from roster"])

    assert result.exit_code == 2
    assert result.output.startswith("error: the query failed:")
    assert "no_such_column" in result.output


@pytest.mark.parametrize(
    "arguments",
    [["sql", "select 1"], ["snapshots"], ["sql", "--print-attach"]],
    ids=["sql", "snapshots", "print-attach"],
)
def test_without_a_lake_each_command_says_to_run_the_pipeline_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner: CliRunner, arguments: list[str]
) -> None:
    monkeypatch.setenv("INFLUENCERS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(cli.console, "width", 400)

    result = runner.invoke(cli.app, arguments)

    assert result.exit_code == 2
    assert f"no lake at {tmp_path / 'data' / 'lake.sqlite'} yet" in result.output
    assert "run `influencers nightly` (or `make demo`) first" in result.output
    assert not (tmp_path / "data").exists()


def test_snapshots_lists_every_commit_with_its_run(lake: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli.app, ["snapshots", "--limit", "100"])

    assert result.exit_code == 0, result.output
    messages = [row[2] for row in table_rows(result.output)]
    assert messages[:4] == [
        "weekly 2026-W47",
        f"nightly instagram_graph {SUNDAY}",
        "weekly 2026-W47",
        f"nightly instagram_graph {SUNDAY}",
    ]
    assert messages[4:10] == [f"nightly instagram_graph {day}" for day in reversed(WEEK[:-1])]
    # The first load of a new lake commits the roster on its own first (warehouse/load.py).
    assert messages[10] == f"roster for nightly instagram_graph {WEEK[0]}"
    assert messages[11].startswith("migrations 001_core_tables, 002_reports")
    assert '"flow": "nightly"' in result.output
    assert f'"date": "{SUNDAY}"' in result.output
    assert '"week": "2026-W47"' in result.output
    assert "at (version => N)" in result.output


def test_last_mondays_report_is_read_at_its_snapshot(lake: Path, runner: CliRunner) -> None:
    connection = open_lake(LakeLocation.in_directory(lake), read_only=True)
    listing = list_snapshots(connection)
    connection.close()
    weekly = listing.filter(pl.col("message") == "weekly 2026-W47")
    first_report = weekly["snapshot_id"].min()
    assert json.loads(weekly["run"][0])["week"] == "2026-W47"
    query = "select account_id, week_start, followers_end from rpt_weekly_engagement"

    then = runner.invoke(cli.app, ["sql", f"{query} at (version => {first_report})"])
    now = runner.invoke(cli.app, ["sql", query])

    assert then.exit_code == 0, then.output
    assert table_rows(then.output) == [["1", str(WEEK_START), str(FOLLOWERS[SUNDAY])]]
    assert now.exit_code == 0, now.output
    assert table_rows(now.output) == [["1", str(WEEK_START), str(CORRECTED_SUNDAY_FOLLOWERS)]]


def test_print_attach_gives_the_statement_that_reads_the_lake(
    lake: Path, runner: CliRunner
) -> None:
    result = runner.invoke(cli.app, ["sql", "--print-attach"])

    assert result.exit_code == 0, result.output
    statement = result.output.strip()
    assert statement == LakeLocation.in_directory(lake).attach_statement(read_only=True)
    connection = duckdb.connect()
    try:
        connection.execute(statement)
        assert connection.execute("select count(*) from lake.fact_profile_daily").fetchall() == [
            (7,)
        ]
        with pytest.raises(duckdb.Error, match="read-only"):
            connection.execute("delete from lake.fact_profile_daily")
    finally:
        connection.close()


def make_sql(data_dir: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", "sql"],
        cwd=REPO,
        input=stdin,
        env={**_clean_env(), "INFLUENCERS_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _clean_env() -> dict[str, str]:
    # The MAKEFLAGS of a `make test` around this test would be the inner make's.
    return {name: value for name, value in os.environ.items() if not name.startswith("MAKE")}


def test_make_sql_opens_the_duckdb_cli_on_the_lake_read_only(lake: Path) -> None:
    result = make_sql(
        lake,
        ".mode csv\n.headers off\n"
        f"select followers from fact_profile_daily where snapshot_date = '{SUNDAY}';\n"
        "delete from fact_profile_daily;\n",
    )

    assert result.stdout.splitlines() == [str(CORRECTED_SUNDAY_FOLLOWERS)]
    assert "read-only" in result.stderr


def test_make_sql_without_a_lake_says_to_run_make_demo(tmp_path: Path) -> None:
    result = make_sql(tmp_path / "data", "select 1;\n")

    assert result.returncode != 0
    assert "make demo" in result.stderr
    assert not (tmp_path / "data").exists()
