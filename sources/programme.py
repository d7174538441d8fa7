"""The brand's programme files: the brand file, and per brand its campaigns and collaborations.

One loader for all of them. TOML is parsed by ``tomllib`` and CSV by ``csv``; every entry and
every line is judged by a pydantic model; the checks that span entries (ids used twice, campaigns
overlapping, a promo code given to two creators) are plain Python over the valid entries. A bad
file is refused whole with :class:`ProgrammeFileError`, which lists every problem found in every
file, each by file and key path (TOML: ``campaign "spring-glow" → end_date``) or line (CSV).
Nothing is returned then, so nothing is loaded.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Final, Literal, TypeVar

import polars as pl
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from schemas.brands import (
    BRAND_ID,
    BUCKET_RULES,
    DEFAULT_DIMENSION_WEIGHT,
    DEFAULT_RECRUIT_TIERS,
    BrandDimensionWeight,
    Brands,
    BrandTarget,
    DimBrand,
)
from schemas.programme import (
    CAMPAIGN_ID,
    CURRENCY,
    DEFAULT_ATTRIBUTION_WINDOW_DAYS,
    STAGES,
    Campaigns,
    CollaborationByHandle,
    DimCampaign,
)
from schemas.roster import HANDLE_RULES, handle_follows_its_platform_rule
from schemas.vocabulary import (
    AGE_BUCKETS,
    AUDIENCE_DIMENSIONS,
    CITY_BUCKET_PATTERN,
    COUNTRY_BUCKET_PATTERN,
    GENDER_BUCKETS,
    PLATFORMS,
    TIER_NAMES,
)

SAMPLES_DIR: Final = Path(__file__).resolve().parent / "brands"
DEFAULT_BRANDS_PATH: Final = SAMPLES_DIR / "default_brands.toml"
DEFAULT_CAMPAIGNS_DIR: Final = SAMPLES_DIR / "campaigns"
CAMPAIGNS_SUFFIX: Final = ".campaigns.toml"
COLLABORATION_COLUMNS: Final = (
    "campaign_id",
    "platform",
    "handle",
    "stage",
    "fee",
    "promo_code",
    "utm_content",
    "posts_agreed",
)
YOUTUBE_CHANNEL_ID: Final = r"^UC[A-Za-z0-9_-]{22}$"
# What a pattern mismatch means, by the key that failed it.
PATTERN_RULES: Final = {
    "id": "lower-case letters, digits, - and _, starting with a letter or digit",
    "name": "must not be blank",
    "currency": "an ISO 4217 code, 3 capitals, e.g. USD",
    "hashtags": "a hashtag is letters, digits and _ (without '#')",
    "mentions": "a handle is letters, digits, . and _ (without '@')",
}

Dimension = Literal["age", "gender", "country", "city", "interest"]
Tier = Literal["nano", "micro", "macro", "mega"]
Platform = Literal["instagram", "youtube", "tiktok"]
Stage = Literal["prospect", "contacted", "negotiating", "active", "paused", "ended"]
assert (Dimension.__args__, Tier.__args__) == (AUDIENCE_DIMENSIONS, TIER_NAMES)  # type: ignore[attr-defined]
assert (Platform.__args__, Stage.__args__) == (PLATFORMS, STAGES)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one file: where (a key path, or a CSV line) and what to do."""

    file: str
    where: str
    message: str
    line: int = 0

    def __str__(self) -> str:
        place = f"{self.file} line {self.line}" if self.line else self.file
        return (
            f"{place}: {self.where}: {self.message}" if self.where else f"{place}: {self.message}"
        )


class ProgrammeFileError(ValueError):
    """The brand file or the campaign files are refused; the message lists every problem."""

    def __init__(self, what: str, location: Path, problems: Iterable[Problem]) -> None:
        self.location = location
        self.problems = list(dict.fromkeys(problems))
        count = len(self.problems)
        listing = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(
            f"{what} {location} {'is' if what.endswith('file') else 'are'} refused ({count} "
            f"problem{'s' if count != 1 else ''}); fix {'them' if count != 1 else 'it'} and "
            f"re-run:\n{listing}"
        )


