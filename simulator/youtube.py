"""The simulated YouTube Data API v3: the same world's creators, seen as YouTube channels.

About 40 % of the world's creators also run a YouTube channel. Everything follows from the world
(seed, size, anchor), so any past date answers the same way on every run:

- a channel's id is ``UC`` + 22 characters of ``[A-Za-z0-9_-]`` hashed from its creator; about
  30 % of channels are tracked by their ``@handle`` instead (one of them non-Latin);
- subscribers = a per-channel factor times the creator's followers at the end of the day, reported
  the way YouTube reports them: rounded *down* to three significant figures (12 345 -> 12 300,
  123 456 -> 123 000); a few channels hide the count (``hiddenSubscriberCount: true``, no
  ``subscriberCount``); one channel's reported count stays flat for weeks, then steps
  (:attr:`YouTubeChannel.plateau`);
- videos are a share of the creator's posts (the same days and times, the likes and comments of
  the post scaled by the channel's factor, views from the likes); counts come as strings,
  ``publishedAt`` as RFC 3339 with ``Z``; one channel has no uploads at all, and its uploads
  playlist answers 404 ``playlistNotFound`` as the real API does.

:func:`youtube_router` serves ``channels.list``, ``playlistItems.list`` and ``videos.list`` under
the prefix the app gives it (``/youtube/v3``), with the API key in ``key=``, Google's error JSON,
a daily quota per key (1 unit per call, failed calls included; the simulated day is the ``as_of``
date asked for), and ``as_of=YYYY-MM-DD``, the simulator-only parameter that answers for a past
date. Faults are injected per channel through ``faults.account_faults`` (channel id or
``@handle`` -> one of :data:`CHANNEL_FAULTS`); the key :data:`EVERY_CHANNEL` (``"*"``) applies a
fault to every call, e.g. ``{"*": "access_not_configured"}`` for a key whose project has not
enabled the API.
"""

from __future__ import annotations

import base64
import bisect
import functools
import hashlib
import itertools
import math
import struct
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from simulator.world import MACRO_FLOOR, MICRO_FLOOR, SimulatedWorld

PLATFORM = "youtube"
ROSTER_COLUMNS = ("platform", "handle", "connected", "country", "category")
TRUTH_COLUMNS = ("platform", "handle", "archetype", "event_date")

DEFAULT_DAILY_QUOTA = 10_000
MAX_IDS_PER_CALL = 50
MAX_RESULTS = 50
DEFAULT_MAX_RESULTS = 5  # the real API's default page size

# Per-channel faults (``faults.account_faults``: channel id or @handle -> fault name). They strike
# the calls about that one channel, its uploads playlist and its videos; a channels.list batch of
# 50 ids is never failed for one of them.
CHANNEL_FAULTS = (
    "quota_exceeded_now",  # the day's quota runs out at this channel: 403 quotaExceeded from now on
    "rate_limited",  # 403 rateLimitExceeded on every call about the channel
    "rate_limited_once",  # 403 rateLimitExceeded on the first try of each call, then fine
    "server_error",  # 500 backendError on every call about the channel
    "invalid_page_token",  # its uploads always offer a next page, whose token is refused (400)
    "repeated_page_token",  # its uploads' next page token leads back to the first page
    "playlist_not_found",  # 404 playlistNotFound for its uploads
    "malformed_video",  # videos.list answers one of its videos as a bare string
    "access_not_configured",  # 403 accessNotConfigured (with EVERY_CHANNEL: the whole night)
)
EVERY_CHANNEL = "*"

PACIFIC = ZoneInfo("America/Los_Angeles")

