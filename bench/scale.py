"""One day's raw landing at scale factor SF, generated from the simulated world's model.

SF=1 is 100,000 Instagram accounts for one day, landed as the extraction lands them (gzipped JSON
lines per entity and a manifest, ``sources/landing.py``):

- every account's profile, as ``business_discovery`` answers it;
- the metrics of its posts published in the 14 days before the night (the lookback the nightly
  run observes again every night);
- the follower demographics (age, gender, country, city) of one seventh of the accounts, taken
  evenly among those that connected: audiences refresh weekly.

The records are the world's own (``simulator.world.SimulatedWorld``: profiles, media, buckets), in
the Graph API's shapes, with the context keys the extraction adds; no HTTP is involved (HTTP is
bounded by the platforms' rate limits and measured by ``bench/extraction.py``). Worker processes
draw slices of the roster; the main process writes them in roster order, so the same SF gives the
same files. A generated landing is kept under ``--data-dir`` and reused.

    .venv/bin/python -m bench.scale --sf 0.1
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import itertools
import json
import multiprocessing
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from simulator.world import BREAKDOWNS, ROSTER_COLUMNS, SimulatedWorld
from sources.extraction import landed_record
from sources.landing import LandedFile, LandingManifest, sha256_of, write_atomically

ACCOUNTS_PER_SF = 100_000
SEED = 11
# The world's anchor: a Sunday, inside its simulated range with a year of history before it.
DAY = dt.date(2026, 11, 1)
LOOKBACK_DAYS = 14
AUDIENCE_SHARE = 1 / 7
SOURCE = "instagram"
ENTITIES = ("profiles", "media", "audience", "failed_accounts")
RUN_ID = "20261102T020000Z-bench0"
CHUNK = 2_000
DEFAULT_DATA_DIR = Path(__file__).resolve().parent / ".data"


@dataclass(frozen=True)
class Landing:
    """A generated landing: its raw directory, manifest and the roster it was drawn for."""

    sf: float
    day: dt.date
    raw_dir: Path
    manifest: LandingManifest
    roster_path: Path

    @property
    def accounts(self) -> int:
        return self.manifest.file_for("profiles").records

    def records(self, entity: str) -> int:
        return self.manifest.file_for(entity).records

    def files(self, entity: str) -> Path:
        return self.raw_dir / self.manifest.file_for(entity).path


def accounts_at(sf: float) -> int:
    return max(1, round(ACCOUNTS_PER_SF * sf))


def landing(sf: float, data_dir: Path = DEFAULT_DATA_DIR, day: dt.date = DAY) -> Landing:
    """The landing of SF for ``day`` under ``data_dir``: generated on first use, then reused."""
    root = data_dir / f"sf={sf:g}" / f"date={day.isoformat()}"
    raw_dir = root / "raw"
    manifest_path = raw_dir / SOURCE / "_manifests" / f"date={day.isoformat()}" / f"{RUN_ID}.json"
    roster_path = root / "roster.csv"
    if not manifest_path.exists():
        _generate(sf, day, raw_dir, roster_path, manifest_path)
    manifest = LandingManifest.from_json(manifest_path.read_text())
    return Landing(sf, day, raw_dir, manifest, roster_path)


def _generate(
    sf: float, day: dt.date, raw_dir: Path, roster_path: Path, manifest_path: Path
) -> None:
    size = accounts_at(sf)
    started = time.perf_counter()
    world = SimulatedWorld(seed=SEED, size=size)
    roster_path.parent.mkdir(parents=True, exist_ok=True)
    with open(roster_path.with_suffix(".tmp"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=ROSTER_COLUMNS)
        writer.writeheader()
        writer.writerows(world.roster_rows())
    os.replace(roster_path.with_suffix(".tmp"), roster_path)

    relative = {
        entity: Path(SOURCE) / entity / f"date={day.isoformat()}" / f"{RUN_ID}.jsonl.gz"
        for entity in ENTITIES
    }
    outputs = {}
    counts = dict.fromkeys(ENTITIES, 0)
    for entity, path in relative.items():
        (raw_dir / path).parent.mkdir(parents=True, exist_ok=True)
        outputs[entity] = gzip.GzipFile(raw_dir / path, "wb", compresslevel=6, mtime=0)
    connected = [creator.connected for creator in world.creators]
    share = min(1.0, AUDIENCE_SHARE * size / max(sum(connected), 1))
    connected_before = [0, *itertools.accumulate(connected)]
    arguments = [
        (SEED, size, day, start, min(start + CHUNK, size), connected_before[start], share)
        for start in range(0, size, CHUNK)
    ]
    global _WORLD
    _WORLD = world  # forked workers inherit the drawn population
    try:
        with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
            for parts in pool.imap(_chunk_lines, arguments):
                for entity, (lines, count) in parts.items():
                    outputs[entity].write(lines)
                    counts[entity] += count
    finally:
        for output in outputs.values():
            output.close()
    files = tuple(
        LandedFile(
            entity=entity,
            path=relative[entity].as_posix(),
            records=counts[entity],
            sha256=sha256_of(raw_dir / relative[entity]),
        )
        for entity in ENTITIES
    )
    manifest = LandingManifest(
        source=SOURCE,
        partition_date=day.isoformat(),
        run_id=RUN_ID,
        landed_at=f"{day + dt.timedelta(days=1)}T02:00:00+00:00",
        files=files,
        extract={"accounts": size, "fetched": size, "failed": 0, "generated_by": "bench.scale"},
    )
    write_atomically(manifest_path, manifest.to_json().encode())
    print(
        f"generated SF={sf:g} ({size:,} accounts, {counts['media']:,} posts, "
        f"{counts['audience']:,} audience buckets) in {time.perf_counter() - started:.0f} s"
    )


_WORLD: SimulatedWorld | None = None


def _chunk_lines(
    arguments: tuple[int, int, dt.date, int, int, int, float],
) -> dict[str, tuple[bytes, int]]:
    """The JSON lines of creators [start, stop) of the world, per entity."""
    global _WORLD
    seed, size, day, start, stop, connected_before, audience_share = arguments
    if _WORLD is None or _WORLD.size != size:
        _WORLD = SimulatedWorld(seed=seed, size=size)
    lines: dict[str, list[str]] = {entity: [] for entity in ENTITIES}
    for entity, record in _records(_WORLD, day, start, stop, connected_before, audience_share):
        lines[entity].append(json.dumps(record, ensure_ascii=False, sort_keys=True))
    return {
        entity: (("\n".join(texts) + "\n").encode() if texts else b"", len(texts))
        for entity, texts in lines.items()
    }


def _records(
    world: SimulatedWorld,
    day: dt.date,
    start: int,
    stop: int,
    connected_before: int,
    audience_per_connected: float,
) -> Iterator[tuple[str, dict]]:
    """The records the extraction would land for creators [start, stop), in its order.

    Audiences go to one seventh of all accounts, spread evenly over the connected ones
    (``audience_per_connected`` of them; ``connected_before`` are connected before ``start``).
    """
    creators = world.creators
    since = (day - dt.timedelta(days=LOOKBACK_DAYS)).isoformat()
    as_of = day.isoformat()
    for creator in creators[start:stop]:
        context = {"_handle": creator.handle, "_as_of": as_of}
        profile = world.profile(creator.handle, day)
        yield "profiles", landed_record(context, profile)
        media_context = {**context, "_account_id": profile["id"]}
        for item in world.media(creator.handle, day):
            if item["timestamp"][:10] < since:
                break
            yield "media", landed_record(media_context, item)
        if not creator.connected:
            continue
        ordinal = connected_before
        connected_before += 1
        if int((ordinal + 1) * audience_per_connected) == int(ordinal * audience_per_connected):
            continue
        for breakdown in BREAKDOWNS:
            breakdown_context = {**media_context, "_breakdown": breakdown}
            for bucket, count in world.demographics(creator.handle, breakdown, day):
                result = {"dimension_values": [bucket], "value": count}
                yield "audience", landed_record(breakdown_context, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sf", type=float, action="append", required=True)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    arguments = parser.parse_args()
    for sf in arguments.sf:
        generated = landing(sf, arguments.data_dir)
        print(
            f"SF={sf:g}: {generated.accounts:,} accounts, {generated.records('media'):,} posts, "
            f"{generated.records('audience'):,} audience buckets under {generated.raw_dir}"
        )


if __name__ == "__main__":
    main()