# -- the models ------------------------------------------------------------------------------
class _TomlTable(BaseModel):
    # Strict: a TOML value has a type, and "1.0" in quotes is text, not a weight; so is `true`.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


NonBlank = Annotated[str, Field(pattern=r"\S")]
Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]


def _without(prefix: str) -> BeforeValidator:
    return BeforeValidator(
        lambda value: (
            value.strip().removeprefix(prefix).lower() if isinstance(value, str) else value
        )
    )


class BrandEntry(_TomlTable):
    """One ``[[brand]]`` of the brand file."""

    id: Annotated[str, Field(pattern=BRAND_ID)]
    name: NonBlank
    recruit_tiers: Annotated[list[Tier], Field(min_length=1)] = DEFAULT_RECRUIT_TIERS  # type: ignore[assignment]
    dimension_weights: dict[Dimension, Weight] = {}
    targets: dict[Dimension, dict[str, Weight]] = {}


class CampaignEntry(_TomlTable):
    """One ``[[campaign]]`` of a campaign file."""

    id: Annotated[str, Field(pattern=CAMPAIGN_ID)]
    name: NonBlank
    start_date: date
    end_date: date
    currency: Annotated[str, Field(pattern=CURRENCY)]
    attribution_window_days: Annotated[int, Field(ge=0, le=365)] = DEFAULT_ATTRIBUTION_WINDOW_DAYS
    hashtags: list[Annotated[str, _without("#"), Field(pattern=r"^\w+$")]] = []
    mentions: list[Annotated[str, _without("@"), Field(pattern=r"^[\w.]+$")]] = []

    @field_validator("end_date")
    @classmethod
    def _not_before_start(cls, end_date: date, info: ValidationInfo) -> date:
        start_date = info.data.get("start_date")
        if start_date is not None and end_date < start_date:
            raise ValueError(f"must be on or after start_date {start_date} (got {end_date})")
        return end_date


class CampaignFileHead(_TomlTable):
    """The top of a campaign file; its ``[[campaign]]`` entries are judged one by one."""

    brand: str
    collaborations: str
    campaign: Annotated[list[dict[str, Any]], Field(min_length=1)]

    @field_validator("collaborations")
    @classmethod
    def _plain_file_name(cls, name: str) -> str:
        # Only a name next to the campaign file: never a path out of the campaigns folder.
        if name != Path(name).name or name in ("", ".", "..") or "\\" in name or ":" in name:
            raise ValueError(
                f"{name!r} is not a plain file name: name a CSV next to this file, like "
                "<brand>.collaborations.csv (no folders, no '..', no absolute path)"
            )
        if not name.lower().endswith(".csv"):
            raise ValueError(f"{name!r} is not a .csv file name")
        return name


def _cell(value: object) -> object:
    """A CSV cell, stripped; empty is absent."""
    return (value.strip() or None) if isinstance(value, str) else value


Cell = BeforeValidator(_cell)