_CHANNEL_SHARE = 0.40
_HANDLE_ADDRESSED_SHARE = 0.30
_HIDDEN_SUBSCRIBERS_SHARE = 0.04
_VIDEO_SHARE = 0.35
_SUBSCRIBER_FACTOR = (0.5, 1.5)
# Risers keep a factor near 1 so that, on YouTube too, they cross into macro around the anchor.
_RISER_SUBSCRIBER_FACTOR = (0.9, 1.2)
# Comments per like on the creator's hidden-likes posts, to still derive views from them.
_COMMENTS_PER_LIKE = 0.06
_LIKES_PER_VIEW = (0.02, 0.06)
# The plateau channel reports about 100 000 subscribers 56 days before the anchor: there the
# rounding step is 1 000 (1 %), so a channel growing ~2 % in 8 weeks reports a flat count for
# weeks, then steps.
_PLATEAU_SUBSCRIBERS = 100_100
_PLATEAU_GROWTH_56_DAYS = (0.012, 0.04)
_NON_LATIN_HANDLES = ("ゆきのキッチン", "зоя.готовит")

_VIDEO_ORDINAL_BITS = 12
_VIDEO_TAG_BITS = 34
_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_PAGE_TOKEN_PREFIX = "EAAaB"


@dataclass(frozen=True)
class YouTubeChannel:
    """One creator's YouTube channel, and the traits that shape its answers."""

    creator_handle: str  # the world's key for the creator (its Instagram handle)
    number: int  # the creator's position in the world
    channel_id: str
    handle: str  # the channel's @handle, as customUrl reports it
    roster_handle: str  # how the roster tracks it: the channel id or the @handle
    title: str
    country: str
    category: str
    archetype: str
    subscriber_factor: float
    hidden_subscribers: bool
    has_uploads: bool
    plateau: bool

    @property
    def uploads_playlist_id(self) -> str:
        return "UU" + self.channel_id[2:]


class YouTubeFaultSource(Protocol):
    """What the dialect reads of the simulator's fault configuration."""

    @property
    def account_faults(self) -> Mapping[str, str]: ...


def three_significant_figures(count: int) -> int:
    """A count as YouTube reports subscribers: rounded down to three significant figures."""
    if count < 1_000:
        return count
    scale = 10 ** (len(str(count)) - 3)
    return count // scale * scale


