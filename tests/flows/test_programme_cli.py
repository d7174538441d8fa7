"""``influencers campaigns check`` and ``load``, on the shipped samples and a real lake."""

import datetime as dt
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows import cli
from sources.programme import DEFAULT_CAMPAIGNS_DIR
from warehouse.lake import LakeLocation, open_lake

TABLES = ("dim_campaign", "collaboration", "collaboration_stage_history")


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("INFLUENCERS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(cli.console, "width", 200)
    return CliRunner()


def lake_contents(tmp_path: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = open_lake(LakeLocation.in_directory(tmp_path / "data"), read_only=True)
    try:
        return {
            table: connection.execute(f"select * from {table} order by all").fetchall()
            for table in TABLES
        }
    finally:
        connection.close()


def broken_copy(tmp_path: Path) -> Path:
    """The samples with a negative fee on the glowco CSV's line 3."""
    directory = tmp_path / "campaigns"
    shutil.copytree(DEFAULT_CAMPAIGNS_DIR, directory)
    csv = directory / "glowco.collaborations.csv"
    csv.write_text(csv.read_text().replace(",500.00,", ",-500,"))
    return directory


def test_check_prints_the_campaigns_by_stage(runner: CliRunner) -> None:
    result = runner.invoke(cli.app, ["campaigns", "check"])

    assert result.exit_code == 0, result.output
    peakform = next(line for line in result.output.splitlines() if "peakform-fall-run" in line)
    cells = [cell.strip() for cell in peakform.split("│")[1:-1]]
    # prospect, contacted, negotiating, active, paused, ended
    assert cells[4:] == ["", "", "", "3", "1", "1"]
    assert "5 campaigns, 18 collaborations: the files are valid." in result.output


def test_check_lists_the_problems_and_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["campaigns", "check", str(broken_copy(tmp_path))])

    assert result.exit_code == 2
    assert "glowco.collaborations.csv line 3: fee: must be ≥ 0 (got -500)" in result.output


def test_load_prints_the_stage_changes_then_nothing_on_a_reload(
    runner: CliRunner, tmp_path: Path
) -> None:
    first = runner.invoke(cli.app, ["campaigns", "load", "--date", "2026-09-01"])

    assert first.exit_code == 0, first.output
    assert "Loaded 5 campaigns and 18 collaborations as of 2026-09-01: 18 stage rows opened, " in (
        first.output
    )
    sarar = next(line for line in first.output.splitlines() if "@sarar_skincare" in line)
    assert [cell.strip() for cell in sarar.split("│")[1:-1]] == [
        "glowco-spring-glow",
        "youtube",
        "@sarar_skincare",
        "(new)",
        "contacted",
    ]
    loaded = lake_contents(tmp_path)

    again = runner.invoke(cli.app, ["campaigns", "load", "--date", "2026-09-08"])
    refused = runner.invoke(cli.app, ["campaigns", "load", str(broken_copy(tmp_path))])
    early = runner.invoke(cli.app, ["campaigns", "load", "--date", "2026-08-01"])

    assert again.exit_code == 0, again.output
    assert "No stage changed as of 2026-09-08." in again.output
    assert refused.exit_code == 2
    assert "fee: must be ≥ 0 (got -500)" in refused.output
    assert early.exit_code == 2
    assert "history only runs forward" in early.output
    assert lake_contents(tmp_path) == loaded


def test_the_weekly_flow_loads_the_campaign_files_in_their_own_commit_first(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.weekly import weekly_reports
    from warehouse.snapshots import list_snapshots

    weekly_reports(week="2026-W38")
    after_w38 = lake_contents(tmp_path)
    weekly_reports(week="2026-W37")  # an earlier week: the history stays as W38 left it
    monkeypatch.setenv("INFLUENCERS_CAMPAIGNS_DIR", str(broken_copy(tmp_path)))
    refused = weekly_reports(week="2026-W39", return_state=True)

    assert refused.is_failed()
    assert "fee: must be ≥ 0 (got -500)" in str(refused.message)
    assert lake_contents(tmp_path) == after_w38
    assert {row[3] for row in after_w38["collaboration_stage_history"]} == {dt.date(2026, 9, 21)}
    connection = open_lake(LakeLocation.in_directory(tmp_path / "data"), read_only=True)
    try:
        messages = list_snapshots(connection)["message"].to_list()
    finally:
        connection.close()
    assert messages[:3] == ["weekly 2026-W37", "weekly 2026-W38", "campaigns 2026-09-21"]
