"""The mapping of an export: which platform its rows are, which column means what, how its
numbers and dates are written. A TOML file, parsed with ``tomllib`` and validated with pydantic,
every problem reported at once with its key path.

Example (the shipped ``mappings/top_insta_influencers.toml`` is a full one)::

    platform = "instagram"
    as_of_date = 2026-05-01          # the file has no date column (else --date)
    charset = "utf-8"                # optional: detected when absent

    [columns]                        # field = "the file's column name"
    handle = "Influencer Name"
    followers = "Followers"
    media_count = "Total Posts"
    country = "Country"

    [metrics.engagement_rate_60d]    # extra metrics, into fact_imported_metric
    column = "60 Day Eng Rate"
    kind = "rate"                    # count | average | rate | number

    [countries]                      # country names the file writes -> ISO 3166 alpha-2
    "United States" = "US"
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from schemas.raw.files import INTEGER_DIGITS, METRIC_KINDS
from schemas.vocabulary import PLATFORMS
from sources.files.errors import ImportRefused

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
FORMATS = ("csv", "json", "ndjson", "parquet")
PROFILE_FIELDS = (
    "handle",
    "followers",
    "following",
    "media_count",
    "display_name",
    "country",
    "category",
    "as_of",
)
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
ColumnName = Annotated[str, StringConstraints(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnTable(_Strict):
    """A mapping's ``[columns]`` table: the file's column for each field it names."""

    def named(self) -> dict[str, str]:
        """Field -> column, for the fields the file has."""
        return {field: column for field, column in self.model_dump().items() if column}


class MappedColumns(ColumnTable):
    """``[columns]``: the file's column for each profile field (only ``handle`` is required)."""

    handle: ColumnName = Field(description="The account's handle (username, @handle).")
    followers: ColumnName | None = Field(None, description="Followers (subscribers).")
    following: ColumnName | None = Field(None, description="Accounts followed.")
    media_count: ColumnName | None = Field(None, description="Posts or videos.")
    display_name: ColumnName | None = Field(None, description="Display name.")
    country: ColumnName | None = Field(None, description="Country: ISO-2 or a name.")
    category: ColumnName | None = Field(None, description="Content category.")
    as_of: ColumnName | None = Field(None, description="The row's as-of date.")


class MappedMetric(_Strict):
    """``[metrics.<name>]``: an extra metric, loaded into ``fact_imported_metric``."""

    column: ColumnName = Field(description="The file's column.")
    kind: Literal["count", "average", "rate", "number"] = Field(
        description="count (whole, not negative), average (not negative), rate (a fraction; "
        "1.39% is 0.0139) or number (any)."
    )
    percent: bool = Field(
        False, description="Bare numbers in the column are percentages (rates written 1.39)."
    )
    max: Decimal | None = Field(None, description="Values above this are refused (quarantined).")
    description: str | None = Field(None, description="What the metric means, for people.")

    @model_validator(mode="after")
    def _percent_only_for_rates(self) -> MappedMetric:
        if self.percent and self.kind != "rate":
            raise ValueError(f"percent = true only applies to kind = 'rate', not {self.kind!r}")
        return self

    @field_validator("max")
    @classmethod
    def _max_fits(cls, bound: Decimal | None) -> Decimal | None:
        if bound is not None and (
            not bound.is_finite() or abs(bound) >= Decimal(10) ** INTEGER_DIGITS
        ):
            raise ValueError(f"must be a finite number below 10^{INTEGER_DIGITS}")
        return bound


class ImportMapping(_Strict):
    """A whole mapping file."""

    platform: Literal["instagram", "youtube", "tiktok"] = Field(
        description="Platform of every row."
    )
    description: str | None = Field(None, description="What the export is, for people.")
    format: Literal["csv", "json", "ndjson", "parquet"] | None = Field(
        None, description="The file's format; from its name and content when absent."
    )
    charset: str | None = Field(
        None, description="The file's charset; detected when absent (UTF-8, else cp1252)."
    )
    delimiter: str = Field(",", min_length=1, max_length=1, description="CSV field separator.")
    decimal_separator: Literal[".", ","] = Field(".", description="'.' (1,234.5) or ',' (1.234,5).")
    as_of_date: dt.date | None = Field(
        None, description="The date the counts are as of, when the file has no date column."
    )
    date_format: str | None = Field(
        None, description="strftime format of the as_of column (default: ISO, YYYY-MM-DD)."
    )
    columns: MappedColumns
    metrics: dict[MetricName, MappedMetric] = Field(default_factory=dict)
    countries: dict[str, CountryCode] = Field(
        default_factory=dict, description="Country name as written -> ISO 3166 alpha-2."
    )

    @field_validator("charset")
    @classmethod
    def _known_charset(cls, charset: str | None) -> str | None:
        if charset is None:
            return None
        try:
            return codecs.lookup(charset).name
        except LookupError:
            raise ValueError(
                f"unknown charset {charset!r}: use e.g. utf-8, cp1252 or latin-1"
            ) from None

    @field_validator("date_format")
    @classmethod
    def _date_format_has_a_directive(cls, date_format: str | None) -> str | None:
        if date_format is not None and "%" not in date_format:
            raise ValueError("must be a strftime format such as %d/%m/%Y")
        return date_format

    @model_validator(mode="after")
    def _metric_names_are_not_profile_fields(self) -> ImportMapping:
        clashing = sorted(set(self.metrics) & set(PROFILE_FIELDS))
        if clashing:
            raise ValueError(
                f"metrics {clashing} are profile fields: map them under [columns] instead"
            )
        return self