class YouTubeView:
    """The YouTube side of one world: its channels, their subscribers and their videos."""

    def __init__(self, world: SimulatedWorld) -> None:
        self.world = world
        self.channels = _draw_channels(world)
        self._by_id = {channel.channel_id: channel for channel in self.channels}
        self._by_handle = {channel.handle[1:].casefold(): channel for channel in self.channels}
        self._by_roster_handle = {channel.roster_handle: channel for channel in self.channels}
        self._by_number = {channel.number: channel for channel in self.channels}
        self._by_playlist = {channel.uploads_playlist_id: channel for channel in self.channels}
        # Lazily filled; concurrent server threads may compute an entry twice, which is
        # harmless because the result is deterministic.
        self._video_ordinals: dict[str, list[int]] = {}

    def channel(self, channel_id: str) -> YouTubeChannel | None:
        return self._by_id.get(channel_id)

    def channel_for_handle(self, handle: str) -> YouTubeChannel | None:
        """The channel of an @handle (with or without the @; case-insensitive, as YouTube's)."""
        return self._by_handle.get(handle.removeprefix("@").casefold())

    def channel_for_roster_handle(self, roster_handle: str) -> YouTubeChannel | None:
        return self._by_roster_handle.get(roster_handle) or self.channel_for_handle(roster_handle)

    def channel_for_playlist(self, playlist_id: str) -> YouTubeChannel | None:
        return self._by_playlist.get(playlist_id)

    def exact_subscribers(self, channel: YouTubeChannel, day: date) -> int:
        followers = self.world.followers(channel.creator_handle, day)
        return max(1, round(channel.subscriber_factor * followers))

    def subscribers(self, channel: YouTubeChannel, day: date) -> int:
        """Subscribers at the end of ``day`` as the API reports them (even when hidden)."""
        return three_significant_figures(self.exact_subscribers(channel, day))

    def video_ordinals(self, channel: YouTubeChannel, as_of: date) -> list[int]:
        """Ordinals (0 = the creator's first post) of the channel's videos up to ``as_of``,
        newest first."""
        published = len(self.world.media(channel.creator_handle, as_of))
        ordinals = self._all_video_ordinals(channel)
        return ordinals[: bisect.bisect_left(ordinals, published)][::-1]

    def channel_resource(self, channel: YouTubeChannel, as_of: date) -> dict[str, Any]:
        """The channel as ``channels.list`` returns it (part=snippet,statistics,contentDetails)."""
        video_count = len(self.video_ordinals(channel, as_of))
        base_subscribers = self.exact_subscribers(channel, self.world.anchor)
        statistics: dict[str, Any] = {
            # Grows with every upload, never shrinks: a fixed share of the channel's audience.
            "viewCount": str(round(base_subscribers * 0.9 * video_count)),
        }
        if channel.hidden_subscribers:
            statistics["hiddenSubscriberCount"] = True
        else:
            statistics["subscriberCount"] = str(self.subscribers(channel, as_of))
            statistics["hiddenSubscriberCount"] = False
        statistics["videoCount"] = str(video_count)
        created = self.world.first_day - timedelta(days=200 + channel.number % 900)
        return {
            "kind": "youtube#channel",
            "etag": _etag("channel", channel.channel_id, as_of.isoformat()),
            "id": channel.channel_id,
            "snippet": {
                "title": channel.title,
                "description": f"{channel.category.capitalize()} videos by {channel.title}.",
                "customUrl": channel.handle.casefold(),
                "publishedAt": f"{created.isoformat()}T09:00:00Z",
                "country": channel.country,
            },
            "contentDetails": {
                "relatedPlaylists": {"likes": "", "uploads": channel.uploads_playlist_id}
            },
            "statistics": statistics,
        }

    def video_id(self, channel: YouTubeChannel, ordinal: int) -> str:
        """An 11-character video id that packs (creator, ordinal): no lookup table needed."""
        seed = self.world.seed
        payload = (channel.number << _VIDEO_ORDINAL_BITS) | ordinal
        tag = _hash_bits(f"{seed}:yt-video-tag:{payload}", _VIDEO_TAG_BITS)
        scrambled = payload ^ _hash_bits(f"{seed}:yt-video-mask:{tag}", 32)
        value = (tag << 32) | scrambled
        return "".join(_BASE64URL[(value >> shift) & 63] for shift in range(60, -1, -6))

    def video(self, video_id: str) -> tuple[YouTubeChannel, int] | None:
        """The channel and ordinal of a video id, or None when no such video exists."""
        if len(video_id) != 11 or any(char not in _BASE64URL for char in video_id):
            return None
        value = 0
        for char in video_id:
            value = (value << 6) | _BASE64URL.index(char)
        tag, scrambled = value >> 32, value & 0xFFFFFFFF
        payload = scrambled ^ _hash_bits(f"{self.world.seed}:yt-video-mask:{tag}", 32)
        if _hash_bits(f"{self.world.seed}:yt-video-tag:{payload}", _VIDEO_TAG_BITS) != tag:
            return None
        number, ordinal = divmod(payload, 1 << _VIDEO_ORDINAL_BITS)
        channel = self._by_number.get(number)
        if channel is None or ordinal not in self._all_video_ordinals(channel):
            return None
        return channel, ordinal

    def playlist_item(self, channel: YouTubeChannel, ordinal: int, as_of: date) -> dict[str, Any]:
        video_id = self.video_id(channel, ordinal)
        post = self._post(channel, ordinal, as_of)
        return {
            "kind": "youtube#playlistItem",
            "etag": _etag("playlistItem", video_id),
            "id": _base64url(f"{channel.uploads_playlist_id}.{video_id}".encode()),
            "contentDetails": {
                "videoId": video_id,
                "videoPublishedAt": _rfc3339(post["timestamp"]),
            },
        }

    def video_resource(
        self, channel: YouTubeChannel, ordinal: int, as_of: date
    ) -> dict[str, Any] | None:
        """The video as ``videos.list`` returns it (part=snippet,statistics), or None when it
        was not published yet on ``as_of``."""
        published = len(self.world.media(channel.creator_handle, as_of))
        if ordinal >= published:
            return None
        video_id = self.video_id(channel, ordinal)
        post = self._post(channel, ordinal, as_of)
        factor = channel.subscriber_factor
        comments = round(post["comments_count"] * factor)
        like_draw = _unit(f"{self.world.seed}:yt-like-rate:{video_id}")
        likes_per_view = _LIKES_PER_VIEW[0] + like_draw * (_LIKES_PER_VIEW[1] - _LIKES_PER_VIEW[0])
        statistics: dict[str, Any] = {}
        if "like_count" in post:
            likes = round(post["like_count"] * factor)
            statistics["viewCount"] = str(round(likes / likes_per_view))
            statistics["likeCount"] = str(likes)
        else:
            # Hidden likes: the creator chose not to show them; the API then omits likeCount.
            statistics["viewCount"] = str(round(comments / _COMMENTS_PER_LIKE / likes_per_view))
        statistics["favoriteCount"] = "0"
        statistics["commentCount"] = str(comments)
        caption: str = post["caption"]
        return {
            "kind": "youtube#video",
            "etag": _etag("video", video_id, as_of.isoformat()),
            "id": video_id,
            "snippet": {
                "publishedAt": _rfc3339(post["timestamp"]),
                "channelId": channel.channel_id,
                "title": caption.split(" #")[0][:100],
                "description": caption,
                "channelTitle": channel.title,
                "tags": [channel.category],
                "categoryId": "22",
            },
            "statistics": statistics,
        }

    def truth_event_date(self, channel: YouTubeChannel) -> date | None:
        """The day of the channel's jump (bought, viral) or tier crossing (riser: into macro;
        decliner: below micro), on its reported subscriber counts; None for the others."""
        world = self.world
        if channel.archetype in ("bought", "viral"):
            # The world's jumps fall within 40 days before the anchor.
            days = [world.anchor - timedelta(days=back) for back in range(61, -1, -1)]
            counts = [self.exact_subscribers(channel, day) for day in days]
            jumps = [math.log(after / before) for before, after in itertools.pairwise(counts)]
            return days[1 + max(range(len(jumps)), key=jumps.__getitem__)]
        if channel.archetype not in ("riser", "decliner"):
            return None
        day = max(world.first_day + timedelta(days=1), world.anchor - timedelta(days=180))
        previous = self.subscribers(channel, day - timedelta(days=1))
        while day <= world.last_day:
            current = self.subscribers(channel, day)
            if channel.archetype == "riser" and previous < MACRO_FLOOR <= current:
                return day
            if channel.archetype == "decliner" and current < MICRO_FLOOR <= previous:
                return day
            previous = current
            day += timedelta(days=1)
        return None

    def _post(self, channel: YouTubeChannel, ordinal: int, as_of: date) -> dict[str, Any]:
        timeline = self.world.media(channel.creator_handle, as_of)
        post: dict[str, Any] = timeline[len(timeline) - 1 - ordinal]
        return post

    def _all_video_ordinals(self, channel: YouTubeChannel) -> list[int]:
        ordinals = self._video_ordinals.get(channel.channel_id)
        if ordinals is None:
            if not channel.has_uploads:
                ordinals = []
            else:
                posts = len(self.world.media(channel.creator_handle, self.world.last_day))
                key = f"{self.world.seed}:yt-video:{channel.creator_handle}"
                ordinals = [
                    ordinal
                    for ordinal in range(min(posts, 1 << _VIDEO_ORDINAL_BITS))
                    if _unit(f"{key}:{ordinal}") < _VIDEO_SHARE
                ]
            self._video_ordinals[channel.channel_id] = ordinals
        return ordinals


