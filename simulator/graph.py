"""The simulated Instagram platform in the Graph API dialect: a FastAPI router.

`graph_router` answers the two calls the pipeline makes against the real Graph API
(business discovery and follower-demographics insights) from a `SimulatedWorld`, plus
one simulator-only query parameter, `as_of=YYYY-MM-DD`, so a backfill can re-extract any
past date. It reproduces what makes extraction hard in the real world: the token in the
query string, usage headers, throttling errors, transient failures, slow answers,
malformed records and whole days of outage (the last four only when a `FaultConfig`
asks for them), and the ways single accounts misbehave (`GRAPH_ACCOUNT_FAULTS`).

Per-account faults (`FaultConfig.account_faults`: handle -> name) apply to that account's
own requests: business_discovery with `username(<handle>)` and the insights of its id.

Sent instead of the answer (by a gateway in front of the API: no usage headers):
- `redirect_other_host`: 302 to the same path and query string, token included, on
  another loopback host (`OTHER_LOOPBACK_HOST`, same port), as a misbehaving proxy does.
  The simulator listens there too and counts what arrives (a leaked token).
- `html_502`: 502 with nginx's HTML error page (`Content-Type: text/html`).

Sent instead of the answer, by the API (Graph error JSON, usage headers):
- `token_expired`: 400, code 190 (subcode 463) "Error validating access token: Session
  has expired on ...".
- `retry_after_day`: 429 with `Retry-After: 86400`, code 4.
- `error_in_200`: HTTP 200 whose body is a Graph error object (code 1).
- `string_code`: 400 with a throttling error whose code is the string "4", on the first
  attempt of each request only (path and query minus the token); good answers after.
- `not_found`: 400, code 110 (subcode 2207013) "Invalid user id", as for an unknown handle.
- `insights_no_permission`: insights answer 400, code 200 "(#200) Permissions error";
  business_discovery is fine.

The answer, sent wrong:
- `slow`: the answer, after `FaultConfig.slow_seconds`.
- `trickle`: the answer, one byte every `FaultConfig.trickle_seconds` (Content-Length
  announces the whole body).
- `truncated_json`: 200, the JSON body cut in the middle (Content-Length of what is sent).
- `short_body`: Content-Length of the whole body, half of it sent, then the connection
  closes.
- `bom`: a UTF-8 byte order mark before the JSON.
- `text_plain_no_charset`: `Content-Type: text/plain` without a charset; the JSON is UTF-8
  and business_discovery's display name is "Zoë Café".
- `nan_comments`: the newest post's comments_count is a bare `NaN` token (not JSON).

The answer, with content a careful client must question (business_discovery unless said):
- `media_data_not_list`: the media edge's `data` is an object (the first post), not a list.
- `media_bare_string`: the second item of the first page is a bare string (the post's id).
- `renamed`: `username` differs from the one asked (same id): the account was renamed.
- `next_without_cursors`: paging has a `next` link but no `cursors`.
- `cursor_loop`: the `after` cursor (and `next` link) of page 2 leads back to page 1.
- `future_post`: the newest post is dated two years after as_of.
- `absurd_followers`: followers_count is 10**15.
- `unknown_age_bucket`: insights by age carry a bucket "90+" (its count taken from 65+).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextvars
import hashlib
import json
import logging
import math
import random
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from simulator.faults import NO_FAULTS, OTHER_LOOPBACK_HOST, REDIRECT_FAULT, FaultConfig
from simulator.world import BREAKDOWNS, SimulatedWorld

log = logging.getLogger(__name__)

DEFAULT_CALLS_PER_MINUTE_BUDGET = 100_000
DEFAULT_MEDIA_LIMIT = 25
MAX_MEDIA_LIMIT = 100
# The sliding window the call budget is counted over. A shorter one is for benchmarks only: a run
# of a minute then spans many windows (`graph_router`'s usage_window_seconds).
USAGE_WINDOW_SECONDS = 60.0

GRAPH_ACCOUNT_FAULTS = frozenset(
    {
        "truncated_json",
        "html_502",
        "token_expired",
        "slow",
        "trickle",
        REDIRECT_FAULT,
        "retry_after_day",
        "bom",
        "error_in_200",
        "string_code",
        "short_body",
        "insights_no_permission",
        "text_plain_no_charset",
        "media_data_not_list",
        "media_bare_string",
        "renamed",
        "next_without_cursors",
        "cursor_loop",
        "unknown_age_bucket",
        "future_post",
        "absurd_followers",
        "nan_comments",
        "not_found",
    }
)

_VERSIONED_PATH = re.compile(r"^/v\d+\.\d+/(?P<node>\d+)(?P<edge>/insights)?/?$")
_USERNAME = re.compile(r"business_discovery\.username\((?P<username>[^)]*)\)")
# `media` as a field of its own, not the start of media_count or media_type.
_MEDIA_FIELD = re.compile(r"\bmedia(?P<modifiers>(?:\.\w+\([^)]*\))*)(?=[{,}]|$)")
_MODIFIER = re.compile(r"\.(?P<name>\w+)\((?P<argument>[^)]*)\)")
# date.fromisoformat alone would also take week dates (2026-W44-1) and 20261101.

_INJECTED_HTTP_FAULTS: tuple[tuple[int, int, str], ...] = (
    (429, 4, "Too Many Requests"),
    (500, 1, "An unknown error has occurred."),
    (502, 1, "Bad Gateway"),
    (503, 2, "Service temporarily unavailable"),
)
_THROTTLING_ERRORS: tuple[tuple[int, str], ...] = (
    (4, "(#4) Application request limit reached"),
    (17, "(#17) User request limit reached"),
    (32, "(#32) Page request limit reached"),
    (613, "(#613) Calls to this api have exceeded the rate limit."),
)
_MEDIA_CORRUPTIONS = ("wrong_type", "negative", "missing", "duplicate")
_PROFILE_CORRUPTIONS = ("wrong_type", "negative", "missing")
_MEDIA_REQUIRED_FIELDS = ("id", "timestamp", "comments_count")

_BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_UTF8_BOM = b"\xef\xbb\xbf"
_NON_ASCII_NAME = "Zoë Café"
_ABSURD_FOLLOWERS = 10**15
_UNKNOWN_AGE_BUCKET = "90+"
# The cursor `cursor_loop` hands out on page 2; asked for, it answers page 1 again.
_LOOP_CURSOR = base64.urlsafe_b64encode(b"media:first").decode().rstrip("=")
# Set while a `short_body` answer ends without its body (see _quiet_unfinished_answers).
_UNFINISHED_ON_PURPOSE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "unfinished_on_purpose", default=False
)


def graph_router(
    world: SimulatedWorld,
    *,
    access_token: str,
    faults: FaultConfig = NO_FAULTS,
    calls_per_minute_budget: int = DEFAULT_CALLS_PER_MINUTE_BUDGET,
    usage_window_seconds: float = USAGE_WINDOW_SECONDS,
) -> APIRouter:
    """The Graph API dialect over `world`, accepting `access_token` (mount it at the root:
    its paths are /v<major>.<minor>/<id>[/insights]).

    The usage headers report the calls of the last `usage_window_seconds` (a minute) against
    `calls_per_minute_budget`; beyond it, calls fail with code 4. A window shorter than a
    minute is for benchmarks: the budget is then counted per that window, and
    `estimated_time_to_regain_access` (minutes) is that window, in fractions of a minute.

    Every path under the router answers, in the Graph dialect: an unknown path or method
    is a Graph error, never FastAPI's own JSON. ValueError for an account fault whose
    name is not in `GRAPH_ACCOUNT_FAULTS` or whose handle the world does not have.
    """
    api = _GraphApi(world, access_token, faults, calls_per_minute_budget, usage_window_seconds)
    router = APIRouter()

    async def answer_get(request: Request) -> Response:
        return await api.respond(request)

    async def refuse_other_methods(request: Request) -> Response:
        error = _unsupported(method=request.method.lower()).answer()
        error.headers.update(api.record_usage(None).headers())
        return _json_response(error)

    router.add_api_route(
        "/{path:path}", answer_get, methods=["GET"], include_in_schema=False, name="graph_get"
    )
    router.add_api_route(
        "/{path:path}",
        refuse_other_methods,
        methods=["POST", "PUT", "DELETE", "PATCH"],
        include_in_schema=False,
        name="graph_unsupported",
    )
    return router


@dataclass
class _Answer:
    """One answer: status, JSON body (or raw bytes of another type) and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"


