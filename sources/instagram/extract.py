"""Extracting one night of Instagram: each account's profile, recent media and audience.

Records land as the API sent them, with context keys (``_handle``, ``_as_of``, ...) added; an item
that is not a JSON object lands as ``_not_an_object`` so its contract quarantines it. Judging the
values is the contracts' job, not this module's: it only decides what could not be fetched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sources.extraction import (
    AccountLog,
    AccountRunner,
    ExtractResult,
    Land,
    landed_record,
    published_since,
)
from sources.http import ApiError
from sources.instagram.client import Config, GraphClient, is_permission_error
from sources.roster import TrackedAccount

SOURCE = "instagram"
ENTITIES = ("profiles", "media", "audience")
DEMOGRAPHIC_BREAKDOWNS = ("age", "gender", "country", "city")
GRAPH_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def answers_as_of(config: Config) -> bool:
    """Whether the configured API can answer for a past date (only the simulated one can)."""
    return config.sends_as_of


def extract(
    config: Config, accounts: Iterable[TrackedAccount], as_of: dt.date, land: Land
) -> ExtractResult:
    """Fetch every account as of the end of ``as_of``; land records as they arrive."""
    since = published_since(as_of, config.lookback_days)
    runner = AccountRunner(land, concurrency=config.http.concurrency)
    with GraphClient(config) as client:
        runner.run(
            accounts,
            lambda account, account_log: _fetch_account(
                client, config, account, as_of, since, account_log
            ),
        )
        runner.result.requests_made = client.requests_made
    return runner.result


def _fetch_account(
    client: GraphClient,
    config: Config,
    account: TrackedAccount,
    as_of: dt.date,
    published_since: dt.datetime,
    account_log: AccountLog,
) -> None:
    context = {"_handle": account.handle, "_as_of": as_of.isoformat()}
    account_id = _fetch_profile_and_media(
        client, account.handle, as_of, published_since, context, account_log
    )
    if not (config.fetch_audience and account.connected and account_id):
        return
    audience_context = {**context, "_account_id": account_id}
    for breakdown in DEMOGRAPHIC_BREAKDOWNS:
        try:
            answer = client.follower_demographics(account_id, breakdown, as_of)
        except ApiError as error:
            if is_permission_error(error):
                account_log.note(f"insights permission withdrawn ({error.message})")
                return
            raise error.with_kind(
                error.kind, f"{breakdown} demographics: {error.message}"
            ) from None
        breakdown_context = {**audience_context, "_breakdown": breakdown}
        for result in _demographic_results(answer):
            account_log.emit("audience", landed_record(breakdown_context, result))


def _fetch_profile_and_media(
    client: GraphClient,
    handle: str,
    as_of: dt.date,
    published_since: dt.datetime,
    context: Mapping[str, Any],
    account_log: AccountLog,
) -> str | None:
    """Land the profile and its media pages; return the account id (None if it has none)."""
    cursor: str | None = None
    seen_cursors: set[str] = set()
    account_id: str | None = None
    media_context: dict[str, Any] = {}
    while True:
        discovered = client.business_discovery(handle, as_of, cursor)
        edge = discovered.pop("media", None)
        if cursor is None:
            account_log.emit("profiles", landed_record(context, discovered))
            raw_id = discovered.get("id")
            account_id = raw_id if isinstance(raw_id, str) else None
            media_context = {**context, "_account_id": raw_id}
            username = discovered.get("username")
            if isinstance(username, str) and username.lower() != handle.lower():
                account_log.note(
                    f"answers as {username!r}: renamed? Its rows load under id {raw_id}; update "
                    "the roster"
                )
        if edge is None:
            return account_id
        data = edge.get("data") if isinstance(edge, dict) else edge
        if not isinstance(data, list):
            # Land what came, so the contract says what was wrong with it.
            account_log.emit("media", landed_record(media_context, data))
            account_log.fail_partly("media: the answer's data is not a list; paging stopped")
            return account_id
        for item in data:
            account_log.emit("media", landed_record(media_context, item))
        paging = edge.get("paging") if isinstance(edge, dict) else None
        paging = paging if isinstance(paging, dict) else {}
        if not data or "next" not in paging or _oldest(data) < published_since:
            return account_id
        cursors = paging.get("cursors")
        after = cursors.get("after") if isinstance(cursors, dict) else None
        if not isinstance(after, str) or not after:
            account_log.fail_partly(
                "media paging: a next page without an 'after' cursor; later posts not fetched"
            )
            return account_id
        if after in seen_cursors or after == cursor:
            account_log.fail_partly(
                f"media paging: cursor {after[:24]!r} came back again; later posts not fetched"
            )
            return account_id
        seen_cursors.add(after)
        cursor = after


def _demographic_results(answer: Mapping[str, Any]) -> Iterable[Any]:
    """The result items of a follower_demographics answer, whatever they hold."""
    for metric in _list(answer.get("data")):
        total_value = metric.get("total_value") if isinstance(metric, dict) else None
        breakdowns = total_value.get("breakdowns") if isinstance(total_value, dict) else None
        for block in _list(breakdowns):
            yield from _list(block.get("results") if isinstance(block, dict) else None)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _oldest(page: list[Any]) -> dt.datetime:
    """The oldest parseable timestamp of a page; a page with none never stops paging early."""
    oldest = dt.datetime.max.replace(tzinfo=dt.UTC)
    for item in page:
        if not isinstance(item, dict):
            continue
        try:
            moment = dt.datetime.strptime(str(item.get("timestamp")), GRAPH_TIMESTAMP_FORMAT)
        except ValueError:
            continue
        oldest = min(oldest, moment)
    return oldest