@functools.lru_cache(maxsize=4)
def youtube_view(world: SimulatedWorld) -> YouTubeView:
    """The YouTube view of ``world`` (built once for the last few worlds asked about)."""
    return YouTubeView(world)


def youtube_roster_rows(world: SimulatedWorld) -> list[dict[str, str]]:
    """The world's YouTube channels as roster rows (platform, handle, connected, country,
    category): YouTube has no per-creator consent for demographics here, so never connected."""
    return [
        {
            "platform": PLATFORM,
            "handle": channel.roster_handle,
            "connected": "false",
            "country": channel.country,
            "category": channel.category,
        }
        for channel in youtube_view(world).channels
    ]


def youtube_truth_rows(world: SimulatedWorld) -> list[dict[str, str]]:
    """The ground truth of every YouTube channel: platform, handle (as the roster has it),
    archetype and event_date (ISO date of the jump or tier crossing; empty when none)."""
    view = youtube_view(world)
    rows = []
    for channel in view.channels:
        event = view.truth_event_date(channel)
        rows.append(
            {
                "platform": PLATFORM,
                "handle": channel.roster_handle,
                "archetype": channel.archetype,
                "event_date": event.isoformat() if event else "",
            }
        )
    return rows


def youtube_router(
    world: SimulatedWorld,
    *,
    api_key: str,
    faults: YouTubeFaultSource,
    daily_quota: int = DEFAULT_DAILY_QUOTA,
) -> APIRouter:
    """The YouTube Data API v3 dialect, to include under ``/youtube/v3``."""
    dialect = _Dialect(youtube_view(world), api_key, faults, daily_quota)
    router = APIRouter()

    @router.get("/channels")
    def channels(request: Request) -> JSONResponse:
        return dialect.serve(request, dialect.channels)

    @router.get("/playlistItems")
    def playlist_items(request: Request) -> JSONResponse:
        return dialect.serve(request, dialect.playlist_items)

    @router.get("/videos")
    def videos(request: Request) -> JSONResponse:
        return dialect.serve(request, dialect.videos)

    return router


