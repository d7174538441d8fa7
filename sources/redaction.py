"""Keeping access tokens out of logs, errors, raw files and Prefect artifacts.

The Graph API takes ``access_token`` as a query parameter, so every URL is a potential leak.
"""

from __future__ import annotations

import re

_TOKEN_PARAMETER = re.compile(r"(access_token=)[^&\s\"']+", re.IGNORECASE)
REDACTED = "***"


def redact(text: str, *secrets: str | None) -> str:
    """Return ``text`` with every ``access_token=`` value and every given secret masked."""
    masked = _TOKEN_PARAMETER.sub(rf"\g<1>{REDACTED}", text)
    for secret in secrets:
        if secret:
            masked = masked.replace(secret, REDACTED)
    return masked
