"""What a night did, in numbers and words: counts, the run log, failed accounts, the verdict.

Pure functions over plain values and Polars frames, so each is tested without Prefect, HTTP or a
database; ``flows/nightly.py`` only wires them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from sources.extraction import AccountFailure, ExtractResult


@dataclass
class EntityCounts:
    """How one entity's records went through one run: landed = loaded + quarantined + deduped."""

    landed: int = 0
    valid: int = 0
    quarantined: int = 0
    deduplicated: int = 0
    loaded: int = 0

    @property
    def reconciles(self) -> bool:
        return self.landed == self.loaded + self.quarantined + self.deduplicated


@dataclass
class SourceNight:
    """One source's part of a nightly run."""

    source: str
    partition_date: dt.date
    landing_run_id: str
    replayed: bool
    extract: Mapping[str, Any]
    counts: dict[str, EntityCounts] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)  # entity -> the table it loads

    @property
    def accounts(self) -> int:
        return int(self.extract.get("accounts", 0))

    @property
    def accounts_failed(self) -> int:
        return int(self.extract.get("failed", 0))

    @property
    def accounts_fetched(self) -> int:
        return int(self.extract.get("fetched", 0))

    @property
    def stopped(self) -> str | None:
        stopped = self.extract.get("stopped")
        return str(stopped) if stopped else None


@dataclass
class NightlySummary:
    """What a nightly run did, for the command line and the flow's return value."""

    partition_date: dt.date
    run_id: str
    sources: dict[str, SourceNight] = field(default_factory=dict)
    roster_problems: list[str] = field(default_factory=list)
    # Where the run committed: the lake's catalog and data path (no password).
    lake: str = ""


def extract_summary(result: ExtractResult) -> dict[str, Any]:
    """What an extraction reported besides records, as the landing manifest keeps it."""
    summary: dict[str, Any] = {
        "accounts": result.accounts,
        "fetched": result.fetched,
        "failed": len(result.failures),
        "requests": result.requests_made,
        "stopped": result.stopped,
        "notes": result.notes[:100],
        "notes_total": len(result.notes),
    }
    if result.quota_budget is not None:
        summary["quota_used"] = result.quota_used
        summary["quota_budget"] = result.quota_budget
    return summary


def failure_records(failures: Iterable[AccountFailure]) -> Iterable[dict[str, Any]]:
    """Failed accounts as landed records (one JSON line each), so a replay reproduces them."""
    for failure in failures:
        yield {
            "handle": failure.handle,
            "reason": failure.reason,
            "failure_kind": failure.kind.value,
            "http_status": failure.http_status,
            "api_error_code": failure.api_error_code,
        }


_QUARANTINE_COLUMNS: dict[str, Any] = {
    "source": pl.String,
    "entity": pl.String,
    "partition_date": pl.Date,
    "run_id": pl.String,
    "raw_record": pl.String,
    "failed_checks": pl.List(pl.String),
    "landed_file": pl.String,
    "line_number": pl.Int32,
}
QUARANTINE_SCHEMA = pl.Schema(_QUARANTINE_COLUMNS)


def quarantine_frame(
    rejected: pl.DataFrame, source: str, entity: str, partition_date: str, landing_run_id: str
) -> pl.DataFrame:
    """``quarantine`` rows of rejected records: each raw record with its reasons and where it
    landed (file and line)."""
    return rejected.select(
        source=pl.lit(source),
        entity=pl.lit(entity),
        partition_date=pl.lit(dt.date.fromisoformat(partition_date)),
        run_id=pl.lit(landing_run_id),
        raw_record="raw_record",
        failed_checks=pl.col("failed_checks").cast(pl.List(pl.String)),
        landed_file="landed_file",
        line_number=pl.col("line_number").cast(pl.Int32),
    ).cast(QUARANTINE_SCHEMA)


_FAILED_ACCOUNTS_COLUMNS: dict[str, Any] = {
    "source": pl.String,
    "partition_date": pl.Date,
    "handle": pl.String,
    "run_id": pl.String,
    "landing_run_id": pl.String,
    "reason": pl.String,
    "failure_kind": pl.String,
    "http_status": pl.Int32,
    "api_error_code": pl.String,
}
FAILED_ACCOUNTS_SCHEMA = pl.Schema(_FAILED_ACCOUNTS_COLUMNS)


