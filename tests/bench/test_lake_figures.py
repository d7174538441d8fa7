"""bench/lake.py runs end to end on a tiny lake, so the figures in docs/performance.md can be
measured again. No time is asserted: only that every step ran and the section round-trips."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench" / "lake.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_lake", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up while the module executes
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_lake_bench_measures_a_tiny_lake_and_writes_its_section(tmp_path: Path) -> None:
    bench = load_bench()

    figures = bench.measure(bench.SIZES["tiny"], tmp_path)

    accounts = sum(figures.accounts.values())
    assert figures.accounts["instagram"] == 50
    assert figures.fact_rows > 0 and figures.lake_files > 0
    assert [night.platform for night in figures.nights] == ["instagram", "youtube"] * 7
    assert all(night.rows > 0 and night.files_added > 0 for night in figures.nights)
    assert figures.weekly_rows["rpt_weekly_engagement"] == accounts
    assert len(figures.weekly_seconds) == 3
    assert "merged" in figures.maintenance
    assert figures.old_file_bytes > 0 and len(figures.old_copy_seconds) == 3

    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nThe memory section stays.\n", encoding="utf-8")
    bench.write_section([figures], doc)
    # A run that measured no size keeps the stored figures.
    bench.write_section([], doc)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Performance\n\nThe memory section stays.\n")
    assert text.count(bench.BEGIN) == 1 and text.count(bench.END) == 1
    assert "| tiny: 50 instagram + " in text