class CollaborationLine(BaseModel):
    """One line of a collaborations CSV. Lax: every cell is text, read as its field's type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    campaign_id: Annotated[str, Cell]
    platform: Annotated[Platform, Cell]
    handle: Annotated[str, Cell]
    stage: Annotated[Stage, Cell]
    fee: Annotated[Decimal, Cell, Field(ge=0, max_digits=18, decimal_places=2, allow_inf_nan=False)]
    promo_code: Annotated[str | None, Cell] = None
    utm_content: Annotated[str | None, Cell] = None
    posts_agreed: Annotated[int, Cell, Field(ge=0)]


Model = TypeVar("Model", bound=BaseModel)


# -- the brand file --------------------------------------------------------------------------
def read_brand_file(path: Path) -> Brands:
    """The brand tables of the brand file at ``path``, defaults filled in.

    Raises :class:`ProgrammeFileError` listing every problem, by brand and key path.
    """
    problems: list[Problem] = []
    document = _read_toml(
        path,
        problems,
        missing_hint=(
            "set INFLUENCERS_BRANDS_PATH to your brand file "
            f"(start from a copy of {DEFAULT_BRANDS_PATH})"
        ),
    )
    brands: list[BrandEntry] = []
    if document is not None:
        for key in document.keys() - {"brand"}:
            problems.append(
                Problem(
                    path.name, key, "unknown top-level key: the file holds only [[brand]] tables"
                )
            )
        entries = document.get("brand")
        if not entries:
            problems.append(
                Problem(path.name, "", "the file defines no brand: add a [[brand]] table per brand")
            )
        else:
            brands = _entries(path.name, document, "brand", BrandEntry, problems)
            problems.extend(_brand_file_problems(path.name, brands))
    if problems:
        raise ProgrammeFileError("brand file", path, problems)
    return _brand_frames(brands)


def _brand_file_problems(file: str, brands: Sequence[BrandEntry]) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for brand in brands:
        label = f'brand "{brand.id}"'

        def problem(where: str, message: str, label: str = label) -> None:
            problems.append(Problem(file, f"{label} → {where}" if where else label, message))

        if brand.id in seen:
            problem("id", f"id {brand.id!r} is used by more than one brand; ids must be unique")
        seen.add(brand.id)
        if not brand.targets:
            problem(
                "",
                "targets no audience: add a [brand.targets.<dimension>] table "
                f"({', '.join(AUDIENCE_DIMENSIONS)})",
            )
        for dimension, buckets in brand.targets.items():
            if not buckets:
                problem(
                    f"targets.{dimension}",
                    f'[brand.targets.{dimension}] lists no buckets: add "bucket" = weight lines '
                    "or remove the table",
                )
            elif not any(weight > 0 for weight in buckets.values()):
                problem(
                    f"targets.{dimension}",
                    f"no weight in [brand.targets.{dimension}] is above 0; give at least one "
                    "bucket a weight above 0, or remove the table",
                )
            for bucket in buckets:
                if not _bucket_is_known(dimension, bucket):
                    problem(
                        f"targets.{dimension}.{_key(bucket)}",
                        f"{bucket!r} is not a bucket of {dimension}; use {BUCKET_RULES[dimension]}",
                    )
        for dimension in brand.dimension_weights.keys() - brand.targets.keys():
            problem(
                f"dimension_weights.{dimension}",
                f"weighs a dimension with no targets: add [brand.targets.{dimension}] or remove "
                "the weight",
            )
        weights = [
            brand.dimension_weights.get(dimension, DEFAULT_DIMENSION_WEIGHT)
            for dimension in brand.targets
        ]
        if weights and not any(weight > 0 for weight in weights):
            problem(
                "dimension_weights",
                "no dimension weight is above 0; give at least one targeted dimension a weight "
                "above 0",
            )
    return problems


def _bucket_is_known(dimension: str, bucket: str) -> bool:
    """The vocabulary's buckets (``schemas.checks.bucket_is_known``, for one value)."""
    rules = {
        "age": lambda: bucket in AGE_BUCKETS,
        "gender": lambda: bucket in GENDER_BUCKETS,
        "country": lambda: re.search(COUNTRY_BUCKET_PATTERN, bucket) is not None,
        "city": lambda: re.search(CITY_BUCKET_PATTERN, bucket) is not None,
        "interest": lambda: bool(bucket.strip()),
    }
    return rules[dimension]()


def _brand_frames(brands: Sequence[BrandEntry]) -> Brands:
    dim_brand = pl.DataFrame(
        [
            {"brand_id": b.id, "name": b.name, "recruit_tiers": list(b.recruit_tiers)}
            for b in brands
        ],
        schema={"brand_id": pl.String, "name": pl.String, "recruit_tiers": pl.List(pl.String)},
    )
    weights = pl.DataFrame(
        [
            {
                "brand_id": b.id,
                "dimension": dimension,
                "weight": b.dimension_weights.get(dimension, DEFAULT_DIMENSION_WEIGHT),
            }
            for b in brands
            for dimension in {**b.dimension_weights, **b.targets}
        ],
        schema={"brand_id": pl.String, "dimension": pl.String, "weight": pl.Float64},
    )
    targets = pl.DataFrame(
        [
            {"brand_id": b.id, "dimension": dimension, "bucket": bucket, "weight": weight}
            for b in brands
            for dimension, buckets in b.targets.items()
            for bucket, weight in buckets.items()
        ],
        schema={
            "brand_id": pl.String,
            "dimension": pl.String,
            "bucket": pl.String,
            "weight": pl.Float64,
        },
    )
    return Brands(
        DimBrand.validate(dim_brand),
        BrandDimensionWeight.validate(weights),
        BrandTarget.validate(targets),
    )


