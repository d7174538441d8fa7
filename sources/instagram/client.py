"""The Instagram Graph API, as the pipeline calls it: two calls, its error JSON, its usage headers.

The access token travels as a query parameter, as the Graph API wants; the shared
:class:`~sources.http.JsonClient` redacts it from every URL, error and log line. Graph errors come
as ``{"error": {"code": 190, "message": ...}}``, sometimes with HTTP 200, sometimes with the code
as a string: :func:`read_graph_error` judges them all the same way.

The Graph API counts calls against budgets over a sliding window and reports, in every answer,
only the share of each budget used (``X-App-Usage``, ``X-Business-Use-Case-Usage``); past 100 %
calls fail with a throttling code and ``estimated_time_to_regain_access`` says when they will
succeed again. :class:`UsageBudget` paces the night by those shares: below
:data:`USAGE_TARGET_PCT` calls go at once; at it, the night keeps as many calls in the window as
it has (scaled down when the share is above the target), sending the next one as its oldest
leaves the window. A fixed pause would either overshoot the budget, and then wait for the whole
window to drain, or leave it unused.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sources.http import ApiError, FailureKind, HttpPolicy, JsonClient, PlatformClient
from sources.pacing import RequestBudget

PROFILE_FIELDS = "followers_count,follows_count,media_count,username,name"
MEDIA_FIELDS = "id,caption,like_count,comments_count,timestamp,media_type,permalink"

# Graph error codes meaning "slow down" (app, user, page and platform rate limits) or "try again".
THROTTLING_CODES = frozenset({4, 17, 32, 613})
TRANSIENT_CODES = frozenset({1, 2})
INVALID_TOKEN_CODE = 190
INVALID_USER_CODE = 110
# (#10) and (#200): the creator withdrew the insights permission, or never gave it.
PERMISSION_CODES = frozenset({10, 200})
# The share of a usage budget (X-App-Usage / X-Business-Use-Case-Usage) the night keeps to, once
# the answers report it: the calls in flight when it is reached stay within the rest.
USAGE_TARGET_PCT = 95
# The window the Graph API counts its app budget over: a rolling hour (the simulated platforms
# count a minute).
USAGE_WINDOW_SECONDS = 3600.0


@dataclass(frozen=True)
class Config:
    """Where and how to reach the Graph API; built by ``flows/`` from the settings."""

    base_url: str
    access_token: str = field(repr=False)
    app_user_id: str
    api_version: str = "v21.0"
    # Only the simulated platforms can answer "as of" a past date; the real API answers "now".
    sends_as_of: bool = False
    http: HttpPolicy = field(default_factory=HttpPolicy)
    page_size: int = 25
    lookback_days: int = 14
    fetch_audience: bool = True
    # The sliding window the usage headers' shares are of.
    usage_window_seconds: float = USAGE_WINDOW_SECONDS


class GraphClient(PlatformClient):
    """The two Graph calls of a night, over one shared :class:`JsonClient`."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._usage = UsageBudget(config.usage_window_seconds)
        self._http = JsonClient(
            f"{config.base_url.rstrip('/')}/{config.api_version}/",
            config.http,
            read_graph_error,
            secrets=(config.access_token,),
            usage_pause=usage_pause_seconds,
            pace=self._usage.slot,
        )

    def business_discovery(
        self, handle: str, as_of: dt.date, media_after: str | None
    ) -> dict[str, Any]:
        """One page of ``business_discovery`` for ``handle``: profile fields and a media page."""
        media_edge = f"media.limit({self._config.page_size})"
        if media_after:
            media_edge += f".after({media_after})"
        fields = (
            f"business_discovery.username({handle})"
            f"{{{PROFILE_FIELDS},{media_edge}{{{MEDIA_FIELDS}}}}}"
        )
        body = self._get(self._config.app_user_id, {"fields": fields}, as_of)
        discovered = body.get("business_discovery")
        if not isinstance(discovered, dict):
            raise ApiError(
                "business_discovery answer has no business_discovery object",
                kind=FailureKind.ACCOUNT,
                status=200,
            )
        return discovered

    def follower_demographics(self, ig_user_id: str, breakdown: str, as_of: dt.date) -> Any:
        """The ``follower_demographics`` answer of one breakdown, as it came."""
        return self._get(
            f"{ig_user_id}/insights",
            {
                "metric": "follower_demographics",
                "period": "lifetime",
                "metric_type": "total_value",
                "breakdown": breakdown,
            },
            as_of,
        )

    def _get(self, path: str, params: Mapping[str, str], as_of: dt.date) -> dict[str, Any]:
        query = dict(params)
        if self._config.sends_as_of:
            query["as_of"] = as_of.isoformat()
        query["access_token"] = self._config.access_token
        body = self._http.get(path, query)
        if not isinstance(body, dict):
            raise ApiError(
                f"answer is a JSON {type(body).__name__}, not an object",
                kind=FailureKind.ACCOUNT,
                status=200,
            )
        return body


