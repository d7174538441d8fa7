"""The simulated TikTok API v2 (Display API and OAuth): the same world's creators, seen on TikTok.

About half of the world's creators also post on TikTok (an independent draw from YouTube's, so
some creators are on all three platforms, some on Instagram and TikTok only). Everything follows
from the world (seed, size, anchor), so any past date answers the same way on every run:

- a TikTok account has a username (the creator's Instagram handle made to fit TikTok's rule, or
  a variant of it for about a quarter of them), an ``open_id`` and a ``union_id`` (UUIDs hashed
  from the creator: TikTok scopes ``open_id`` to one app);
- followers = a per-account factor times the creator's followers at the end of the day (risers
  keep a factor near 1, so that on TikTok too they cross into macro around the anchor);
- videos are about 80 % of the creator's posts (the same days and times), their ids 19 digits;
  their interactions are the post's, scaled by the follower factor and by TikTok's higher
  engagement: (likes + comments + shares) / followers per video runs ~11 % at 3k followers,
  ~6 % at 30k, ~3.5 % at 300k and ~2 % at 3M, within the 2024-2026 tier ranges published for
  TikTok (nano 8-15 %, micro 5-10 %, mid-tier 3-6 %, mega 1.5-3.5 %: kolens.ai and
  calculatecreator.com, from HypeAuditor / Influencer Marketing Hub data); comments are 1-3 % of
  interactions, shares 3-10 %, and views follow from an engagement by views of 4-10 % per video.

:func:`tiktok_router` serves, under the prefix the app gives it (``/tiktok``):

- ``POST /v2/oauth/token/`` (form-encoded ``client_key``, ``client_secret``, ``grant_type``
  ``refresh_token`` or ``authorization_code``): access tokens that expire (``expires_in``,
  :attr:`TikTokAccess.access_token_seconds`, 24 h by default) and refresh tokens that rotate on
  every refresh: the one sent is refused (``invalid_grant``) once a newer one was issued. Errors in
  the OAuth shape ``{"error", "error_description", "log_id"}``.
- ``GET /v2/auth/authorize/`` (simulator-only ``username``: the creator who consents): a 302 to
  the ``redirect_uri`` with a one-time ``code``, as TikTok's consent page ends.
- ``GET /v2/user/info/`` and ``POST /v2/video/list/`` (JSON ``{"cursor", "max_count"}``, at most
  20; the cursor is the ``create_time`` in milliseconds of the last video of the page; videos
  created before it come next), with ``Authorization: Bearer <access token>`` and answers in the
  shape ``{"data": {...}, "error": {"code": "ok", "message": "", "log_id"}}``; ``as_of`` is the
  simulator-only parameter that answers for a past date.
- a budget per endpoint (600 requests in any sliding minute by default,
  :attr:`TikTokAccess.requests_per_window`): beyond it, HTTP 429 ``rate_limit_exceeded`` with a
  ``Retry-After``.

Tokens are signed, not stored: any simulator with the same signing key (by default one derived
from the world, so the simulator started for each night of the demo accepts the tokens the last
one issued) verifies them; only the rotation (which refresh token is current) is kept in memory.
Faults are injected per account through ``faults.account_faults`` (TikTok username -> one of
:data:`TIKTOK_ACCOUNT_FAULTS`).
"""

from __future__ import annotations

import base64
import bisect
import collections
import functools
import hashlib
import hmac
import itertools
import json
import math
import secrets
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from statistics import NormalDist
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from simulator.world import SimulatedWorld, tier_of

PLATFORM = "tiktok"
DEFAULT_ACCESS_TOKEN_SECONDS = 86_400
REFRESH_TOKEN_SECONDS = 31_536_000
AUTHORIZATION_CODE_SECONDS = 600
DEFAULT_REQUESTS_PER_WINDOW = 600
DEFAULT_WINDOW_SECONDS = 60.0
MAX_COUNT = 20
DEFAULT_MAX_COUNT = 10
SCOPES = "user.info.basic,user.info.stats,video.list"
USER_FIELDS = frozenset(
    {
        "open_id",
        "union_id",
        "avatar_url",
        "display_name",
        "bio_description",
        "is_verified",
        "username",
        "follower_count",
        "following_count",
        "likes_count",
        "video_count",
    }
)
VIDEO_FIELDS = frozenset(
    {
        "id",
        "create_time",
        "title",
        "video_description",
        "duration",
        "cover_image_url",
        "share_url",
        "embed_link",
        "like_count",
        "comment_count",
        "share_count",
        "view_count",
    }
)

