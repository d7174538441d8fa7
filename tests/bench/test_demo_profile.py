"""bench/demo_profile.py profiles a two-night demo: every moment of its wall time goes to exactly
one part, and each part it names was timed. No time is asserted."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "demo_profile.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_demo_profile", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# Minutes of work: `make test-all` runs it, and CI runs the same quick mode by `make bench QUICK=1`.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_the_demo_profile_attributes_the_whole_wall_time_of_two_nights() -> None:
    bench = load_bench()

    results = bench.run(quick=True)

    parts = results["parts"]
    wall = results["wall_seconds"]
    assert list(parts) == list(bench.PARTS)
    assert all(seconds >= 0 for seconds in parts.values())
    assert sum(parts.values()) == pytest.approx(wall, rel=1e-6)
    # What the child process recorded is covered once by its parts: no moment counted twice or
    # lost; the rest of the wall time is the interpreter's start and exit, timed from outside.
    inside = sum(seconds for part, seconds in parts.items() if part != bench.START_EXIT)
    assert inside == pytest.approx(results["recorded_seconds"], rel=0.01)
    assert parts[bench.START_EXIT] < 0.25 * wall
    assert results["nights"] == 2 and results["nightly_seconds"] > 0
    timed = [
        bench.SERVER,
        bench.FLOW_RUNS,
        *(f"extract: {platform}" for platform in bench.PLATFORMS),
        bench.VALIDATE,
        bench.LOAD,
        bench.SHOP,
    ]
    assert all(parts[part] > 0 for part in timed), parts
    # Two nights are no full week: the demo builds no weekly report.
    assert parts[bench.WEEKLY] == 0
    assert results["flow_runs"] >= 2 and results["task_runs"] >= 2 * 10
    table = bench.markdown(results)
    assert all(f"| {part} |" in table for part in bench.PARTS)
