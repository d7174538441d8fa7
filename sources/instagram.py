"""Instagram Graph API client: public counts and media through ``business_discovery``, audience
demographics through ``insights`` for creators who connected their account.

One ``requests.Session``; timeouts on every call; retries with exponential backoff for HTTP 429 and
5xx and for the Graph throttling codes (4, 17, 32, 613), honouring ``Retry-After`` and the usage
headers; cursor paging that stops on a repeated cursor; bounded concurrency across accounts. The
access token travels as a query parameter, as the Graph API wants, so every URL or message that
leaves this module goes through :func:`sources.redaction.redact` first.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import requests
from requests.adapters import HTTPAdapter

from sources.redaction import redact, redact_url_logging
from sources.roster import TrackedAccount

log = logging.getLogger(__name__)

PLATFORM = "instagram"
PROFILE_FIELDS = "followers_count,follows_count,media_count,username,name"
MEDIA_FIELDS = "id,caption,like_count,comments_count,timestamp,media_type,permalink"
DEMOGRAPHIC_BREAKDOWNS = ("age", "gender", "country", "city")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Graph error codes meaning "slow down" (app, user, page and platform rate limits) or "try again".
THROTTLING_CODES = frozenset({4, 17, 32, 613})
TRANSIENT_CODES = frozenset({1, 2})
INVALID_USER_CODE = 110
PERMISSION_CODE = 10
INVALID_TOKEN_CODE = 190
# Above this share of a usage budget (X-App-Usage / X-Business-Use-Case-Usage), pause before the
# next call rather than run into a throttling error.
USAGE_PAUSE_THRESHOLD_PCT = 90
GRAPH_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


@dataclass(frozen=True)
class GraphApiConfig:
    """Where and how to reach the Graph API; built by ``flows/`` from the settings."""

    base_url: str
    access_token: str = field(repr=False)
    app_user_id: str
    api_version: str = "v21.0"
    # Only the simulated platforms can answer "as of" a past date; the real API answers "now".
    sends_as_of: bool = False
    timeout_seconds: float = 10.0
    max_retries: int = 6
    backoff_seconds: float = 0.25
    max_wait_seconds: float = 60.0
    concurrency: int = 4
    page_size: int = 25


class GraphApiError(RuntimeError):
    """A Graph API call failed for good; the message never contains the token."""

    def __init__(self, message: str, *, status: int | None, code: int | None, url: str) -> None:
        super().__init__(f"{message} (HTTP {status}, Graph code {code}) for GET {url}")
        self.message = message
        self.status = status
        self.code = code
        self.url = url

    def while_doing(self, what: str) -> GraphApiError:
        """The same error, its message prefixed with what the caller was doing."""
        return GraphApiError(
            f"{what}: {self.message}", status=self.status, code=self.code, url=self.url
        )


@dataclass(frozen=True)
class AccountProblem:
    """An account the run could not fully extract, for a reason that is not a failure."""

    handle: str
    entity: str
    reason: str


@dataclass
class InstagramExtract:
    """Raw records of one extraction, in roster order, each with its context fields (``_``)."""

    profiles: list[dict[str, Any]] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    audience: list[dict[str, Any]] = field(default_factory=list)
    problems: list[AccountProblem] = field(default_factory=list)
    requests_made: int = 0


class InstagramGraphClient:
    """A thread-safe Graph API client (one pooled session shared by the worker threads)."""

    def __init__(
        self, config: GraphApiConfig, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        redact_url_logging()
        self._config = config
        self._sleep = sleep
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(config.concurrency, 1))
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._requests_made = 0

    def __enter__(self) -> InstagramGraphClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    @property
    def requests_made(self) -> int:
        return self._requests_made

    def business_discovery(
        self, handle: str, as_of: dt.date, published_since: dt.datetime
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Public profile counts of ``handle`` and its media published since ``published_since``
        (the page that crosses that instant is kept whole: nothing returned is thrown away)."""
        profile: dict[str, Any] = {}
        media: list[dict[str, Any]] = []
        seen_cursors: set[str] = set()
        cursor: str | None = None
        while True:
            media_edge = f"media.limit({self._config.page_size})"
            if cursor:
                media_edge += f".after({cursor})"
            fields = (
                f"business_discovery.username({handle})"
                f"{{{PROFILE_FIELDS},{media_edge}{{{MEDIA_FIELDS}}}}}"
            )
            body = self._get(self._config.app_user_id, {"fields": fields}, as_of)
            discovered = body.get("business_discovery")
            if not isinstance(discovered, dict):
                raise GraphApiError(
                    f"business_discovery answer for {handle!r} has no business_discovery object",
                    status=200,
                    code=None,
                    url=self._redacted_url(self._config.app_user_id),
                )
            edge = discovered.pop("media", None) or {}
            if not profile:
                profile = discovered
            page = [item for item in edge.get("data", []) if isinstance(item, dict)]
            media.extend(page)
            paging = edge.get("paging") or {}
            cursor = (paging.get("cursors") or {}).get("after")
            if (
                not page
                or "next" not in paging
                or not cursor
                or cursor in seen_cursors
                or _oldest_timestamp(page) < published_since
            ):
                return profile, media
            seen_cursors.add(cursor)

    def follower_demographics(
        self, ig_user_id: str, breakdown: str, as_of: dt.date
    ) -> list[dict[str, Any]]:
        """The ``follower_demographics`` results of one breakdown (dimension_values, value)."""
        body = self._get(
            f"{ig_user_id}/insights",
            {
                "metric": "follower_demographics",
                "period": "lifetime",
                "metric_type": "total_value",
                "breakdown": breakdown,
            },
            as_of,
        )
        results: list[dict[str, Any]] = []
        for metric in body.get("data", []):
            for block in (metric.get("total_value") or {}).get("breakdowns", []):
                results.extend(r for r in block.get("results", []) if isinstance(r, dict))
        return results

    def _redacted_url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        """The URL as a person should read it: decoded, with the token masked."""
        query = {**(params or {}), "access_token": self._config.access_token}
        request = requests.Request("GET", self._url(path), params=query).prepare()
        return redact(unquote(request.url or ""), self._config.access_token)

    def _url(self, path: str) -> str:
        return f"{self._config.base_url.rstrip('/')}/{self._config.api_version}/{path}"

    def _get(self, path: str, params: Mapping[str, str], as_of: dt.date) -> dict[str, Any]:
        query = dict(params)
        if self._config.sends_as_of:
            query["as_of"] = as_of.isoformat()
        shown_url = self._redacted_url(path, query)
        query["access_token"] = self._config.access_token
        for attempt in range(self._config.max_retries + 1):
            self._wait_while_paused()
            last_attempt = attempt == self._config.max_retries
            try:
                response = self._session.get(
                    self._url(path), params=query, timeout=self._config.timeout_seconds
                )
            except requests.RequestException as error:
                # requests puts the full URL, token included, into its messages.
                message = redact(str(error), self._config.access_token)
                if last_attempt:
                    raise GraphApiError(
                        f"network error: {message}", status=None, code=None, url=shown_url
                    ) from None
                log.warning("retrying %s after network error: %s", shown_url, message)
                self._sleep(self._backoff(attempt))
                continue
            with self._lock:
                self._requests_made += 1
            self._pause_for_usage(response.headers)
            if response.status_code == 200:
                try:
                    body = response.json()
                except ValueError:
                    body = None
                if isinstance(body, dict):
                    return body
                if last_attempt:
                    raise GraphApiError(
                        "answer is not a JSON object", status=200, code=None, url=shown_url
                    )
                self._sleep(self._backoff(attempt))
                continue
            message, code = _graph_error(response, self._config.access_token)
            retryable = (
                response.status_code in RETRYABLE_STATUSES
                or code in THROTTLING_CODES
                or code in TRANSIENT_CODES
            )
            if not retryable or last_attempt:
                raise GraphApiError(message, status=response.status_code, code=code, url=shown_url)
            wait = _retry_after_seconds(response.headers)
            if wait is None:
                wait = self._backoff(attempt)
            log.warning(
                "retrying %s in %.1fs after HTTP %s (code %s): %s",
                shown_url,
                wait,
                response.status_code,
                code,
                message,
            )
            self._sleep(min(wait, self._config.max_wait_seconds))
        raise AssertionError("unreachable: the retry loop returns or raises")

    def _backoff(self, attempt: int) -> float:
        ceiling = self._config.backoff_seconds * 2**attempt
        return min(self._config.max_wait_seconds, random.uniform(ceiling / 2, ceiling))

    def _pause_for_usage(self, headers: Mapping[str, str]) -> None:
        pause = _usage_pause_seconds(headers, self._config.backoff_seconds)
        if pause > 0:
            pause = min(pause, self._config.max_wait_seconds)
            log.warning("API usage near its limit: pausing all calls for %.1fs", pause)
            with self._lock:
                self._paused_until = max(self._paused_until, time.monotonic() + pause)

    def _wait_while_paused(self) -> None:
        with self._lock:
            remaining = self._paused_until - time.monotonic()
        if remaining > 0:
            self._sleep(remaining)