# Per-account faults (``faults.account_faults``: TikTok username -> fault name).
TIKTOK_ACCOUNT_FAULTS = (
    "refresh_revoked",  # its refresh token is refused: 400 invalid_grant (it must reconnect)
    "no_rotation",  # a refresh answers the same refresh token (TikTok may not rotate it)
    "access_token_invalid",  # every data call: 401 access_token_invalid, even after a refresh
    "access_token_invalid_once",  # the first data call: 401 access_token_invalid; fine after
    "scope_not_authorized",  # video/list: 401 scope_not_authorized (video.list not granted)
    "invalid_params",  # video/list: 400 invalid_params
    "rate_limited_once",  # each call's first try: 429 rate_limit_exceeded, Retry-After 1
    "rate_limited",  # every data call: 429 rate_limit_exceeded, Retry-After 1
    "internal_error",  # every data call: 500 internal_error
    "error_in_200",  # every data call: HTTP 200 whose error.code is internal_error
    "html_502",  # every data call: 502 with a gateway's HTML page
    "has_more_without_cursor",  # video/list: has_more true, no cursor
    "cursor_loop",  # video/list: page 2's cursor is page 1's again
    "future_video",  # its newest video's create_time is two years after as_of
    "absurd_followers",  # follower_count 10**15
    "malformed_video",  # the second video of the first page is a bare string (its id)
    "no_videos",  # it has posted no video yet: an empty list, has_more false
)

_TIKTOK_SHARE = 0.50
_VARIANT_HANDLE_SHARE = 0.25
_VIDEO_SHARE = 0.80
_FOLLOWER_FACTOR = (0.5, 2.5)
_RISER_FOLLOWER_FACTOR = (0.9, 1.2)
# TikTok's engagement per follower over Instagram's, at the same follower count (see above).
_ENGAGEMENT_LIFT = 3.5
_ACCOUNT_LIFT_SPREAD = (0.8, 1.25)
_VIDEO_NOISE_SIGMA = 0.35
_COMMENT_SHARE = (0.01, 0.03)
_SHARE_SHARE = (0.03, 0.10)
_ENGAGEMENT_PER_VIEW = (0.04, 0.10)
# Comments per interaction of an Instagram post whose likes are hidden, to still scale it.
_INSTAGRAM_COMMENT_SHARE = 0.065
_LIKES_PER_FOLLOWER = (3.0, 15.0)
_VIDEO_ID_BASE = 7_000_000_000_000_000_000
_VIDEO_ORDINAL_SLOTS = 100_000
_ABSURD_FOLLOWERS = 10**15
_SETTLED_DAYS = 7
_HANDLE_MAX = 24
_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True)
class TikTokAccess:
    """What the TikTok dialect accepts and how it behaves: the app's client key and secret,
    how long its access tokens live, its per-endpoint budget, and the key it signs tokens with
    (None: one derived from the world, stable across simulator restarts)."""

    client_key: str = field(repr=False)
    client_secret: str = field(repr=False)
    access_token_seconds: int = DEFAULT_ACCESS_TOKEN_SECONDS
    requests_per_window: int = DEFAULT_REQUESTS_PER_WINDOW
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    signing_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.client_key or not self.client_secret:
            raise ValueError("the TikTok client key and secret must not be empty")
        if self.access_token_seconds < 1:
            raise ValueError("access_token_seconds must be positive")
        if self.requests_per_window < 1 or self.window_seconds <= 0:
            raise ValueError("the TikTok request budget must be positive")


@dataclass(frozen=True)
class TikTokAccount:
    """One creator's TikTok account, and the traits that shape its answers."""

    creator_handle: str  # the world's key for the creator (its Instagram handle)
    number: int  # the creator's position in the world
    handle: str  # the TikTok username, as the roster tracks it
    open_id: str
    union_id: str
    display_name: str
    country: str
    category: str
    archetype: str
    follower_factor: float
    engagement_lift: float
    likes_per_follower: float
    older_videos: int  # videos published before the simulated range


class TikTokFaultSource(Protocol):
    """What the dialect reads of the simulator's fault configuration."""

    @property
    def account_faults(self) -> Mapping[str, str]: ...