class _GoogleError(Exception):
    """An error answered in Google's JSON shape."""

    def __init__(self, status: int, reason: str, message: str, *, domain: str = "global") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.domain = domain
        self.message = message

    def answer(self) -> JSONResponse:
        body = {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}],
                "status": _GOOGLE_STATUS.get(self.status, "UNKNOWN"),
            }
        }
        return JSONResponse(body, status_code=self.status)


_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    500: "INTERNAL",
}


def _quota_exceeded() -> _GoogleError:
    return _GoogleError(
        403,
        "quotaExceeded",
        'The request cannot be completed because you have exceeded your <a href="/youtube/v3/'
        'getting-started#quota">quota</a>.',
        domain="youtube.quota",
    )


def _rate_limit_exceeded() -> _GoogleError:
    return _GoogleError(403, "rateLimitExceeded", "Rate Limit Exceeded", domain="usageLimits")


def _access_not_configured() -> _GoogleError:
    project = "583924017762"
    return _GoogleError(
        403,
        "accessNotConfigured",
        f"YouTube Data API v3 has not been used in project {project} before or it is disabled. "
        "Enable it by visiting https://console.developers.google.com/apis/api/"
        f"youtube.googleapis.com/overview?project={project} then retry.",
        domain="usageLimits",
    )


def _invalid_page_token() -> _GoogleError:
    return _GoogleError(
        400,
        "invalidPageToken",
        "The request specifies an invalid page token.",
        domain="youtube.parameter",
    )


def _bad_parameter(message: str, reason: str = "invalidParameter") -> _GoogleError:
    return _GoogleError(400, reason, message, domain="youtube.parameter")


@dataclass
class _Call:
    """One request, once its key, quota and date are settled."""

    params: Mapping[str, str]
    as_of: date