def extract_instagram(
    client: InstagramGraphClient,
    accounts: Sequence[TrackedAccount],
    as_of: dt.date,
    lookback_days: int,
    concurrency: int,
    *,
    fetch_audience: bool = True,
) -> InstagramExtract:
    """Extract profiles, recent media and (for connected creators) audience demographics.

    Records come back in roster order whatever the concurrency, so landed files are reproducible.
    An unknown handle or a missing insights permission is reported in ``problems``, not raised:
    prospects have no audience data, and that is normal.
    """
    published_since = dt.datetime.combine(
        as_of - dt.timedelta(days=lookback_days), dt.time(0), tzinfo=dt.UTC
    )
    instagram_accounts = [a for a in accounts if a.platform == PLATFORM]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="instagram") as pool:
        per_account = list(
            pool.map(
                lambda account: _extract_account(
                    client, account, as_of, published_since, fetch_audience
                ),
                instagram_accounts,
            )
        )
    extract = InstagramExtract(requests_made=client.requests_made)
    for account_extract in per_account:
        extract.profiles.extend(account_extract.profiles)
        extract.media.extend(account_extract.media)
        extract.audience.extend(account_extract.audience)
        extract.problems.extend(account_extract.problems)
    return extract


def _extract_account(
    client: InstagramGraphClient,
    account: TrackedAccount,
    as_of: dt.date,
    published_since: dt.datetime,
    fetch_audience: bool,
) -> InstagramExtract:
    extract = InstagramExtract()
    try:
        profile, media = client.business_discovery(account.handle, as_of, published_since)
    except GraphApiError as error:
        if error.code == INVALID_USER_CODE:
            extract.problems.append(
                AccountProblem(
                    account.handle,
                    "profiles",
                    "not found: not a business or creator account, or the handle changed",
                )
            )
            return extract
        raise error.while_doing(f"extracting {account.handle!r} as of {as_of}") from None
    context = {"_handle": account.handle, "_as_of": as_of.isoformat()}
    extract.profiles.append({**context, **profile})
    account_id = profile.get("id")
    media_context = {**context, "_account_id": account_id}
    extract.media.extend({**media_context, **item} for item in media)
    if not fetch_audience or not account.connected or not isinstance(account_id, str):
        return extract
    for breakdown in DEMOGRAPHIC_BREAKDOWNS:
        try:
            results = client.follower_demographics(account_id, breakdown, as_of)
        except GraphApiError as error:
            if error.code == PERMISSION_CODE:
                extract.problems.append(
                    AccountProblem(account.handle, "audience", "insights permission withdrawn")
                )
                return extract
            raise GraphApiError(
                f"extracting {breakdown} demographics of {account.handle!r} as of {as_of}: {error}",
                status=error.status,
                code=error.code,
                url=error.url,
            ) from None
        extract.audience.extend(
            {**media_context, "_breakdown": breakdown, **result} for result in results
        )
    return extract


