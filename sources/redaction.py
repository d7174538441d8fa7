"""Keeping access tokens out of logs, errors, raw files and Prefect artifacts.

The Graph API takes ``access_token`` and YouTube ``key`` as query parameters, so every URL is a
potential leak. TikTok sends its per-creator tokens in ``Authorization: Bearer`` headers and in
the form fields and JSON of ``/v2/oauth/token/`` (``refresh_token``, ``client_secret``,
``access_token``), and its tokens have a recognisable shape (``act.…``, ``rft.…``): masked
wherever they appear, since a creator's token is not a secret the client was constructed with.
"""

from __future__ import annotations

import logging
import re

# Query parameters and JSON/form fields that carry credentials, wherever they appear in a text.
_CREDENTIAL_NAMES = r"access_token|refresh_token|client_secret|api_key|key"
_TOKEN_PARAMETER = re.compile(
    rf"(?<![A-Za-z0-9_])((?:{_CREDENTIAL_NAMES})=)[^&\s\"']+", re.IGNORECASE
)
_TOKEN_JSON_FIELD = re.compile(rf'("(?:{_CREDENTIAL_NAMES})"\s*:\s*")[^"]*"', re.IGNORECASE)
# "Authorization: Bearer <token>" (or the bare "Bearer <token>" of a header value).
_BEARER = re.compile(r"(\bBearer\s+)[^\s\"',]+", re.IGNORECASE)
# TikTok's access and refresh tokens: act.<...> and rft.<...>
_TIKTOK_TOKEN = re.compile(r"(?<![A-Za-z0-9_.])((?:act|rft)\.)[^\s\"'&,;]{8,}")
REDACTED = "***"


def redact(text: str, *secrets: str | None) -> str:
    """Return ``text`` with every credential parameter's value and every given secret masked."""
    masked = _TOKEN_PARAMETER.sub(rf"\g<1>{REDACTED}", text)
    masked = _TOKEN_JSON_FIELD.sub(rf'\g<1>{REDACTED}"', masked)
    masked = _BEARER.sub(rf"\g<1>{REDACTED}", masked)
    masked = _TIKTOK_TOKEN.sub(rf"\g<1>{REDACTED}", masked)
    for secret in secrets:
        if secret:
            masked = masked.replace(secret, REDACTED)
    return masked


class RedactingFilter(logging.Filter):
    """Masks credential parameters in a log record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True


# urllib3 logs every request line, query string included, at DEBUG.
_LOGGERS_THAT_PRINT_URLS = ("urllib3.connectionpool",)


def redact_url_logging() -> None:
    """Attach :class:`RedactingFilter` to the loggers that print request URLs (idempotent)."""
    for name in _LOGGERS_THAT_PRINT_URLS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