class TikTokView:
    """The TikTok side of one world: its accounts, their followers and their videos."""

    def __init__(self, world: SimulatedWorld) -> None:
        self.world = world
        self.accounts = _draw_accounts(world)
        self._by_handle = {account.handle.lower(): account for account in self.accounts}
        self._by_open_id = {account.open_id: account for account in self.accounts}
        self._by_number = {account.number: account for account in self.accounts}
        # Lazily filled; concurrent server threads may compute an entry twice, which is harmless
        # because the result is deterministic.
        self._ordinals: dict[str, list[int]] = {}

    def account(self, handle: str) -> TikTokAccount | None:
        return self._by_handle.get(handle.lower())

    def account_by_open_id(self, open_id: str) -> TikTokAccount | None:
        return self._by_open_id.get(open_id)

    def account_of_creator(self, creator_handle: str) -> TikTokAccount | None:
        try:
            number = self.world._population().numbers[creator_handle]
        except KeyError:
            return None
        return self._by_number.get(number)

    def followers(self, account: TikTokAccount, day: date) -> int:
        followers = self.world.followers(account.creator_handle, day)
        return max(1, round(account.follower_factor * followers))

    def video_ordinals(self, account: TikTokAccount, as_of: date) -> list[int]:
        """Ordinals (0 = the creator's first post) of the account's videos up to ``as_of``,
        newest first."""
        published = len(self.world.media(account.creator_handle, as_of))
        ordinals = self._all_ordinals(account)
        return ordinals[: bisect.bisect_left(ordinals, published)][::-1]

    def user(self, account: TikTokAccount, as_of: date) -> dict[str, Any]:
        """Every user field the dialect knows, as of the end of ``as_of``."""
        followers = self.followers(account, as_of)
        profile = self.world.profile(account.creator_handle, as_of)
        return {
            "open_id": account.open_id,
            "union_id": account.union_id,
            "avatar_url": f"https://p16-sign.tiktokcdn.com/{account.open_id[:8]}~c5_168x168.jpeg",
            "display_name": account.display_name,
            "bio_description": f"{account.category.capitalize()} | {account.country}",
            "is_verified": followers >= 1_000_000,
            "username": account.handle,
            "follower_count": followers,
            "following_count": round(profile["follows_count"] * 0.6),
            "likes_count": round(followers * account.likes_per_follower),
            "video_count": account.older_videos + len(self.video_ordinals(account, as_of)),
        }

    def video(self, account: TikTokAccount, ordinal: int, as_of: date) -> dict[str, Any]:
        """Every video field the dialect knows, with the counts as of the end of ``as_of``."""
        timeline = self.world.media(account.creator_handle, as_of)
        post: dict[str, Any] = timeline[len(timeline) - 1 - ordinal]
        video_id = self.video_id(account, ordinal)
        noise_draw, comment_draw, share_draw, view_draw, duration_draw = _unit_draws(
            f"{self.world.seed}:tt-video:{video_id}", 5
        )
        if "like_count" in post:
            instagram = post["like_count"] + post["comments_count"]
        else:
            instagram = post["comments_count"] / _INSTAGRAM_COMMENT_SHARE
        noise = math.exp(_VIDEO_NOISE_SIGMA * _normal(noise_draw) - _VIDEO_NOISE_SIGMA**2 / 2)
        interactions = instagram * account.follower_factor * account.engagement_lift * noise
        comments = round(interactions * _between(_COMMENT_SHARE, comment_draw))
        shares = round(interactions * _between(_SHARE_SHARE, share_draw))
        likes = max(0, round(interactions) - comments - shares)
        views = round(interactions / _between(_ENGAGEMENT_PER_VIEW, view_draw))
        caption: str = post["caption"]
        return {
            "id": video_id,
            "create_time": _epoch_seconds(post["timestamp"]),
            "title": caption.split(" #")[0][:150],
            "video_description": caption,
            "duration": 8 + int(duration_draw * 172),
            "cover_image_url": f"https://p16-sign.tiktokcdn.com/obj/{video_id}~tplv-cover.jpeg",
            "share_url": f"https://www.tiktok.com/@{account.handle}/video/{video_id}",
            "embed_link": f"https://www.tiktok.com/player/v1/{video_id}",
            "like_count": likes,
            "comment_count": comments,
            "share_count": shares,
            "view_count": views,
        }

    def video_id(self, account: TikTokAccount, ordinal: int) -> str:
        """19 digits that pack (creator, ordinal), so ids never collide."""
        return str(_VIDEO_ID_BASE + account.number * _VIDEO_ORDINAL_SLOTS + ordinal)

    def truth_event_date(self, account: TikTokAccount) -> date | None:
        """The day of the account's jump (bought, viral: the world's) or tier crossing (riser:
        into macro; decliner: below micro; the first of 7 days in the new tier nearest the
        anchor) on its follower counts; None for the others."""
        world = self.world
        if account.archetype in ("bought", "viral"):
            return world.event_date(account.creator_handle)
        if account.archetype not in ("riser", "decliner"):
            return None
        days = [
            world.first_day + timedelta(days=offset)
            for offset in range((world.last_day - world.first_day).days + 1)
        ]
        tiers = [tier_of(self.followers(account, day)) for day in days]
        wanted = (
            (lambda before, after: before != "macro" and after == "macro")
            if account.archetype == "riser"
            else (lambda before, after: before != "nano" and after == "nano")
        )
        crossings = [
            position
            for position in range(1, len(days))
            if wanted(tiers[position - 1], tiers[position])
            and len(set(tiers[position : position + _SETTLED_DAYS])) == 1
        ]
        anchor = (world.anchor - world.first_day).days
        if not crossings:
            return None
        return days[min(crossings, key=lambda position: abs(position - anchor))]

    def _all_ordinals(self, account: TikTokAccount) -> list[int]:
        ordinals = self._ordinals.get(account.handle)
        if ordinals is None:
            posts = len(self.world.media(account.creator_handle, self.world.last_day))
            key = f"{self.world.seed}:tt-video:{account.creator_handle}"
            ordinals = [
                ordinal
                for ordinal in range(min(posts, _VIDEO_ORDINAL_SLOTS))
                if _unit(f"{key}:{ordinal}") < _VIDEO_SHARE
            ]
            self._ordinals[account.handle] = ordinals
        return ordinals


