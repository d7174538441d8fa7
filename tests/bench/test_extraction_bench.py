"""bench/extraction.py runs end to end in its quick mode, so the extraction figures can be measured
again. No time is asserted: only that every platform was extracted and the table renders."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "extraction.py"
pytestmark = pytest.mark.timeout(120)


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_extraction", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up while the module executes
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_extraction_bench_measures_every_platform_with_and_without_limits() -> None:
    bench = load_bench()

    results = bench.run(quick=True)

    runs = results["runs"]
    assert [(run["platform"], run["limits"]) for run in runs] == [
        ("instagram", "off"),
        ("instagram", "on"),
        ("youtube", "quota"),
        ("tiktok", "off"),
        ("tiktok", "on"),
    ]
    for run in runs:
        assert run["requests"] > 0 and run["fetched"] == run["accounts"] > 0
        assert run["requests"] == run["simulator_requests"]
        assert run["wall_seconds"] > 0 and run["requests_per_second"] > 0
    for run in runs:
        if run["limits"] == "on":
            assert run["allowed_requests_per_second"] > 0
    [youtube] = [run for run in runs if run["platform"] == "youtube"]
    # units_per_account is rounded to 2 decimals
    assert youtube["units_per_account"] * youtube["accounts_per_day"] <= 10_000 * 1.01
    assert sum(youtube["units_by_call"].values()) == youtube["requests"]

    table = bench.markdown(results)
    assert table.startswith("| platform | limits | accounts | requests | wall s |")
    assert table.count("\n| instagram |") == 2 and "\n| youtube | quota |" in table
