"""The shared JSON client against a scripted, misbehaving platform on loopback.

The scripted platform answers each path from a table the test fills (status, headers, body bytes,
an optional delay between bytes, an optional Content-Length larger than the body), so every
hostile answer the client guards against is sent over a real socket to the real client.
"""

from __future__ import annotations

import codecs
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from scripted_platform import Answer, ScriptedPlatform

from sources.http import ApiError, FailureKind, HttpPolicy, JsonClient

TOKEN = "tok-9d2e7c41aa0b"
API_KEY = "key-51f0e3b8c7d6"
pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def platform() -> Iterator[ScriptedPlatform]:
    server = ScriptedPlatform().start()
    yield server
    server.stop()


@pytest.fixture
def elsewhere() -> Iterator[ScriptedPlatform]:
    """Another host (127.0.0.2 is loopback too) a hostile redirect points to."""
    server = ScriptedPlatform("127.0.0.2").start()
    yield server
    server.stop()


def read_error_object(status: int, body: Any) -> ApiError | None:
    """A platform dialect: ``{"error": {"message", "kind", "code"}}`` in any status."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    return ApiError(
        str(error["message"]), kind=FailureKind(error["kind"]), status=status, code=error["code"]
    )


POLICY = HttpPolicy(
    timeout_seconds=5.0,
    deadline_seconds=20.0,
    max_retries=2,
    backoff_seconds=0.01,
    max_wait_seconds=60.0,
    max_body_bytes=4096,
)


class Client:
    """A :class:`JsonClient` on the scripted platform whose waits are recorded, not slept."""

    def __init__(self, base_url: str, policy: HttpPolicy = POLICY) -> None:
        self.sleeps: list[float] = []
        self.http = JsonClient(
            base_url + "/v1",
            policy,
            read_error_object,
            secrets=(TOKEN, API_KEY),
            sleep=self.sleeps.append,
        )

    def get(self, path: str) -> Any:
        with self.http:
            return self.http.get(path, {"fields": "name", "access_token": TOKEN, "key": API_KEY})

    def failure(self, path: str) -> ApiError:
        with pytest.raises(ApiError) as caught:
            self.get(path)
        return caught.value


def test_a_good_json_answer_is_parsed_in_one_request(platform: ScriptedPlatform) -> None:
    platform.answer("/v1/me", Answer(body=b'{"name": "Ana", "followers": 12}'))
    client = Client(platform.base_url)

    assert client.get("me") == {"name": "Ana", "followers": 12}
    assert platform.request_lines == [f"/v1/me?fields=name&access_token={TOKEN}&key={API_KEY}"]
    assert client.http.requests_made == 1
    assert client.sleeps == []


def test_the_proxy_of_the_environment_carries_the_requests(
    platform: ScriptedPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client reads the environment once, not per request: the proxy must still be used.
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, platform.base_url)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    platform.answer("/v1/me", Answer(body=b'{"name": "Ana"}'))
    client = Client("http://api.example.invalid")

    assert client.get("me") == {"name": "Ana"}
    assert platform.request_lines[0].startswith("http://api.example.invalid/v1/me?")


def test_a_utf8_bom_is_stripped(platform: ScriptedPlatform) -> None:
    platform.answer("/v1/me", Answer(body=codecs.BOM_UTF8 + b'{"name": "Ana"}'))

    assert Client(platform.base_url).get("me") == {"name": "Ana"}


def test_text_plain_without_a_charset_is_still_read_as_utf8(platform: ScriptedPlatform) -> None:
    platform.answer(
        "/v1/me",
        Answer(body='{"name": "Zoë Café"}'.encode(), headers={"Content-Type": "text/plain"}),
    )

    assert Client(platform.base_url).get("me") == {"name": "Zoë Café"}


def test_truncated_json_is_retried_then_unavailable(platform: ScriptedPlatform) -> None:
    platform.answer("/v1/me", Answer(body=b'{"name": "Ana", "follo'))
    client = Client(platform.base_url)

    error = client.failure("me")

    assert (error.kind, error.status, error.code) == (FailureKind.UNAVAILABLE, 200, None)
    assert "answer is not JSON" in error.message
    assert "gave up after 3 tries" in error.message
    assert platform.hits == {"/v1/me": 3}
    assert len(client.sleeps) == 2


def test_an_html_502_page_is_retried_then_unavailable(platform: ScriptedPlatform) -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    platform.answer("/v1/me", Answer(502, page, {"Content-Type": "text/html"}))

    error = Client(platform.base_url).failure("me")

    assert (error.kind, error.status) == (FailureKind.UNAVAILABLE, 502)
    assert "HTTP 502: <html><body><h1>502 Bad Gateway" in error.message
    assert "gave up after 3 tries" in error.message
    assert platform.hits == {"/v1/me": 3}


def test_an_error_object_in_a_200_answer_is_judged_by_the_platform_reader(
    platform: ScriptedPlatform,
) -> None:
    platform.answer(
        "/v1/me",
        Answer(body=b'{"error": {"message": "token expired", "kind": "auth", "code": "190"}}'),
    )

    error = Client(platform.base_url).failure("me")

    assert (error.kind, error.status, error.code) == (FailureKind.AUTH, 200, "190")
    assert error.message == "token expired"
    assert platform.requests == 1


def test_429_with_retry_after_waits_that_long_then_succeeds(platform: ScriptedPlatform) -> None:
    platform.answer(
        "/v1/me",
        Answer(429, b'{"message": "slow down"}', {"Retry-After": "1"}),
        Answer(body=b'{"name": "Ana"}'),
    )
    client = Client(platform.base_url)

    assert client.get("me") == {"name": "Ana"}
    assert client.sleeps == [1.0]
    assert platform.hits == {"/v1/me": 2}


def test_a_retry_after_longer_than_the_night_waits_gives_up_at_once(
    platform: ScriptedPlatform,
) -> None:
    platform.answer(
        "/v1/me", Answer(429, b'{"message": "come back tomorrow"}', {"Retry-After": "86400"})
    )
    client = Client(platform.base_url, HttpPolicy(max_wait_seconds=60, max_retries=4))

    error = client.failure("me")

    assert (error.kind, error.status) == (FailureKind.ACCOUNT, 429)
    assert "asked to wait 86400 s (Retry-After), longer than a night waits (60 s)" in error.message
    assert platform.requests == 1
    assert client.sleeps == []


def test_a_redirect_to_another_host_is_not_followed(
    platform: ScriptedPlatform, elsewhere: ScriptedPlatform
) -> None:
    platform.answer(
        "/v1/me",
        Answer(302, b"", {"Location": f"{elsewhere.base_url}/collect?access_token={TOKEN}"}),
    )
    elsewhere.answer("/collect", Answer(body=b'{"name": "Ana"}'))

    error = Client(platform.base_url).failure("me")

    assert (error.kind, error.status) == (FailureKind.ACCOUNT, 302)
    assert f"redirected to another host ({elsewhere.base_url}); not followed" in error.message
    assert TOKEN not in str(error) and TOKEN not in error.url
    assert platform.requests == 1
    assert elsewhere.requests == 0


def test_a_redirect_on_the_same_host_is_followed(platform: ScriptedPlatform) -> None:
    platform.answer("/v1/me", Answer(301, b"", {"Location": f"/v1/moved?key={API_KEY}"}))
    platform.answer("/v1/moved", Answer(body=b'{"name": "Ana"}'))
    client = Client(platform.base_url)

    assert client.get("me") == {"name": "Ana"}
    assert platform.hits == {"/v1/me": 1, "/v1/moved": 1}
    assert platform.request_lines[1] == f"/v1/moved?key={API_KEY}"
    assert client.http.requests_made == 2


def test_a_body_shorter_than_its_content_length_is_retried_then_cut_short(
    platform: ScriptedPlatform,
) -> None:
    platform.answer("/v1/me", Answer(body=b'{"name": "Ana"}', content_length=400))

    error = Client(platform.base_url).failure("me")

    assert (error.kind, error.status) == (FailureKind.UNAVAILABLE, 200)
    assert error.message.startswith(
        "answer cut short: Connection broken: IncompleteRead(15 bytes read, 385 more expected)"
    )
    assert "gave up after 3 tries" in error.message
    assert platform.hits == {"/v1/me": 3}


def test_a_trickling_answer_is_abandoned_at_the_deadline(platform: ScriptedPlatform) -> None:
    body = b'{"name": "' + b"a" * 200 + b'"}'
    platform.answer("/v1/me", Answer(body=body, byte_delay=0.3))
    client = Client(
        platform.base_url, HttpPolicy(timeout_seconds=5, deadline_seconds=1, max_retries=2)
    )

    error = client.failure("me")

    assert (error.kind, error.status) == (FailureKind.UNAVAILABLE, 200)
    assert "answer still arriving at the 1 s deadline of one call" in error.message
    assert "gave up after 1 try" in error.message
    assert platform.hits == {"/v1/me": 1}
    # The client hung up long before the end of the body (the server stops once it notices).
    _wait_for(lambda: len(platform.body_bytes_sent) == 1)
    assert platform.body_bytes_sent[0] < len(body) // 4


def test_an_answer_larger_than_the_limit_fails_the_account(platform: ScriptedPlatform) -> None:
    platform.answer("/v1/me", Answer(body=b'{"bio": "' + b"x" * 10_000 + b'"}'))

    error = Client(platform.base_url).failure("me")

    assert (error.kind, error.status) == (FailureKind.ACCOUNT, 200)
    assert error.message == "answer larger than 4,096 bytes"
    assert platform.requests == 1


def test_secrets_never_reach_errors_or_logs(
    platform: ScriptedPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    # The platform echoes the request line, credentials included, in its error page.
    platform.answer(
        "/v1/me",
        Answer(503, f"<p>failed: GET /v1/me?access_token={TOKEN}&key={API_KEY}</p>".encode()),
    )
    caplog.set_level(logging.DEBUG)

    error = Client(platform.base_url).failure("me")
    refused = Client(_closed_port_url()).failure("me")

    assert (error.kind, error.status) == (FailureKind.UNAVAILABLE, 503)
    assert "access_token=***&key=***" in error.message
    assert refused.kind is FailureKind.UNAVAILABLE
    assert refused.message.startswith("network error: Failed to establish a new connection")
    assert "Connection refused" in refused.message
    for text in (str(error), error.url, str(refused), refused.url, caplog.text):
        assert TOKEN not in text
        assert API_KEY not in text
    # urllib3 logged the request lines at DEBUG, masked.
    urllib3_lines = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert any("access_token=***" in line and "key=***" in line for line in urllib3_lines)


def _closed_port_url() -> str:
    """A loopback URL nothing listens on: the connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _wait_for(condition: Any, seconds: float = 5.0) -> None:
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        time.sleep(0.05)