@functools.lru_cache(maxsize=4)
def tiktok_view(world: SimulatedWorld) -> TikTokView:
    """The TikTok view of ``world`` (built once for the last few worlds asked about)."""
    return TikTokView(world)


def tiktok_roster_rows(world: SimulatedWorld) -> list[dict[str, str]]:
    """The world's TikTok accounts as roster rows: every one connected (the Display API reads
    nothing without the creator's own token)."""
    return [
        {
            "platform": PLATFORM,
            "handle": account.handle,
            "connected": "true",
            "country": account.country,
            "category": account.category,
        }
        for account in tiktok_view(world).accounts
    ]


def tiktok_truth_rows(world: SimulatedWorld) -> list[dict[str, str]]:
    """The ground truth of every TikTok account: platform, handle, archetype, event_date."""
    view = tiktok_view(world)
    rows = []
    for account in view.accounts:
        event = view.truth_event_date(account)
        rows.append(
            {
                "platform": PLATFORM,
                "handle": account.handle,
                "archetype": account.archetype,
                "event_date": event.isoformat() if event else "",
            }
        )
    return rows


def default_signing_key(world: SimulatedWorld) -> str:
    """The key the dialect signs tokens with when none is given: derived from the world, so a
    simulator started again for the same world accepts the tokens an earlier one issued."""
    digest = hashlib.blake2b(
        f"{world.seed}:{world.anchor.isoformat()}:tiktok-signing-key".encode(), digest_size=32
    ).digest()
    return _base64url(digest)


def connected_refresh_tokens(
    world: SimulatedWorld, signing_key: str | None = None
) -> dict[str, tuple[str, str]]:
    """TikTok username -> (open_id, refresh token) of every account: the tokens the creators'
    consent left with the brand, to seed a token store (their access tokens are fetched on the
    first night). Valid for a year from now, like a refresh token TikTok just issued."""
    key = signing_key or default_signing_key(world)
    issued = int(time.time())
    return {
        account.handle: (
            account.open_id,
            _sign("rft", key, account.open_id, issued + REFRESH_TOKEN_SECONDS, "consent"),
        )
        for account in tiktok_view(world).accounts
    }


def tiktok_router(
    world: SimulatedWorld, *, access: TikTokAccess, faults: TikTokFaultSource
) -> APIRouter:
    """The TikTok API v2 dialect, to include under ``/tiktok``. ValueError for an account
    fault whose name or account the world does not have."""
    api = _TikTokApi(tiktok_view(world), access, faults)
    router = APIRouter()

    @router.post("/v2/oauth/token/")
    async def token(request: Request) -> JSONResponse:
        return api.token(request.headers.get("content-type", ""), await request.body())

    @router.get("/v2/auth/authorize/")
    def authorize(request: Request) -> Response:
        return api.authorize(dict(request.query_params))

    @router.get("/v2/user/info/")
    def user_info(request: Request) -> Response:
        return api.serve(request, api.user_info, None)

    @router.post("/v2/video/list/")
    async def video_list(request: Request) -> Response:
        return api.serve(request, api.video_list, await request.body())

    return router


