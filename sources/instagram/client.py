"""The Instagram Graph API, as the pipeline calls it: two calls, its error JSON, its usage headers.

The access token travels as a query parameter, as the Graph API wants; the shared
:class:`~sources.http.JsonClient` redacts it from every URL, error and log line. Graph errors come
as ``{"error": {"code": 190, "message": ...}}``, sometimes with HTTP 200, sometimes with the code
as a string: :func:`read_graph_error` judges them all the same way.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sources.http import ApiError, FailureKind, HttpPolicy, JsonClient, PlatformClient

PROFILE_FIELDS = "followers_count,follows_count,media_count,username,name"
MEDIA_FIELDS = "id,caption,like_count,comments_count,timestamp,media_type,permalink"

# Graph error codes meaning "slow down" (app, user, page and platform rate limits) or "try again".
THROTTLING_CODES = frozenset({4, 17, 32, 613})
TRANSIENT_CODES = frozenset({1, 2})
INVALID_TOKEN_CODE = 190
INVALID_USER_CODE = 110
# (#10) and (#200): the creator withdrew the insights permission, or never gave it.
PERMISSION_CODES = frozenset({10, 200})
# Above this share of a usage budget (X-App-Usage / X-Business-Use-Case-Usage), pause before the
# next call rather than run into a throttling error.
USAGE_PAUSE_THRESHOLD_PCT = 90
USAGE_PAUSE_SECONDS = 2.0


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


class GraphClient(PlatformClient):
    """The two Graph calls of a night, over one shared :class:`JsonClient`."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._http = JsonClient(
            f"{config.base_url.rstrip('/')}/{config.api_version}/",
            config.http,
            read_graph_error,
            secrets=(config.access_token,),
            usage_pause=usage_pause_seconds,
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


def usage_pause_seconds(headers: Mapping[str, str]) -> float:
    """Seconds to pause all calls, judged from the app and business use-case usage headers."""
    pause = 0.0
    app_usage = _json_header(headers, "X-App-Usage")
    if isinstance(app_usage, dict) and _max_percent(app_usage) >= USAGE_PAUSE_THRESHOLD_PCT:
        pause = USAGE_PAUSE_SECONDS
    business_usage = _json_header(headers, "X-Business-Use-Case-Usage")
    if isinstance(business_usage, dict):
        for entries in business_usage.values():
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict):
                    continue
                regain_minutes = entry.get("estimated_time_to_regain_access") or 0
                if isinstance(regain_minutes, int | float) and regain_minutes > 0:
                    pause = max(pause, float(regain_minutes) * 60)
                elif _max_percent(entry) >= USAGE_PAUSE_THRESHOLD_PCT:
                    pause = max(pause, USAGE_PAUSE_SECONDS)
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
