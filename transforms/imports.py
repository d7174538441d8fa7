"""From the cells of an imported file to the frames its contracts judge and the warehouse loads.

Pure Polars over the cells the file reader produced (one text column per mapped field, plus
``landed_file``, ``line_number``, ``raw_record`` and ``record_problem``):

- :func:`repair_mojibake` undoes UTF-8 that another tool decoded as cp1252 / latin-1
  (``Côte d'Ivoire`` back from its mis-decoded form, C, A-tilde, acute accent, te d'Ivoire) where
  the repair is unambiguous, and lists what it changed so the original text is never lost;
- :func:`imported_rows` and :func:`imported_metric_cells` shape the cells for the contracts in
  ``schemas.raw.files``; :func:`staged_profiles` and :func:`staged_metrics` type what passed;
- :func:`resolve_account_ids` gives each handle an account id.

Only the repair runs Python, and only once per distinct suspicious text: a regular expression
finds the candidates column-wise first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from schemas.raw.files import DECIMAL_TYPE, is_unknown, with_exported_number

# Profile fields of the contract, in the order of the mapping's [columns] table.
PROFILE_COUNTS: Final = ("followers", "following", "media_count")
PROFILE_TEXTS: Final = ("display_name", "country", "category")
TEXT_FIELDS: Final = ("handle", *PROFILE_TEXTS)
# The id an account gets from its handle until the platform's own id is known.
DERIVED_ID_PREFIX: Final = "handle:"
YOUTUBE_CHANNEL_ID: Final = r"^UC[A-Za-z0-9_-]{22}$"
ISO_COUNTRY: Final = r"^[A-Z]{2}$"

# A character that starts a UTF-8 sequence (C2-F4) as cp1252 / latin-1 show it, followed by one
# that continues it (80-BF): the mark of UTF-8 text decoded with the wrong charset.
_CONTINUATION = (
    "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
)
MOJIBAKE: Final = f"[\u00c2-\u00f4][{_CONTINUATION}]"
# Text decoded as cp1252 maps back to its bytes; the five bytes cp1252 leaves undefined were
# decoded by latin-1 as C1 controls, which map back to themselves.
_SLOPPY_CP1252: Final = {
    **{chr(byte): byte for byte in range(0x80, 0xA0)},
    **{
        bytes([byte]).decode("cp1252"): byte
        for byte in range(0x80, 0x100)
        if byte not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
    },
}


# -- charset repair -------------------------------------------------------------------------
def repaired_text(text: str) -> str | None:
    """``text`` with UTF-8 decoded as cp1252 / latin-1 undone, or None when there is nothing to
    repair or the repair is not unambiguous.

    Unambiguous: every character maps back to one byte and those bytes are valid UTF-8, and the
    result differs. Text that mixes real accents with mojibake (``Müller Ã©``) is left alone.
    Applied again while it changes (text that was mis-decoded twice), at most three times.
    """
    current = text
    for _ in range(3):
        try:
            candidate = bytes(_SLOPPY_CP1252.get(c, ord(c)) for c in current).decode("utf-8")
        except (UnicodeDecodeError, ValueError):
            break
        if candidate == current:
            break
        current = candidate
    return current if current != text else None


def repair_mojibake(
    cells: pl.DataFrame, fields: Sequence[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``cells`` with mis-decoded text repaired in ``fields``, and the repairs made: one row per
    (field, line_number) with ``original`` and ``repaired`` text."""
    repairs: list[pl.DataFrame] = []
    replacements: dict[str, pl.Expr] = {}
    for field in fields:
        if field not in cells.columns:
            continue
        suspects = (
            cells.select(pl.col(field).filter(pl.col(field).str.contains(MOJIBAKE)).unique())
            .to_series()
            .to_list()
        )
        fixed = {text: repaired for text in suspects if (repaired := repaired_text(text))}
        if not fixed:
            continue
        replacements[field] = pl.col(field).replace(fixed)
        repairs.append(
            cells.filter(pl.col(field).is_in(list(fixed))).select(
                pl.lit(field).alias("field"),
                "line_number",
                pl.col(field).alias("original"),
                pl.col(field).replace(fixed).alias("repaired"),
            )
        )
    empty = pl.DataFrame(
        schema={
            "field": pl.String,
            "line_number": pl.Int64,
            "original": pl.String,
            "repaired": pl.String,
        }
    )
    return cells.with_columns(**replacements), pl.concat([empty, *repairs])


