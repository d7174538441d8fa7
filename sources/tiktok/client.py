"""The TikTok API v2, as the pipeline calls it: the Display API's two calls, the OAuth token
endpoint, TikTok's two error shapes, and its per-endpoint request budget.

Every data call carries one creator's access token (``Authorization: Bearer act.…``), so the
client is shared by all creators of a night and the token is an argument of each call; the shared
:class:`~sources.http.JsonClient` never shows a header, and ``sources.redaction`` masks the
tokens' shape (``act.…``, ``rft.…``) wherever a message might carry one.

Errors come in two shapes. The Display API answers ``{"data": {...}, "error": {"code", "message",
"log_id"}}``, where ``code`` is ``"ok"`` on success; the OAuth endpoint answers
``{"error": "invalid_grant", "error_description", "log_id"}``. :func:`read_tiktok_error` reads
both. ``log_id`` is kept in the message: TikTok's support asks for it.

TikTok limits each endpoint to 600 requests in any sliding minute and answers
429 ``rate_limit_exceeded`` beyond it. A :class:`~sources.pacing.RequestBudget` per endpoint
paces every attempt (retries included) so that the platform never sees more than the budget in
any window: an attempt waits while the budget's worth of attempts are in flight or finished
within the window. A 429 still comes back when something else spends the same app's budget; the
shared client retries it, honouring Retry-After.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from sources.http import ApiError, FailureKind, HttpPolicy, JsonClient, PlatformClient
from sources.pacing import RequestBudget

DEFAULT_BASE_URL = "https://open.tiktokapis.com"
USER_INFO_PATH = "v2/user/info/"
VIDEO_LIST_PATH = "v2/video/list/"
TOKEN_PATH = "v2/oauth/token/"
USER_FIELDS = "open_id,union_id,display_name,follower_count,following_count,likes_count,video_count"
VIDEO_FIELDS = (
    "id,create_time,view_count,like_count,comment_count,share_count,title,video_description,"
    "duration,share_url"
)
# The scopes those fields need: the creator must have granted all three.
REQUIRED_SCOPES = ("user.info.basic", "user.info.stats", "video.list")
MAX_PAGE_SIZE = 20
DEFAULT_REQUESTS_PER_MINUTE = 600
RATE_WINDOW_SECONDS = 60.0

# Display API error codes, by what they mean for the night.
OK = "ok"
ACCESS_TOKEN_INVALID = "access_token_invalid"
SCOPE_CODES = frozenset({"scope_not_authorized", "scope_permission_missed"})
RETRY_CODES = frozenset({"rate_limit_exceeded", "internal_error"})
# OAuth error categories.
INVALID_GRANT = "invalid_grant"
CLIENT_REFUSED = frozenset({"invalid_client", "unauthorized_client"})
OAUTH_RETRY = frozenset({"server_error", "temporarily_unavailable"})


@dataclass(frozen=True)
class Config:
    """Where and how to reach the TikTok API; built by ``flows/`` from the settings."""

    base_url: str
    client_key: str = field(repr=False)
    client_secret: str = field(repr=False)
    # The token store (``sources.tiktok.tokens``): each creator's access and refresh tokens.
    token_file: Path
    # Only the simulated platforms can answer "as of" a past date; the real API answers "now".
    sends_as_of: bool = False
    http: HttpPolicy = field(default_factory=HttpPolicy)
    page_size: int = MAX_PAGE_SIZE
    # Videos published this many days before the night (or later) are observed again.
    lookback_days: int = 14
    # Requests per endpoint in any window of rate_window_seconds (TikTok's default: 600 a minute).
    requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE
    rate_window_seconds: float = RATE_WINDOW_SECONDS
    # An access token that expires within this many seconds is refreshed before it is used.
    refresh_margin_seconds: float = 900.0

    def __post_init__(self) -> None:
        for name, value in (("CLIENT_KEY", self.client_key), ("CLIENT_SECRET", self.client_secret)):
            if not value:
                raise ValueError(
                    f"the TikTok {name.lower().replace('_', ' ')} is empty: set "
                    f"INFLUENCERS_TIKTOK__{name} (from the app's page on developers.tiktok.com)"
                )
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be within 1..{MAX_PAGE_SIZE}: {self.page_size}")
        if self.requests_per_minute < 1:
            raise ValueError(f"requests_per_minute must be positive: {self.requests_per_minute}")
        if self.rate_window_seconds <= 0:
            raise ValueError(f"rate_window_seconds must be positive: {self.rate_window_seconds}")
        if self.lookback_days < 0:
            raise ValueError(f"lookback_days must not be negative: {self.lookback_days}")
        if self.refresh_margin_seconds < 0:
            raise ValueError(
                f"refresh_margin_seconds must not be negative: {self.refresh_margin_seconds}"
            )


@dataclass(frozen=True)
class TokenGrant:
    """What ``/v2/oauth/token/`` granted: a new access token and, maybe, a new refresh token."""

    access_token: str = field(repr=False)
    expires_in: int
    refresh_token: str = field(repr=False)
    refresh_expires_in: int | None
    open_id: str | None
    scope: str | None

    @classmethod
    def from_answer(cls, body: Any) -> TokenGrant:
        """The grant of a token answer; ApiError (ACCOUNT) naming what is missing."""
        if not isinstance(body, dict):
            raise _bad_grant(f"the answer is a JSON {type(body).__name__}, not an object")
        access_token = body.get("access_token")
        refresh_token = body.get("refresh_token")
        expires_in = body.get("expires_in")
        if not isinstance(access_token, str) or not access_token:
            raise _bad_grant("it has no access_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise _bad_grant("it has no refresh_token")
        if not _is_positive_int(expires_in):
            raise _bad_grant(f"its expires_in is not a positive number of seconds ({expires_in!r})")
        refresh_expires_in = body.get("refresh_expires_in")
        return cls(
            access_token=access_token,
            expires_in=int(expires_in),
            refresh_token=refresh_token,
            refresh_expires_in=int(refresh_expires_in)
            if _is_positive_int(refresh_expires_in)
            else None,
            open_id=body.get("open_id") if isinstance(body.get("open_id"), str) else None,
            scope=body.get("scope") if isinstance(body.get("scope"), str) else None,
        )


class EndpointBudgets:
    """One :class:`RequestBudget` per endpoint (URL path), as TikTok counts them."""

    def __init__(self, limit: int, window: float) -> None:
        self._limit = limit
        self._window = window
        self._lock = threading.Lock()
        self._budgets: dict[str, RequestBudget] = {}

    def budget(self, url: str) -> RequestBudget:
        path = urlsplit(url).path
        with self._lock:
            budget = self._budgets.get(path)
            if budget is None:
                budget = self._budgets[path] = RequestBudget(self._limit, self._window)
            return budget

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        with self.budget(url).slot():
            yield


class TikTokClient(PlatformClient):
    """The calls of a night over one shared :class:`JsonClient`, within each endpoint's budget."""

    def __init__(self, config: Config, as_of: dt.date | None = None) -> None:
        self._config = config
        self._as_of = as_of
        self._budgets = EndpointBudgets(config.requests_per_minute, config.rate_window_seconds)
        self._http = JsonClient(
            config.base_url,
            config.http,
            read_tiktok_error,
            secrets=(config.client_secret,),
            pace=self._budgets.slot,
        )

    def user_info(self, access_token: str) -> Any:
        """``GET /v2/user/info/``: the creator's profile and counts (``data.user``, as it came)."""
        body = self._http.get(
            USER_INFO_PATH, self._query(USER_FIELDS), headers=_bearer(access_token)
        )
        data = _data(body, "user/info")
        if "user" not in data:
            raise ApiError(
                "user/info answer has no data.user", kind=FailureKind.ACCOUNT, status=200
            )
        return data["user"]

    def video_page(self, access_token: str, cursor: int | None) -> dict[str, Any]:
        """``POST /v2/video/list/``: one page of the creator's videos, newest first (``data``:
        ``videos``, ``cursor``, ``has_more``)."""
        request: dict[str, Any] = {"max_count": self._config.page_size}
        if cursor is not None:
            request["cursor"] = cursor
        body = self._http.post(
            VIDEO_LIST_PATH,
            self._query(VIDEO_FIELDS),
            json_body=request,
            headers=_bearer(access_token),
        )
        return _data(body, "video/list")

    def refresh(self, refresh_token: str) -> TokenGrant:
        """A new access token (and maybe a new refresh token) for a creator's refresh token."""
        return self._token(grant_type="refresh_token", refresh_token=refresh_token)

    def exchange_code(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> TokenGrant:
        """The tokens of an authorization code, from the creator's consent on TikTok."""
        fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            fields["code_verifier"] = code_verifier
        return self._token(**fields)

    def _token(self, **fields: str) -> TokenGrant:
        form = {
            "client_key": self._config.client_key,
            "client_secret": self._config.client_secret,
            **fields,
        }
        return TokenGrant.from_answer(self._http.post(TOKEN_PATH, form=form))

    def _query(self, fields: str) -> dict[str, str]:
        query = {"fields": fields}
        if self._config.sends_as_of and self._as_of is not None:
            query["as_of"] = self._as_of.isoformat()
        return query


def read_tiktok_error(status: int, body: Any) -> ApiError | None:
    """The error a TikTok answer carries, in either shape, or None for a good answer."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, str):
        return _oauth_error(status, error, body)
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    if code == OK:
        return None
    code = code if isinstance(code, str) and code else "unknown"
    message = _with_log_id(str(error.get("message") or "no message"), error.get("log_id"))
    if code in RETRY_CODES or status >= 500 or status == 429:
        kind = FailureKind.RETRY
    elif code == ACCESS_TOKEN_INVALID:
        # The creator's token, not the app's: the extraction refreshes it once, then gives up on
        # that creator alone.
        kind = FailureKind.AUTH
        message = f"access token refused: {message}"
    elif code in SCOPE_CODES:
        kind = FailureKind.ACCOUNT
        message = (
            f"the creator did not grant a scope this call needs ({message}); ask them to "
            f"reconnect granting {', '.join(REQUIRED_SCOPES)}"
        )
    else:
        # invalid_params, and codes this reader does not know.
        kind = FailureKind.ACCOUNT
    return ApiError(message, kind=kind, status=status, code=code)


def is_access_token_invalid(error: ApiError) -> bool:
    return error.code == ACCESS_TOKEN_INVALID


def is_invalid_grant(error: ApiError) -> bool:
    return error.code == INVALID_GRANT


def _oauth_error(status: int, category: str, body: Mapping[str, Any]) -> ApiError:
    description = str(body.get("error_description") or category)
    message = _with_log_id(description, body.get("log_id"))
    if category in OAUTH_RETRY or status >= 500 or status == 429:
        kind = FailureKind.RETRY
    elif category in CLIENT_REFUSED:
        # The app's client key or secret: no creator's refresh can succeed tonight.
        kind = FailureKind.AUTH
        message = f"TikTok refused the app's client key or secret: {message}"
    else:
        # invalid_grant (the creator's refresh token), invalid_request, access_denied, ...
        kind = FailureKind.ACCOUNT
    return ApiError(message, kind=kind, status=status, code=category)


def _data(body: Any, call: str) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise ApiError(f"{call} answer has no data object", kind=FailureKind.ACCOUNT, status=200)
    return data


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def _with_log_id(message: str, log_id: Any) -> str:
    return f"{message} (log_id {log_id})" if isinstance(log_id, str) and log_id else message


def _is_positive_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _bad_grant(what: str) -> ApiError:
    return ApiError(
        f"the token answer cannot be used: {what}", kind=FailureKind.ACCOUNT, status=200
    )
