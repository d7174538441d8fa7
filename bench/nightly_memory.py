"""Peak memory of a nightly run, extraction and replay, against the simulated platforms.

Runs ``influencers nightly`` as a person would (a fresh process, Prefect's temporary server, the
simulated platforms in a process of their own for large rosters) for each roster size, then
replays the same date, and samples the resident memory of the whole process tree (the run, the
Prefect server and the simulator it starts) every 50 ms. Prints one table; ``--write`` also puts
it into docs/performance.md between its markers.

    .venv/bin/python -m bench.nightly_memory --creators 10000 --creators 50000 --write
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.measure import run_measured, write_section

# A Sunday, so audience demographics are extracted too (the heaviest night of a week).
RUN_DATE = "2026-10-18"


@dataclass
class Measurement:
    creators: int
    mode: str
    seconds: float
    peak_rss_bytes: int
    processes: int
    exit_code: int


def measure(command: list[str], env: dict[str, str], creators: int, mode: str) -> Measurement:
    measured = run_measured(command, env)
    if measured.exit_code != 0:
        sys.stderr.write(measured.stderr[-3000:])
    return Measurement(
        creators,
        mode,
        measured.seconds,
        measured.peak_rss_bytes,
        measured.processes,
        measured.exit_code,
    )


def run(creators: int) -> list[Measurement]:
    influencers = str(Path(sys.executable).with_name("influencers"))
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as work:
        env = {
            **os.environ,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_HOME": str(Path(work) / "prefect"),
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "INFLUENCERS_DATA_DIR": str(Path(work) / "data"),
            "INFLUENCERS_SIMULATOR_SIZE": str(creators),
            "INFLUENCERS_ROSTER_PATH": str(Path(work) / "roster.csv"),
        }
        subprocess.run(
            [influencers, "roster", env["INFLUENCERS_ROSTER_PATH"]],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        nightly = [influencers, "nightly", "--date", RUN_DATE]
        return [
            measure([*nightly, "--mode", "extract"], env, creators, "extract"),
            measure([*nightly, "--mode", "replay"], env, creators, "replay"),
        ]


def table(measurements: list[Measurement]) -> str:
    lines = [
        "| creators | run | wall time | peak RSS of the process tree | RSS per creator | exit |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for m in measurements:
        lines.append(
            f"| {m.creators:,} | {m.mode} | {m.seconds:.0f} s | "
            f"{m.peak_rss_bytes / 2**20:,.0f} MiB ({m.processes} processes) | "
            f"{m.peak_rss_bytes / m.creators / 1024:,.1f} KiB | {m.exit_code} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, action="append", help="Roster size (repeat).")
    parser.add_argument("--write", action="store_true", help="Update docs/performance.md.")
    arguments = parser.parse_args()
    measurements = [m for size in arguments.creators or [10_000] for m in run(size)]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    text = (
        f"Measured {stamp} on this machine (2 cores), date {RUN_DATE} (a Sunday: profiles, "
        "media and audience), with `.venv/bin/python -m bench.nightly_memory "
        + " ".join(f"--creators {m.creators}" for m in measurements if m.mode == "extract")
        + "`.\n\n"
        + table(measurements)
    )
    print(text)
    if arguments.write:
        write_section("nightly-memory", text)


if __name__ == "__main__":
    main()
