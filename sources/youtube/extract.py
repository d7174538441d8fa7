"""Extracting one night of YouTube: each tracked channel's counts and its recent videos.

The roster is read 50 accounts at a time:

1. ``channels.list`` for the batch's channel ids, one call for up to 50 (a channel missing from
   the answer is an account failure, "not found"); ``@handles`` are looked up one call each,
   since ``forHandle`` takes a single handle;
2. per channel, concurrently: its uploads playlist, newest first, page by page until a video
   published before the lookback (a page token that comes back is recorded as a problem of
   that channel; ``playlistNotFound`` is a channel with no uploads, not a failure);
3. ``videos.list`` for those videos, 50 ids a call.

Every call costs quota. When the night's budget cannot pay for the next call, the night stops
cleanly: what was fetched lands (the counts of a batch's channels whose videos were not asked
for yet too), the channels left are recorded as not fetched, and the message says how many are
left for tomorrow. A key the API refuses, or an API not enabled for the key's
project, stops the night at once: no other channel can succeed.

Records land as the API sent them, with context keys (``_handle``, ``_as_of``, and
``_channel_id`` on videos); an item that is not a JSON object lands as ``_not_an_object`` so its
contract quarantines it. Judging the values is the contracts' job, not this module's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sources.extraction import (
    WHAT_TO_DO,
    AccountFailure,
    AccountLog,
    AccountRunner,
    ExtractResult,
    Land,
    batches,
    landed_record,
    published_since,
)
from sources.http import ApiError, FailureKind
from sources.roster import TrackedAccount
from sources.youtube.client import MAX_IDS_PER_CALL, Config, YouTubeClient, is_playlist_not_found

SOURCE = "youtube"
ENTITIES = ("channels", "videos")
# Failures no other channel can escape tonight: one key serves every channel.
STOPS_THE_NIGHT = frozenset({FailureKind.AUTH, FailureKind.QUOTA, FailureKind.NIGHT})
QUOTA_RESET = "midnight Pacific time (08:00 UTC; 07:00 UTC while daylight saving time is on)"


def answers_as_of(config: Config) -> bool:
    """Whether the configured API can answer for a past date (only the simulated one can)."""
    return config.sends_as_of


def extract(
    config: Config, accounts: Iterable[TrackedAccount], as_of: dt.date, land: Land
) -> ExtractResult:
    """Fetch every channel as of the end of ``as_of``; land records as they arrive."""
    since = published_since(as_of, config.lookback_days)
    runner = AccountRunner(land, concurrency=config.http.concurrency)
    with YouTubeClient(config, as_of) as client:
        night = _Night(client, runner, land, as_of, since)
        for batch in batches(accounts, MAX_IDS_PER_CALL):
            if runner.stopped:
                runner.skip(batch)
            else:
                night.fetch_batch(batch)
        result = runner.result
        result.requests_made = client.requests_made
        result.quota_used = client.quota_used
        result.quota_budget = client.quota_budget
    if result.stop_kind is FailureKind.QUOTA:
        result.stopped = quota_stop_message(result)
    return result


def quota_stop_message(result: ExtractResult) -> str:
    """Why the night stopped on quota, and what is left for tomorrow."""
    suffix = f": {WHAT_TO_DO[FailureKind.QUOTA]}"
    reason = (result.stopped or "the YouTube quota is spent").removesuffix(suffix)
    left = sum(1 for failure in result.failures if failure.kind is FailureKind.QUOTA)
    return (
        f"{reason}; {result.quota_used:,} of the night's {result.quota_budget:,} units used. "
        f"{left:,} of {result.accounts:,} channels were not fetched (or only in part) and are "
        f"left for tomorrow: the quota resets at {QUOTA_RESET}{suffix}"
    )


class _Night:
    """One night's extraction: the batches of channel ids, then each channel's videos."""

    def __init__(
        self,
        client: YouTubeClient,
        runner: AccountRunner,
        land: Land,
        as_of: dt.date,
        published_since: dt.datetime,
    ) -> None:
        self._client = client
        self._runner = runner
        self._land = land
        self._as_of = as_of.isoformat()
        self._published_since = published_since

    def fetch_batch(self, batch: list[TrackedAccount]) -> None:
        by_id = [account for account in batch if not account.handle.startswith("@")]
        channels: dict[str, Any] = {}
        batch_failed = False
        if by_id:
            try:
                channels = self._channels_by_id(by_id)
            except ApiError as error:
                if error.kind in STOPS_THE_NIGHT:
                    self._runner.stop(error.kind, error.message)
                failed = error.with_kind(error.kind, f"channels.list: {error.message}")
                for account in by_id:
                    self._runner.fail(account, AccountFailure.from_error(account.handle, failed))
                if self._runner.stopped:
                    self._runner.skip(a for a in batch if a.handle.startswith("@"))
                    return
                batch_failed = True
        to_fetch = []
        for account in batch:
            if account.handle.startswith("@") or account.handle in channels:
                to_fetch.append(account)
            elif not batch_failed:
                self._runner.fail(
                    account,
                    AccountFailure(
                        account.handle,
                        "channel not found: channels.list did not return it (a wrong id, or a "
                        "channel deleted or terminated); check the roster",
                        FailureKind.ACCOUNT,
                        http_status=200,
                    ),
                )
        started: set[int] = set()

        def fetch(account: TrackedAccount, account_log: AccountLog) -> None:
            started.add(id(account))
            self._fetch_channel(account, channels.get(account.handle), account_log)

        self._runner.run(to_fetch, fetch)
        # A night that stopped during the batch leaves channels whose counts came in the
        # batch's answer but whose videos were never asked for: their counts land all the same.
        not_started = [
            account
            for account in to_fetch
            if id(account) not in started and account.handle in channels
        ]
        for account in not_started:
            context = {"_handle": account.handle, "_as_of": self._as_of}
            self._land("channels", landed_record(context, channels[account.handle]))
        if not_started:
            self._runner.result.notes.append(
                f"{len(not_started)} channels' counts landed without their videos: the night "
                "stopped before their videos were fetched"
            )

    def _channels_by_id(self, accounts: list[TrackedAccount]) -> dict[str, Any]:
        """The batch's channel objects by id; items that match no id asked for land as they
        came (their contract quarantines them)."""
        wanted = list(dict.fromkeys(account.handle for account in accounts))
        answer = self._client.channels(wanted)
        asked = set(wanted)
        items = _items(answer, "channels.list")
        found: dict[str, Any] = {}
        for item in items:
            channel_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(channel_id, str) and channel_id in asked:
                found[channel_id] = item
            else:
                self._land("channels", landed_record({"_as_of": self._as_of}, item))
                self._runner.result.notes.append(
                    f"channels.list answered an item that matches no channel asked for: "
                    f"{str(item)[:80]!r}"
                )
        return found

    def _fetch_channel(
        self, account: TrackedAccount, channel: Any, account_log: AccountLog
    ) -> None:
        try:
            self._fetch_channel_and_videos(account, channel, account_log)
        except ApiError as error:
            if error.kind is FailureKind.AUTH:
                # One key serves every channel: once refused, no other channel can succeed.
                self._runner.stop(error.kind, error.message)
            raise

    def _fetch_channel_and_videos(
        self, account: TrackedAccount, channel: Any, account_log: AccountLog
    ) -> None:
        context = {"_handle": account.handle, "_as_of": self._as_of}
        if channel is None:
            channel = self._channel_for_handle(account.handle)
        account_log.emit("channels", landed_record(context, channel))
        if not isinstance(channel, dict):
            raise ApiError(
                "channels.list item is not a JSON object; landed for quarantine",
                kind=FailureKind.ACCOUNT,
                status=200,
            )
        uploads = _path(channel, "contentDetails", "relatedPlaylists", "uploads")
        if not isinstance(uploads, str) or not uploads:
            account_log.fail_partly(
                "the channel names no uploads playlist (contentDetails.relatedPlaylists.uploads);"
                " its videos were not fetched"
            )
            return
        video_ids, paging_error = self._recent_uploads(uploads, account_log)
        video_context = {**context, "_channel_id": channel.get("id")}
        for chunk in _chunks(video_ids, MAX_IDS_PER_CALL):
            self._fetch_videos(chunk, video_context, account_log)
        if paging_error is not None:
            # The videos found before the paging failed are landed; the account still failed.
            raise paging_error

    def _channel_for_handle(self, handle: str) -> Any:
        items = _items(self._client.channel_for_handle(handle), "channels.list")
        if not items:
            raise ApiError(
                f"channel not found: no channel has the handle {handle} (renamed, or a typo in "
                "the roster)",
                kind=FailureKind.ACCOUNT,
                status=200,
            )
        return items[0]

    def _recent_uploads(
        self, playlist_id: str, account_log: AccountLog
    ) -> tuple[list[str], ApiError | None]:
        """Video ids of the uploads published since the lookback, newest first, and the error
        that cut the paging short (None when it ran to its end)."""
        video_ids: dict[str, None] = {}
        seen_tokens: set[str] = set()
        token: str | None = None
        pages = 0
        while True:
            try:
                page = self._client.uploads_page(playlist_id, token)
            except ApiError as error:
                if token is None and is_playlist_not_found(error):
                    account_log.note("no uploads (playlistNotFound): a channel without videos")
                    return [], None
                where = f"uploads playlist {playlist_id}, page {pages + 1}: {error.message}"
                error = error.with_kind(error.kind, where)
                if error.kind in STOPS_THE_NIGHT or pages == 0:
                    raise error from None
                return list(video_ids), error
            pages += 1
            older_reached = False
            for item in _items(page, "playlistItems.list"):
                details = _path(item, "contentDetails")
                video_id = _path(details, "videoId")
                if not isinstance(video_id, str) or not video_id:
                    account_log.fail_partly(
                        f"uploads playlist {playlist_id}: an item without a videoId "
                        f"({str(item)[:60]!r}); that video was not fetched"
                    )
                    continue
                published = _parse_rfc3339(_path(details, "videoPublishedAt"))
                if published is not None and published < self._published_since:
                    older_reached = True
                    continue
                video_ids[video_id] = None
            next_token = page.get("nextPageToken")
            if older_reached or not isinstance(next_token, str) or not next_token:
                return list(video_ids), None
            if next_token in seen_tokens:
                account_log.fail_partly(
                    f"uploads paging: page token {next_token[:24]!r} came back after {pages} "
                    "pages; later videos were not fetched",
                    code="repeatedPageToken",
                )
                return list(video_ids), None
            seen_tokens.add(next_token)
            token = next_token

    def _fetch_videos(
        self, video_ids: Sequence[str], context: Mapping[str, Any], account_log: AccountLog
    ) -> None:
        answer = self._client.videos(video_ids)
        returned = set()
        for item in _items(answer, "videos.list"):
            account_log.emit("videos", landed_record(context, item))
            if isinstance(item, dict):
                returned.add(item.get("id"))
        missing = [video_id for video_id in video_ids if video_id not in returned]
        if missing:
            account_log.note(
                f"videos.list did not return {len(missing)} of {len(video_ids)} videos "
                f"(private or deleted since?): {', '.join(missing[:5])}"
            )


def _items(answer: Mapping[str, Any], call: str) -> list[Any]:
    """The ``items`` of a list answer; the API leaves the key out when nothing was found."""
    items = answer.get("items", [])
    if not isinstance(items, list):
        raise ApiError(
            f"{call} answer's items is a JSON {type(items).__name__}, not a list",
            kind=FailureKind.ACCOUNT,
            status=200,
        )
    return items


def _path(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _parse_rfc3339(value: Any) -> dt.datetime | None:
    """A publication time; None when it cannot be read (the video is then fetched anyway)."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _chunks(values: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