class _Dialect:
    def __init__(
        self, view: YouTubeView, api_key: str, faults: YouTubeFaultSource, daily_quota: int
    ) -> None:
        self.view = view
        self._api_key = api_key
        self._faults = faults
        self._daily_quota = daily_quota
        self._lock = threading.Lock()
        self._units_used: dict[tuple[str, date], int] = {}
        self._throttled_once: set[str] = set()

    def serve(self, request: Request, answer: Any) -> JSONResponse:
        params = dict(request.query_params)
        try:
            call = self._admit(params)
            body: dict[str, Any] = answer(call)
        except _GoogleError as error:
            return error.answer()
        return JSONResponse(body)

    def _admit(self, params: Mapping[str, str]) -> _Call:
        key = params.get("key")
        if not key:
            raise _GoogleError(
                403,
                "forbidden",
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
            )
        if key != self._api_key:
            raise _GoogleError(400, "badRequest", "API key not valid. Please pass a valid API key.")
        if self._faults.account_faults.get(EVERY_CHANNEL) == "access_not_configured":
            raise _access_not_configured()
        raw_as_of = params.get("as_of")
        quota_day = _quota_day(raw_as_of)
        with self._lock:
            used = self._units_used.get((key, quota_day), 0)
            if used >= self._daily_quota:
                raise _quota_exceeded()
            self._units_used[(key, quota_day)] = used + 1
        call = _Call(params, self._as_of(raw_as_of))
        self._strike(self._faults.account_faults.get(EVERY_CHANNEL), call)
        return call

    def _as_of(self, raw: str | None) -> date:
        try:
            return self.view.world.requested_day(raw)
        except ValueError as refused:
            raise _bad_parameter(str(refused)) from None

    def _fault(self, channel: YouTubeChannel) -> str | None:
        faults = self._faults.account_faults
        return faults.get(channel.channel_id) or faults.get(channel.roster_handle)

    def _strike(self, fault: str | None, call: _Call) -> None:
        """Answer with the error ``fault`` stands for, if it is one that fails the call."""
        if fault is None:
            return
        if fault == "quota_exceeded_now":
            with self._lock:
                self._units_used[(self._api_key, _quota_day(call.params.get("as_of")))] = (
                    self._daily_quota
                )
            raise _quota_exceeded()
        if fault == "rate_limited":
            raise _rate_limit_exceeded()
        if fault == "rate_limited_once":
            logical = "&".join(
                f"{name}={value}" for name, value in sorted(call.params.items()) if name != "key"
            )
            with self._lock:
                first_try = logical not in self._throttled_once
                self._throttled_once.add(logical)
            if first_try:
                raise _rate_limit_exceeded()
        if fault == "server_error":
            raise _GoogleError(500, "backendError", "Backend Error")
        if fault == "access_not_configured":
            raise _access_not_configured()

    def channels(self, call: _Call) -> dict[str, Any]:
        _require_part(call.params, {"snippet", "statistics", "contentDetails", "id"})
        ids, for_handle = call.params.get("id"), call.params.get("forHandle")
        if ids is None and for_handle is None:
            raise _bad_parameter(
                "No filter selected. Expected one of: forUsername, managedByMe, categoryId, "
                "mine, mySubscribers, id, idParam, forHandle",
                "missingRequiredParameter",
            )
        found: list[YouTubeChannel] = []
        if for_handle is not None:
            channel = self.view.channel_for_handle(for_handle)
            found = [channel] if channel is not None else []
        else:
            assert ids is not None
            wanted = [part for part in ids.split(",") if part]
            if len(wanted) > MAX_IDS_PER_CALL:
                raise _bad_parameter(
                    f"The request specifies {len(wanted)} ids; at most {MAX_IDS_PER_CALL} are "
                    "allowed.",
                    "invalidFilters",
                )
            for channel_id in dict.fromkeys(wanted):
                channel = self.view.channel(channel_id)
                if channel is not None:
                    found.append(channel)
        items = [self.view.channel_resource(channel, call.as_of) for channel in found]
        return _list_answer("youtube#channelListResponse", items, len(items))

    def playlist_items(self, call: _Call) -> dict[str, Any]:
        _require_part(call.params, {"contentDetails", "id", "snippet", "status"})
        playlist_id = call.params.get("playlistId", "")
        channel = self.view.channel_for_playlist(playlist_id)
        fault = self._fault(channel) if channel is not None else None
        self._strike(fault, call)
        if channel is None or not channel.has_uploads or fault == "playlist_not_found":
            raise _GoogleError(
                404,
                "playlistNotFound",
                "The playlist identified with the request's <code>playlistId</code> parameter "
                "cannot be found.",
                domain="youtube.playlistItem",
            )
        page_size = _max_results(call.params)
        token = call.params.get("pageToken")
        if token is not None and fault == "invalid_page_token":
            raise _invalid_page_token()
        offset = _page_offset(token) if token is not None else 0
        ordinals = self.view.video_ordinals(channel, call.as_of)
        page = ordinals[offset : offset + page_size]
        body = _list_answer(
            "youtube#playlistItemListResponse",
            [self.view.playlist_item(channel, ordinal, call.as_of) for ordinal in page],
            len(ordinals),
            page_size,
        )
        next_token: str | None = None
        if fault == "repeated_page_token":
            next_token = _page_token(0)
        elif offset + page_size < len(ordinals) or fault == "invalid_page_token":
            next_token = _page_token(offset + page_size)
        if next_token is not None:
            body = {"nextPageToken": next_token, **body}
        if token is not None and offset > 0:
            body = {"prevPageToken": _page_token(max(0, offset - page_size)), **body}
        return body

    def videos(self, call: _Call) -> dict[str, Any]:
        _require_part(call.params, {"snippet", "statistics", "id", "contentDetails"})
        ids = call.params.get("id")
        if ids is None:
            raise _bad_parameter(
                "No filter selected. Expected one of: chart, id, myRating",
                "missingRequiredParameter",
            )
        wanted = [part for part in ids.split(",") if part]
        if len(wanted) > MAX_IDS_PER_CALL:
            raise _bad_parameter(
                f"The request specifies {len(wanted)} ids; at most {MAX_IDS_PER_CALL} are allowed.",
                "invalidFilters",
            )
        videos = [found for found in (self.view.video(video_id) for video_id in wanted) if found]
        for channel in dict.fromkeys(channel for channel, _ in videos):
            self._strike(self._fault(channel), call)
        items: list[Any] = []
        for channel, ordinal in videos:
            item = self.view.video_resource(channel, ordinal, call.as_of)
            if item is None:
                continue
            if self._fault(channel) == "malformed_video" and not any(
                isinstance(earlier, str) for earlier in items
            ):
                items.append(f"video {item['id']}")
                continue
            items.append(item)
        return _list_answer("youtube#videoListResponse", items, len(items))


