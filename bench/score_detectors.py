"""Score the tier-drift detectors against the simulated world's ground truth.

After `make demo`, compares `rpt_tier_drift` with `influencers simulator truth` (the archetype of
every account and the date of its jump or crossing) and prints precision and recall per platform:

- bought followers: an account is flagged when any week says `anomalous_growth` (any follower
  jump) or `suspicious_growth` (a jump with no lift in interactions); truth: the `bought`
  archetype;
- outgrowing the tier: flagged when any week says `drifting` or `drifted`; truth: the `riser`
  archetype (a micro creator crossing into macro).

    .venv/bin/python bench/score_detectors.py [--data-dir data]

It reads the lake (``<data-dir>/lake.sqlite`` and ``<data-dir>/lake/``) read-only, so it can run
while a nightly run commits.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from simulator import SimulatedWorld, write_truth
from warehouse.lake import LakeLocation, LakeNotFound, open_lake

DETECTORS = {
    "bought followers (anomalous_growth)": ("bought", "bool_or(anomalous_growth)"),
    "bought followers (suspicious_growth)": ("bought", "bool_or(suspicious_growth)"),
    "outgrowing micro (drifting or drifted)": (
        "riser",
        "bool_or(status in ('drifting', 'drifted'))",
    ),
}


def score(lake: LakeLocation, world: SimulatedWorld) -> list[tuple[str, str, int, int, int]]:
    """(platform, detector, true positives, flagged, actual) per platform and detector."""
    with tempfile.TemporaryDirectory() as work:
        truth_path = Path(work) / "truth.csv"
        write_truth(world, truth_path)
        connection = open_lake(lake, read_only=True)
        try:
            rows = []
            for name, (archetype, flag) in DETECTORS.items():
                rows.extend(
                    (platform, name, hits, flagged, actual)
                    for platform, hits, flagged, actual in connection.execute(
                        f"""
                        with truth as (
                            select platform, lower(handle) as handle, archetype
                            from read_csv(?, header = true, all_varchar = true)
                        ),
                        flags as (
                            select d.platform, lower(r.handle) as handle, {flag} as flagged
                            from rpt_tier_drift d
                            join dim_influencer i using (platform, account_id)
                            join roster r on r.platform = d.platform and (
                                lower(r.handle) = lower(i.handle)
                                or lower(r.handle) = lower(d.account_id)
                                or lower(r.handle) = '@' || lower(i.handle)
                            )
                            group by all
                        )
                        select
                            t.platform,
                            count(*) filter (where f.flagged and t.archetype = ?),
                            count(*) filter (where f.flagged),
                            count(*) filter (where t.archetype = ?)
                        from truth t left join flags f using (platform, handle)
                        group by t.platform order by t.platform
                        """,
                        [str(truth_path), archetype, archetype],
                    ).fetchall()
                )
            return rows
        finally:
            connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("INFLUENCERS_DATA_DIR", "data")),
        help="the data directory of `make demo`, holding lake.sqlite and lake/",
    )
    arguments = parser.parse_args()
    world = SimulatedWorld(
        seed=int(os.environ.get("INFLUENCERS_SIMULATOR_SEED", 7)),
        size=int(os.environ.get("INFLUENCERS_SIMULATOR_SIZE", 200)),
    )
    try:
        scores = score(LakeLocation.in_directory(arguments.data_dir), world)
    except LakeNotFound as error:
        parser.exit(2, f"{error}\n")
    print("| platform | detector | precision | recall | flagged | actual |")
    print("|---|---|---:|---:|---:|---:|")
    for platform, name, hits, flagged, actual in scores:
        precision = f"{hits / flagged:.0%}" if flagged else "n/a"
        recall = f"{hits / actual:.0%}" if actual else "n/a"
        print(f"| {platform} | {name} | {precision} | {recall} | {flagged} | {actual} |")


if __name__ == "__main__":
    main()
