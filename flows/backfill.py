"""The backfill flow: one nightly run per date, each its own flow run on the work pool.

Different dates extract, validate and load in parallel on whichever workers are free, each load
one commit of the lake. With the default SQLite catalog the commits take turns through the
``warehouse-writer`` global concurrency limit taken inside ``nightly``; a PostgreSQL catalog takes
them at once (docs/scale-out.md). A backfill over dates already loaded changes nothing (each
nightly run replaces its date's rows), and a date that failed can be re-run alone: start a
backfill of that one date.
"""

from __future__ import annotations

import datetime as dt
import time
from enum import StrEnum
from typing import cast
from uuid import UUID

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.runtime import flow_run

from flows.nightly import ExtractMode

NIGHTLY_DEPLOYMENT = "nightly/nightly"
MAX_BACKFILL_DAYS = 400
POLL_SECONDS = 2.0


class BackfillMode(StrEnum):
    """Where a backfilled date's records come from."""

    replay = "replay"  # what already landed (after a logic or contract change)
    extract = "extract"  # fetch again: only sources that answer "as of" a past date can


class Source(StrEnum):
    """Sources the pipeline extracts from (``flows/source_plans.py``)."""

    instagram = "instagram"
    youtube = "youtube"
    tiktok = "tiktok"


class BackfillFailed(RuntimeError):
    """Some dates of a backfill failed; the message lists them for a re-run."""


def dates_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every date from ``start`` to ``end``, both included."""
    if end < start:
        raise ValueError(f"backfill end {end} is before its start {start}")
    days = (end - start).days + 1
    if days > MAX_BACKFILL_DAYS:
        raise ValueError(
            f"a backfill of {days} days is more than {MAX_BACKFILL_DAYS}: split it into ranges"
        )
    return [start + dt.timedelta(days=offset) for offset in range(days)]


def _flow_run_name() -> str:
    parameters = flow_run.parameters
    return f"backfill-{parameters.get('start')}-to-{parameters.get('end')}"


@flow(name="backfill", flow_run_name=_flow_run_name, log_prints=True)
def backfill(
    start: dt.date,
    end: dt.date,
    mode: BackfillMode = BackfillMode.replay,
    sources: tuple[Source, ...] = (Source.instagram, Source.youtube, Source.tiktok),
) -> dict[str, str]:
    """Start one ``nightly`` run per date on the work pool and wait for all of them.

    Returns each date's final state; fails, listing the dates to re-run, if any date failed.

    Args:
        start: first date to load (UTC).
        end: last date to load (UTC), included.
        mode: replay reloads what already landed; extract fetches the dates again (only from a
            source that can answer "as of" a past date, such as the simulated platforms).
        sources: the sources each nightly run loads (the others are left as they are).
    """
    logger = get_run_logger()
    dates = dates_between(start, end)
    parent = flow_run.id or "local"
    progress = create_progress_artifact(
        progress=0.0,
        key=f"backfill-{start}-to-{end}".lower(),
        description=f"Nightly runs finished, {start} to {end} ({len(dates)} dates)",
    )
    runs = {
        day: run_deployment(
            NIGHTLY_DEPLOYMENT,
            parameters={
                "date": day.isoformat(),
                "mode": ExtractMode(mode.value).value,
                "sources": [source.value for source in sources],
            },
            flow_run_name=f"nightly-{day.isoformat()}",
            timeout=0,
            # One key per backfill run and date: a retried backfill does not start a date twice,
            # while a new backfill of the same dates (a deliberate re-run) gets new runs.
            idempotency_key=f"backfill-{parent}-{day.isoformat()}",
            tags=["backfill", *(source.value for source in sources)],
        )
        for day in dates
    }
    logger.info("started %s nightly runs for %s .. %s (%s)", len(runs), start, end, mode.value)
    # Called from a sync flow, these Prefect helpers return values, not coroutines.
    states = _wait_for(cast(dict[dt.date, FlowRun], runs), cast(UUID, progress))
    failed = sorted(day for day, state in states.items() if state != "COMPLETED")
    if failed:
        raise BackfillFailed(
            f"{len(failed)} of {len(dates)} dates did not complete: "
            + ", ".join(f"{day} ({states[day]})" for day in failed)
            + ". Re-run them alone with a backfill of just those dates."
        )
    return {day.isoformat(): state for day, state in sorted(states.items())}


def _wait_for(runs: dict[dt.date, FlowRun], progress_id: UUID) -> dict[dt.date, str]:
    """Poll the nightly runs until every one is final, updating the progress artifact."""
    pending = {day: run.id for day, run in runs.items()}
    states: dict[dt.date, str] = {}
    with get_client(sync_client=True) as client:
        while pending:
            for day, run_id in list(pending.items()):
                state = client.read_flow_run(run_id).state
                if state is not None and state.is_final():
                    states[day] = state.type.value
                    del pending[day]
            update_progress_artifact(progress_id, progress=100.0 * len(states) / len(runs))
            if pending:
                time.sleep(POLL_SECONDS)
    return states
