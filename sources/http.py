"""The one HTTP client every platform source uses: JSON over HTTPS, hostile answers expected.

Retries live here and nowhere else (not in Prefect task retries). What it guards against, each
seen from real platforms or proxies:

- a redirect to another host would carry the credential in the query string there: only
  same-host redirects are followed;
- an answer that trickles in would hold the night: every call has a total deadline, retries and
  waits included, besides the per-read timeout;
- ``Retry-After: 86400`` cannot be honoured by a nightly run: a wait longer than the night accepts
  gives up on the call at once, with the reason;
- bodies come with a UTF-8 BOM, with ``text/plain`` and no charset (``requests`` would then decode
  Latin-1), shorter than their Content-Length, or as an HTML error page: the body is read as
  bytes and decoded as UTF-8 whatever the Content-Type says, and anything that is not JSON is an
  error naming what came instead.

Each platform passes an :data:`ErrorReader` that turns its error JSON into an :class:`ApiError`
with a :class:`FailureKind`; the kind decides whether the client retries and, above it, whether
one account or the whole night fails.
"""

from __future__ import annotations

import codecs
import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, Self
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from sources.redaction import redact, redact_url_logging

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_SAME_HOST_REDIRECTS = 3
_CHUNK_BYTES = 64 * 1024
_SNIPPET_CHARS = 80
# "HTTPConnectionPool(host='…', port=…): " or "HTTPConnection(host='…', port=…): "
_CONNECTION_PREFIX = re.compile(r"^\w+\([^)]*\): ")


class FailureKind(StrEnum):
    """Who a failed call is the fault of, which decides what happens next."""

    RETRY = "retry"  # transient (throttled, 5xx, network): the client tries again
    ACCOUNT = "account"  # this account's problem: record it, the night goes on
    UNAVAILABLE = "unavailable"  # the platform did not answer in time, after every retry
    AUTH = "auth"  # the credential was refused
    QUOTA = "quota"  # the day's quota is spent: stop, say what is left for tomorrow
    NIGHT = "night"  # nothing else can succeed tonight (the API is not enabled, ...)


