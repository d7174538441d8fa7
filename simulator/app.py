"""The simulated platforms as one FastAPI app: one router per dialect, listed in `DIALECTS`.

Adding a platform is one `Dialect` in `DIALECTS` (its name, its path prefix, which
credential it accepts and its router factory) plus, when it needs a credential of its
own, one keyword of `create_app` / `SimulatorServer` and one field of `PlatformAccess`.

Faults are per dialect: `faults` is either a mapping keyed by dialect name
("instagram", "youtube", "tiktok"; a dialect left out has no faults) or one `FaultConfig` applied to
every dialect served. Account faults name one dialect's accounts and faults, so a single
`FaultConfig` with `account_faults` is refused when more than one dialect is served.

Besides the dialects, `GET /_simulator/stats` answers the simulator's own figures (not
counted as a request): `request_count` (requests to the dialects), `other_host_request_count`
(requests that arrived on `OTHER_LOOPBACK_HOST`: a client followed a redirect there, its
token with it) and `peak_rss_bytes` of the serving process.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simulator.faults import NO_FAULTS, OTHER_LOOPBACK_HOST, FaultConfig
from simulator.graph import (
    DEFAULT_CALLS_PER_MINUTE_BUDGET,
    GRAPH_ACCOUNT_FAULTS,
    USAGE_WINDOW_SECONDS,
    graph_router,
)
from simulator.tiktok import TIKTOK_ACCOUNT_FAULTS, TikTokAccess, tiktok_router
from simulator.world import SimulatedWorld
from simulator.youtube import CHANNEL_FAULTS, youtube_router

log = logging.getLogger(__name__)

STATS_PATH = "/_simulator/stats"
# Query parameters that carry a credential: the Graph API's token and Google's API key.
_CREDENTIAL_IN_QUERY = re.compile(r"\b(access_token|key)=[^&\s\"']*")

Faults = FaultConfig | Mapping[str, FaultConfig]


@dataclass(frozen=True)
class PlatformAccess:
    """What `create_app` was given: each dialect's credential (None: that dialect is not
    served), the Graph API's per-minute call budget (its usage headers) and the TikTok app's
    client key and secret, with how its dialect behaves (`TikTokAccess`). The Graph budget's
    window is a minute unless a benchmark asks for a shorter one (`usage_window_seconds`)."""

    access_token: str = field(repr=False)
    youtube_api_key: str | None = field(default=None, repr=False)
    calls_per_minute_budget: int = DEFAULT_CALLS_PER_MINUTE_BUDGET
    tiktok: TikTokAccess | None = None
    usage_window_seconds: float = USAGE_WINDOW_SECONDS

    def credentials(self) -> tuple[str, ...]:
        tiktok = (
            (self.tiktok.client_key, self.tiktok.client_secret) if self.tiktok is not None else ()
        )
        return tuple(
            secret
            for secret in (self.access_token, self.youtube_api_key, *tiktok)
            if secret is not None
        )


@dataclass(frozen=True)
class Dialect:
    """One simulated platform API.

    `name`: the platform ("instagram"), the key of a `faults` mapping. `prefix`: the path
    it is mounted at ("" for the Graph API, whose paths start with its version).
    `credential`: the credential it accepts, from a `PlatformAccess` (None: not served).
    `router`: builds its router from the world, that credential and its faults.
    `account_faults`: the names its `FaultConfig.account_faults` may use.
    """

    name: str
    prefix: str
    credential: Callable[[PlatformAccess], str | None]
    router: Callable[[SimulatedWorld, PlatformAccess, FaultConfig], APIRouter]
    account_faults: frozenset[str]


def _graph_dialect(world: SimulatedWorld, access: PlatformAccess, faults: FaultConfig) -> APIRouter:
    return graph_router(
        world,
        access_token=access.access_token,
        faults=faults,
        calls_per_minute_budget=access.calls_per_minute_budget,
        usage_window_seconds=access.usage_window_seconds,
    )


def _youtube_dialect(
    world: SimulatedWorld, access: PlatformAccess, faults: FaultConfig
) -> APIRouter:
    assert access.youtube_api_key is not None, "served only with a key"
    return youtube_router(world, api_key=access.youtube_api_key, faults=faults)


def _tiktok_dialect(
    world: SimulatedWorld, access: PlatformAccess, faults: FaultConfig
) -> APIRouter:
    assert access.tiktok is not None, "served only with a client key and secret"
    return tiktok_router(world, access=access.tiktok, faults=faults)


DIALECTS: tuple[Dialect, ...] = (
    Dialect(
        name="instagram",
        prefix="",
        credential=lambda access: access.access_token,
        router=_graph_dialect,
        account_faults=GRAPH_ACCOUNT_FAULTS,
    ),
    Dialect(
        name="youtube",
        prefix="/youtube/v3",
        credential=lambda access: access.youtube_api_key,
        router=_youtube_dialect,
        account_faults=frozenset(CHANNEL_FAULTS),
    ),
    Dialect(
        name="tiktok",
        prefix="/tiktok",
        credential=lambda access: access.tiktok.client_secret if access.tiktok else None,
        router=_tiktok_dialect,
        account_faults=frozenset(TIKTOK_ACCOUNT_FAULTS),
    ),
)


def create_app(
    world: SimulatedWorld,
    *,
    access_token: str,
    youtube_api_key: str | None = None,
    tiktok: TikTokAccess | None = None,
    faults: Faults = NO_FAULTS,
    calls_per_minute_budget: int = DEFAULT_CALLS_PER_MINUTE_BUDGET,
    usage_window_seconds: float = USAGE_WINDOW_SECONDS,
) -> FastAPI:
    """Every dialect of `DIALECTS` whose credential was given, over one `world`.

    ValueError when a credential is given for a dialect this simulator does not have, or
    when `faults` names an unknown dialect, fault or account.
    """
    access = PlatformAccess(
        access_token, youtube_api_key, calls_per_minute_budget, tiktok, usage_window_seconds
    )
    if not access_token:
        raise ValueError("access_token must not be empty")
    served = served_dialects(access)
    per_dialect = faults_per_dialect(faults, served)
    # Draw the population now, not while the first request waits (seconds at 50,000).
    len(world.creators)
    app = FastAPI(title="Simulated platforms", docs_url=None, redoc_url=None, openapi_url=None)
    stats = SimulatorStats()
    app.state.simulator_stats = stats

    async def simulator_stats() -> dict[str, int]:
        return stats.as_json()

    app.add_api_route(STATS_PATH, simulator_stats, methods=["GET"], include_in_schema=False)
    # A dialect mounted at "" answers every path: the longer prefixes go first.
    for dialect in sorted(served, key=lambda dialect: -len(dialect.prefix)):
        router = dialect.router(world, access, per_dialect[dialect.name])
        app.include_router(router, prefix=dialect.prefix)
    app.add_middleware(_CountAndLog, stats=stats, redact=redactor(access.credentials()))
    return app


def served_dialects(access: PlatformAccess) -> tuple[Dialect, ...]:
    """The dialects whose credential `access` holds."""
    return tuple(dialect for dialect in DIALECTS if dialect.credential(access) is not None)


def faults_per_dialect(faults: Faults, served: tuple[Dialect, ...]) -> dict[str, FaultConfig]:
    """`faults` as one FaultConfig per served dialect name (see the module docstring).

    ValueError for an unknown dialect name or an account fault its dialect does not have
    (whether the accounts exist is for the router to say: it has the world).
    """
    names = [dialect.name for dialect in served]
    if isinstance(faults, FaultConfig):
        if faults.account_faults and len(names) > 1:
            raise ValueError(
                "account faults belong to one platform: pass faults as a mapping, e.g. "
                "{'instagram': FaultConfig(account_faults={...})}"
            )
        per_dialect = dict.fromkeys(names, faults)
    else:
        unknown = sorted(set(faults) - {dialect.name for dialect in DIALECTS})
        if unknown:
            raise ValueError(
                f"faults for unknown dialects {unknown}; the dialects are "
                f"{[dialect.name for dialect in DIALECTS]}"
            )
        per_dialect = {name: faults.get(name, NO_FAULTS) for name in names}
    for dialect in served:
        named = set(per_dialect[dialect.name].account_faults.values())
        unknown_faults = sorted(named - dialect.account_faults)
        if unknown_faults:
            raise ValueError(
                f"unknown {dialect.name} account faults {unknown_faults}; "
                f"expected some of {sorted(dialect.account_faults)}"
            )
    return per_dialect


def redactor(credentials: tuple[str, ...]) -> Callable[[str], str]:
    """A function that masks `credentials`, and any access_token= or key= value, with ***."""

    def redact(text: str) -> str:
        text = _CREDENTIAL_IN_QUERY.sub(r"\1=***", text)
        for secret in credentials:
            text = text.replace(secret, "***")
        return text

    return redact


class SimulatorStats:
    """Counters of the serving process, safe to read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._other_host_requests = 0

    @property
    def request_count(self) -> int:
        with self._lock:
            return self._requests

    def count(self, scope: Scope) -> None:
        server = scope.get("server") or ("", 0)
        with self._lock:
            self._requests += 1
            if server[0] == OTHER_LOOPBACK_HOST:
                self._other_host_requests += 1

    def as_json(self) -> dict[str, int]:
        with self._lock:
            return {
                "request_count": self._requests,
                "other_host_request_count": self._other_host_requests,
                "peak_rss_bytes": _peak_rss_bytes(),
            }


class _CountAndLog:
    """Counts every request to a dialect, and logs it at DEBUG with its credentials masked
    (uvicorn's access log, which would print the token, is off)."""

    def __init__(self, app: ASGIApp, stats: SimulatorStats, redact: Callable[[str], str]) -> None:
        self._app = app
        self._stats = stats
        self._redact = redact

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == STATS_PATH:
            await self._app(scope, receive, send)
            return
        self._stats.count(scope)
        if not log.isEnabledFor(logging.DEBUG):
            await self._app(scope, receive, send)
            return
        status: list[int] = []

        async def send_and_note_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, send_and_note_status)
        finally:
            client = scope.get("client") or ("-", 0)
            target = scope["path"]
            if scope["query_string"]:
                target += "?" + scope["query_string"].decode("latin-1")
            log.debug(
                '%s "%s %s" %s',
                client[0],
                scope["method"],
                self._redact(target),
                status[0] if status else "-",
            )


def _peak_rss_bytes() -> int:
    try:
        import resource
    except ImportError:  # not on Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak if sys.platform == "darwin" else peak * 1024