# -- the campaign files ----------------------------------------------------------------------
def read_campaigns(directory: Path, brands: Brands) -> Campaigns:
    """The campaigns and collaborations of every ``<brand>.campaigns.toml`` in ``directory``.

    ``brands`` are the brand file's (a campaign's brand must be one of them). Raises
    :class:`ProgrammeFileError` listing every problem of every file.
    """
    if not directory.is_dir():
        raise ProgrammeFileError(
            "campaign files in",
            directory,
            [
                Problem(
                    str(directory),
                    "",
                    "not a folder: set INFLUENCERS_CAMPAIGNS_DIR to the folder of "
                    f"your <brand>{CAMPAIGNS_SUFFIX} files (start from a copy of "
                    f"{DEFAULT_CAMPAIGNS_DIR})",
                )
            ],
        )
    problems: list[Problem] = []
    known_brands = brands.dim_brand["brand_id"].to_list()
    campaigns: list[tuple[str, CampaignEntry]] = []
    defined_in: dict[str, str] = {}
    # Every campaign file first, so that a CSV naming another brand's campaign can say whose.
    csv_files: list[tuple[str, Path, list[str]]] = []
    for path in sorted(directory.glob(f"*{CAMPAIGNS_SUFFIX}")):
        file = path.name
        document = _read_toml(path, problems)
        if document is None:
            continue
        head_problems: list[Problem] = []
        try:
            CampaignFileHead.model_validate(document)
        except ValidationError as error:
            head_problems = _validation_problems(file, error, document, "campaign")
            problems.extend(head_problems)
        brand = document.get("brand")
        if isinstance(brand, str):
            problems.extend(_brand_problems(file, brand, known_brands))
        entries = document.get("campaign")
        entries = entries if isinstance(entries, list) else []
        file_campaigns = _entries(file, document, "campaign", CampaignEntry, problems)
        for campaign in file_campaigns:
            if campaign.id in defined_in:
                elsewhere = defined_in[campaign.id]
                problems.append(
                    Problem(
                        file,
                        f'campaign "{campaign.id}" → id',
                        f"also defined {'above' if elsewhere == file else 'in ' + elsewhere}; "
                        "campaign ids are unique across brands",
                    )
                )
            defined_in.setdefault(campaign.id, file)
        problems.extend(_overlaps(file, file_campaigns))
        campaigns.extend((str(brand), campaign) for campaign in file_campaigns)
        if not any(problem.where == "collaborations" for problem in head_problems):
            ids = [str(entry.get("id")) for entry in entries if isinstance(entry, dict)]
            csv_files.append((file, path.parent / document["collaborations"], ids))
    collaborations: list[dict[str, Any]] = []
    for file, csv_path, ids in csv_files:
        if csv_path.is_file():
            collaborations.extend(_read_collaborations(csv_path, ids, defined_in, problems))
        else:
            problems.append(
                Problem(
                    file,
                    "collaborations",
                    f"{csv_path.name} does not exist next to {file}: create it with the header "
                    f"{','.join(COLLABORATION_COLUMNS)}",
                )
            )
    if problems:
        raise ProgrammeFileError("campaign files in", directory, problems)
    return _campaign_frames(campaigns, collaborations)


def _brand_problems(file: str, brand: str, known_brands: Sequence[str]) -> list[Problem]:
    problems = []
    if brand not in known_brands:
        problems.append(
            Problem(
                file,
                "brand",
                f"unknown brand {brand!r}; the brand file has {', '.join(known_brands) or 'none'}",
            )
        )
    if file != f"{brand}{CAMPAIGNS_SUFFIX}":
        problems.append(
            Problem(
                file,
                "brand",
                f"is {brand!r} but the file is named {file}: name it {brand}{CAMPAIGNS_SUFFIX}",
            )
        )
    return problems


