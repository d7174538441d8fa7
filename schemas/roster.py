"""Contract of the roster file the user maintains, with each platform's rule for a handle.

``split_roster`` judges every line and returns the valid accounts and every bad line with its
line number and a reason, so one bad line no longer refuses the whole roster. A handle is only
ever data (a value in a row, a query parameter): never part of a path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.vocabulary import PLATFORMS

BOOLEAN_WORDS = ["true", "false", "yes", "no", "1", "0"]
TRUE_WORDS = ["true", "yes", "1"]
ROSTER_TEXT_COLUMNS = ("platform", "handle", "connected", "country", "category")


@dataclass(frozen=True)
class HandleRule:
    """What a handle of one platform looks like: a pattern, and the same said for a person."""

    what: str
    pattern: str
    says: str


HANDLE_RULES: Mapping[str, HandleRule] = {
    "instagram": HandleRule(
        "an Instagram username",
        r"^[A-Za-z0-9._]{1,30}$",
        '1 to 30 of A-Z, a-z, 0-9, "." and "_", without @',
    ),
    # Channel ids are fixed-form; @handles may be in any script (letters with their marks).
    "youtube": HandleRule(
        "a YouTube channel id or @handle",
        r"^(UC[A-Za-z0-9_-]{22}|@[\p{L}\p{M}\p{Nd}_.-]{3,30})$",
        'a channel id (UC and 22 of A-Z, a-z, 0-9, "_" and "-") or an @handle '
        '(@ and 3 to 30 letters of any script, digits, "_", "-" and ".")',
    ),
    "tiktok": HandleRule(
        "a TikTok username",
        r"^[A-Za-z0-9._]{1,23}[A-Za-z0-9_]$",
        '2 to 24 of A-Z, a-z, 0-9, "." and "_", not ending with "."',
    ),
}
assert set(HANDLE_RULES) == set(PLATFORMS), "every platform of the vocabulary has a handle rule"
# YouTube channel ids are case-sensitive; every other handle is not.
_CASE_SENSITIVE_HANDLE = r"^UC[A-Za-z0-9_-]{22}$"


def handle_follows_its_platform_rule(platform: pl.Expr, handle: pl.Expr) -> pl.Expr:
    """Whether ``handle`` matches the rule of ``platform`` (an unknown platform is judged alone)."""
    return pl.coalesce(
        *(
            pl.when(platform == name).then(handle.str.contains(rule.pattern))
            for name, rule in HANDLE_RULES.items()
        ),
        pl.lit(True),
    )


def handle_identity(platform: pl.Expr, handle: pl.Expr) -> pl.Expr:
    """What makes two roster lines the same account: the platform and the handle, whose case
    does not matter except in a YouTube channel id."""
    return pl.struct(
        platform,
        pl.when(handle.str.contains(_CASE_SENSITIVE_HANDLE))
        .then(handle)
        .otherwise(handle.str.to_lowercase()),
    )


class RosterEntry(pa.DataFrameModel):
    """One tracked account: grain (platform, handle)."""

    line_number: int = pa.Field(ge=2, description="Line of the entry in the roster CSV.")
    platform: str = pa.Field(isin=list(PLATFORMS), description="Platform of the account.")
    handle: str = pa.Field(
        description="Instagram or TikTok username (without @), YouTube channel id or @handle."
    )
    connected: str = pa.Field(
        description="true when the creator gave a token for insights (audience data)."
    )
    country: str = pa.Field(nullable=True, description="ISO-3166 alpha-2 country, or empty.")
    category: str = pa.Field(nullable=True, description="Content category, or empty.")

    @pa.check("connected", name="true_or_false")
    def _true_or_false(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.to_lowercase().is_in(BOOLEAN_WORDS))

    @pa.dataframe_check(name="handle_follows_its_platform_rule")
    def _handle_follows_its_platform_rule(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            handle_follows_its_platform_rule(pl.col("platform"), pl.col("handle"))
        )

    @pa.dataframe_check(name="handle_listed_once")
    def _handle_listed_once(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            ~handle_identity(pl.col("platform"), pl.col("handle")).is_duplicated()
        )


@dataclass(frozen=True)
class RosterProblem:
    """A roster line that cannot run, and why (every reason of that line, joined by "; ")."""

    line_number: int
    handle: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line_number} ({self.handle or 'no handle'}): {self.reason}"


@dataclass(frozen=True)
class RosterSplit:
    """``valid``: the accounts to run (platform, handle, connected, country, category)."""

    valid: pl.DataFrame
    problems: list[RosterProblem]


def split_roster(rows: pl.DataFrame) -> RosterSplit:
    """The valid accounts of the roster's text rows, and each bad line with its reasons.

    ``rows`` are ``sources.roster.read_roster_rows``' (text columns and ``line_number``). A
    handle listed twice on a platform runs once, from its first line; the later lines are
    problems.
    """
    frame = rows.select(*ROSTER_TEXT_COLUMNS, pl.col("line_number").cast(pl.Int64)).with_columns(
        pl.col("country", "category").replace("", None),
    )
    judged = frame.with_columns(_line_reasons().alias("reasons"))
    bad = judged.filter(pl.col("reasons").list.len() > 0)
    good = judged.filter(pl.col("reasons").list.len() == 0).drop("reasons")
    RosterEntry.validate(good)
    return RosterSplit(
        valid=good.select(
            "platform",
            "handle",
            connected=pl.col("connected").str.to_lowercase().is_in(TRUE_WORDS),
            country="country",
            category="category",
        ),
        problems=[
            RosterProblem(line_number, handle, "; ".join(reasons))
            for line_number, handle, reasons in bad.select(
                "line_number", "handle", "reasons"
            ).iter_rows()
        ],
    )


def _line_reasons() -> pl.Expr:
    platform, handle, connected = pl.col("platform"), pl.col("handle"), pl.col("connected")
    known_platforms = ", ".join(PLATFORMS[:-1]) + f" or {PLATFORMS[-1]}"
    broken_rule = pl.coalesce(
        pl.when(platform == name).then(
            pl.format('handle: "{}" is not {} ({})', handle, pl.lit(rule.what), pl.lit(rule.says))
        )
        for name, rule in HANDLE_RULES.items()
    )
    first_line = pl.col("line_number").min().over(handle_identity(platform, handle))
    reasons = [
        pl.when(platform == "").then(pl.lit(f"platform: missing (expected {known_platforms})")),
        pl.when((platform != "") & ~platform.is_in(PLATFORMS)).then(
            pl.format(
                'platform: unknown platform "{}" (expected {})', platform, pl.lit(known_platforms)
            )
        ),
        pl.when(handle == "").then(pl.lit("handle: missing")),
        pl.when((handle != "") & ~handle_follows_its_platform_rule(platform, handle)).then(
            broken_rule
        ),
        pl.when((handle != "") & (pl.col("line_number") > first_line)).then(
            pl.format("handle: already listed on line {}", first_line)
        ),
        pl.when(~connected.str.to_lowercase().is_in(BOOLEAN_WORDS)).then(
            pl.format(
                'connected: "{}" is not true or false (use true/false, yes/no or 1/0)', connected
            )
        ),
    ]
    return pl.concat_list(reasons).list.drop_nulls()