def read_graph_error(status: int, body: Any) -> ApiError | None:
    """The Graph error an answer carries (whatever its HTTP status), or None for a good answer."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    message = str(error.get("message") or "no message")
    code = _as_int(error.get("code"))
    shown_code = str(code) if code is not None else None
    if code in THROTTLING_CODES or code in TRANSIENT_CODES or status in (429, 500, 502, 503, 504):
        kind = FailureKind.RETRY
    elif code == INVALID_TOKEN_CODE:
        kind = FailureKind.AUTH
        message = f"access token refused: {message}"
    elif code == INVALID_USER_CODE:
        message = f"not found: not a business or creator account, or the handle changed ({message})"
        kind = FailureKind.ACCOUNT
    else:
        kind = FailureKind.ACCOUNT
    return ApiError(message, kind=kind, status=status, code=shown_code)


def is_permission_error(error: ApiError) -> bool:
    return error.code is not None and _as_int(error.code) in PERMISSION_CODES


class UsageBudget:
    """The night's calls, paced by the share of the Graph API's budgets the answers report.

    Every attempt holds a slot of a :class:`~sources.pacing.RequestBudget` over the usage window;
    each answer's highest share (app or business use case, calls or time) sets its limit: none
    below :data:`USAGE_TARGET_PCT`, else the night's calls in the window when that attempt was
    sent, scaled to the target (the night's own calls are what it can change).
    """

    def __init__(self, window_seconds: float) -> None:
        self._budget = RequestBudget(None, window_seconds)

    @property
    def limit(self) -> int | None:
        """Calls the night may have in the window; None: as many as it likes."""
        return self._budget.limit

    @contextmanager
    def slot(self, url: str) -> Iterator[_UsageReading]:
        with self._budget.slot() as counted:
            yield _UsageReading(self, counted)

    def answered(self, counted: int, headers: Mapping[str, str]) -> None:
        """Set the limit from an answer to an attempt sent with ``counted`` calls in the window."""
        percent = usage_percent(headers)
        if percent is None:
            return
        if percent < USAGE_TARGET_PCT:
            self._budget.set_limit(None)
        else:
            self._budget.set_limit(max(1, math.floor(counted * USAGE_TARGET_PCT / percent)))


@dataclass(frozen=True)
class _UsageReading:
    """One attempt's place in the usage budget: its answer's headers go back to it."""

    budget: UsageBudget
    counted: int

    def answered(self, headers: Mapping[str, str]) -> None:
        self.budget.answered(self.counted, headers)


def usage_percent(headers: Mapping[str, str]) -> float | None:
    """The highest share (percent) of any budget the usage headers report; None without them."""
    shares: list[float] = []
    app_usage = _json_header(headers, "X-App-Usage")
    if isinstance(app_usage, dict):
        shares.append(_max_percent(app_usage))
    business_usage = _json_header(headers, "X-Business-Use-Case-Usage")
    if isinstance(business_usage, dict):
        for entries in business_usage.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    shares.append(_max_percent(entry))
    return max(shares, default=None)


def usage_pause_seconds(headers: Mapping[str, str]) -> float:
    """Seconds to pause all calls: how long a throttled business use case says it takes to
    regain access (``estimated_time_to_regain_access``, in minutes), else 0."""
    pause = 0.0
    business_usage = _json_header(headers, "X-Business-Use-Case-Usage")
    if isinstance(business_usage, dict):
        for entries in business_usage.values():
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict):
                    continue
                regain_minutes = entry.get("estimated_time_to_regain_access") or 0
                if isinstance(regain_minutes, int | float) and regain_minutes > 0:
                    pause = max(pause, float(regain_minutes) * 60)
    return pause


def _as_int(value: Any) -> int | None:
    """Graph codes are numbers, but some answers send them as strings ("4")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _json_header(headers: Mapping[str, str], name: str) -> Any:
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _max_percent(usage: Mapping[str, Any]) -> float:
    values = [
        float(usage[key])
        for key in ("call_count", "total_cputime", "total_time")
        if isinstance(usage.get(key), int | float)
    ]
    return max(values, default=0.0)
