"""Extracting one night of YouTube: each tracked channel's counts and its recent videos.

The roster is read 50 accounts at a time:

1. ``channels.list`` for the batch's channel ids, one call for up to 50 (a channel missing from
   the answer is an account failure, "not found"); ``@handles`` are looked up one call each,
   since ``forHandle`` takes a single handle;
2. per channel, in roster order and a few at once: its uploads playlist, newest first, page by
   page until a video published before the lookback (a page token that comes back is recorded
   as a problem of that channel; ``playlistNotFound`` is a channel with no uploads, not a
   failure);
3. once the batch's channels are paged, ``videos.list`` for all their videos, 50 ids a call
   whichever channels they come from (in roster order): each answer is shared out to the
   channels that asked for its ids. A call that fails fails every channel with ids in it; an id
   it leaves out is noted for its own channel.

Every call costs quota. A channel starts only while the budget left also pays for the videos of
the channels already paged; otherwise, or when the API answers that the quota is spent, the
night stops cleanly: what was fetched lands (the counts of a batch's channels whose videos were
not fetched too), the channels left are recorded as not fetched, and the message says how many
are left for tomorrow. A key the API refuses, or an API not enabled for the key's project, stops
the night at once: no other channel can succeed.

Records land as the API sent them, with context keys (``_handle``, ``_as_of``, and
``_channel_id`` on videos); an item that is not a JSON object lands as ``_not_an_object`` so its
contract quarantines it. Judging the values is the contracts' job, not this module's.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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
    # Every channel of a batch is in the runner at once: they wait for one another's uploads to
    # share videos.list calls; the batch itself keeps to the configured concurrency.
    runner = AccountRunner(land, concurrency=MAX_IDS_PER_CALL)
    with YouTubeClient(config, as_of) as client:
        night = _Night(client, runner, land, as_of, since, config.http.concurrency)
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
    """One night's extraction: the batches of channel ids, each channel's uploads, then the
    videos of a batch's channels, 50 ids a call whichever channels they come from."""

    def __init__(
        self,
        client: YouTubeClient,
        runner: AccountRunner,
        land: Land,
        as_of: dt.date,
        published_since: dt.datetime,
        concurrency: int,
    ) -> None:
        self._client = client
        self._runner = runner
        self._land = land
        self._as_of = as_of.isoformat()
        self._published_since = published_since
        self._concurrency = max(1, concurrency)
        # Set when the night stopped because the budget left pays only for the videos of the
        # channels already paged: those videos are still fetched.
        self._kept_for_videos = False

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
        positions = {id(account): position for position, account in enumerate(to_fetch)}
        videos = _BatchVideos(len(to_fetch), self._concurrency)
        started: set[int] = set()
        without_videos: list[str] = []

        def fetch(account: TrackedAccount, account_log: AccountLog) -> None:
            started.add(id(account))
            self._fetch_channel(
                positions[id(account)],
                account,
                channels.get(account.handle),
                account_log,
                videos,
                without_videos,
            )

        self._runner.run(to_fetch, fetch)
        # A night that stopped during the batch leaves channels whose counts came in the
        # batch's answer but whose videos were never asked for: their counts land all the same.
        for account in to_fetch:
            if id(account) not in started and account.handle in channels:
                context = {"_handle": account.handle, "_as_of": self._as_of}
                self._land("channels", landed_record(context, channels[account.handle]))
                without_videos.append(account.handle)
        if without_videos:
            self._runner.result.notes.append(
                f"{len(without_videos)} channels' counts landed without their videos: the night "
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
        self,
        position: int,
        account: TrackedAccount,
        channel: Any,
        account_log: AccountLog,
        videos: _BatchVideos,
        without_videos: list[str],
    ) -> None:
        """One channel: its counts and uploads while its turn in the batch lasts, then its
        share of the batch's videos.list calls."""
        context = {"_handle": account.handle, "_as_of": self._as_of}
        if not videos.start(position, lambda paging, ids: self._may_start(channel, paging, ids)):
            if channel is not None:
                account_log.emit("channels", landed_record(context, channel))
                without_videos.append(account.handle)
            raise self._stopped_error("not tried")
        uploads: _Uploads | None = None
        try:
            uploads = self._page_channel(position, account, channel, account_log)
        except ApiError as error:
            if error.kind in STOPS_THE_NIGHT:
                # One key serves every channel: once refused, no other channel can succeed.
                self._runner.stop(error.kind, error.message)
            raise
        finally:
            videos.paged(uploads)
        if uploads is None:
            return
        videos.wait(self._fetch_batch_videos, lambda: self._runner.stopped)
        video_context = {**context, "_channel_id": uploads.channel_id}
        for item in uploads.videos:
            account_log.emit("videos", landed_record(video_context, item))
        for item in uploads.strays:
            account_log.emit("videos", landed_record({"_as_of": self._as_of}, item))
            account_log.note(
                f"videos.list answered an item that matches no video asked for: {str(item)[:80]!r}"
            )
        if uploads.missing:
            account_log.note(
                f"videos.list did not return {len(uploads.missing)} of "
                f"{len(uploads.video_ids)} videos (private or deleted since?): "
                f"{', '.join(uploads.missing[:5])}"
            )
        if uploads.error is not None:
            if uploads.error.kind in STOPS_THE_NIGHT:
                without_videos.append(account.handle)
            raise uploads.error
        if uploads.paging_error is not None:
            # The videos found before the paging failed are landed; the account still failed.
            raise uploads.paging_error

    def _may_start(self, channel: Any, paging: int, video_ids: int) -> bool:
        """Whether the next channel of the batch may start: not once the night has stopped,
        nor when the budget left would not pay for its uploads (and its lookup) besides the
        videos of the channels already paged; the night then stops with those videos paid."""
        if self._runner.stopped:
            return False
        videos_calls = max(1, math.ceil(video_ids / MAX_IDS_PER_CALL))
        needed = (1 if channel is not None else 2) + paging + videos_calls
        used, budget = self._client.quota_used, self._client.quota_budget
        if budget - used >= needed:
            return True
        self._kept_for_videos = True
        self._runner.stop(
            FailureKind.QUOTA,
            f"the night's YouTube quota budget of {budget:,} units is spent ({used:,} used, "
            f"the rest kept for the videos of the channels already listed)",
        )
        return False

    def _stopped_error(self, what: str) -> ApiError:
        result = self._runner.result
        return ApiError(
            f"{what}: the night stopped early ({result.stopped})",
            kind=result.stop_kind or FailureKind.NIGHT,
        )

    def _page_channel(
        self, position: int, account: TrackedAccount, channel: Any, account_log: AccountLog
    ) -> _Uploads | None:
        """The channel's counts and the ids of its recent uploads (None when it has no uploads
        playlist or no recent video)."""
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
            return None
        video_ids, paging_error = self._recent_uploads(uploads, account_log)
        if not video_ids:
            if paging_error is not None:
                raise paging_error
            return None
        return _Uploads(position, channel.get("id"), video_ids, paging_error)

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

    def _fetch_batch_videos(self, batch: list[_Uploads]) -> None:
        """videos.list for the recent uploads of the batch's channels, in roster order, 50 ids
        a call; what each call answers is shared out to the channels whose ids it carried."""
        stopped: ApiError | None = None
        if self._runner.stopped and not self._kept_for_videos:
            stopped = self._stopped_error("videos not fetched")
        for video_ids, owners in _videos_calls(batch):
            in_call = list(dict.fromkeys(part for parts in owners.values() for part in parts))
            if stopped is not None:
                for part in in_call:
                    part.error = part.error or stopped
                continue
            try:
                items = _items(self._client.videos(video_ids), "videos.list")
            except ApiError as error:
                if error.kind in STOPS_THE_NIGHT:
                    self._runner.stop(error.kind, error.message)
                    stopped = error
                where = (
                    f"videos.list for {len(video_ids)} videos of {len(in_call)} channels: "
                    f"{error.message}"
                )
                for part in in_call:
                    part.error = part.error or error.with_kind(error.kind, where)
                continue
            _share_out(items, owners, in_call)


