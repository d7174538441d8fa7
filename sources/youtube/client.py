"""The YouTube Data API v3, as the pipeline calls it: three list calls, Google's error JSON, and a
daily quota counted on our side.

The API key travels as the ``key`` query parameter; the shared :class:`~sources.http.JsonClient`
redacts it from every URL, error and log line. Errors come as ``{"error": {"code", "message",
"errors": [{"domain", "reason", "message"}]}}``: :func:`read_google_error` judges them by
``reason``. Every call costs quota, failed ones included (1 unit for each of the three calls
used here), and the project's budget is shared by everything that uses the key: the client
counts the units it spends and refuses a call the night's budget cannot pay for, so a night
stops cleanly on its own count rather than on a 403 ``quotaExceeded`` (which it also handles).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sources.http import ApiError, FailureKind, HttpPolicy, JsonClient, PlatformClient

DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
DEFAULT_QUOTA_BUDGET = 10_000
# channels.list and videos.list take at most 50 ids; playlistItems.list pages hold at most 50.
MAX_IDS_PER_CALL = 50
CHANNEL_PARTS = "snippet,statistics,contentDetails"
VIDEO_PARTS = "statistics,snippet"
UNITS_PER_CALL = 1

# Google error reasons, by what they mean for the night.
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RETRY_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"}
)
NIGHT_REASONS = frozenset({"accessNotConfigured"})
AUTH_REASONS = frozenset({"keyInvalid", "keyExpired", "authError"})
PLAYLIST_NOT_FOUND = "playlistNotFound"
_HTML_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Config:
    """Where and how to reach the YouTube Data API; built by ``flows/`` from the settings."""

    base_url: str
    api_key: str = field(repr=False)
    # Only the simulated platforms can answer "as of" a past date; the real API answers "now".
    sends_as_of: bool = False
    http: HttpPolicy = field(default_factory=HttpPolicy)
    # Units this night may spend (the real project's daily quota is 10,000 units by default).
    quota_budget: int = DEFAULT_QUOTA_BUDGET
    page_size: int = MAX_IDS_PER_CALL
    # Videos published this many days before the night (or later) are observed again.
    lookback_days: int = 14

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError(
                "the YouTube API key is empty: set INFLUENCERS_YOUTUBE__API_KEY (a key of a "
                "Google Cloud project with the YouTube Data API v3 enabled)"
            )
        if not 1 <= self.page_size <= MAX_IDS_PER_CALL:
            raise ValueError(f"page_size must be within 1..{MAX_IDS_PER_CALL}: {self.page_size}")
        if self.quota_budget < 1:
            raise ValueError(f"quota_budget must be positive: {self.quota_budget}")
        if self.lookback_days < 0:
            raise ValueError(f"lookback_days must not be negative: {self.lookback_days}")


class YouTubeClient(PlatformClient):
    """The three calls of a night over one shared :class:`JsonClient`, within a quota budget."""

    def __init__(self, config: Config, as_of: dt.date) -> None:
        self._config = config
        self._as_of = as_of
        self._http = JsonClient(
            config.base_url, config.http, read_google_error, secrets=(config.api_key,)
        )
        self._lock = threading.Lock()
        self._calls_in_flight = 0

    @property
    def quota_used(self) -> int:
        """Units spent: every request sent costs one, retried and failed ones included."""
        return self._http.requests_made * UNITS_PER_CALL

    @property
    def quota_budget(self) -> int:
        return self._config.quota_budget

    def channels(self, channel_ids: Sequence[str]) -> dict[str, Any]:
        """``channels.list`` for up to 50 channel ids (channels not found are left out)."""
        if len(channel_ids) > MAX_IDS_PER_CALL:
            raise ValueError(f"at most {MAX_IDS_PER_CALL} ids per call, got {len(channel_ids)}")
        return self._get("channels", {"part": CHANNEL_PARTS, "id": ",".join(channel_ids)})

    def channel_for_handle(self, handle: str) -> dict[str, Any]:
        """``channels.list`` for one ``@handle`` (the API takes one handle per call)."""
        return self._get("channels", {"part": CHANNEL_PARTS, "forHandle": handle})

    def uploads_page(self, playlist_id: str, page_token: str | None) -> dict[str, Any]:
        """One page of ``playlistItems.list`` of an uploads playlist, newest first."""
        params = {
            "part": "contentDetails",
            "playlistId": playlist_id,
            "maxResults": str(self._config.page_size),
        }
        if page_token is not None:
            params["pageToken"] = page_token
        return self._get("playlistItems", params)

    def videos(self, video_ids: Sequence[str]) -> dict[str, Any]:
        """``videos.list`` statistics and snippet for up to 50 video ids."""
        if len(video_ids) > MAX_IDS_PER_CALL:
            raise ValueError(f"at most {MAX_IDS_PER_CALL} ids per call, got {len(video_ids)}")
        return self._get("videos", {"part": VIDEO_PARTS, "id": ",".join(video_ids)})

    def _get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        query = dict(params)
        if self._config.sends_as_of:
            query["as_of"] = self._as_of.isoformat()
        query["key"] = self._config.api_key
        with self._within_budget():
            body = self._http.get(path, query)
        if not isinstance(body, dict):
            raise ApiError(
                f"{path} answer is a JSON {type(body).__name__}, not an object",
                kind=FailureKind.ACCOUNT,
                status=200,
            )
        return body

    @contextmanager
    def _within_budget(self) -> Iterator[None]:
        """Refuse a call the budget cannot pay for, counting the calls other threads have
        started; a retry inside the call may still spend one more unit per try."""
        with self._lock:
            committed = self.quota_used + self._calls_in_flight * UNITS_PER_CALL
            if committed + UNITS_PER_CALL > self._config.quota_budget:
                raise ApiError(
                    f"the night's YouTube quota budget of {self._config.quota_budget:,} units "
                    f"is spent ({committed:,} used)",
                    kind=FailureKind.QUOTA,
                )
            self._calls_in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._calls_in_flight -= 1


def read_google_error(status: int, body: Any) -> ApiError | None:
    """The Google API error an answer carries (whatever its HTTP status), or None when good."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    details = [item for item in _list(error.get("errors")) if isinstance(item, dict)]
    reasons = [item["reason"] for item in details if isinstance(item.get("reason"), str)]
    reason = reasons[0] if reasons else None
    message = _HTML_TAG.sub("", str(error.get("message") or "no message")).strip()
    if reason in QUOTA_REASONS:
        kind = FailureKind.QUOTA
        message = f"YouTube quota exceeded: {message}"
    elif reason in RETRY_REASONS or status >= 500 or status == 429:
        kind = FailureKind.RETRY
    elif reason in NIGHT_REASONS:
        kind = FailureKind.NIGHT
    elif reason in AUTH_REASONS or status == 401 or _is_key_refusal(reason, message):
        kind = FailureKind.AUTH
        message = f"API key refused: {message}"
    else:
        # invalidPageToken, invalidFilters, playlistNotFound, channelForbidden, ...
        kind = FailureKind.ACCOUNT
    return ApiError(message, kind=kind, status=status, code=reason)


def is_playlist_not_found(error: ApiError) -> bool:
    """An empty or missing uploads playlist: a channel with no videos, not a failure."""
    return error.code == PLAYLIST_NOT_FOUND


def _is_key_refusal(reason: str | None, message: str) -> bool:
    # An invalid key is a plain badRequest (400); a missing one a "forbidden" about the API key.
    return reason in ("badRequest", "forbidden") and "api key" in message.lower()


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