def _list_answer(
    kind: str, items: list[Any], total: int, per_page: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "etag": _etag(kind, str(total), *(str(item) for item in items[:1])),
        "pageInfo": {"totalResults": total, "resultsPerPage": per_page or len(items)},
    }
    # The real API leaves ``items`` out of an answer that found nothing.
    if items:
        body["items"] = items
    return body


def _require_part(params: Mapping[str, str], known: set[str]) -> None:
    part = params.get("part")
    if not part:
        raise _bad_parameter("No parts selected.", "missingRequiredParameter")
    unknown = [name for name in part.split(",") if name not in known]
    if unknown:
        raise _bad_parameter(
            f"'{unknown[0]}' is not a valid value for the part parameter.", "unknownPart"
        )


def _max_results(params: Mapping[str, str]) -> int:
    raw = params.get("maxResults")
    if raw is None:
        return DEFAULT_MAX_RESULTS
    if not raw.isdigit() or not 0 <= int(raw) <= MAX_RESULTS:
        raise _bad_parameter(
            f"Invalid value '{raw}'. Values must be within the range: [0, {MAX_RESULTS}]",
            "invalidValue",
        )
    return int(raw)


def _page_token(offset: int) -> str:
    return _PAGE_TOKEN_PREFIX + _base64url(f"PT:{offset}".encode())


def _page_offset(token: str) -> int:
    if not token.startswith(_PAGE_TOKEN_PREFIX):
        raise _invalid_page_token()
    encoded = token[len(_PAGE_TOKEN_PREFIX) :]
    try:
        text = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise _invalid_page_token() from None
    prefix, _, offset = text.partition(":")
    if prefix != "PT" or not offset.isdigit():
        raise _invalid_page_token()
    return int(offset)


def _quota_day(raw_as_of: str | None) -> date:
    """The simulated day whose quota a call spends: the date asked for, else today in Pacific
    time (the real quota resets at midnight Pacific)."""
    if raw_as_of is not None:
        try:
            return date.fromisoformat(raw_as_of)
        except ValueError:
            pass
    return datetime.now(PACIFIC).date()


def _rfc3339(graph_timestamp: str) -> str:
    """2026-10-30T14:05:00+0000 -> 2026-10-30T14:05:00Z (the world's times are UTC)."""
    return graph_timestamp.removesuffix("+0000") + "Z"


