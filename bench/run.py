"""`make bench`: every benchmark of issue 11, its figures written to docs/performance.md.

    make bench              # all parts, at full scale (about an hour on this machine)
    make bench QUICK=1      # every part at a tiny scale: checks the benchmark still works
    .venv/bin/python -m bench.run --only pipeline --only history

Each part is a module of ``bench/`` with ``run(quick) -> dict`` and ``markdown(results) -> str``;
a full run writes each part's table into its section of docs/performance.md (with the raw results
as JSON in a comment), and the pipeline part also draws its chart. A quick run writes nothing: it
fails if any part fails or comes back empty.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from typing import Any

from bench.measure import write_section

PARTS = ("pipeline", "validation_cost", "history", "extraction", "demo_profile")


def run_part(name: str, quick: bool) -> dict[str, Any]:
    module = importlib.import_module(f"bench.{name}")
    started = time.monotonic()
    results: dict[str, Any] = module.run(quick=quick)
    if not results:
        raise RuntimeError(f"bench.{name} returned no results")
    print(f"\n## {name} ({time.monotonic() - started:.0f} s)\n\n{module.markdown(results)}\n")
    if not quick:
        if hasattr(module, "write"):
            module.write(results)
        else:
            write_section(
                name,
                module.markdown(results)
                + f"\n\n<!-- {name}-results {json.dumps(results, sort_keys=True, default=str)} -->",
            )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny scales; write nothing")
    parser.add_argument("--only", action="append", choices=PARTS, help="run only this part")
    arguments = parser.parse_args()
    failed = []
    for name in arguments.only or PARTS:
        try:
            run_part(name, arguments.quick)
        except Exception as error:  # one part failing must not hide the others' figures
            print(f"bench.{name} failed: {type(error).__name__}: {error}", file=sys.stderr)
            failed.append(name)
    if failed:
        print(f"failed parts: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
