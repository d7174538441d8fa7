"""The roster: the accounts a brand tracks, as a CSV file the user maintains.

The real platforms have no "list every creator" call, so the roster is what a nightly run
extracts. Columns: ``platform, handle, connected, country, category`` (country and category may be
empty). ``platform`` is instagram, youtube or tiktok; ``handle`` is the Instagram or TikTok
username (without @), or the YouTube channel id (UC...) or @handle. ``connected`` is true when the
creator gave a token for insights (audience demographics). This module only reads the text; each
line is judged by ``schemas.roster.split_roster``, so a bad line is reported, not fatal.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

ROSTER_COLUMNS = ("platform", "handle", "connected", "country", "category")


class RosterFileError(ValueError):
    """The roster file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class TrackedAccount:
    """One roster entry, already validated (``schemas.roster.split_roster``)."""

    platform: str
    handle: str
    connected: bool
    country: str | None = None
    category: str | None = None


def read_roster_rows(path: Path) -> list[dict[str, str]]:
    """Read the roster CSV as raw text rows, each with its ``line_number`` for error messages."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterFileError(
            f"roster file {path} does not exist: set INFLUENCERS_ROSTER_PATH to your roster CSV "
            f"(columns: {', '.join(ROSTER_COLUMNS)})"
        ) from None
    reader = csv.DictReader(text.splitlines())
    header = tuple(name.strip() for name in (reader.fieldnames or ()))
    missing = [column for column in ROSTER_COLUMNS[:3] if column not in header]
    if missing:
        raise RosterFileError(
            f"{path}: line 1: header lacks column(s) {', '.join(missing)}; expected "
            f"{', '.join(ROSTER_COLUMNS)}"
        )
    rows = []
    for row in reader:
        cleaned = {column: (row.get(column) or "").strip() for column in ROSTER_COLUMNS}
        if not any(cleaned.values()):
            continue
        # line_num counts physical lines, so blank lines and quoted newlines keep numbers true.
        rows.append({**cleaned, "line_number": str(reader.line_num)})
    return rows