def _videos_calls(
    batch: list[_Uploads],
) -> list[tuple[list[str], dict[str, list[_Uploads]]]]:
    """The batch's video ids in roster order, 50 distinct ids a call, each id with the channels
    that asked for it (a channel listed twice in the roster asks twice)."""
    calls: list[tuple[list[str], dict[str, list[_Uploads]]]] = []
    call_of: dict[str, int] = {}
    for part in batch:
        for video_id in part.video_ids:
            if video_id in call_of:
                calls[call_of[video_id]][1][video_id].append(part)
                continue
            if not calls or len(calls[-1][0]) == MAX_IDS_PER_CALL:
                calls.append(([], {}))
            video_ids, owners = calls[-1]
            video_ids.append(video_id)
            owners[video_id] = [part]
            call_of[video_id] = len(calls) - 1
    return calls


def _share_out(
    items: list[Any], owners: Mapping[str, list[_Uploads]], in_call: list[_Uploads]
) -> None:
    """Give each item of a videos.list answer to the channels that asked for its id. An item
    without such an id (not an object, or an id nobody asked for) goes to the one channel whose
    videos did not all come back, or the call's only channel; failing that it lands without a
    channel, for its contract to quarantine."""
    returned = {item["id"] for item in items if isinstance(item, dict) and item.get("id") in owners}
    missing: dict[_Uploads, list[str]] = {}
    for video_id, parts in owners.items():
        if video_id not in returned:
            for part in parts:
                missing.setdefault(part, []).append(video_id)
    candidates = list(missing) or in_call
    for item in items:
        item_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(item_id, str) and item_id in owners:
            for part in owners[item_id]:
                part.videos.append(item)
        elif len(candidates) == 1:
            candidates[0].videos.append(item)
        else:
            in_call[0].strays.append(item)
    for part, video_ids in missing.items():
        part.missing.extend(video_ids)


