"""Validate + transform + load of one day at SF = 0.1, 1 and 10, against the floor and the usual
alternative, on the same files in the same run.

For each scale factor the landing is generated first (``bench/scale.py``, cached), then each
loader of ``bench/loaders.py`` runs in a process of its own on a new lake: ``floor`` (DuckDB
alone, ``insert ... select`` from ``read_json``), ``ours`` (the nightly flow's steps) and, at the
scales where it finishes in reasonable time, ``alternative`` (pandas, Pandera's pandas backend and
``executemany``). Reported per run: the seconds from the first read of the landing to the commit
(the loader's own clock, without interpreter start and imports), the wall time of the process,
and the peak RSS of its process tree. The loaders must agree on the rows each fact table holds.

    .venv/bin/python -m bench.pipeline --sf 0.1 --sf 1 --sf 10 --write
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from typing import Any

from bench.measure import load_average, machine, run_measured, write_section
from bench.scale import accounts_at, landing

SCALES = (0.1, 1.0, 10.0)
QUICK_SCALES = (0.001,)
# pandas + executemany loads about 450 rows a second into the lake: SF=0.1 (about 230,000 rows)
# takes minutes, SF=1 would take hours.
ALTERNATIVE_SCALES = (0.01, 0.1)
ALTERNATIVE_TIMEOUT_SECONDS = 3600
LOADERS = ("floor", "ours", "alternative")
FACT_TABLES = ("fact_profile_daily", "fact_post_metrics", "fact_audience_share", "dim_post")
TARGET_VERSUS_FLOOR = 1.5
TARGET_VERSUS_ALTERNATIVE = 50.0
TARGET_PEAK_BYTES = 4 * 2**30


def measure_loader(loader: str, sf: float, repeats: int = 1) -> dict[str, Any]:
    """Run ``loader`` on SF's landing ``repeats`` times, each on a new lake; the median run."""
    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix=f"bench-{loader}-") as lake_dir:
            measured = run_measured(
                [sys.executable, "-m", "bench.loaders", loader, f"{sf:g}", lake_dir],
                timeout=ALTERNATIVE_TIMEOUT_SECONDS if loader == "alternative" else None,
            )
        if measured.exit_code != 0:
            return {
                "loader": loader,
                "sf": sf,
                "failed": "timed out" if measured.timed_out else measured.stderr[-2000:],
                "wall_seconds": measured.seconds,
            }
        result = json.loads(measured.stdout.strip().splitlines()[-1])
        runs.append(
            {
                "loader": loader,
                "sf": sf,
                "seconds": result["seconds"],
                "wall_seconds": measured.seconds,
                "peak_rss_bytes": measured.peak_rss_bytes,
                "rows": result["rows"],
            }
        )
    runs.sort(key=lambda run: run["seconds"])
    median = dict(runs[len(runs) // 2])
    median["runs_seconds"] = [run["seconds"] for run in runs]
    return median


def run(
    quick: bool = False,
    scales: tuple[float, ...] = SCALES,
    alternative_scales: tuple[float, ...] = ALTERNATIVE_SCALES,
    repeats: int = 3,
) -> dict[str, Any]:
    """Each loader at each of its scales: the median of ``repeats`` runs (the machine's noise is
    some 20 % run to run), one run where a run takes minutes (SF=10, the alternative)."""
    if quick:
        scales, alternative_scales, repeats = QUICK_SCALES, QUICK_SCALES, 1
    results: dict[str, Any] = {"machine": machine(), "runs": [], "load_averages": []}
    for sf in sorted(set(scales) | set(alternative_scales)):
        landed = landing(sf)
        results.setdefault("landings", []).append(
            {
                "sf": sf,
                "accounts": landed.accounts,
                "posts": landed.records("media"),
                "audience": landed.records("audience"),
            }
        )
        for loader in LOADERS:
            if loader == "alternative" and sf not in alternative_scales:
                continue
            if loader != "alternative" and sf not in scales:
                continue
            results["load_averages"].append(load_average())
            times = 1 if loader == "alternative" or sf >= 10 else repeats
            measured = measure_loader(loader, sf, times)
            results["runs"].append(measured)
            print(_line(measured), flush=True)
    results["checks"] = checks(results)
    return results


def _line(run: dict[str, Any]) -> str:
    if "failed" in run:
        return f"SF={run['sf']:g} {run['loader']}: FAILED {run['failed'][-300:]}"
    return (
        f"SF={run['sf']:g} {run['loader']}: {run['seconds']:.1f} s "
        f"(wall {run['wall_seconds']:.1f} s), peak {run['peak_rss_bytes'] / 2**20:,.0f} MiB"
    )


def _by(results: dict[str, Any]) -> dict[tuple[str, float], dict[str, Any]]:
    return {(run["loader"], run["sf"]): run for run in results["runs"] if "failed" not in run}


def checks(results: dict[str, Any]) -> dict[str, Any]:
    """The targets, and whether the loaders agree on the rows of every fact table."""
    by = _by(results)
    scales = sorted({sf for _, sf in by})
    found: dict[str, Any] = {"rows_agree": True}
    for sf in scales:
        loaded = [by[(loader, sf)]["rows"] for loader in LOADERS if (loader, sf) in by]
        for table in FACT_TABLES:
            if len({rows[table] for rows in loaded}) > 1:
                found["rows_agree"] = False
    largest = max((sf for sf in scales if ("ours", sf) in by and ("floor", sf) in by), default=None)
    if largest is not None:
        ours, floor = by[("ours", largest)], by[("floor", largest)]
        found["versus_floor"] = {
            "sf": largest,
            "ratio": ours["seconds"] / floor["seconds"],
            "target": TARGET_VERSUS_FLOOR,
        }
        found["peak"] = {
            "sf": largest,
            "bytes": ours["peak_rss_bytes"],
            "target": TARGET_PEAK_BYTES,
        }
    both = [sf for sf in scales if ("ours", sf) in by and ("alternative", sf) in by]
    if both:
        sf = max(both)
        found["versus_alternative"] = {
            "sf": sf,
            "ratio": by[("alternative", sf)]["seconds"] / by[("ours", sf)]["seconds"],
            "target": TARGET_VERSUS_ALTERNATIVE,
        }
    return found


def markdown(results: dict[str, Any]) -> str:
    by = _by(results)
    lines = [
        f"Machine: {results['machine']}. 1-minute load average before the runs: "
        f"{min(results['load_averages']):.1f} to {max(results['load_averages']):.1f}.",
        "",
        "| SF | accounts | posts | audience buckets | floor | ours | ours ÷ floor "
        "| alternative | alternative ÷ ours | peak RSS: floor / ours / alternative |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for landed in results["landings"]:
        sf = landed["sf"]
        floor, ours, alternative = (by.get((loader, sf)) for loader in LOADERS)
        failed = [
            run
            for run in results["runs"]
            if run["sf"] == sf and run["loader"] == "alternative" and "failed" in run
        ]
        alternative_text = (
            f"{alternative['seconds']:,.1f} s"
            if alternative
            else ("did not finish" if failed else "not run")
        )
        lines.append(
            f"| {sf:g} | {accounts_at(sf):,} | {landed['posts']:,} | {landed['audience']:,} "
            f"| {_seconds(floor)} | {_seconds(ours)} "
            f"| {_ratio(ours, floor)} | {alternative_text} | {_ratio(alternative, ours)} "
            f"| {' / '.join(_mib(run) for run in (floor, ours, alternative))} |"
        )
    found = results["checks"]
    lines.append("")
    if "versus_floor" in found:
        target = found["versus_floor"]
        lines.append(
            f"- ours ÷ floor at SF={target['sf']:g}: **{target['ratio']:.2f}x** "
            f"(target ≤ {target['target']:g}x)."
        )
    if "versus_alternative" in found:
        target = found["versus_alternative"]
        lines.append(
            f"- alternative ÷ ours at SF={target['sf']:g}, the largest scale both finish: "
            f"**{target['ratio']:,.0f}x** (target ≥ {target['target']:g}x)."
        )
    if "peak" in found:
        target = found["peak"]
        lines.append(
            f"- peak RSS of ours at SF={target['sf']:g}: "
            f"**{target['bytes'] / 2**30:.2f} GiB** (target < {target['target'] / 2**30:g} GiB)."
        )
    lines.append(
        "- the loaders hold the same rows in every fact table: "
        + ("yes." if found["rows_agree"] else "**NO** (see the JSON below).")
    )
    return "\n".join(lines)


def _seconds(run: dict[str, Any] | None) -> str:
    return "-" if run is None else f"{run['seconds']:,.1f} s"


def _ratio(numerator: dict[str, Any] | None, denominator: dict[str, Any] | None) -> str:
    if numerator is None or denominator is None:
        return "-"
    return f"{numerator['seconds'] / denominator['seconds']:,.2f}x"


def _mib(run: dict[str, Any] | None) -> str:
    return "-" if run is None else f"{run['peak_rss_bytes'] / 2**20:,.0f} MiB"


def chart(results: dict[str, Any]) -> str:
    """An SVG of seconds against accounts, both on log scales, a line per loader."""
    from bench.chart import log_log_lines

    series = {}
    for loader in LOADERS:
        points = [
            (accounts_at(run["sf"]), run["seconds"])
            for run in sorted(results["runs"], key=lambda run: run["sf"])
            if run["loader"] == loader and "failed" not in run
        ]
        if points:
            series[loader] = points
    return log_log_lines(
        series,
        title="Validate + transform + load of one day",
        x_label="accounts (SF x 100,000)",
        y_label="seconds",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sf", type=float, action="append")
    parser.add_argument("--alternative-sf", type=float, action="append")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write", action="store_true")
    arguments = parser.parse_args()
    results = run(
        arguments.quick,
        tuple(arguments.sf or SCALES),
        tuple(arguments.alternative_sf or ALTERNATIVE_SCALES),
        arguments.repeats,
    )
    text = markdown(results)
    print(text)
    if arguments.write:
        write(results)


def write(results: dict[str, Any]) -> None:
    from bench.measure import PERFORMANCE_DOC

    chart_path = PERFORMANCE_DOC.with_name("performance-pipeline.svg")
    chart_path.write_text(chart(results), encoding="utf-8")
    write_section(
        "pipeline",
        markdown(results)
        + f"\n\n![seconds against accounts, per loader]({chart_path.name})\n\n"
        + f"<!-- pipeline-results {json.dumps(results, sort_keys=True)} -->",
    )


if __name__ == "__main__":
    main()