def _overlaps(file: str, campaigns: Sequence[CampaignEntry]) -> list[Problem]:
    """Two campaigns of one brand sharing a hashtag must not share a day: a post with the tag
    could not be told apart."""
    problems = []
    for index, later in enumerate(campaigns):
        for earlier in campaigns[:index]:
            shared = sorted(set(earlier.hashtags) & set(later.hashtags))
            if (
                shared
                and later.start_date <= earlier.end_date
                and earlier.start_date <= later.end_date
            ):
                problems.append(
                    Problem(
                        file,
                        f'campaign "{later.id}" → start_date',
                        f"{later.start_date}..{later.end_date} overlaps campaign "
                        f'"{earlier.id}" ({earlier.start_date}..{earlier.end_date}), which '
                        f"shares hashtag #{shared[0]}: move the dates or use another hashtag",
                    )
                )
    return problems


def _read_collaborations(
    path: Path,
    campaigns: Sequence[str],
    defined_in: Mapping[str, str],
    problems: list[Problem],
) -> list[dict[str, Any]]:
    """The valid lines of a collaborations CSV, each as a row; its problems into ``problems``."""
    file = path.name
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        excel = ""
        try:
            data.decode("cp1252")
            excel = " (it reads as Windows-1252, Excel's plain 'CSV' export)"
        except UnicodeDecodeError:
            pass
        problems.append(
            Problem(
                file,
                "",
                f"the file is not UTF-8 text{excel}: save it as 'CSV UTF-8' and re-run",
                line,
            )
        )
        return []
    records = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines: list[tuple[int, list[str]]] = []
    try:
        while True:
            start = records.line_num + 1
            try:
                record = next(records)
            except StopIteration:
                break
            if record:
                lines.append((start, record))
    except csv.Error as error:
        problems.append(
            Problem(file, "", f"not readable as CSV ({error}): a quote left open?", start)
        )
    if not lines:
        problems.append(
            Problem(file, "", f"the file is empty: the header is {','.join(COLLABORATION_COLUMNS)}")
        )
        return []
    (_, header), *body = lines
    header = [name.strip() for name in header]
    missing = [name for name in COLLABORATION_COLUMNS if name not in header]
    unknown = [name for name in header if name not in COLLABORATION_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        problems.append(
            Problem(
                file,
                "header",
                f"must be {','.join(COLLABORATION_COLUMNS)} (missing: {', '.join(missing) or '-'}"
                f"; unknown: {', '.join(unknown) or '-'})",
                1,
            )
        )
        return []
    rows: list[dict[str, Any]] = []
    first_line_problem = len(problems)
    for line, record in body:
        if len(record) != len(header):
            cut = "cut short (a truncated file?)" if len(record) < len(header) else "too long"
            problems.append(
                Problem(
                    file,
                    "",
                    f"{len(record)} fields where the header has {len(header)}: the line is "
                    f"{cut}; a value with a comma needs quotes",
                    line,
                )
            )
            continue
        cells = dict(zip(header, record, strict=True))
        campaign_id = cells["campaign_id"].strip()
        if campaign_id and campaign_id not in campaigns:
            elsewhere = defined_in.get(campaign_id)
            problems.append(
                Problem(
                    file,
                    "campaign_id",
                    f"unknown campaign {campaign_id!r}"
                    + (f" (it is another brand's, in {elsewhere})" if elsewhere else "")
                    + f"; this file's campaigns are {', '.join(campaigns) or 'none'}",
                    line,
                )
            )
        try:
            parsed = CollaborationLine.model_validate(cells)
        except ValidationError as error:
            problems.extend(
                Problem(file, _key_path(detail["loc"]), _message(detail), line)
                for detail in error.errors()
            )
            continue
        rows.append({"line": line, **parsed.model_dump(), **_handle(parsed)})
    line_problems = _collaboration_problems(file, rows)
    problems[first_line_problem:] = sorted(
        [*problems[first_line_problem:], *line_problems], key=lambda problem: problem.line
    )
    return rows


def _handle(line: CollaborationLine) -> dict[str, str]:
    """The handle as the roster writes it, and its key: lower case, but a YouTube channel id
    as it is (channel ids are case-sensitive)."""
    handle = line.handle if line.platform == "youtube" else line.handle.removeprefix("@")
    is_channel_id = line.platform == "youtube" and re.search(YOUTUBE_CHANNEL_ID, handle)
    return {"handle": handle, "handle_key": handle if is_channel_id else handle.lower()}


def _collaboration_problems(file: str, rows: Sequence[dict[str, Any]]) -> list[Problem]:
    """The problems between lines (a handle, code or link used twice), and bad handles."""
    problems = []
    handles = pl.DataFrame(
        {"platform": [r["platform"] for r in rows], "handle": [r["handle"] for r in rows]},
        schema={"platform": pl.String, "handle": pl.String},
    )
    follows_rule = handles.select(
        handle_follows_its_platform_rule(pl.col("platform"), pl.col("handle"))
    ).to_series()
    first: dict[tuple[str, str, object], int] = {}
    for row, valid_handle in zip(rows, follows_rule, strict=True):
        line, campaign_id = row["line"], row["campaign_id"]
        if not valid_handle:
            handle_rule = HANDLE_RULES[row["platform"]]
            problems.append(
                Problem(
                    file,
                    "handle",
                    f"{row['handle']!r} is not {handle_rule.what}: {handle_rule.says}",
                    line,
                )
            )
        promo_code, utm_content = row["promo_code"], row["utm_content"]
        for column, shown, key, rule in (
            (
                "handle",
                f"{row['platform']} {row['handle']}",
                (row["platform"], row["handle_key"]),
                "one line per campaign, platform and handle",
            ),
            (
                "promo_code",
                promo_code,
                promo_code and promo_code.lower(),
                "each creator needs their own code (case does not count)",
            ),
            ("utm_content", utm_content, utm_content, "each creator needs their own utm_content"),
        ):
            if key is None:
                continue
            seen = first.setdefault((column, campaign_id, key), line)
            if seen != line:
                problems.append(
                    Problem(
                        file,
                        column,
                        f"{shown!r} is already on line {seen} for campaign {campaign_id!r}; {rule}",
                        line,
                    )
                )
    return problems


def _campaign_frames(
    campaigns: Sequence[tuple[str, CampaignEntry]], collaborations: Sequence[dict[str, Any]]
) -> Campaigns:
    dim_campaign = pl.DataFrame(
        [
            {
                "campaign_id": c.id,
                "brand_id": brand,
                "name": c.name,
                "start_date": c.start_date,
                "end_date": c.end_date,
                "currency": c.currency,
                "attribution_window_days": c.attribution_window_days,
                "hashtags": list(c.hashtags),
                "mentions": list(c.mentions),
            }
            for brand, c in campaigns
        ],
        schema={
            "campaign_id": pl.String,
            "brand_id": pl.String,
            "name": pl.String,
            "start_date": pl.Date,
            "end_date": pl.Date,
            "currency": pl.String,
            "attribution_window_days": pl.Int64,
            "hashtags": pl.List(pl.String),
            "mentions": pl.List(pl.String),
        },
    )
    schema: dict[str, pl.DataType] = {
        "campaign_id": pl.String(),
        "platform": pl.String(),
        "handle": pl.String(),
        "handle_key": pl.String(),
        "fee": pl.Decimal(18, 2),
        "promo_code": pl.String(),
        "utm_content": pl.String(),
        "posts_agreed": pl.Int64(),
        "stage": pl.String(),
    }
    collaboration = pl.DataFrame(
        [{column: row[column] for column in schema} for row in collaborations], schema=schema
    )
    return Campaigns(
        DimCampaign.validate(dim_campaign), CollaborationByHandle.validate(collaboration)
    )


# -- shared: TOML, pydantic errors -----------------------------------------------------------
def _read_toml(
    path: Path, problems: list[Problem], missing_hint: str = ""
) -> dict[str, Any] | None:
    """The TOML document at ``path``, or ``None`` with the reason in ``problems``."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        problems.append(Problem(path.name, "", f"the file does not exist: {missing_hint}"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        problems.append(
            Problem(path.name, "", "the file is not UTF-8 text: save it as UTF-8", line)
        )
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # Python 3.11's TOMLDecodeError carries the position only in its message.
        found = re.search(r"\(at line (\d+), column \d+\)", str(error))
        line = int(found.group(1)) if found else len(text.splitlines()) or 1  # end of document
        problems.append(Problem(path.name, "", f"not valid TOML: {error}", line))
        return None


def _entries(
    file: str,
    document: Mapping[str, Any],
    array: str,
    model: type[Model],
    problems: list[Problem],
) -> list[Model]:
    """The valid entries of the array of tables ``array`` (``[[brand]]``); the others' problems
    into ``problems``, each entry judged on its own so that every problem is found."""
    entries = document.get(array)
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        problems.append(
            Problem(file, array, f"must be a list of tables, each written as a [[{array}]] section")
        )
        return []
    valid = []
    for index, entry in enumerate(entries):
        try:
            valid.append(model.model_validate(entry))
        except ValidationError as error:
            problems.extend(
                _validation_problems(file, error, {array: entries}, array, prefix=(array, index))
            )
    return valid


def _validation_problems(
    file: str,
    error: ValidationError,
    document: Mapping[str, Any],
    array: str,
    prefix: tuple[str | int, ...] = (),
) -> list[Problem]:
    problems = []
    for detail in error.errors():
        location = (*prefix, *detail["loc"])
        if len(location) >= 2 and location[0] == array and isinstance(location[1], int):
            if not prefix:
                continue  # an entry's own problems: `_entries` judges each entry
            label = _entry_label(document, array, location[1])
            rest = _key_path(location[2:])
            where = f"{label} → {rest}" if rest else label
        else:
            where = _key_path(location)
        problems.append(Problem(file, where, _message(detail)))
    return problems


def _entry_label(document: Mapping[str, Any], array: str, index: int) -> str:
    entry = document[array][index]
    entry_id = entry.get("id") if isinstance(entry, dict) else None
    return (
        f'{array} "{entry_id}"'
        if isinstance(entry_id, str) and entry_id
        else (f"{array} #{index + 1} (no id)")
    )


def _key_path(location: Sequence[str | int]) -> str:
    """A pydantic location as TOML writes the key: ``targets.age."18-24"``, ``hashtags[1]``."""
    path = ""
    for part in location:
        if part == "[key]":
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + _key(part)
    return path


def _key(name: str) -> str:
    # Bare as TOML allows, but quoted when it starts with a digit ("18-24"), as people write it.
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name) else f'"{name}"'


def _message(detail: Mapping[str, Any]) -> str:
    """What a pydantic error means to the person editing the file, and the value it got."""
    kind, value, context = detail["type"], detail.get("input"), detail.get("ctx") or {}
    keys = [part for part in detail["loc"] if isinstance(part, str) and part != "[key]"]
    rule = keys[-1] if keys else ""
    messages = {
        "missing": "missing (required)",
        "extra_forbidden": "unknown key (a typo?)",
        "literal_error": f"got {value!r}; use {context.get('expected')}",
        "greater_than_equal": f"must be ≥ {_plain(context.get('ge'))} (got {value})",
        "less_than_equal": f"must be ≤ {_plain(context.get('le'))} (got {value})",
        "string_pattern_mismatch": f"{value!r}: {PATTERN_RULES.get(rule, 'not allowed here')}",
        "finite_number": f"must be a finite number (got {value})",
        "decimal_max_places": f"at most {context.get('decimal_places')} decimals (got {value})",
        "decimal_max_digits": f"too large (got {value})",
        "decimal_whole_digits": f"too large (got {value})",
        "too_short": "must not be empty",
        "date_type": f"must be a TOML date like 2026-09-14, without quotes (got {value!r})",
        "list_type": f'must be a list like ["a", "b"] (got {value!r})',
        "dict_type": "must be a table",
        "string_type": f"must be text in quotes (got {value!r})",
    }
    if value is None and kind != "missing":
        return "is empty: a value is required"
    if kind in ("float_type", "float_parsing", "decimal_parsing", "decimal_type", "int_type"):
        return f"must be a number (got {value!r})"
    if kind in ("int_parsing", "int_from_float"):
        return f"must be a whole number (got {value!r})"
    if kind == "value_error":
        return str(detail["msg"]).removeprefix("Value error, ")
    return messages.get(kind, str(detail["msg"]))


def _plain(bound: object) -> object:
    """A bound as the person wrote it: 0, not 0.0."""
    return int(bound) if isinstance(bound, float) and bound.is_integer() else bound