@dataclass(frozen=True)
class LoadedMapping:
    """A validated mapping, and what identifies it: its name (the file's stem) and SHA-256."""

    name: str
    sha256: str
    path: Path
    mapping: ImportMapping


def read_mapping(path: Path) -> LoadedMapping:
    """Parse and validate the mapping at ``path``; :class:`ImportRefused` lists every problem."""
    payload, mapping = read_toml_model(path, ImportMapping, "mapping")
    return LoadedMapping(
        name=path.stem, sha256=hashlib.sha256(payload).hexdigest(), path=path, mapping=mapping
    )


Model = TypeVar("Model", bound=BaseModel)


def read_toml_model(path: Path, model: type[Model], what: str) -> tuple[bytes, Model]:
    """The TOML file at ``path`` (its bytes) validated as ``model``; :class:`ImportRefused` says
    why not, listing every problem. Numbers with a fraction are read as Decimal: 0.1 stays 0.1."""
    try:
        payload = path.read_bytes()
    except FileNotFoundError:
        raise ImportRefused(f"mapping {path} does not exist") from None
    except IsADirectoryError:
        raise ImportRefused(f"mapping {path} is a directory, not a TOML file") from None
    try:
        data = tomllib.loads(payload.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError as error:
        raise ImportRefused(
            f"mapping {path} is not UTF-8 text (byte {error.start}): save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ImportRefused(f"mapping {path} is not valid TOML: {error}") from None
    try:
        return payload, model.model_validate(data)
    except ValidationError as error:
        problems = [mapping_problem(detail) for detail in error.errors()]
        listing = "\n".join(f"  - {problem}" for problem in problems)
        count = len(problems)
        raise ImportRefused(
            f"{what} {path} is refused ({count} problem{'s' if count != 1 else ''}); fix "
            f"{'them' if count != 1 else 'it'} and re-run:\n{listing}"
        ) from None


def mapping_problem(detail: Any) -> str:
    """One pydantic error as ``key.path: what is wrong`` (the key path as TOML writes it)."""
    where = ".".join(str(part) for part in detail["loc"] if part != "[key]") or "(file)"
    message = detail["msg"].removeprefix("Value error, ")
    if detail["type"] == "extra_forbidden":
        message = "unknown key (a typo?)"
    elif detail["type"] == "missing":
        message = "missing (required)"
    elif detail["type"] == "string_pattern_mismatch" and "[key]" in detail["loc"]:
        message = "metric names are lower case letters, digits and _ (e.g. avg_likes)"
    elif detail["type"] == "literal_error":
        message = f"{message} (got {detail['input']!r})"
    return f"{where}: {message}"


def shipped_mappings() -> list[str]:
    """Names of the mappings that ship with the project (``--mapping NAME``)."""
    return sorted(path.stem for path in MAPPINGS_DIR.glob("*.toml"))


def resolve_mapping(mapping: str | None, source: str) -> LoadedMapping:
    """The mapping to use: a TOML file's path, the name of a shipped mapping, or (``None``) the
    shipped mapping named after the source."""
    shipped = shipped_mappings()
    if mapping is None:
        if source in shipped:
            return read_mapping(MAPPINGS_DIR / f"{source}.toml")
        raise ImportRefused(
            f"no mapping for source {source!r}: give --mapping FILE (a TOML file naming the "
            f"platform and the columns) or the name of a shipped one ({', '.join(shipped)})"
        )
    path = Path(mapping)
    if not path.exists() and mapping in shipped:
        path = MAPPINGS_DIR / f"{mapping}.toml"
    if not path.exists():
        raise ImportRefused(
            f"mapping {mapping} does not exist: give the path of a TOML file or the name of a "
            f"shipped mapping ({', '.join(shipped)})"
        )
    return read_mapping(path)


assert set(PLATFORMS) == {"instagram", "youtube", "tiktok"}, "ImportMapping.platform lists them"
assert set(METRIC_KINDS) == {"count", "average", "rate", "number"}, "MappedMetric.kind lists them"
assert set(FORMATS) == {"csv", "json", "ndjson", "parquet"}, "ImportMapping.format lists them"
