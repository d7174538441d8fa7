"""Loading the campaign files: ``dim_campaign``, ``collaboration`` and their stage history.

The files are small and edited by hand, so they are read and judged whole
(``sources.programme``) and loaded whole: ``dim_campaign`` and ``collaboration`` are replaced
with the files' content, and ``collaboration_stage_history`` records each stage from the load
date the file first said it. History runs forward only: a load dated before the history's latest
load is refused, since it would rewrite what later loads saw.

Stage history, per (campaign_id, platform, account_id), for a load on day D:
- a stage that differs from the open row's closes it (valid_to = D - 1, the last day it held)
  and opens a row from D; a collaboration new to the file opens its first row;
- a collaboration gone from the file has its open row closed the same way (it may come back:
  a new row opens then);
- several loads on one day: the day's last file wins. A row opened on D is replaced rather than
  closed, and a stage that returns to the one closed at D - 1 reopens that row, so loading file
  A, then B, then A again on one day leaves the history as A alone did.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from schemas.programme import Campaigns
from transforms.imports import resolve_account_ids
from warehouse.load import insert_rows
from warehouse.snapshots import commit

KEY = ("campaign_id", "platform", "account_id")
HISTORY_COLUMNS = (*KEY, "valid_from", "valid_to", "stage")
COLLABORATION_COLUMNS = (
    *KEY,
    "handle",
    "fee",
    "promo_code",
    "utm_content",
    "posts_agreed",
    "stage",
)
# The platform id of a handle the warehouse knows: an id from a platform before a derived
# ``handle:`` one, then the account seen last (as file imports resolve handles).
KNOWN_ACCOUNTS = """
select platform, lower(handle) as handle_key, account_id
from dim_influencer
order by platform, handle_key, account_id like 'handle:%', last_seen_date desc, account_id
"""
LATEST_LOAD = """
select max(greatest(valid_from, coalesce(valid_to + 1, valid_from)))
from collaboration_stage_history
"""
# DuckLake's MERGE takes one UPDATE or DELETE action: deletes go first, on their own.
DELETE_HISTORY_ROWS = """
delete from collaboration_stage_history as history
where exists (
    select 1 from incoming as change
    where change.action = 'delete'
        and history.campaign_id = change.campaign_id
        and history.platform = change.platform
        and history.account_id = change.account_id
        and history.valid_from = change.valid_from
)
"""
UPSERT_HISTORY_ROWS = """
merge into collaboration_stage_history as history
using (select * from incoming where action = 'upsert') as change
on history.campaign_id = change.campaign_id
    and history.platform = change.platform
    and history.account_id = change.account_id
    and history.valid_from = change.valid_from
when matched then update set valid_to = change.valid_to, stage = change.stage
when not matched then insert (campaign_id, platform, account_id, valid_from, valid_to, stage)
    values (change.campaign_id, change.platform, change.account_id, change.valid_from,
            change.valid_to, change.stage)
"""
HISTORY_SCHEMA = {
    "campaign_id": pl.String,
    "platform": pl.String,
    "account_id": pl.String,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "stage": pl.String,
    "action": pl.String,
}


class ProgrammeLoadRefused(ValueError):
    """The campaign files are valid but cannot be loaded as of that date; the message says why
    and what to do."""


@dataclass(frozen=True)
class ProgrammeLoad:
    """What a load of the campaign files changed."""

    as_of: dt.date
    campaigns: int
    collaborations: int
    # One row per collaboration whose stage changed: campaign_id, platform, account_id, handle,
    # from_stage (NULL: new to the file), to_stage (NULL: gone from the file).
    stage_changes: pl.DataFrame
    rows_opened: int
    rows_closed: int


def load_programme(
    connection: duckdb.DuckDBPyConnection,
    campaigns: Campaigns,
    as_of: dt.date,
    run: dict[str, Any] | None = None,
) -> ProgrammeLoad:
    """Load the campaign files' content as of ``as_of``, in one commit ``campaigns <as_of>``."""
    with commit(connection, f"campaigns {as_of}", {"as_of": str(as_of), **(run or {})}):
        return replace_programme(connection, campaigns, as_of)