def _oldest_timestamp(page: Sequence[Mapping[str, Any]]) -> dt.datetime:
    """The oldest parseable ``timestamp`` of a page; a page with none never stops paging early."""
    parsed = list(_parse_timestamps(page))
    return min(parsed) if parsed else dt.datetime.max.replace(tzinfo=dt.UTC)


def _parse_timestamps(page: Sequence[Mapping[str, Any]]) -> Iterator[dt.datetime]:
    for item in page:
        try:
            yield dt.datetime.strptime(str(item.get("timestamp")), GRAPH_TIMESTAMP_FORMAT)
        except ValueError:
            continue


def _graph_error(response: requests.Response, token: str) -> tuple[str, int | None]:
    """The Graph error message and code of a failed answer (any body shape)."""
    try:
        error = response.json().get("error", {})
        message = str(error.get("message", "no message"))
        code = error.get("code")
        return redact(message, token), code if isinstance(code, int) else None
    except (ValueError, AttributeError):
        return redact(response.text[:200], token) or response.reason or "no body", None


def _retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _usage_pause_seconds(headers: Mapping[str, str], base_pause: float) -> float:
    """Seconds to pause all calls, judged from the app and business use-case usage headers."""
    pause = 0.0
    app_usage = _json_header(headers, "X-App-Usage")
    if isinstance(app_usage, dict) and _max_percent(app_usage) >= USAGE_PAUSE_THRESHOLD_PCT:
        pause = max(pause, base_pause * 8)
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
                    pause = max(pause, base_pause * 8)
    return pause


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