def _draw_channels(world: SimulatedWorld) -> tuple[YouTubeChannel, ...]:
    channels: list[YouTubeChannel] = []
    role_draws: dict[str, float] = {}
    for number, creator in enumerate(world.creators):
        key = f"{world.seed}:youtube:{creator.handle}"
        channel_draw, handle_draw, factor_draw, role_draw = _unit_draws(key, 4)
        if channel_draw >= _CHANNEL_SHARE:
            continue
        low, high = _RISER_SUBSCRIBER_FACTOR if creator.archetype == "riser" else _SUBSCRIBER_FACTOR
        digest = hashlib.blake2b(f"{key}:channel-id".encode(), digest_size=16).digest()
        channel_id = "UC" + _base64url(digest)
        handle = "@" + creator.handle
        channels.append(
            YouTubeChannel(
                creator_handle=creator.handle,
                number=number,
                channel_id=channel_id,
                handle=handle,
                roster_handle=handle if handle_draw < _HANDLE_ADDRESSED_SHARE else channel_id,
                title=creator.name,
                country=creator.country,
                category=creator.category,
                archetype=creator.archetype,
                subscriber_factor=math.exp(
                    math.log(low) + factor_draw * (math.log(high) - math.log(low))
                ),
                hidden_subscribers=False,
                has_uploads=True,
                plateau=False,
            )
        )
        role_draws[channel_id] = role_draw
    # Special roles go to steady channels, in an order drawn from the world's seed, so the
    # ground truth of the other archetypes is not disturbed.
    steady = sorted(
        (channel.channel_id for channel in channels if channel.archetype == "steady"),
        key=role_draws.__getitem__,
    )
    hidden_count = max(1, round(_HIDDEN_SUBSCRIBERS_SHARE * len(channels)))
    no_uploads, hidden = steady[:1], set(steady[1 : 1 + hidden_count])
    non_latin = steady[1 + hidden_count :][: len(_NON_LATIN_HANDLES)]
    # Sets: a world of 50,000 creators has ~20,000 channels, and list membership was quadratic.
    others = set(steady[1 + hidden_count :])
    plateau = _plateau_channel(world, [c for c in channels if c.channel_id in others])
    plateau_start = world.anchor - timedelta(days=56)
    special = []
    for channel in channels:
        changes: dict[str, Any] = {}
        if channel.channel_id in no_uploads:
            changes["has_uploads"] = False
        if channel.channel_id in hidden:
            changes["hidden_subscribers"] = True
        if channel.channel_id in non_latin:
            handle = "@" + _NON_LATIN_HANDLES[non_latin.index(channel.channel_id)]
            changes |= {"handle": handle, "roster_handle": handle}
        if channel is plateau:
            followers = world.followers(channel.creator_handle, plateau_start)
            changes |= {"plateau": True, "subscriber_factor": _PLATEAU_SUBSCRIBERS / followers}
        special.append(replace(channel, **changes) if changes else channel)
    return tuple(special)


def _plateau_channel(
    world: SimulatedWorld, candidates: list[YouTubeChannel]
) -> YouTubeChannel | None:
    """The channel whose creator grew closest to 2 % over the 56 days before the anchor
    (within the band that makes "flat for weeks, then a step" at 100 000 subscribers)."""
    start = world.anchor - timedelta(days=56)
    low, high = _PLATEAU_GROWTH_56_DAYS
    best: tuple[float, YouTubeChannel] | None = None
    for channel in candidates:
        handle = channel.creator_handle
        growth = world.followers(handle, world.anchor) / world.followers(handle, start) - 1
        if low <= growth <= high and (best is None or abs(growth - 0.02) < best[0]):
            best = (abs(growth - 0.02), channel)
    return best[1] if best is not None else None


def _unit_draws(key: str, count: int) -> list[float]:
    digest = hashlib.blake2b(key.encode(), digest_size=8 * count).digest()
    return [word / 2**64 for word in struct.unpack(f">{count}Q", digest)]


def _unit(key: str) -> float:
    return _unit_draws(key, 1)[0]


def _hash_bits(key: str, bits: int) -> int:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> (64 - bits)


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _etag(*parts: str) -> str:
    digest = hashlib.blake2b(":".join(parts).encode(), digest_size=20).digest()
    return _base64url(digest)