# -- the contracts' frames ------------------------------------------------------------------
def imported_rows(
    cells: pl.LazyFrame,
    *,
    platform: str,
    handle_rule: str,
    decimal_separator: str,
    imported_on: str,
    default_as_of: str | None,
    date_format: str | None,
) -> pl.LazyFrame:
    """The frame ``RawImportedRow`` judges: every profile field as text (NULL when the mapping
    names no column for it), the import's constants, and ``handle_key`` (what identifies the
    account: the lower-cased handle, or a YouTube channel id as it is).

    A handle loses a leading ``@`` on platforms whose handles have none (Instagram, TikTok).
    A row's as-of date is its own cell when the mapping names a date column and the cell has a
    value (read with ``date_format``; ISO when unset), else ``default_as_of``.
    """
    present = set(cells.collect_schema().names())
    text = {
        field: (pl.col(field) if field in present else pl.lit(None, dtype=pl.String))
        for field in (*TEXT_FIELDS, *PROFILE_COUNTS, "as_of")
    }
    handle = text["handle"].str.strip_chars()
    if platform != "youtube":
        handle = handle.str.strip_prefix("@")
    handle = pl.when(is_unknown(handle)).then(None).otherwise(handle)
    as_of_cell = text["as_of"].str.strip_chars()
    as_of = (
        pl.when(is_unknown(as_of_cell))
        .then(pl.lit(default_as_of, dtype=pl.String))
        .otherwise(_iso_date(as_of_cell, date_format))
    )
    return cells.with_columns(
        platform=pl.lit(platform),
        handle_rule=pl.lit(handle_rule),
        decimal_separator=pl.lit(decimal_separator),
        imported_on=pl.lit(imported_on),
        handle=handle,
        as_of=as_of,
        **{field: text[field] for field in (*PROFILE_TEXTS, *PROFILE_COUNTS)},
    ).with_columns(handle_key=handle_key(pl.lit(platform), pl.col("handle")))


def _iso_date(text: pl.Expr, date_format: str | None) -> pl.Expr:
    """The date of a cell as ISO text; the cell itself when it is not a date (its check says)."""
    if date_format:
        parsed = text.str.to_date(date_format, strict=False)
    else:
        # ISO, also as the start of a timestamp (2026-05-01T10:00:00Z).
        parsed = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        parsed = pl.when(text.str.contains(r"^\d{4}-\d{2}-\d{2}([T ].*)?$")).then(parsed)
    return pl.coalesce(parsed.dt.to_string("%Y-%m-%d"), text)


def handle_key(platform: pl.Expr, handle: pl.Expr) -> pl.Expr:
    """What identifies an account among a platform's handles: the handle lower-cased (handles
    are case-insensitive), except a YouTube channel id, which is case-sensitive."""
    return (
        pl.when((platform == "youtube") & handle.str.contains(YOUTUBE_CHANNEL_ID))
        .then(handle)
        .otherwise(handle.str.to_lowercase())
    )


def imported_metric_cells(
    rows: pl.LazyFrame, metrics: Mapping[str, MetricColumn], decimal_separator: str
) -> pl.LazyFrame:
    """The frame ``RawImportedMetric`` judges: one row per (row, metric) of the rows that are
    records, long form."""
    records = rows.filter(pl.col("record_problem").is_null())
    parts = [
        records.select(
            "landed_file",
            "line_number",
            raw_record=pl.lit(""),
            record_problem=pl.lit(None, dtype=pl.String),
            metric=pl.lit(name),
            kind=pl.lit(spec.kind),
            bare_shift=pl.lit(-2 if spec.percent else 0, dtype=pl.Int64),
            max_value=pl.lit(spec.max_value, dtype=pl.String),
            decimal_separator=pl.lit(decimal_separator),
            value=pl.col(name),
        )
        for name, spec in metrics.items()
    ]
    if not parts:
        return pl.LazyFrame(schema=METRIC_CELLS_SCHEMA)
    return pl.concat(parts)


@dataclass(frozen=True)
class MetricColumn:
    """What the transforms need of one mapped metric (the mapping validates it)."""

    kind: str
    percent: bool = False
    max_value: str | None = None