@dataclass(eq=False)
class _Uploads:
    """One channel's share of its batch's videos.list calls: the ids of its recent uploads,
    and what the calls answered for it."""

    position: int
    channel_id: Any
    video_ids: list[str]
    paging_error: ApiError | None = None
    videos: list[Any] = field(default_factory=list)
    strays: list[Any] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    error: ApiError | None = None


class _BatchVideos:
    """Where the channels of one batch meet. They start in roster order, at most
    ``concurrency`` paging their uploads at once (the others wait for a turn); the ids they
    found are asked for once every channel that started has paged, by whichever channel gets
    there first, while the others wait for the answer."""

    def __init__(self, size: int, concurrency: int) -> None:
        self._size = size
        self._concurrency = concurrency
        self._changed = threading.Condition()
        self._next = 0  # the position whose turn comes next
        self._paging = 0
        self._started = 0
        self._paged = 0
        self._video_ids = 0
        self._batch: list[_Uploads] = []
        self._fetching = False
        self._fetched = False

    def start(self, position: int, may_start: Callable[[int, int], bool]) -> bool:
        """Wait for ``position``'s turn, then ask ``may_start(channels paging, video ids so
        far)``; False: the channel is not to be fetched."""
        with self._changed:
            while self._next != position or self._paging >= self._concurrency:
                self._changed.wait()
            starts = may_start(self._paging, self._video_ids)
            self._next += 1
            if starts:
                self._paging += 1
                self._started += 1
            self._changed.notify_all()
            return starts

    def paged(self, uploads: _Uploads | None) -> None:
        """A started channel is done paging (``uploads`` None: it has no videos to ask for)."""
        with self._changed:
            self._paging -= 1
            self._paged += 1
            if uploads is not None:
                self._batch.append(uploads)
                self._video_ids += len(uploads.video_ids)
            self._changed.notify_all()

    def wait(self, fetch: Callable[[list[_Uploads]], None], stopped: Callable[[], bool]) -> None:
        """Return once the batch's videos were fetched, by ``fetch`` in this thread if no other
        got to it first. The batch is complete when every channel started has paged and no
        other can start: all had their turn, or the night stopped (``stopped``, which nothing
        here is told of: hence the polling)."""
        with self._changed:
            while not self._fetched:
                complete = self._paged == self._started and (self._next == self._size or stopped())
                if complete and not self._fetching:
                    self._fetching = True
                    break
                self._changed.wait(timeout=0.05)
            else:
                return
        try:
            fetch(sorted(self._batch, key=lambda uploads: uploads.position))
        finally:
            with self._changed:
                self._fetched = True
                self._changed.notify_all()


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
