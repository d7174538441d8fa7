"""Credentials are masked wherever they appear in a text: URLs, form bodies, JSON, log records."""

from __future__ import annotations

import logging

import pytest

from sources.redaction import RedactingFilter, redact


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("/v21.0/me?access_token=EAAB123&fields=id", "/v21.0/me?access_token=***&fields=id"),
        (
            "/youtube/v3/channels?part=snippet&key=AIza99",
            "/youtube/v3/channels?part=snippet&key=***",
        ),
        (
            "grant_type=refresh_token&refresh_token=1//0g",
            "grant_type=refresh_token&refresh_token=***",
        ),
        ("client_id=7&client_secret=s3cr3t", "client_id=7&client_secret=***"),
        ("GET /v1?api_key=abc123 HTTP/1.1", "GET /v1?api_key=*** HTTP/1.1"),
        ("?ACCESS_TOKEN=EAAB123", "?ACCESS_TOKEN=***"),
        (
            '{"access_token": "ya29.a0Af", "expires_in": 3599}',
            '{"access_token": "***", "expires_in": 3599}',
        ),
        ('{"refresh_token":"1//0gLp"}', '{"refresh_token":"***"}'),
        (
            "?monkey=banana&keyword=cats&pageToken=CAUQAA",
            "?monkey=banana&keyword=cats&pageToken=CAUQAA",
        ),
        ("Authorization: Bearer act.a1B2c3D4e5!6789.va", "Authorization: Bearer ***"),
        ("refused act.example12345Example, retry", "refused act.***, retry"),
        ("kept rft.Zm9vYmFyYmF6cXV4 in store", "kept rft.*** in store"),
        (
            "react.production.min.js and the act. of it",
            "react.production.min.js and the act. of it",
        ),
    ],
    ids=[
        "graph access_token",
        "youtube key",
        "refresh_token",
        "client_secret",
        "api_key",
        "upper case",
        "json access_token",
        "json refresh_token without spaces",
        "look-alike names are left alone",
        "bearer header",
        "tiktok access token",
        "tiktok refresh token",
        "words that merely contain act. are left alone",
    ],
)
def test_credential_parameters_are_masked(text: str, masked: str) -> None:
    assert redact(text) == masked


def test_given_secrets_are_masked_wherever_they_appear() -> None:
    assert redact("token EAAB123 in a path /EAAB123/x", "EAAB123", None, "") == (
        "token *** in a path /***/x"
    )


def test_a_log_record_is_masked_before_it_is_formatted() -> None:
    record = logging.LogRecord(
        "urllib3.connectionpool",
        logging.DEBUG,
        __file__,
        1,
        '%s://%s:%s "%s %s %s" %s %s',
        ("http", "127.0.0.1", 80, "GET", "/v1/me?key=AIza99&fields=id", "HTTP/1.1", 200, 2),
        None,
    )

    assert RedactingFilter().filter(record) is True
    assert (
        record.getMessage() == 'http://127.0.0.1:80 "GET /v1/me?key=***&fields=id HTTP/1.1" 200 2'
    )
