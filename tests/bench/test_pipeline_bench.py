"""The benchmark's quick mode: the three loaders load the same tiny landing into the same rows."""

from __future__ import annotations

from bench.pipeline import LOADERS, markdown, run


def test_the_quick_pipeline_benchmark_runs_every_loader_and_they_agree() -> None:
    results = run(quick=True)

    assert [run_["loader"] for run_ in results["runs"]] == list(LOADERS)
    assert all("failed" not in run_ for run_ in results["runs"])
    assert results["checks"]["rows_agree"]
    profiles = {run_["rows"]["fact_profile_daily"] for run_ in results["runs"]}
    assert profiles == {results["landings"][0]["accounts"]}
    assert "| 0.001 | 100 |" in markdown(results)
