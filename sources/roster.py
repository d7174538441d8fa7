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

import polars as pl

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


def read_roster_rows(path: Path) -> pl.DataFrame:
    """Read the roster CSV as text columns (``ROSTER_COLUMNS``, stripped; empty when absent)
    and each row's ``line_number`` for error messages; blank lines are skipped.

    The cells are gathered column by column, never as an object per row: a roster of a million
    accounts is a few arrays.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterFileError(
            f"roster file {path} does not exist: set INFLUENCERS_ROSTER_PATH to your roster CSV "
            f"(columns: {', '.join(ROSTER_COLUMNS)})"
        ) from None
    reader = csv.reader(text.splitlines())
    header = [name.strip() for name in next(reader, [])]
    missing = [column for column in ROSTER_COLUMNS[:3] if column not in header]
    if missing:
        raise RosterFileError(
            f"{path}: line 1: header lacks column(s) {', '.join(missing)}; expected "
            f"{', '.join(ROSTER_COLUMNS)}"
        )
    # The last of a repeated header name wins, as with csv.DictReader.
    positions = [
        len(header) - 1 - header[::-1].index(column) if column in header else None
        for column in ROSTER_COLUMNS
    ]
    cells: list[list[str]] = [[] for _ in ROSTER_COLUMNS]
    line_numbers: list[int] = []
    for row in reader:
        values = [
            row[position].strip() if position is not None and position < len(row) else ""
            for position in positions
        ]
        if not any(values):
            continue
        for column, value in zip(cells, values, strict=True):
            column.append(value)
        # line_num counts physical lines, so blank lines and quoted newlines keep numbers true.
        line_numbers.append(reader.line_num)
    return pl.DataFrame(
        {
            **{name: column for name, column in zip(ROSTER_COLUMNS, cells, strict=True)},
            "line_number": line_numbers,
        },
        schema={**dict.fromkeys(ROSTER_COLUMNS, pl.String), "line_number": pl.Int64},
    )
