"""The maintenance flow also deletes what runs killed outright left beside the lake: unfinished
landings in the raw zone and work directories, once older than the grace age."""

from __future__ import annotations

import os
import time
from pathlib import Path

from flows.maintenance import maintenance

KILLED = "20261018T020000Z-aaaaaa"
RUNNING = "20261018T030000Z-bbbbbb"


def written(path: Path, age_seconds: float = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left by a run")
    moment = time.time() - age_seconds
    for touched in (path, path.parent, path.parent.parent):
        os.utime(touched, (moment, moment))
    return path


def test_unfinished_landings_and_work_of_killed_runs_go_and_a_running_one_stays(
    pipeline_env: Path, all_logs: list[str]
) -> None:
    media = pipeline_env / "raw" / "instagram" / "media" / "date=2026-10-18"
    killed_landing = written(media / f"{KILLED}.jsonl.gz", age_seconds=7200)
    running_landing = written(media / f".{RUNNING}.jsonl.gz.tmp")
    work = pipeline_env / "work"
    killed_work = written(work / KILLED / "instagram" / "fact_profile_daily.parquet", 7200)
    running_work = written(work / RUNNING / "instagram" / "fact_profile_daily.parquet")

    maintenance(orphan_min_age_hours=1)

    assert not killed_landing.exists()
    assert not (work / KILLED).exists() and not killed_work.exists()
    assert running_landing.exists() and running_work.exists()
    assert any(
        "deleted 1 files of unfinished landings and 1 work directories of killed runs" in line
        for line in all_logs
    )