METRIC_CELLS_SCHEMA: Final = {
    "landed_file": pl.String,
    "line_number": pl.Int64,
    "raw_record": pl.String,
    "record_problem": pl.String,
    "metric": pl.String,
    "kind": pl.String,
    "bare_shift": pl.Int64,
    "max_value": pl.String,
    "decimal_separator": pl.String,
    "value": pl.String,
}


# -- typed, for the warehouse ---------------------------------------------------------------
def staged_profiles(valid_rows: pl.LazyFrame, countries: Mapping[str, str]) -> pl.LazyFrame:
    """One typed profile per valid row: counts as integers, the as-of date as a date, the
    country as an ISO 3166 alpha-2 code (see :func:`country_code`) beside ``country_as_written``.
    """
    numbers = valid_rows
    for field in PROFILE_COUNTS:
        numbers = with_exported_number(
            numbers, field, f"{field}.number", decimal_separator=pl.col("decimal_separator")
        )

    def text(field: str) -> pl.Expr:
        cell = pl.col(field).str.strip_chars()
        return pl.when(is_unknown(cell)).then(None).otherwise(cell).alias(field)

    return numbers.select(
        "platform",
        "handle",
        "handle_key",
        pl.col("as_of").str.to_date("%Y-%m-%d").alias("as_of_date"),
        *(
            pl.col(f"{field}.number").struct.field("value").cast(pl.Int64).alias(field)
            for field in PROFILE_COUNTS
        ),
        text("display_name"),
        country_code(text("country"), countries).alias("country"),
        text("country").alias("country_as_written"),
        text("category"),
        "landed_file",
        "line_number",
    )


def staged_metrics(valid_metric_cells: pl.LazyFrame) -> pl.LazyFrame:
    """One typed value per (row, metric) that is known: rates as fractions, exact decimals."""
    return (
        with_exported_number(
            valid_metric_cells,
            "value",
            "number",
            decimal_separator=pl.col("decimal_separator"),
            bare_shift=pl.col("bare_shift"),
        )
        .select("line_number", "metric", pl.col("number").struct.field("value").alias("value"))
        .filter(pl.col("value").is_not_null())
        .cast({"value": DECIMAL_TYPE})
    )


def country_code(country: pl.Expr, names: Mapping[str, str]) -> pl.Expr:
    """A country as ISO 3166 alpha-2: a two-letter code as it is (upper-cased), else the
    mapping's ``[countries]`` code for the name (case and surrounding spaces ignored), else NULL.
    """
    by_name = {name.strip().casefold(): code for name, code in names.items()}
    upper = country.str.to_uppercase()
    return (
        pl.when(upper.str.contains(ISO_COUNTRY))
        .then(upper)
        .otherwise(
            country.str.strip_chars()
            .str.to_lowercase()
            .replace_strict(by_name, default=None, return_dtype=pl.String)
        )
    )


def resolve_account_ids(profiles: pl.LazyFrame, known: pl.LazyFrame) -> pl.LazyFrame:
    """``profiles`` with ``account_id`` and ``id_known``: the platform's id of an account the
    warehouse knows (``known``: platform, handle_key, account_id), else one derived from the
    handle, ``handle:<handle_key>`` (or a YouTube channel id itself, which is the id).

    Exports carry handles, not ids. A handle the warehouse knows under two ids (a renamed
    account whose old handle was taken) resolves to the one ``known`` lists first.
    """
    first_known = known.unique(subset=["platform", "handle_key"], keep="first", maintain_order=True)
    return (
        profiles.join(
            first_known.select("platform", "handle_key", known_id="account_id"),
            on=["platform", "handle_key"],
            how="left",
            maintain_order="left",
        )
        .with_columns(
            account_id=pl.coalesce(
                "known_id", derived_account_id(pl.col("platform"), pl.col("handle_key"))
            ),
            id_known=pl.col("known_id").is_not_null(),
        )
        .drop("known_id")
    )


def derived_account_id(platform: pl.Expr, key: pl.Expr) -> pl.Expr:
    """The stable id of an account known only by its handle (see :func:`resolve_account_ids`)."""
    return (
        pl.when((platform == "youtube") & key.str.contains(YOUTUBE_CHANNEL_ID))
        .then(key)
        .otherwise(pl.lit(DERIVED_ID_PREFIX) + key)
    )