class _ApiError(Exception):
    """An error answered in the Display API's shape."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def answer(self) -> JSONResponse:
        body = {
            "data": {},
            "error": {"code": self.code, "message": self.message, "log_id": _log_id()},
        }
        return JSONResponse(body, status_code=self.status, headers=self.headers)


class _OAuthError(Exception):
    """An error answered in the OAuth shape."""

    def __init__(self, status: int, category: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.category = category
        self.description = description

    def answer(self) -> JSONResponse:
        body = {"error": self.category, "error_description": self.description, "log_id": _log_id()}
        return JSONResponse(body, status_code=self.status)


@dataclass(frozen=True)
class _Call:
    """One data request, once its token, budget and date are settled."""

    account: TikTokAccount
    params: Mapping[str, str]
    as_of: date
    fault: str | None
    body: bytes | None


class _TikTokApi:
    def __init__(self, view: TikTokView, access: TikTokAccess, faults: TikTokFaultSource) -> None:
        self.view = view
        self._access = access
        self._signing_key = access.signing_key or default_signing_key(view.world)
        self._faults = _checked_faults(view, faults.account_faults)
        self._lock = threading.Lock()
        # open_id -> the refresh token issued last (only it refreshes); unknown: any valid one.
        self._current_refresh: dict[str, str] = {}
        self._used_codes: set[str] = set()
        self._throttled_once: set[str] = set()
        self._refused_once: set[str] = set()
        self._windows: dict[str, collections.deque[float]] = {}

    # --- OAuth -------------------------------------------------------------------------------

    def token(self, content_type: str, body: bytes) -> JSONResponse:
        try:
            grant = self._grant(content_type, body)
        except _OAuthError as error:
            return error.answer()
        return JSONResponse(grant)

    def _grant(self, content_type: str, body: bytes) -> dict[str, Any]:
        if not content_type.startswith("application/x-www-form-urlencoded"):
            raise _OAuthError(
                400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded"
            )
        form = {
            name: values[0] for name, values in parse_qs(body.decode("utf-8", "replace")).items()
        }
        if not hmac.compare_digest(
            form.get("client_key", ""), self._access.client_key
        ) or not hmac.compare_digest(form.get("client_secret", ""), self._access.client_secret):
            raise _OAuthError(401, "invalid_client", "Client key or secret is incorrect.")
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            account, refresh_token = self._refreshed(form.get("refresh_token", ""))
            return self._issue(account, refresh_token)
        if grant_type == "authorization_code":
            return self._issue(self._consented(form), None)
        raise _OAuthError(
            400, "unsupported_grant_type", f"grant_type {grant_type!r} is unsupported"
        )

    def _refreshed(self, refresh_token: str) -> tuple[TikTokAccount, str]:
        """The account of a refresh token the dialect accepts, and the token itself."""
        verified = _verify("rft", self._signing_key, refresh_token)
        if verified is None:
            raise _OAuthError(400, "invalid_grant", "Refresh token is invalid or expired.")
        open_id, _ = verified
        account = self.view.account_by_open_id(open_id)
        if account is None:
            raise _OAuthError(400, "invalid_grant", "Refresh token is invalid or expired.")
        if self._faults.get(account.handle.lower()) == "refresh_revoked":
            raise _OAuthError(400, "invalid_grant", "Refresh token has been revoked by the user.")
        with self._lock:
            current = self._current_refresh.get(open_id)
        if current is not None and not hmac.compare_digest(current, refresh_token):
            raise _OAuthError(
                400, "invalid_grant", "Refresh token has been rotated: use the latest one."
            )
        return account, refresh_token

    def _consented(self, form: Mapping[str, str]) -> TikTokAccount:
        code = form.get("code", "")
        verified = _verify("code", self._signing_key, code)
        account = self.view.account_by_open_id(verified[0]) if verified else None
        with self._lock:
            used = code in self._used_codes
            self._used_codes.add(code)
        if account is None or used:
            raise _OAuthError(400, "invalid_grant", "Authorization code is expired or used.")
        if not form.get("redirect_uri"):
            raise _OAuthError(400, "invalid_request", "redirect_uri is required.")
        return account

    def _issue(self, account: TikTokAccount, previous_refresh: str | None) -> dict[str, Any]:
        now = int(time.time())
        expires_in = self._access.access_token_seconds
        nonce = secrets.token_urlsafe(6)
        access_token = _sign("act", self._signing_key, account.open_id, now + expires_in, nonce)
        if (
            previous_refresh is not None
            and self._faults.get(account.handle.lower()) == "no_rotation"
        ):
            refresh_token = previous_refresh
        else:
            refresh_token = _sign(
                "rft", self._signing_key, account.open_id, now + REFRESH_TOKEN_SECONDS, nonce
            )
        with self._lock:
            self._current_refresh[account.open_id] = refresh_token
        return {
            "access_token": access_token,
            "expires_in": expires_in,
            "open_id": account.open_id,
            "refresh_expires_in": REFRESH_TOKEN_SECONDS,
            "refresh_token": refresh_token,
            "scope": SCOPES,
            "token_type": "Bearer",
        }

    def authorize(self, params: Mapping[str, str]) -> Response:
        """The end of TikTok's consent page: back to the app with a code (or an error)."""
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_key") != self._access.client_key or not redirect_uri:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "client_key or redirect_uri"},
                status_code=400,
            )
        account = self.view.account(params.get("username", ""))
        answer: dict[str, str] = {"state": params.get("state", "")}
        if account is None:
            answer |= {"error": "access_denied", "error_description": "unknown username"}
        else:
            expires = int(time.time()) + AUTHORIZATION_CODE_SECONDS
            nonce = secrets.token_urlsafe(6)
            answer |= {
                "code": _sign("code", self._signing_key, account.open_id, expires, nonce),
                "scopes": SCOPES,
            }
        separator = "&" if "?" in redirect_uri else "?"
        return Response(
            status_code=302, headers={"Location": redirect_uri + separator + urlencode(answer)}
        )

    # --- Display API -------------------------------------------------------------------------

    def serve(self, request: Request, answer: Any, body: bytes | None) -> Response:
        try:
            call = self._admit(request, body)
            if call.fault == "html_502":
                return Response(_BAD_GATEWAY_PAGE, status_code=502, media_type="text/html")
            data = answer(call)
        except _ApiError as error:
            return error.answer()
        if call.fault == "error_in_200":
            return _ApiError(200, "internal_error", "Something went wrong.").answer()
        payload = {"data": data, "error": {"code": "ok", "message": "", "log_id": _log_id()}}
        return Response(
            json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            media_type="application/json",
        )

    def _admit(self, request: Request, body: bytes | None) -> _Call:
        params = dict(request.query_params)
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        verified = _verify("act", self._signing_key, token.strip()) if scheme == "Bearer" else None
        account = self.view.account_by_open_id(verified[0]) if verified else None
        if account is None:
            raise _ApiError(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        fault = self._faults.get(account.handle.lower())
        self._spend_budget(request.url.path)
        logical = f"{request.method} {request.url.path} {sorted(params.items())} {body!r}"
        if fault == "access_token_invalid" or (
            fault == "access_token_invalid_once" and self._first(self._refused_once, account.handle)
        ):
            raise _ApiError(
                401, "access_token_invalid", "Access token is invalid, please refresh and retry."
            )
        if fault == "rate_limited" or (
            fault == "rate_limited_once" and self._first(self._throttled_once, logical)
        ):
            raise _rate_limit_exceeded(1)
        if fault == "internal_error":
            raise _ApiError(500, "internal_error", "Something went wrong. Please try again later.")
        return _Call(account, params, self._as_of(params.get("as_of")), fault, body)

    def user_info(self, call: _Call) -> dict[str, Any]:
        fields = _fields(call.params, USER_FIELDS)
        user = self.view.user(call.account, call.as_of)
        if call.fault == "absurd_followers":
            user["follower_count"] = _ABSURD_FOLLOWERS
        return {"user": {name: user[name] for name in fields}}

    def video_list(self, call: _Call) -> dict[str, Any]:
        if call.fault == "scope_not_authorized":
            raise _ApiError(
                401,
                "scope_not_authorized",
                "The user did not authorize the scope required for completing this request.",
            )
        fields = _fields(call.params, VIDEO_FIELDS)
        request = _json_object(call.body)
        max_count = request.get("max_count", DEFAULT_MAX_COUNT)
        cursor = request.get("cursor")
        if call.fault == "invalid_params":
            raise _invalid_params("The request contains invalid parameters.")
        if not _is_int(max_count) or not 1 <= max_count <= MAX_COUNT:
            raise _invalid_params(f"max_count must be between 1 and {MAX_COUNT}")
        if cursor is not None and (not _is_int(cursor) or cursor < 0):
            raise _invalid_params("cursor must be a UTC Unix timestamp in milliseconds")
        account, as_of = call.account, call.as_of
        ordinals = [] if call.fault == "no_videos" else self.view.video_ordinals(account, as_of)
        start = 0
        loop_back = call.fault == "cursor_loop" and cursor is not None
        if cursor is not None and not loop_back:
            start = self._first_before(account, ordinals, cursor, as_of)
        page_ordinals = ordinals[start : start + max_count]
        videos: list[Any] = [self.view.video(account, ordinal, as_of) for ordinal in page_ordinals]
        has_more = start + max_count < len(ordinals)
        next_cursor = videos[-1]["create_time"] * 1000 if videos else cursor or 0
        if loop_back:
            # Page 2 answers page 1 again, with page 1's cursor: a client must not go round.
            next_cursor, has_more = cursor, True
        if start == 0 and videos and not loop_back:
            if call.fault == "future_video":
                videos[0]["create_time"] = _two_years_after(as_of, videos[0]["create_time"])
            if call.fault == "malformed_video" and len(videos) > 1:
                videos[1] = videos[1]["id"]
        shown = [
            {name: video[name] for name in fields} if isinstance(video, dict) else video
            for video in videos
        ]
        data: dict[str, Any] = {"videos": shown, "cursor": next_cursor, "has_more": has_more}
        if call.fault == "has_more_without_cursor" and has_more:
            del data["cursor"]
        return data

    def _first_before(
        self, account: TikTokAccount, ordinals: list[int], cursor: int, as_of: date
    ) -> int:
        """The position of the first video (newest first) created before ``cursor`` (ms)."""
        low, high = 0, len(ordinals)
        while low < high:
            middle = (low + high) // 2
            created = self.view.video(account, ordinals[middle], as_of)["create_time"] * 1000
            if created < cursor:
                high = middle
            else:
                low = middle + 1
        return low

    def _spend_budget(self, endpoint: str) -> None:
        """Count the request against its endpoint's sliding window, or refuse it (429)."""
        now = time.monotonic()
        window = self._access.window_seconds
        with self._lock:
            calls = self._windows.setdefault(endpoint, collections.deque())
            while calls and calls[0] <= now - window:
                calls.popleft()
            if len(calls) >= self._access.requests_per_window:
                retry_after = max(1, math.ceil(calls[0] + window - now))
                raise _rate_limit_exceeded(retry_after)
            calls.append(now)

    def _first(self, seen: set[str], key: str) -> bool:
        with self._lock:
            first = key not in seen
            seen.add(key)
        return first

    def _as_of(self, raw: str | None) -> date:
        try:
            return self.view.world.requested_day(raw)
        except ValueError as refused:
            raise _invalid_params(str(refused)) from None


_BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


def _rate_limit_exceeded(retry_after: int) -> _ApiError:
    return _ApiError(
        429,
        "rate_limit_exceeded",
        "The API rate limit was exceeded. Please try again later.",
        headers={"Retry-After": str(retry_after)},
    )


def _invalid_params(message: str) -> _ApiError:
    return _ApiError(400, "invalid_params", message)


def _fields(params: Mapping[str, str], known: frozenset[str]) -> list[str]:
    requested = [name.strip() for name in params.get("fields", "").split(",") if name.strip()]
    if not requested:
        raise _invalid_params("fields is required")
    unknown = [name for name in requested if name not in known]
    if unknown:
        raise _invalid_params(f"Invalid fields: {','.join(unknown)}")
    return list(dict.fromkeys(requested))


def _json_object(body: bytes | None) -> dict[str, Any]:
    if not body:
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        raise _invalid_params("The request body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise _invalid_params("The request body must be a JSON object.")
    return parsed


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _two_years_after(as_of: date, create_time: int) -> int:
    moment = datetime.fromtimestamp(create_time, UTC)
    leap_day = (as_of.month, as_of.day) == (2, 29)
    future = as_of.replace(year=as_of.year + 2, day=28 if leap_day else as_of.day)
    return int(datetime.combine(future, moment.time(), UTC).timestamp())


def _checked_faults(view: TikTokView, account_faults: Mapping[str, str]) -> dict[str, str]:
    checked = {handle.lower(): name for handle, name in account_faults.items()}
    unknown_names = sorted(set(checked.values()) - set(TIKTOK_ACCOUNT_FAULTS))
    if unknown_names:
        raise ValueError(
            f"unknown TikTok account faults {unknown_names}; "
            f"expected some of {sorted(TIKTOK_ACCOUNT_FAULTS)}"
        )
    unknown = sorted(handle for handle in checked if view.account(handle) is None)
    if unknown:
        raise ValueError(f"TikTok account faults for accounts the world does not have: {unknown}")
    return checked


def _sign(kind: str, key: str, open_id: str, expires: int, nonce: str) -> str:
    """A token the dialect can verify later without storing it: kind.payload.mac"""
    payload = _base64url(f"{open_id}|{expires}|{nonce}".encode())
    return f"{kind}.{payload}.{_mac(kind, key, payload)}"


def _verify(kind: str, key: str, token: str) -> tuple[str, int] | None:
    """(open_id, expiry) of a valid, unexpired token of ``kind``; None otherwise."""
    prefix, _, rest = token.partition(".")
    payload, _, mac = rest.partition(".")
    if prefix != kind or not payload or not hmac.compare_digest(mac, _mac(kind, key, payload)):
        return None
    try:
        open_id, expires, _ = _unbase64url(payload).decode().split("|")
        expiry = int(expires)
    except (ValueError, UnicodeDecodeError):
        return None
    return (open_id, expiry) if expiry > time.time() else None


def _mac(kind: str, key: str, payload: str) -> str:
    digest = hmac.new(key.encode(), f"{kind}.{payload}".encode(), hashlib.sha256).digest()
    return _base64url(digest[:18])


def _draw_accounts(world: SimulatedWorld) -> tuple[TikTokAccount, ...]:
    accounts: list[TikTokAccount] = []
    taken: set[str] = set()
    for number, creator in enumerate(world.creators):
        key = f"{world.seed}:tiktok:{creator.handle}"
        presence, variant, factor_draw, lift_draw, likes_draw, older_draw = _unit_draws(key, 6)
        if presence >= _TIKTOK_SHARE:
            continue
        handle = _tiktok_handle(creator.handle, variant < _VARIANT_HANDLE_SHARE, taken)
        taken.add(handle.lower())
        low, high = _RISER_FOLLOWER_FACTOR if creator.archetype == "riser" else _FOLLOWER_FACTOR
        accounts.append(
            TikTokAccount(
                creator_handle=creator.handle,
                number=number,
                handle=handle,
                open_id=_uuid(f"{key}:open-id"),
                union_id=_uuid(f"{key}:union-id"),
                display_name=creator.name,
                country=creator.country,
                category=creator.category,
                archetype=creator.archetype,
                follower_factor=math.exp(
                    math.log(low) + factor_draw * (math.log(high) - math.log(low))
                ),
                engagement_lift=_ENGAGEMENT_LIFT * _between(_ACCOUNT_LIFT_SPREAD, lift_draw),
                likes_per_follower=_between(_LIKES_PER_FOLLOWER, likes_draw),
                older_videos=20 + int(older_draw * 180),
            )
        )
    return tuple(accounts)


def _tiktok_handle(instagram: str, variant: bool, taken: set[str]) -> str:
    """A TikTok username (2-24 of letters, digits, "_" and ".", not ending with ".")."""
    base = instagram[:_HANDLE_MAX].rstrip(".")
    if variant:
        base = f"{base[: _HANDLE_MAX - 3].rstrip('.')}_tt"
    handle = base
    for suffix in itertools.count(2):
        if handle.lower() not in taken:
            return handle
        handle = f"{base[: _HANDLE_MAX - len(str(suffix)) - 1].rstrip('.')}_{suffix}"
    raise AssertionError("unreachable")


def _uuid(key: str) -> str:
    digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def _epoch_seconds(graph_timestamp: str) -> int:
    """2026-10-30T14:05:00+0000 -> Unix seconds (the world's times are UTC)."""
    return int(datetime.strptime(graph_timestamp, "%Y-%m-%dT%H:%M:%S%z").timestamp())


def _between(bounds: tuple[float, float], draw: float) -> float:
    low, high = bounds
    return low + draw * (high - low)


def _unit_draws(key: str, count: int) -> list[float]:
    digest = hashlib.blake2b(key.encode(), digest_size=8 * count).digest()
    return [word / 2**64 for word in struct.unpack(f">{count}Q", digest)]


def _unit(key: str) -> float:
    return _unit_draws(key, 1)[0]


def _normal(unit: float) -> float:
    return _STANDARD_NORMAL.inv_cdf(min(max(unit, 1e-12), 1 - 1e-12))


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unbase64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _log_id() -> str:
    # Random on purpose: like the real log_id it identifies one answer, not a record.
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper()


__all__ = [
    "PLATFORM",
    "TIKTOK_ACCOUNT_FAULTS",
    "TikTokAccess",
    "TikTokAccount",
    "TikTokView",
    "connected_refresh_tokens",
    "default_signing_key",
    "tiktok_roster_rows",
    "tiktok_router",
    "tiktok_truth_rows",
    "tiktok_view",
]