class _GraphError(Exception):
    """Raised while answering a request, to be sent back as a Graph error."""

    def __init__(
        self,
        status: int,
        code: int | str,
        message: str,
        subcode: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.subcode = subcode
        self.headers = headers or {}

    def answer(self) -> _Answer:
        return _Answer(self.status, self.body(), dict(self.headers))

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": "OAuthException"}
        error["code"] = self.code
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = _trace_id()
        return {"error": error}


@dataclass(frozen=True)
class _Usage:
    """Share (integer percent) of the per-minute call budget used by the app and by the
    business use case (the account) a call is about."""

    app_percent: int
    business_key: str | None
    business_percent: int
    regain_minutes: float = 1

    @property
    def exceeded(self) -> bool:
        return self.app_percent > 100 or self.business_percent > 100

    def headers(self) -> dict[str, str]:
        app = {
            "call_count": self.app_percent,
            "total_cputime": self.app_percent,
            "total_time": self.app_percent,
        }
        headers = {"X-App-Usage": json.dumps(app)}
        if self.business_key is not None:
            entry = {
                "type": "instagram",
                "call_count": self.business_percent,
                "total_cputime": self.business_percent,
                "total_time": self.business_percent,
                # In minutes, as the real header reports it.
                "estimated_time_to_regain_access": self.regain_minutes if self.exceeded else 0,
            }
            headers["X-Business-Use-Case-Usage"] = json.dumps({self.business_key: [entry]})
        return headers


class _UsageMeter:
    """Counts calls over a sliding minute, for the app and per business use case."""

    def __init__(self, calls_per_minute_budget: int, window_seconds: float) -> None:
        self._budget = calls_per_minute_budget
        self._window = window_seconds
        # The real header counts whole minutes; a benchmark's shorter window, a fraction of one.
        self._regain_minutes = (
            math.ceil(window_seconds / 60) if window_seconds >= 60 else window_seconds / 60
        )
        self._lock = threading.Lock()
        self._app_calls: deque[float] = deque()
        self._business_calls: dict[str, deque[float]] = {}
        self._next_sweep = time.monotonic() + window_seconds

    def record(self, business_key: str | None) -> _Usage:
        now = time.monotonic()
        with self._lock:
            if now >= self._next_sweep:
                self._forget_idle_accounts(now)
            app_count = self._count(self._app_calls, now)
            business_count = 0
            if business_key is not None:
                calls = self._business_calls.setdefault(business_key, deque())
                business_count = self._count(calls, now)
        return _Usage(
            app_percent=self._percent(app_count),
            business_key=business_key,
            business_percent=self._percent(business_count),
            regain_minutes=self._regain_minutes,
        )

    def _percent(self, calls: int) -> int:
        return calls * 100 // self._budget

    def _forget_idle_accounts(self, now: float) -> None:
        # One entry per account asked about in the last minute, not per account ever asked
        # about: a night over 50,000 creators would otherwise keep 50,000 of them.
        idle_since = now - self._window
        for key in [key for key, calls in self._business_calls.items() if calls[-1] <= idle_since]:
            del self._business_calls[key]
        self._next_sweep = now + self._window

    def _count(self, calls: deque[float], now: float) -> int:
        calls.append(now)
        while calls[0] <= now - self._window:
            calls.popleft()
        return len(calls)


class _FaultInjector:
    """Decides, under a lock, which requests fail or are slow."""

    def __init__(self, faults: FaultConfig) -> None:
        self._faults = faults
        self._lock = threading.Lock()
        self._random = random.Random(faults.seed)
        self._consecutive_failures: dict[str, int] = {}
        self._attempted: set[str] = set()

    def delay_seconds(self) -> float:
        if not self._faults.slow_rate:
            return 0.0
        with self._lock:
            slow = self._random.random() < self._faults.slow_rate
        return self._faults.slow_seconds if slow else 0.0

    def first_attempt(self, logical_request: str) -> bool:
        """True the first time this request is asked for, False ever after."""
        with self._lock:
            if logical_request in self._attempted:
                return False
            self._attempted.add(logical_request)
            return True

    def injected_error(self, logical_request: str) -> _GraphError | None:
        """A transient error for this request, or None; a request that failed
        `max_consecutive_errors` times in a row always goes through next time."""
        if not self._faults.error_rate:
            return None
        with self._lock:
            failures = self._consecutive_failures.get(logical_request, 0)
            if (
                failures >= self._faults.max_consecutive_errors
                or self._random.random() >= self._faults.error_rate
            ):
                self._consecutive_failures.pop(logical_request, None)
                return None
            self._consecutive_failures[logical_request] = failures + 1
            kind = self._random.randrange(len(_INJECTED_HTTP_FAULTS) + len(_THROTTLING_ERRORS))
        if kind < len(_INJECTED_HTTP_FAULTS):
            status, code, message = _INJECTED_HTTP_FAULTS[kind]
            retry_after = {"Retry-After": "1"} if status in (429, 503) else {}
            return _GraphError(status, code, message, headers=retry_after)
        code, message = _THROTTLING_ERRORS[kind - len(_INJECTED_HTTP_FAULTS)]
        return _GraphError(400, code, message)


@dataclass(frozen=True)
class _Request:
    """What one GET asks for, parsed once."""

    path: str
    query: str
    params: dict[str, str]
    route: re.Match[str] | None
    host: str
    port: int
    on_other_host: bool
    handle: str | None

    @property
    def logical(self) -> str:
        """The request minus its token: what a retry of it asks for again."""
        kept = sorted(
            (name, value) for name, value in self.params.items() if name != "access_token"
        )
        return f"{self.path}?{urlencode(kept)}"


class _GraphApi:
    """Turns one request into an HTTP response from the world."""

    def __init__(
        self,
        world: SimulatedWorld,
        access_token: str,
        faults: FaultConfig,
        calls_per_minute_budget: int,
        usage_window_seconds: float = USAGE_WINDOW_SECONDS,
    ) -> None:
        if not access_token:
            raise ValueError("access_token must not be empty")
        if calls_per_minute_budget < 1:
            raise ValueError("calls_per_minute_budget must be positive")
        if usage_window_seconds <= 0:
            raise ValueError("usage_window_seconds must be positive")
        self._world = world
        self._access_token = access_token
        self._faults = faults
        self._usage = _UsageMeter(calls_per_minute_budget, usage_window_seconds)
        self._injector = _FaultInjector(faults)
        self._account_faults = _checked_account_faults(world, faults)
        _quiet_unfinished_answers()

    def record_usage(self, business_key: str | None) -> _Usage:
        return self._usage.record(business_key)

    async def respond(self, request: Request) -> Response:
        try:
            parsed = self._parse(request.scope, request.headers.get("host"))
            fault = self._account_faults.get(parsed.handle) if parsed.handle else None
            delay = self._injector.delay_seconds()
            if fault == "slow":
                delay = max(delay, self._faults.slow_seconds)
            if delay:
                await asyncio.sleep(delay)
            answer = self._answer(parsed, fault)
        except Exception:
            # Never let a traceback carry the request (and its token) anywhere unredacted.
            log.exception("simulator failed to answer %s", self.redact(request.url.path))
            answer = _GraphError(500, 1, "An unknown error has occurred.").answer()
            answer.headers.update(self.record_usage(None).headers())
            fault = None
        return self._send_as(answer, fault)

    def redact(self, text: str) -> str:
        return re.sub(r"(access_token=)[^&\s\"']*", r"\1***", text).replace(
            self._access_token, "***"
        )

    def _parse(self, scope: Scope, host_header: str | None) -> _Request:
        path: str = scope["path"]
        query = scope["query_string"].decode("latin-1")
        params = {
            name: values[0] for name, values in parse_qs(query, keep_blank_values=True).items()
        }
        server_host, server_port = scope.get("server") or ("127.0.0.1", 0)
        route = _VERSIONED_PATH.match(path)
        return _Request(
            path=path,
            query=query,
            params=params,
            route=route,
            host=host_header or f"{server_host}:{server_port}",
            port=server_port,
            on_other_host=server_host == OTHER_LOOPBACK_HOST,
            handle=self._handle_asked(route, params),
        )

    def _handle_asked(self, route: re.Match[str] | None, params: dict[str, str]) -> str | None:
        """The handle a request is about: username(<handle>), or the owner of an insights id."""
        if route is None or not self._account_faults:
            return None
        if route["edge"]:
            try:
                return self._world.creator_by_id(route["node"]).handle
            except KeyError:
                return None
        username = _USERNAME.search(params.get("fields", ""))
        return username["username"].strip().lower() if username else None

    def _answer(self, request: _Request, fault: str | None) -> _Answer:
        if not request.on_other_host:
            # A gateway in front of the API answers these: no Graph headers.
            if fault == REDIRECT_FAULT:
                location = f"http://{OTHER_LOOPBACK_HOST}:{request.port}{request.path}"
                if request.query:
                    location += f"?{request.query}"
                return _Answer(302, {}, {"Location": location}, raw=b"", content_type="text/html")
            if fault == "html_502":
                return _Answer(502, {}, raw=_BAD_GATEWAY_PAGE, content_type="text/html")
        route, params = request.route, request.params
        business_key = None
        if route and (route["edge"] or "business_discovery" in params.get("fields", "")):
            business_key = route["node"]
        usage = self.record_usage(business_key)
        try:
            answer = self._graph_answer(request, usage, fault)
        except _GraphError as error:
            answer = error.answer()
        answer.headers.update(usage.headers())
        return answer

    def _graph_answer(self, request: _Request, usage: _Usage, fault: str | None) -> _Answer:
        params, route = request.params, request.route
        if params.get("access_token") != self._access_token:
            raise _GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
        as_of = self._as_of(params.get("as_of"))
        if as_of in self._faults.down_dates:
            raise _GraphError(503, 2, "Service temporarily unavailable")
        if usage.exceeded:
            raise _GraphError(400, 4, "(#4) Application request limit reached")
        if fault is not None:
            self._raise_account_error(fault, request, as_of)
        injected = self._injector.injected_error(request.logical)
        if injected is not None:
            raise injected
        if route is None:
            raise _unsupported()
        if route["edge"]:
            return self._insights(route["node"], params, as_of, fault)
        if "business_discovery" in params.get("fields", ""):
            return self._business_discovery(route["node"], request, as_of, fault)
        raise _unsupported()

    def _raise_account_error(self, fault: str, request: _Request, as_of: date) -> None:
        """Raise the Graph error an account fault answers with instead of the data, if any."""
        if fault == "token_expired":
            expired = datetime.combine(as_of, datetime.min.time(), UTC) - timedelta(hours=7)
            raise _GraphError(
                400,
                190,
                "Error validating access token: Session has expired on "
                f"{expired:%A, %d-%b-%y %H:%M:%S} PDT. The current time is "
                f"{expired + timedelta(hours=9):%A, %d-%b-%y %H:%M:%S} PDT.",
                subcode=463,
            )
        if fault == "retry_after_day":
            raise _GraphError(
                429, 4, "(#4) Application request limit reached", headers={"Retry-After": "86400"}
            )
        if fault == "string_code" and self._injector.first_attempt(request.logical):
            raise _GraphError(400, "4", "(#4) Application request limit reached")
        if fault == "not_found":
            raise _GraphError(400, 110, "Invalid user id", subcode=2207013)
        if fault == "insights_no_permission" and request.route and request.route["edge"]:
            raise _GraphError(400, 200, "(#200) Permissions error")
        if fault == "error_in_200":
            raise _GraphError(200, 1, "An unknown error has occurred.")

    def _as_of(self, raw: str | None) -> date:
        try:
            return self._world.requested_day(raw)
        except ValueError as refused:
            raise _GraphError(400, 100, f"(#100) Param {refused}") from None

    def _business_discovery(
        self, app_user_id: str, request: _Request, as_of: date, fault: str | None
    ) -> _Answer:
        # The requested sub-fields are not honoured: the answer always carries the full
        # set the pipeline asks for (profile counts and every media field).
        fields = request.params["fields"]
        username_match = _USERNAME.search(fields)
        if username_match is None or not username_match["username"].strip():
            raise _GraphError(400, 100, "(#100) business_discovery needs .username(NAME)")
        handle = username_match["username"].strip().lower()
        try:
            profile = self._world.profile(handle, as_of)
        except KeyError:
            raise _GraphError(400, 110, "Invalid user id", subcode=2207013) from None
        limit, after = _media_modifiers(fields)
        timeline = self._world.media(handle, as_of)
        start = 0
        if after is not None and not (fault == "cursor_loop" and after == _LOOP_CURSOR):
            try:
                start = timeline.position_after(_decode_cursor(after))
            except ValueError:
                raise _GraphError(400, 100, "(#100) Invalid cursor in media.after()") from None
        page = timeline[start : start + limit]
        discovered = self._corrupt_profile(profile, as_of)
        data: list[Any] = self._corrupt_media(page, as_of)
        media: dict[str, Any] = {"data": data}
        if page:
            after_cursor = _encode_cursor(page[-1]["id"])
            has_next = start + limit < len(timeline)
            if fault == "cursor_loop" and start == limit:
                after_cursor, has_next = _LOOP_CURSOR, True
            paging: dict[str, Any] = {
                "cursors": {"before": _encode_cursor(page[0]["id"]), "after": after_cursor}
            }
            if has_next:
                paging["next"] = _next_page_url(request, limit, after_cursor)
                if fault == "next_without_cursors":
                    del paging["cursors"]
            media["paging"] = paging
        discovered["media"] = media
        if fault is not None:
            _distort_discovery(fault, discovered, page, first_page=start == 0, as_of=as_of)
        return _Answer(200, {"business_discovery": discovered, "id": app_user_id})

    def _insights(
        self, ig_id: str, params: dict[str, str], as_of: date, fault: str | None
    ) -> _Answer:
        # The real API wants the creator's own token here (consent); the simulator
        # accepts the app token and models consent with Creator.connected instead.
        try:
            creator = self._world.creator_by_id(ig_id)
        except KeyError:
            raise _unsupported(object_id=ig_id) from None
        expected = {
            "metric": "follower_demographics",
            "period": "lifetime",
            "metric_type": "total_value",
        }
        for name, value in expected.items():
            if params.get(name) != value:
                raise _GraphError(400, 100, f"(#100) {name} must be {value!r}")
        breakdown = params.get("breakdown")
        if breakdown not in BREAKDOWNS:
            raise _GraphError(
                400, 100, f"(#100) breakdown must be exactly one of {', '.join(BREAKDOWNS)}"
            )
        if not creator.connected:
            raise _GraphError(400, 10, "(#10) Application does not have permission for this action")
        results: list[dict[str, Any]] = [
            {"dimension_values": [bucket], "value": count}
            for bucket, count in self._world.demographics(creator.handle, breakdown, as_of)
        ]
        if fault == "unknown_age_bucket" and breakdown == "age":
            oldest = results[-1]
            moved = oldest["value"] // 3
            oldest["value"] -= moved
            results.append({"dimension_values": [_UNKNOWN_AGE_BUCKET], "value": moved})
        metric = {
            "name": "follower_demographics",
            "period": "lifetime",
            "title": "Follower demographics",
            "description": "The demographic characteristics of followers.",
            "total_value": {"breakdowns": [{"dimension_keys": [breakdown], "results": results}]},
            "id": f"{ig_id}/insights/follower_demographics/lifetime",
        }
        return _Answer(200, {"data": [metric]})

    def _corrupt_profile(self, profile: dict[str, Any], as_of: date) -> dict[str, Any]:
        corrupted = dict(profile)
        kind = self._corruption(profile["id"], as_of, _PROFILE_CORRUPTIONS)
        if kind == "wrong_type":
            corrupted["followers_count"] = {"value": profile["followers_count"]}
        elif kind == "negative":
            corrupted["followers_count"] = -profile["followers_count"]
        elif kind == "missing":
            del corrupted["followers_count"]
        return corrupted

    def _corrupt_media(self, page: list[dict[str, Any]], as_of: date) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = []
        for item in page:
            kind = self._corruption(item["id"], as_of, _MEDIA_CORRUPTIONS)
            corrupted = dict(item)
            selector = _unit(f"field:{self._faults.seed}:{item['id']}:{as_of}")
            if kind == "wrong_type":
                comments = item["comments_count"]
                corrupted["comments_count"] = "n/a" if selector < 0.5 else {"value": comments}
            elif kind == "negative":
                likes_shown = "like_count" in item
                counted = "like_count" if likes_shown and selector < 0.5 else "comments_count"
                corrupted[counted] = -1 - item[counted]
            elif kind == "missing":
                del corrupted[_MEDIA_REQUIRED_FIELDS[int(selector * len(_MEDIA_REQUIRED_FIELDS))]]
            data.append(corrupted)
            if kind == "duplicate":
                data.append(dict(item))
        return data

    def _corruption(self, record_id: str, as_of: date, kinds: tuple[str, ...]) -> str | None:
        """The corruption of one record as of one date, or None: a pure function of
        (fault seed, record id, as_of), so it does not depend on request order."""
        if not self._faults.malformed_rate:
            return None
        key = f"{self._faults.seed}:{record_id}:{as_of}"
        if _unit(f"malformed:{key}") >= self._faults.malformed_rate:
            return None
        return kinds[int(_unit(f"kind:{key}") * len(kinds))]

    def _send_as(self, answer: _Answer, fault: str | None) -> Response:
        """The HTTP response of `answer`, sent the way the account's fault sends it."""
        if answer.raw is not None:
            return Response(
                answer.raw,
                status_code=answer.status,
                headers={**answer.headers, "Content-Type": answer.content_type},
            )
        if fault == "trickle":
            return _trickled_response(answer, self._faults.trickle_seconds)
        if fault == "short_body":
            return _ShortBodyResponse(_encode(answer.body), answer.status, answer.headers)
        if fault == "truncated_json":
            body = _encode(answer.body)
            return _json_response(answer, body[: len(body) // 2])
        if fault == "bom":
            return _json_response(answer, _UTF8_BOM + _encode(answer.body))
        if fault == "text_plain_no_charset":
            return _json_response(answer, content_type="text/plain")
        return _json_response(answer)


def _distort_discovery(
    fault: str,
    discovered: dict[str, Any],
    page: list[dict[str, Any]],
    *,
    first_page: bool,
    as_of: date,
) -> None:
    """Apply an account fault that changes what a business_discovery answer says."""
    media = discovered["media"]
    data = media["data"]
    if fault == "renamed":
        discovered["username"] = _renamed(discovered["username"])
    elif fault == "absurd_followers":
        discovered["followers_count"] = _ABSURD_FOLLOWERS
    elif fault == "text_plain_no_charset":
        discovered["name"] = _NON_ASCII_NAME
    elif fault == "media_data_not_list":
        media["data"] = data[0] if data else {}
    elif not (first_page and data):
        return
    elif fault == "future_post":
        # Same time of day, two years after as_of (28 February for a 29th).
        leap_day = (as_of.month, as_of.day) == (2, 29)
        future = as_of.replace(year=as_of.year + 2, day=28 if leap_day else as_of.day)
        data[0] = {**data[0], "timestamp": future.isoformat() + page[0]["timestamp"][10:]}
    elif fault == "nan_comments":
        data[0] = {**data[0], "comments_count": float("nan")}
    elif fault == "media_bare_string" and len(page) > 1:
        data[1] = page[1]["id"]


def _renamed(handle: str) -> str:
    """Another valid Instagram username for the same account."""
    return f"{handle[:25]}.2026" if not handle.endswith(".2026") else f"{handle[:25]}.2027"


def _checked_account_faults(world: SimulatedWorld, faults: FaultConfig) -> dict[str, str]:
    checked = {handle.lower(): name for handle, name in faults.account_faults.items()}
    unknown_names = sorted(set(checked.values()) - GRAPH_ACCOUNT_FAULTS)
    if unknown_names:
        raise ValueError(
            f"unknown Graph account faults {unknown_names}; "
            f"expected some of {sorted(GRAPH_ACCOUNT_FAULTS)}"
        )
    unknown_handles = []
    for handle in checked:
        try:
            world.creator(handle)
        except KeyError:
            unknown_handles.append(handle)
    if unknown_handles:
        raise ValueError(f"account faults for handles the world does not have: {unknown_handles}")
    return checked


def _encode(body: dict[str, Any]) -> bytes:
    # allow_nan: `nan_comments` sends a bare NaN token, as a buggy platform does.
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _json_response(
    answer: _Answer, body: bytes | None = None, content_type: str = "application/json"
) -> Response:
    return Response(
        _encode(answer.body) if body is None else body,
        status_code=answer.status,
        headers={**answer.headers, "Content-Type": content_type},
    )


def _trickled_response(answer: _Answer, seconds_per_byte: float) -> Response:
    body = _encode(answer.body)

    async def one_byte_at_a_time() -> AsyncIterator[bytes]:
        for position in range(len(body)):
            if position:
                await asyncio.sleep(seconds_per_byte)
            yield body[position : position + 1]

    return StreamingResponse(
        one_byte_at_a_time(),
        status_code=answer.status,
        headers={
            **answer.headers,
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        },
    )


class _ShortBodyResponse(Response):
    """Announces the whole body, sends half of it, then ends: the server closes the
    connection, as when a backend dies mid-answer."""

    def __init__(self, body: bytes, status: int, headers: dict[str, str]) -> None:
        super().__init__(
            body, status_code=status, headers={**headers, "Content-Type": "application/json"}
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        half = bytes(self.body[: len(self.body) // 2])
        await send({"type": "http.response.body", "body": half, "more_body": True})
        _UNFINISHED_ON_PURPOSE.set(True)


class _UnfinishedOnPurpose(logging.Filter):
    """Drops uvicorn's error about an answer left unfinished, when a fault did it on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _UNFINISHED_ON_PURPOSE.get()


_quiet_lock = threading.Lock()


def _quiet_unfinished_answers() -> None:
    # uvicorn logs "ASGI callable returned without completing response." from the task that
    # ran the request, so the context variable set by _ShortBodyResponse is visible there.
    with _quiet_lock:
        uvicorn_errors = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _UnfinishedOnPurpose) for f in uvicorn_errors.filters):
            uvicorn_errors.addFilter(_UnfinishedOnPurpose())


def _unsupported(*, object_id: str | None = None, method: str = "get") -> _GraphError:
    message = f"Unsupported {method} request."
    if object_id is not None:
        message += (
            f" Object with ID '{object_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation."
        )
        return _GraphError(400, 100, message, subcode=33)
    return _GraphError(404, 100, message)


def _media_modifiers(fields: str) -> tuple[int, str | None]:
    """`.limit(N)` (default 25, capped at 100) and `.after(CURSOR)` of the media edge."""
    media = _MEDIA_FIELD.search(fields)
    limit, after = DEFAULT_MEDIA_LIMIT, None
    if media is None:
        return limit, after
    for modifier in _MODIFIER.finditer(media["modifiers"]):
        name, argument = modifier["name"], modifier["argument"].strip()
        if name == "limit":
            if not argument.isdigit() or int(argument) < 1:
                raise _GraphError(
                    400, 100, f"(#100) media.limit must be a positive integer, got {argument!r}"
                )
            limit = min(int(argument), MAX_MEDIA_LIMIT)
        elif name == "after":
            after = argument
    return limit, after


def _next_page_url(request: _Request, limit: int, cursor: str) -> str:
    """The URL of the next page, without the access token (clients add their own)."""
    media_edge = f"media.limit({limit}).after({cursor})"
    fields = _MEDIA_FIELD.sub(lambda _: media_edge, request.params["fields"], count=1)
    query = {name: value for name, value in request.params.items() if name != "access_token"}
    query["fields"] = fields
    return f"http://{request.host}{request.path}?{urlencode(query)}"


def _encode_cursor(media_id: str) -> str:
    return base64.urlsafe_b64encode(f"media:{media_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError(f"not a cursor: {cursor!r}") from None
    prefix, _, media_id = decoded.partition(":")
    if prefix != "media" or not media_id.isdigit():
        raise ValueError(f"not a cursor: {cursor!r}")
    return media_id


def _unit(key: str) -> float:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _trace_id() -> str:
    # Random on purpose: like the real fbtrace_id it identifies one answer, not a record.
    return secrets.token_urlsafe(8)