def failed_accounts_frame(
    landed_failures: pl.DataFrame, night: SourceNight, run_id: str
) -> pl.DataFrame:
    """``failed_accounts`` rows of one source and date; one row per handle (the last wins)."""
    if landed_failures.is_empty():
        return FAILED_ACCOUNTS_SCHEMA.to_frame()
    return (
        landed_failures.unique(subset=["handle"], keep="last", maintain_order=True)
        .select(
            source=pl.lit(night.source),
            partition_date=pl.lit(night.partition_date),
            handle=pl.col("handle").cast(pl.String),
            run_id=pl.lit(run_id),
            landing_run_id=pl.lit(night.landing_run_id),
            reason=pl.col("reason").cast(pl.String),
            failure_kind=pl.col("failure_kind").cast(pl.String),
            http_status=pl.col("http_status").cast(pl.Int32),
            api_error_code=pl.col("api_error_code").cast(pl.String),
        )
        .cast(FAILED_ACCOUNTS_SCHEMA)
    )


_RUN_LOG_COLUMNS: dict[str, Any] = {
    "run_id": pl.String,
    "flow_run_id": pl.String,
    "landing_run_id": pl.String,
    "source": pl.String,
    "partition_date": pl.Date,
    "step": pl.String,
    "entity": pl.String,
    "rows_in": pl.Int64,
    "rows_valid": pl.Int64,
    "rows_quarantined": pl.Int64,
    "rows_deduplicated": pl.Int64,
    "rows_loaded": pl.Int64,
    "accounts_fetched": pl.Int64,
    "accounts_failed": pl.Int64,
    "status": pl.String,
    "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"),
    "message": pl.String,
}
RUN_LOG_SCHEMA = pl.Schema(_RUN_LOG_COLUMNS)


def run_log_frame(
    night: SourceNight,
    *,
    run_id: str,
    flow_run_id: str | None,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    over_threshold: set[str],
) -> pl.DataFrame:
    """``pipeline_runs`` rows of one source's part of a run: extract, then per entity validate
    and load."""
    common = {
        "run_id": run_id,
        "flow_run_id": flow_run_id,
        "landing_run_id": night.landing_run_id,
        "source": night.source,
        "partition_date": night.partition_date,
        "started_at": started_at,
        "finished_at": finished_at,
    }
    rows: list[dict[str, Any]] = [
        {
            **common,
            "step": "extract",
            "rows_in": night.accounts,
            "accounts_fetched": night.accounts_fetched,
            "accounts_failed": night.accounts_failed,
            "status": _extract_status(night),
            "message": extract_message(night),
        }
    ]
    for entity, counts in night.counts.items():
        rows.append(
            {
                **common,
                "step": "validate",
                "entity": entity,
                "rows_in": counts.landed,
                "rows_valid": counts.valid,
                "rows_quarantined": counts.quarantined,
                "status": "quarantine_exceeded" if entity in over_threshold else "ok",
            }
        )
        rows.append(
            {
                **common,
                "step": "load",
                "entity": night.tables[entity],
                "rows_in": counts.valid,
                "rows_deduplicated": counts.deduplicated,
                "rows_loaded": counts.loaded,
                "status": "ok",
            }
        )
    return pl.DataFrame(rows, schema=RUN_LOG_SCHEMA)


def failed_run_row(
    *,
    run_id: str,
    flow_run_id: str | None,
    source: str,
    partition_date: dt.date,
    step: str,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    message: str,
) -> pl.DataFrame:
    """The one ``pipeline_runs`` row a run that broke leaves behind."""
    row = {
        "run_id": run_id,
        "flow_run_id": flow_run_id,
        "source": source,
        "partition_date": partition_date,
        "step": step,
        "status": "failed",
        "started_at": started_at,
        "finished_at": finished_at,
        "message": message[:2000],
    }
    return pl.DataFrame([row], schema=RUN_LOG_SCHEMA)


def _extract_status(night: SourceNight) -> str:
    if night.replayed:
        return "replayed"
    if night.stopped:
        return "stopped"
    return "accounts_failed" if night.accounts_failed else "ok"


