"""The simulated Instagram platform served over HTTP in the Graph API dialect.

`SimulatorServer` answers, on 127.0.0.1, the two calls the pipeline makes against the
real Graph API (business discovery and follower-demographics insights) from a
`SimulatedWorld`, plus one simulator-only query parameter, `as_of=YYYY-MM-DD`, so a
backfill can re-extract any past date. It reproduces what makes extraction hard in
the real world: the token in the query string, usage headers, throttling errors,
transient failures, slow answers, malformed records and whole days of outage (the
last four only when a `FaultConfig` asks for them).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import random
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlencode, urlsplit

from sources.simulator.world import BREAKDOWNS, SimulatedWorld

log = logging.getLogger(__name__)

DEFAULT_CALLS_PER_MINUTE_BUDGET = 100_000
DEFAULT_MEDIA_LIMIT = 25
MAX_MEDIA_LIMIT = 100
USAGE_WINDOW_SECONDS = 60.0
# How often the serving loop checks for shutdown: stop() returns within this time.
_POLL_SECONDS = 0.05

_VERSIONED_PATH = re.compile(r"^/v\d+\.\d+/(?P<node>\d+)(?P<edge>/insights)?/?$")
_USERNAME = re.compile(r"business_discovery\.username\((?P<username>[^)]*)\)")
# `media` as a field of its own, not the start of media_count or media_type.
_MEDIA_FIELD = re.compile(r"\bmedia(?P<modifiers>(?:\.\w+\([^)]*\))*)(?=[{,}]|$)")
_MODIFIER = re.compile(r"\.(?P<name>\w+)\((?P<argument>[^)]*)\)")
# date.fromisoformat alone would also take week dates (2026-W44-1) and 20261101.
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOKEN_IN_QUERY = re.compile(r"(access_token=)[^&\s\"']*")

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


@dataclass(frozen=True)
class FaultConfig:
    """What goes wrong on the simulated platform (nothing, by default).

    `error_rate`: share of requests answered with a transient fault (HTTP 429/500/502/503
    or a Graph throttling error), never more than `max_consecutive_errors` times in a
    row for the same logical request. `slow_rate`: share of answers delayed by
    `slow_seconds`. `malformed_rate`: share of records (profiles, media items) corrupted,
    the same ones on every run. `down_dates`: as_of dates on which every request gets
    HTTP 503. `seed` fixes which requests fail and which records are corrupt.
    """

    error_rate: float = 0.0
    max_consecutive_errors: int = 2
    slow_rate: float = 0.0
    slow_seconds: float = 0.5
    malformed_rate: float = 0.0
    down_dates: frozenset[date] = field(default_factory=frozenset)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("error_rate", "slow_rate", "malformed_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {rate}")
        if self.max_consecutive_errors < 0:
            raise ValueError("max_consecutive_errors must not be negative")
        if self.slow_seconds < 0:
            raise ValueError("slow_seconds must not be negative")


@dataclass
class _Answer:
    """One HTTP answer: status, JSON body and extra headers."""

    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)


class _GraphError(Exception):
    """Raised while answering a request, to be sent back as a Graph error."""

    def __init__(
        self,
        status: int,
        code: int,
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
        error: dict = {"message": self.message, "type": "OAuthException", "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = _trace_id()
        return _Answer(self.status, {"error": error}, dict(self.headers))


@dataclass(frozen=True)
class _Usage:
    """Share (integer percent) of the per-minute call budget used by the app and by the
    business use case (the account) a call is about."""

    app_percent: int
    business_key: str | None
    business_percent: int

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
                "estimated_time_to_regain_access": 1 if self.exceeded else 0,
            }
            headers["X-Business-Use-Case-Usage"] = json.dumps({self.business_key: [entry]})
        return headers


class _UsageMeter:
    """Counts calls over a sliding minute, for the app and per business use case."""

    def __init__(self, calls_per_minute_budget: int) -> None:
        self._budget = calls_per_minute_budget
        self._lock = threading.Lock()
        self._app_calls: deque[float] = deque()
        self._business_calls: dict[str, deque[float]] = {}

    def record(self, business_key: str | None) -> _Usage:
        now = time.monotonic()
        with self._lock:
            app_count = self._count(self._app_calls, now)
            business_count = 0
            if business_key is not None:
                calls = self._business_calls.setdefault(business_key, deque())
                business_count = self._count(calls, now)
        return _Usage(
            app_percent=self._percent(app_count),
            business_key=business_key,
            business_percent=self._percent(business_count),
        )

    def _percent(self, calls: int) -> int:
        return calls * 100 // self._budget

    @staticmethod
    def _count(calls: deque[float], now: float) -> int:
        calls.append(now)
        while calls[0] <= now - USAGE_WINDOW_SECONDS:
            calls.popleft()
        return len(calls)


class _FaultInjector:
    """Decides, under a lock, which requests fail or are slow."""

    def __init__(self, faults: FaultConfig) -> None:
        self._faults = faults
        self._lock = threading.Lock()
        self._random = random.Random(faults.seed)
        self._consecutive_failures: dict[str, int] = {}

    def delay_seconds(self) -> float:
        if not self._faults.slow_rate:
            return 0.0
        with self._lock:
            slow = self._random.random() < self._faults.slow_rate
        return self._faults.slow_seconds if slow else 0.0

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


class _GraphApi:
    """Turns one request (path, query) into an `_Answer` from the world; no HTTP here."""

    def __init__(
        self,
        world: SimulatedWorld,
        access_token: str,
        faults: FaultConfig,
        calls_per_minute_budget: int,
    ) -> None:
        self._world = world
        self._access_token = access_token
        self._faults = faults
        self._usage = _UsageMeter(calls_per_minute_budget)
        self._injector = _FaultInjector(faults)

    def delay_seconds(self) -> float:
        return self._injector.delay_seconds()

    def record_usage(self, business_key: str | None) -> _Usage:
        return self._usage.record(business_key)

    def answer(self, raw_path: str, host: str) -> _Answer:
        parts = urlsplit(raw_path)
        params = {
            name: values[0]
            for name, values in parse_qs(parts.query, keep_blank_values=True).items()
        }
        route = _VERSIONED_PATH.match(parts.path)
        business_key = None
        if route and (route["edge"] or "business_discovery" in params.get("fields", "")):
            business_key = route["node"]
        usage = self.record_usage(business_key)
        try:
            answer = self._answer(parts.path, params, route, usage, host)
        except _GraphError as error:
            answer = error.answer()
        answer.headers.update(usage.headers())
        return answer

    def _answer(
        self,
        path: str,
        params: dict[str, str],
        route: re.Match[str] | None,
        usage: _Usage,
        host: str,
    ) -> _Answer:
        if params.get("access_token") != self._access_token:
            raise _GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
        as_of = self._as_of(params.get("as_of"))
        if as_of in self._faults.down_dates:
            raise _GraphError(503, 2, "Service temporarily unavailable")
        if usage.exceeded:
            raise _GraphError(400, 4, "(#4) Application request limit reached")
        logical_request = (
            path
            + "?"
            + urlencode(
                sorted((name, value) for name, value in params.items() if name != "access_token")
            )
        )
        injected = self._injector.injected_error(logical_request)
        if injected is not None:
            raise injected
        if route is None:
            raise _unsupported()
        if route["edge"]:
            return self._insights(route["node"], params, as_of)
        if "business_discovery" in params.get("fields", ""):
            return self._business_discovery(route["node"], path, params, as_of, host)
        raise _unsupported()

    def _as_of(self, raw: str | None) -> date:
        world = self._world
        if raw is None:
            today = datetime.now(UTC).date()
            return min(max(today, world.first_day), world.last_day)
        as_of = None
        if _ISO_DATE.match(raw):
            try:
                as_of = date.fromisoformat(raw)
            except ValueError:
                as_of = None
        if as_of is None or not world.first_day <= as_of <= world.last_day:
            raise _GraphError(
                400,
                100,
                f"(#100) Param as_of must be a date YYYY-MM-DD between {world.first_day} "
                f"and {world.last_day}",
            )
        return as_of

    def _business_discovery(
        self, app_user_id: str, path: str, params: dict[str, str], as_of: date, host: str
    ) -> _Answer:
        # The requested sub-fields are not honoured: the answer always carries the full
        # set the pipeline asks for (profile counts and every media field).
        fields = params["fields"]
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
        if after is not None:
            try:
                start = timeline.position_after(_decode_cursor(after))
            except ValueError:
                raise _GraphError(400, 100, "(#100) Invalid cursor in media.after()") from None
        page = timeline[start : start + limit]
        discovered = self._corrupt_profile(profile, as_of)
        discovered["media"] = {"data": self._corrupt_media(page, as_of)}
        if page:
            paging: dict = {
                "cursors": {
                    "before": _encode_cursor(page[0]["id"]),
                    "after": _encode_cursor(page[-1]["id"]),
                }
            }
            if start + limit < len(timeline):
                after_cursor = paging["cursors"]["after"]
                paging["next"] = _next_page_url(host, path, params, limit, after_cursor)
            discovered["media"]["paging"] = paging
        return _Answer(200, {"business_discovery": discovered, "id": app_user_id})

    def _insights(self, ig_id: str, params: dict[str, str], as_of: date) -> _Answer:
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
        results = [
            {"dimension_values": [bucket], "value": count}
            for bucket, count in self._world.demographics(creator.handle, breakdown, as_of)
        ]
        metric = {
            "name": "follower_demographics",
            "period": "lifetime",
            "title": "Follower demographics",
            "description": "The demographic characteristics of followers.",
            "total_value": {"breakdowns": [{"dimension_keys": [breakdown], "results": results}]},
            "id": f"{ig_id}/insights/follower_demographics/lifetime",
        }
        return _Answer(200, {"data": [metric]})

    def _corrupt_profile(self, profile: dict, as_of: date) -> dict:
        corrupted = dict(profile)
        kind = self._corruption(profile["id"], as_of, _PROFILE_CORRUPTIONS)
        if kind == "wrong_type":
            corrupted["followers_count"] = {"value": profile["followers_count"]}
        elif kind == "negative":
            corrupted["followers_count"] = -profile["followers_count"]
        elif kind == "missing":
            del corrupted["followers_count"]
        return corrupted

    def _corrupt_media(self, page: list[dict], as_of: date) -> list[dict]:
        data: list[dict] = []
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


class _GraphRequestHandler(BaseHTTPRequestHandler):
    """HTTP plumbing: hands every GET to the `_GraphApi` and writes its JSON answer."""

    protocol_version = "HTTP/1.1"
    server_version = "SimulatedGraphAPI/1.0"
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 30
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for
    # the client's delayed ACK (~40 ms) on every keep-alive request.
    disable_nagle_algorithm = True
    server: _SimulatorHTTPServer

    def do_GET(self) -> None:
        simulator = self.server.simulator
        delay = simulator._api.delay_seconds()
        if delay:
            time.sleep(delay)
        try:
            host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
            answer = simulator._api.answer(self.path, host)
        except Exception:
            # Never let the stdlib print the request (and its token) with a traceback.
            log.exception("simulator failed to answer %s", simulator.redact(self.path))
            failure = _GraphError(500, 1, "An unknown error has occurred.")
            answer = self._with_usage(failure.answer())
        self._send(answer)

    def do_POST(self) -> None:
        # The body is not read, so the connection cannot be reused.
        self.close_connection = True
        self._send(self._with_usage(_unsupported(method=self.command.lower()).answer()))

    do_PUT = do_DELETE = do_PATCH = do_POST

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The stdlib answers malformed requests with an HTML page; keep the JSON dialect.
        self.close_connection = True
        error = _GraphError(code, 1 if code >= 500 else 100, message or "Invalid request")
        self._send(self._with_usage(error.answer()))

    def log_message(self, format: str, *args: object) -> None:
        # The request line carries the access token: log it only redacted, at DEBUG.
        log.debug("%s %s", self.address_string(), self.server.simulator.redact(format % args))

    def _with_usage(self, answer: _Answer) -> _Answer:
        answer.headers.update(self.server.simulator._api.record_usage(None).headers())
        return answer

    def _send(self, answer: _Answer) -> None:
        body = json.dumps(answer.body, ensure_ascii=False).encode("utf-8")
        # Counted before writing: a client that has read its answer must see it counted.
        self.server.simulator._count_answer()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _SimulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its `SimulatorServer`."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: SimulatorServer) -> None:
        self.simulator = simulator
        super().__init__(address, _GraphRequestHandler)

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        # The default prints a traceback to stderr; route it through logging instead.
        log.exception("simulator connection error from %s", client_address[0])


class SimulatorServer:
    """The simulated Instagram Graph API on a local port, serving a `SimulatedWorld`.

    `start()` serves in a daemon thread (port 0: the OS picks a free port, see `url`);
    `stop()` shuts it down and releases the port; `serve_forever()` blocks (for the
    command line) until Ctrl-C. Also a context manager.
    """

    def __init__(
        self,
        world: SimulatedWorld,
        access_token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig = FaultConfig(),
        calls_per_minute_budget: int = DEFAULT_CALLS_PER_MINUTE_BUDGET,
    ) -> None:
        if not access_token:
            raise ValueError("access_token must not be empty")
        if calls_per_minute_budget < 1:
            raise ValueError("calls_per_minute_budget must be positive")
        self.world = world
        self.faults = faults
        self._host = host
        self._port = port
        self._access_token = access_token
        self._api = _GraphApi(world, access_token, faults, calls_per_minute_budget)
        self._httpd: _SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._count_lock = threading.Lock()
        self._request_count = 0

    def __repr__(self) -> str:
        return f"SimulatorServer({self.world!r}, host={self._host!r}, port={self._port})"

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321 (known once the server is bound)."""
        if self._httpd is None:
            raise RuntimeError("the simulator is not running: call start() first")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def request_count(self) -> int:
        """Number of requests answered (or being answered) so far."""
        with self._count_lock:
            return self._request_count

    def start(self) -> SimulatorServer:
        """Bind and serve in a daemon thread; returns self."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        httpd = self._bind()
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            args=(_POLL_SECONDS,),
            name="instagram-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, join the thread and release the port (idempotent)."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        if thread is not None:
            httpd.shutdown()
            thread.join()
        httpd.server_close()
        self._httpd = None
        self._thread = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C), then release the port."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already running in a thread")
        httpd = self._httpd or self._bind()
        try:
            httpd.serve_forever(_POLL_SECONDS)
        except KeyboardInterrupt:
            log.info("simulator interrupted; shutting down")
        finally:
            httpd.server_close()
            self._httpd = None

    def redact(self, text: str) -> str:
        """`text` with the access token (and any access_token= value) replaced by ***."""
        return _TOKEN_IN_QUERY.sub(r"\1***", text).replace(self._access_token, "***")

    def _bind(self) -> _SimulatorHTTPServer:
        self._httpd = _SimulatorHTTPServer((self._host, self._port), self)
        return self._httpd

    def _count_answer(self) -> None:
        with self._count_lock:
            self._request_count += 1


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


def _next_page_url(host: str, path: str, params: dict[str, str], limit: int, cursor: str) -> str:
    """The URL of the next page, without the access token (clients add their own)."""
    media_edge = f"media.limit({limit}).after({cursor})"
    fields = _MEDIA_FIELD.sub(lambda _: media_edge, params["fields"], count=1)
    query = {name: value for name, value in params.items() if name != "access_token"}
    query["fields"] = fields
    return f"http://{host}{path}?{urlencode(query)}"


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
