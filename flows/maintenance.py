"""The maintenance flow: compact the lake's small files, expire old snapshots, delete the files
no snapshot needs and the orphans of crashed loads (``warehouse.maintenance``), and the unfinished
landings and work directories that runs killed outright left in the data directory.

Scheduled weekly (``prefect.yaml``). With a SQLite catalog it takes the ``warehouse-writer`` slot
like any other writer; with PostgreSQL it runs beside the loads, and leaves alone files younger
than ``INFLUENCERS_ORPHAN_MIN_AGE_HOURS``, which a running load may still be about to commit.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.nightly import warehouse_writer
from flows.settings import Settings, load_settings
from flows.validation import discard_abandoned_work
from sources.landing import discard_partial_landings
from warehouse.lake import open_lake
from warehouse.maintenance import MaintenanceReport, maintain


@flow(name="maintenance", log_prints=True)
def maintenance(
    retention_days: int | None = None, orphan_min_age_hours: float | None = None
) -> MaintenanceReport:
    """Compact, expire and clean the lake.

    Args:
        retention_days: keep snapshots (time travel) this many days (default:
            INFLUENCERS_SNAPSHOT_RETENTION_DAYS, 90).
        orphan_min_age_hours: delete unrecorded files only when older than this (default:
            INFLUENCERS_ORPHAN_MIN_AGE_HOURS, 6).
    """
    settings = load_settings()
    if retention_days is None:
        retention_days = settings.snapshot_retention_days
    if orphan_min_age_hours is None:
        orphan_min_age_hours = settings.orphan_min_age_hours
    retention = dt.timedelta(days=retention_days)
    orphan_min_age = dt.timedelta(hours=orphan_min_age_hours)
    with warehouse_writer(settings.lake):
        connection = open_lake(settings.lake)
        try:
            report = maintain(
                connection,
                settings.lake.data_path,
                retention=retention,
                orphan_min_age=orphan_min_age,
            )
        finally:
            connection.close()
    abandoned = _discard_what_killed_runs_left(settings, orphan_min_age)
    get_run_logger().info("maintenance: %s; %s", report.summary(), abandoned)
    create_markdown_artifact(
        key="lake-maintenance",
        markdown=f"# Lake maintenance\n\n{report.summary()}; {abandoned}\n",
        description="What the weekly maintenance of the lake removed",
    )
    return report


def _discard_what_killed_runs_left(settings: Settings, min_age: dt.timedelta) -> str:
    """Delete the unfinished landings and work directories of runs killed outright, older than
    ``min_age`` (as the lake's orphans); say what went."""
    older_than = dt.datetime.now(dt.UTC) - min_age
    landings = discard_partial_landings(settings.raw_dir, older_than)
    work = discard_abandoned_work(settings.work_dir, older_than)
    return (
        f"deleted {len(landings)} files of unfinished landings and {len(work)} work "
        "directories of killed runs"
    )