def latest_programme_load(connection: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The date of the latest load that changed the stage history (``None``: never loaded)."""
    row = connection.execute(LATEST_LOAD).fetchone()
    return row[0] if row else None


def replace_programme(
    connection: duckdb.DuckDBPyConnection, campaigns: Campaigns, as_of: dt.date
) -> ProgrammeLoad:
    """Load the campaign files' content inside the caller's transaction (see the module)."""
    latest = latest_programme_load(connection)
    if latest is not None and as_of < latest:
        raise ProgrammeLoadRefused(
            f"cannot load the campaign files as of {as_of}: the stage history already has "
            f"changes from {latest}, and history only runs forward; load as of {latest} or later"
        )
    collaboration = _with_account_ids(connection, campaigns.collaboration)
    history = connection.execute(
        f"select {', '.join(HISTORY_COLUMNS)} from collaboration_stage_history"
    ).pl()
    changes = stage_history_changes(history, collaboration, as_of)
    _replace_if_changed(connection, "dim_campaign", campaigns.dim_campaign)
    _replace_if_changed(connection, "collaboration", collaboration.select(COLLABORATION_COLUMNS))
    if not changes.is_empty():
        incoming = changes  # noqa: F841  (read by name from the SQL)
        connection.execute(DELETE_HISTORY_ROWS)
        connection.execute(UPSERT_HISTORY_ROWS)
    return ProgrammeLoad(
        as_of=as_of,
        campaigns=campaigns.dim_campaign.height,
        collaborations=collaboration.height,
        stage_changes=_stage_changes(history, collaboration),
        rows_opened=changes.filter(pl.col("valid_to").is_null()).height,
        rows_closed=changes.filter(pl.col("valid_to").is_not_null()).height,
    )


def _with_account_ids(
    connection: duckdb.DuckDBPyConnection, collaboration: pl.DataFrame
) -> pl.DataFrame:
    """The collaborations with their account_id; two handles of one account in one campaign
    (an account renamed, both names in the file) are refused."""
    known = connection.execute(KNOWN_ACCOUNTS).pl().lazy()
    resolved = resolve_account_ids(collaboration.lazy(), known).collect()
    twice = resolved.filter(pl.struct(*KEY).is_duplicated())
    if not twice.is_empty():
        row = twice.row(0, named=True)
        handles = twice.filter(pl.col("account_id") == row["account_id"])["handle"].to_list()
        raise ProgrammeLoadRefused(
            f"campaign {row['campaign_id']!r} lists {row['platform']} {' and '.join(handles)}, "
            f"which are one account ({row['account_id']}, renamed?): keep one line for it"
        )
    return resolved


def stage_history_changes(
    history: pl.DataFrame, collaboration: pl.DataFrame, as_of: dt.date
) -> pl.DataFrame:
    """The rows of ``collaboration_stage_history`` a load on ``as_of`` writes: each with the
    history's columns and ``action`` (``upsert`` by (key, valid_from), or ``delete``).

    ``history`` is the table now; ``collaboration`` has the key and the file's ``stage``.
    """
    day_before = as_of - dt.timedelta(days=1)

    def by_key(rows: pl.DataFrame) -> dict[tuple[str, ...], dict[str, Any]]:
        return {tuple(row[c] for c in KEY): row for row in rows.iter_rows(named=True)}

    open_rows = by_key(history.filter(pl.col("valid_to").is_null()))
    closed_yesterday = by_key(history.filter(pl.col("valid_to") == day_before))
    wanted = {key: row["stage"] for key, row in by_key(collaboration).items()}
    changes: list[dict[str, Any]] = []
    for key in sorted(open_rows.keys() | wanted.keys()):
        current, stage = open_rows.get(key), wanted.get(key)
        if current is not None and current["stage"] == stage:
            continue
        if current is not None and current["valid_from"] == as_of:
            changes.append({**current, "action": "delete"})
        elif current is not None:
            changes.append({**current, "valid_to": day_before, "action": "upsert"})
        previous = closed_yesterday.get(key)
        if stage is None:
            continue
        if previous is not None and previous["stage"] == stage:
            changes.append({**previous, "valid_to": None, "action": "upsert"})
        else:
            identity = dict(zip(KEY, key, strict=True))
            row = {**identity, "valid_from": as_of, "valid_to": None, "stage": stage}
            changes.append({**row, "action": "upsert"})
    return pl.DataFrame(changes, schema=HISTORY_SCHEMA)


def _stage_changes(history: pl.DataFrame, collaboration: pl.DataFrame) -> pl.DataFrame:
    """Per collaboration whose stage the load changes: its stage before and after."""
    before = history.filter(pl.col("valid_to").is_null()).select(*KEY, from_stage="stage")
    after = collaboration.select(*KEY, "handle", to_stage="stage")
    return (
        before.join(after, on=list(KEY), how="full", coalesce=True)
        .filter(pl.col("from_stage").ne_missing(pl.col("to_stage")))
        .select(*KEY, "handle", "from_stage", "to_stage")
        .sort(KEY)
    )


def _replace_if_changed(
    connection: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame
) -> None:
    """Replace ``table`` with ``frame`` unless it already holds exactly that (no new files in
    the lake for a load that changes nothing)."""
    current = connection.execute(f"select {', '.join(frame.columns)} from {table}").pl()
    current = current.cast(dict(frame.schema))  # type: ignore[arg-type]
    if current.sort(pl.all()).equals(frame.sort(pl.all())):
        return
    connection.execute(f"delete from {table}")
    insert_rows(connection, table, frame)