class ApiError(RuntimeError):
    """A call that failed for good; its message never contains a secret."""

    def __init__(
        self,
        message: str,
        *,
        kind: FailureKind,
        status: int | None = None,
        code: str | None = None,
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        detail = ", ".join(
            part
            for part in (
                f"HTTP {status}" if status is not None else "",
                f"code {code}" if code is not None else "",
            )
            if part
        )
        super().__init__(message + (f" ({detail})" if detail else ""))
        self.message = message
        self.kind = kind
        self.status = status
        self.code = code
        self.url = url
        # Seconds the platform asked to wait before trying again (Retry-After), if it said.
        self.retry_after = retry_after

    def with_kind(self, kind: FailureKind, message: str | None = None) -> ApiError:
        """The same failure, judged anew (e.g. a transient error that outlasted the retries)."""
        return ApiError(
            message or self.message, kind=kind, status=self.status, code=self.code, url=self.url
        )


# (HTTP status, parsed JSON body or None when the body is not JSON) -> the error the answer
# carries, or None when it is a good answer. Platforms put errors in 200 answers too.
ErrorReader = Callable[[int, Any], ApiError | None]
# Response headers -> seconds every call should pause (the platform throttles), or 0.
UsagePause = Callable[[Mapping[str, str]], float]


class PacedAttempt(Protocol):
    """What a pace hands the attempt it let through: told the answer's headers, so that a
    platform that reports its usage in them sets the pace of the attempts to come."""

    def answered(self, headers: Mapping[str, str]) -> None: ...


# The URL of one attempt (no query string) -> a context held while the attempt is on the wire:
# a platform's request budget paces every attempt, retries included.
Pace = Callable[[str], AbstractContextManager[PacedAttempt | None]]


@dataclass(frozen=True)
class HttpPolicy:
    """How long and how often to try; built by ``flows/`` from the settings."""

    timeout_seconds: float = 10.0  # connect and per-read timeout
    deadline_seconds: float = 60.0  # one call in total: every try, wait and byte included
    max_retries: int = 4
    backoff_seconds: float = 0.25
    max_wait_seconds: float = 60.0  # the longest Retry-After a night accepts
    max_body_bytes: int = 32 * 1024 * 1024
    concurrency: int = 4


class JsonClient:
    """A thread-safe JSON client for one API base URL (one pooled session for all threads)."""

    def __init__(
        self,
        base_url: str,
        policy: HttpPolicy,
        read_error: ErrorReader,
        *,
        secrets: Sequence[str] = (),
        usage_pause: UsagePause | None = None,
        pace: Pace | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        redact_url_logging()
        self._base_url = base_url.rstrip("/") + "/"
        self._policy = policy
        self._read_error = read_error
        self._secrets = tuple(secret for secret in secrets if secret)
        self._usage_pause = usage_pause
        self._pace = pace
        self._sleep = sleep
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(policy.concurrency, 1))
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        # The environment's proxy and CA bundle for the API's host, read once: requests reads them
        # again for every request, scanning the whole environment twice (a third of the
        # client's time per request, measured on the demo). Every request goes to this host.
        # Without trust_env, requests also stops looking up ~/.netrc: the APIs take tokens.
        environment = self._session.merge_environment_settings(self._base_url, {}, None, None, None)
        self._session.proxies.update(environment["proxies"])
        self._session.verify = environment["verify"]
        self._session.trust_env = False
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._requests_made = 0

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    @property
    def requests_made(self) -> int:
        with self._lock:
            return self._requests_made

    def redact(self, text: str) -> str:
        return redact(text, *self._secrets)

    def get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET ``path`` (relative to the base URL) and return its parsed JSON."""
        return self.call("GET", path, params=params, headers=headers)

    def post(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        *,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """POST ``json_body`` (or the ``form`` fields, URL-encoded) to ``path`` and return the
        parsed JSON answer."""
        return self.call(
            "POST", path, params=params, json_body=json_body, form=form, headers=headers
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """One logical call: tries until a good answer, a final error, or the deadline.

        ``headers`` (e.g. a bearer token) and ``form`` fields never reach a log or an error:
        only the URL is ever shown, redacted."""
        url = urljoin(self._base_url, path.lstrip("/"))
        shown = self.redact(_with_query(url, params))
        deadline = time.monotonic() + self._policy.deadline_seconds
        last_error: ApiError | None = None
        for attempt in range(self._policy.max_retries + 1):
            try:
                waiting = time.monotonic()
                self._wait_while_paused()
                with self._pace(url) if self._pace is not None else nullcontext() as paced:
                    # Waiting for the budget (its pace, or the pause the platform asked for) is
                    # not the platform being slow.
                    deadline += time.monotonic() - waiting
                    return self._attempt(
                        method,
                        url,
                        _Payload(params, json_body, form, headers),
                        deadline,
                        shown,
                        paced,
                    )
            except ApiError as error:
                if error.kind is not FailureKind.RETRY:
                    raise
                last_error = error
            if last_error.retry_after is not None:
                if last_error.retry_after > self._policy.max_wait_seconds:
                    raise last_error.with_kind(
                        FailureKind.ACCOUNT,
                        f"{last_error.message}; the platform asked to wait "
                        f"{last_error.retry_after:.0f} s (Retry-After), longer than a night "
                        f"waits ({self._policy.max_wait_seconds:.0f} s)",
                    )
                wait = last_error.retry_after
            else:
                wait = self._backoff(attempt)
            if attempt == self._policy.max_retries:
                break
            if time.monotonic() + wait >= deadline:
                reached = "" if "deadline" in last_error.message else f" ({self._deadline_text()})"
                raise last_error.with_kind(
                    FailureKind.UNAVAILABLE,
                    f"{last_error.message}; gave up after {_tries(attempt + 1)}{reached}",
                )
            log.warning("retrying %s in %.1fs: %s", shown, wait, last_error)
            self._sleep(wait)
        assert last_error is not None
        raise last_error.with_kind(
            FailureKind.UNAVAILABLE,
            f"{last_error.message}; gave up after {_tries(self._policy.max_retries + 1)}",
        )

    def _attempt(
        self,
        method: str,
        url: str,
        payload: _Payload,
        deadline: float,
        shown: str,
        paced: PacedAttempt | None = None,
    ) -> Any:
        current_url, current_params = url, payload.params
        for _ in range(MAX_SAME_HOST_REDIRECTS + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _retryable(f"no answer within the {self._deadline_text()}", None, shown)
            timeout = min(self._policy.timeout_seconds, remaining)
            try:
                response = self._session.request(
                    method,
                    current_url,
                    params=current_params,
                    json=payload.json_body,
                    data=payload.form,
                    headers=payload.headers,
                    timeout=(timeout, timeout),
                    allow_redirects=False,
                    stream=True,
                )
            except requests.Timeout:
                raise _retryable(
                    f"no answer within {timeout:.1f} s (connect or read timeout)", None, shown
                ) from None
            except requests.RequestException as error:
                # requests puts the full URL, credential included, into its messages.
                raise _retryable(
                    f"network error: {_short(self.redact(_network_reason(error)))}", None, shown
                ) from None
            with self._lock:
                self._requests_made += 1
            try:
                if response.is_redirect:
                    current_url = self._same_host_redirect(response, current_url, shown)
                    current_params = None
                    continue
                body = self._read_body(response, deadline, shown)
            finally:
                response.close()
            if paced is not None:
                paced.answered(response.headers)
            if self._usage_pause is not None:
                self._pause(self._usage_pause(response.headers))
            return self._judge(response, body, shown)
        raise ApiError(
            f"more than {MAX_SAME_HOST_REDIRECTS} redirects", kind=FailureKind.ACCOUNT, url=shown
        )

    def _same_host_redirect(self, response: requests.Response, url: str, shown: str) -> str:
        target = urljoin(url, response.headers.get("Location", ""))
        here, there = urlsplit(url), urlsplit(target)
        if (here.scheme, here.netloc) != (there.scheme, there.netloc):
            raise ApiError(
                f"redirected to another host ({there.scheme}://{there.netloc}); not followed, "
                "so the credential stays with the API it was issued for",
                kind=FailureKind.ACCOUNT,
                status=response.status_code,
                url=shown,
            )
        return target

    def _read_body(self, response: requests.Response, deadline: float, shown: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            # read1 returns whatever one socket read brings, so a body trickling in a byte at a
            # time meets the deadline check below; iter_content would block until a whole chunk
            # (or the end of the body) arrived, however long that takes.
            while chunk := response.raw.read1(_CHUNK_BYTES, decode_content=True):
                chunks.append(chunk)
                size += len(chunk)
                if size > self._policy.max_body_bytes:
                    raise ApiError(
                        f"answer larger than {self._policy.max_body_bytes:,} bytes",
                        kind=FailureKind.ACCOUNT,
                        status=response.status_code,
                        url=shown,
                    )
                if time.monotonic() > deadline:
                    raise _retryable(
                        f"answer still arriving at the {self._deadline_text()}",
                        response.status_code,
                        shown,
                    )
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            # A body shorter than its Content-Length, a reset connection, a read timeout.
            raise _retryable(
                f"answer cut short: {_short(self.redact(_network_reason(error)))}",
                response.status_code,
                shown,
            ) from None
        return b"".join(chunks)

    def _judge(self, response: requests.Response, body: bytes, shown: str) -> Any:
        status = response.status_code
        parsed, not_json = _parse_json(body)
        error = self._read_error(status, parsed)
        if error is None and not 200 <= status < 300:
            error = _generic_error(status, parsed, body)
        if error is None and not_json is not None:
            error = ApiError(
                f"answer is not JSON: {not_json}", kind=FailureKind.RETRY, status=status
            )
        if error is None:
            return parsed
        raise ApiError(
            self.redact(error.message),
            kind=error.kind,
            status=error.status if error.status is not None else status,
            code=error.code,
            url=shown,
            retry_after=_retry_after_seconds(response.headers),
        )

    def _backoff(self, attempt: int) -> float:
        ceiling = self._policy.backoff_seconds * 2**attempt
        return min(self._policy.max_wait_seconds, random.uniform(ceiling / 2, ceiling))

    def _pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        seconds = min(seconds, self._policy.max_wait_seconds)
        log.warning("API usage over its limit: pausing all calls for %.1fs", seconds)
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _wait_while_paused(self) -> None:
        with self._lock:
            until = self._paused_until
        remaining = until - time.monotonic()
        if remaining > 0:
            self._sleep(remaining)

    def _deadline_text(self) -> str:
        return f"{self._policy.deadline_seconds:.0f} s deadline of one call"


class PlatformClient:
    """Base of a platform's client: one ``JsonClient`` (``self._http``), closed on exit, whose
    request count the extract reports."""

    _http: JsonClient

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    @property
    def requests_made(self) -> int:
        return self._http.requests_made


@dataclass(frozen=True)
class _Payload:
    """What one call sends besides its URL."""

    params: Mapping[str, str] | None
    json_body: Any
    form: Mapping[str, str] | None
    headers: Mapping[str, str] | None


def _retryable(message: str, status: int | None, shown: str) -> ApiError:
    return ApiError(message, kind=FailureKind.RETRY, status=status, url=shown)


def _parse_json(body: bytes) -> tuple[Any, str | None]:
    """(parsed JSON or None, why it is not JSON or None): UTF-8 whatever the headers say."""
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, f"not UTF-8 ({error.reason} at byte {error.start})"
    if not text.strip():
        return None, "empty body"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        return None, f"{error.msg} at character {error.pos} of {len(text)}: {_short(text)!r}"


def _generic_error(status: int, parsed: Any, body: bytes) -> ApiError:
    """An error answer the platform's reader did not recognise, judged by its status."""
    detail = _short(body.decode("utf-8", errors="replace")) if parsed is None else "error answer"
    if status in RETRYABLE_STATUSES:
        kind = FailureKind.RETRY
    elif status in (401, 403):
        kind = FailureKind.AUTH
    else:
        kind = FailureKind.ACCOUNT
    return ApiError(f"HTTP {status}: {detail}", kind=kind, status=status)


def _retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _tries(count: int) -> str:
    return "1 try" if count == 1 else f"{count} tries"


def _network_reason(error: Exception) -> str:
    """What went wrong on the wire: the innermost error's text, without the pool or connection
    it happened on (requests wraps urllib3's error, which wraps the socket's; the outer texts
    repeat the host and the URL, and a short snippet of them never reaches the cause)."""
    cause: BaseException = error
    while True:
        inner = getattr(cause, "reason", None)
        if not isinstance(inner, BaseException) and cause.args:
            inner = cause.args[0]
        if not isinstance(inner, BaseException):
            break
        cause = inner
    text = cause.args[0] if cause.args and isinstance(cause.args[0], str) else str(cause)
    return _CONNECTION_PREFIX.sub("", text)


def _with_query(url: str, params: Mapping[str, str] | None) -> str:
    if not params:
        return url
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}?{query}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET_CHARS else text[:_SNIPPET_CHARS] + "…"