def extract_message(night: SourceNight) -> str | None:
    """The extract step's words: why it stopped, the quota, what the platform noted."""
    parts = []
    if night.stopped:
        parts.append(f"stopped early: {night.stopped}")
    quota = quota_text(night.extract)
    if quota:
        parts.append(quota)
    notes = night.extract.get("notes") or []
    if notes:
        more = int(night.extract.get("notes_total", len(notes))) - len(notes)
        parts.append("notes: " + "; ".join(notes) + (f"; and {more} more" if more > 0 else ""))
    return " | ".join(parts)[:4000] or None


def quota_text(extract: Mapping[str, Any]) -> str | None:
    budget = extract.get("quota_budget")
    if budget is None:
        return None
    used = int(extract.get("quota_used") or 0)
    return (
        f"quota: {used} of {budget} units used, {max(0, int(budget) - used)} left "
        "(YouTube resets it at midnight Pacific time)"
    )


def entities_over_threshold(night: SourceNight, max_share: float) -> set[str]:
    """Entities whose quarantined share of landed records exceeds ``max_share``."""
    return {
        entity
        for entity, counts in night.counts.items()
        if counts.landed and counts.quarantined / counts.landed > max_share
    }


def night_verdict(
    summary: NightlySummary,
    *,
    max_failed_account_share: float,
    max_quarantine_share: float,
    failed_handles: Mapping[str, Sequence[str]],
) -> str | None:
    """Why the night is red (one message naming sources, accounts and what to do), or None.

    A night is red only when the failure is not one account's: a source stopped early (the
    credential, the platform, the quota), too large a share of a source's accounts failed, too
    large a share of an entity was quarantined, or roster lines were refused.
    """
    problems = []
    for source, night in summary.sources.items():
        if night.stopped:
            problems.append(
                f"{source}: stopped early after {night.accounts_fetched} of {night.accounts} "
                f"accounts: {night.stopped}"
                + (f" ({quota_text(night.extract)})" if quota_text(night.extract) else "")
            )
        elif night.accounts and night.accounts_failed / night.accounts > max_failed_account_share:
            handles = list(failed_handles.get(source, ()))
            more = f" and {len(handles) - 10} more" if len(handles) > 10 else ""
            shown = ", ".join(handles[:10]) + more
            problems.append(
                f"{source}: {night.accounts_failed} of {night.accounts} accounts failed "
                f"({night.accounts_failed / night.accounts:.1%}, above "
                f"{max_failed_account_share:.1%}): {shown}. What was fetched is loaded; see "
                f"select handle, reason from failed_accounts where source = '{source}' and "
                f"partition_date = '{night.partition_date}'"
            )
        over = entities_over_threshold(night, max_quarantine_share)
        if over:
            detail = "; ".join(
                f"{entity}: {c.quarantined} of {c.landed} ({c.quarantined / c.landed:.1%})"
                for entity, c in night.counts.items()
                if entity in over
            )
            problems.append(
                f"{source}: quarantined share above {max_quarantine_share:.1%} ({detail}). The "
                "valid records were loaded; inspect the rest with: select entity, "
                "failed_checks, raw_record from quarantine where source = "
                f"'{source}' and partition_date = '{night.partition_date}'"
            )
    if summary.roster_problems:
        problems.append(
            "roster lines refused (the other lines ran): "
            + "; ".join(summary.roster_problems)
            + ". Fix them in the roster file."
        )
    if not problems:
        return None
    return f"{summary.partition_date}: " + " || ".join(problems)


def quarantine_verdict(
    *,
    what: str,
    landed: int,
    loaded: int,
    quarantined: int,
    original_name: str,
    source: str,
    top_reasons: list[tuple[str, int]],
    max_quarantine_share: float,
) -> str | None:
    """Why a file import is red (after loading what was valid), or None: more of its ``what``
    (rows, orders) quarantined than ``max_quarantine_share``."""
    if not landed or quarantined / landed <= max_quarantine_share:
        return None
    return (
        f"{quarantined} of {landed} {what} of {original_name} were quarantined "
        f"({quarantined / landed:.1%}, above {max_quarantine_share:.1%}); the {loaded} valid "
        f"{what} were loaded. Most common reasons: "
        + "; ".join(f"{reason} ({count})" for reason, count in top_reasons[:5])
        + ". See: select line_number, failed_checks, raw_record from quarantine where source = "
        f"'{source}' order by line_number"
    )
