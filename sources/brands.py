"""The brand file: the brands whose audience match is reported, as TOML the user maintains.

``read_brand_file`` parses the file and checks its *shape* (TOML syntax, known keys, numbers where
weights go); the *meaning* of the values (known dimensions and tiers, non-negative weights, unique
ids) is the contract in ``schemas.brands``. Every problem names its brand and its line, which
``tomllib`` does not report: ``key_lines`` recovers them by scanning the text.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

DEFAULT_BRANDS_PATH = Path(__file__).resolve().parent / "brands" / "default_brands.toml"
BRAND_KEYS = ("id", "name", "recruit_tiers", "dimension_weights", "targets")

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class BrandFileProblem:
    """One thing wrong with the brand file, where it is and which brand it concerns."""

    line_number: int
    brand: str
    message: str

    def __str__(self) -> str:
        # Line 0 and an empty brand mean the problem is the whole file's, not one entry's.
        where = ", ".join(
            part
            for part in (f"line {self.line_number}" if self.line_number else "", self.brand)
            if part
        )
        return f"{where}: {self.message}" if where else self.message


class BrandFileError(ValueError):
    """The brand file is refused; the message lists every problem found, by line."""

    def __init__(self, path: Path | str, problems: Iterable[BrandFileProblem]) -> None:
        self.path = Path(path)
        self.problems = sorted(set(problems))
        count = len(self.problems)
        listing = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(
            f"brand file {self.path} is refused ({count} problem{'s' if count != 1 else ''}); "
            f"fix {'them' if count != 1 else 'it'} and re-run:\n{listing}"
        )


class RawBrandTarget(TypedDict):
    """One ``bucket = weight`` entry under ``[brand.targets.<dimension>]``."""

    dimension: str
    bucket: str
    weight: float
    line_number: int
    dimension_line: int


class RawDimensionWeight(TypedDict):
    """One ``dimension = weight`` entry under ``[brand.dimension_weights]``."""

    dimension: str
    weight: float
    line_number: int


class RawBrand(TypedDict):
    """One ``[[brand]]`` table as written, with the line of each key (its header's if absent)."""

    source_file: str
    brand_position: int
    header_line: int
    brand_id: str | None
    id_line: int
    name: str | None
    name_line: int
    recruit_tiers: list[str] | None
    recruit_tiers_line: int
    dimension_weights: list[RawDimensionWeight]
    dimension_weights_line: int
    targets: list[RawBrandTarget]


def brand_label(brand_id: str | None, brand_position: int) -> str:
    """How problems name a brand: by its id, or by its place in the file when it has none."""
    return f'brand "{brand_id}"' if brand_id else f"brand #{brand_position} (no id)"


def read_brand_file(path: Path) -> list[RawBrand]:
    """Parse the brand file into one raw record per ``[[brand]]``, in file order.

    Raises ``BrandFileError`` listing every shape problem at once; values are judged later,
    against ``schemas.brands``.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BrandFileError(
            path,
            [
                BrandFileProblem(
                    0,
                    "",
                    "the file does not exist: set INFLUENCERS_BRANDS_PATH to your brand file "
                    f"(start from a copy of {DEFAULT_BRANDS_PATH})",
                )
            ],
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise BrandFileError(
            path, [BrandFileProblem(line, "", "the file is not UTF-8 text")]
        ) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BrandFileError(path, [_syntax_problem(text, error)]) from None

    lines = key_lines(text)
    records, problems = _brand_records(path, document, lines)
    if problems:
        raise BrandFileError(path, problems)
    return records


def key_lines(text: str) -> dict[KeyPath, int]:
    """The line where each key path of a *valid* TOML document is first written.

    Paths index arrays of tables: the ``age`` key under the second ``[[brand]]``'s
    ``[brand.dimension_weights]`` is ``("brand", 1, "dimension_weights", "age")``. Keys inside
    inline tables and arrays are found too. Look a path up with ``line_of``.
    """
    return _KeyLineScanner(text).scan()


def line_of(lines: Mapping[KeyPath, int], path: KeyPath) -> int:
    """The line of ``path``, or of its nearest written ancestor (1 if none is)."""
    for end in range(len(path), 0, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return 1


def _syntax_problem(text: str, error: tomllib.TOMLDecodeError) -> BrandFileProblem:
    # Python 3.11's TOMLDecodeError carries the position only in its message.
    position = re.search(r"\(at line (\d+), column \d+\)", str(error))
    line = int(position.group(1)) if position else 1
    return BrandFileProblem(line, _brand_around(text, line), f"not valid TOML: {error}")


def _brand_around(text: str, line: int) -> str:
    """Best guess at the brand a broken line belongs to: the last ``[[brand]]`` above it."""
    position = 0
    brand_id: str | None = None
    for number, content in enumerate(text.splitlines()[:line], start=1):
        if re.match(r"^\s*\[\[\s*brand\s*\]\]", content):
            position += 1
            brand_id = None
        elif position and number < line:
            found = re.match(r"""^\s*id\s*=\s*["']([^"']*)["']""", content)
            brand_id = found.group(1) if found else brand_id
    return brand_label(brand_id, position) if position else "before the first [[brand]]"


def _brand_records(
    path: Path, document: Mapping[str, object], lines: Mapping[KeyPath, int]
) -> tuple[list[RawBrand], list[BrandFileProblem]]:
    problems = [
        BrandFileProblem(
            lines.get((key,), 1),
            "",
            f"unknown top-level key {key!r}: the file holds only [[brand]] tables",
        )
        for key in document
        if key != "brand"
    ]
    brands = document.get("brand")
    if brands is None or (isinstance(brands, list) and not brands):
        problems.append(
            BrandFileProblem(1, "", "the file defines no brand: add a [[brand]] table per brand")
        )
        return [], problems
    if not isinstance(brands, list) or not all(isinstance(brand, dict) for brand in brands):
        problems.append(
            BrandFileProblem(
                lines.get(("brand",), 1),
                "",
                "`brand` must be a list of tables, each one written as a [[brand]] section",
            )
        )
        return [], problems
    records = []
    for index, brand in enumerate(brands):
        record, brand_problems = _brand_record(path, index, brand, lines)
        records.append(record)
        problems.extend(brand_problems)
    return records, problems


def _brand_record(
    path: Path, index: int, brand: Mapping[str, object], lines: Mapping[KeyPath, int]
) -> tuple[RawBrand, list[BrandFileProblem]]:
    base: KeyPath = ("brand", index)
    header_line = line_of(lines, base)
    brand_id = brand.get("id")
    label = brand_label(brand_id if isinstance(brand_id, str) else None, index + 1)
    problems: list[BrandFileProblem] = []

    def problem(path_in_brand: KeyPath, message: str) -> None:
        problems.append(BrandFileProblem(line_of(lines, base + path_in_brand), label, message))

    for key in brand:
        if key not in BRAND_KEYS:
            problem((key,), f"unknown key {key!r}; a brand has only {', '.join(BRAND_KEYS)}")
    for key in ("id", "name"):
        if key in brand and not isinstance(brand[key], str):
            problem((key,), f"{key} must be text in quotes, got {brand[key]!r}")
    tiers = brand.get("recruit_tiers")
    if tiers is not None and not (
        isinstance(tiers, list) and all(isinstance(tier, str) for tier in tiers)
    ):
        problem(("recruit_tiers",), f'recruit_tiers must be a list like ["micro"], got {tiers!r}')

    dimension_weights: list[RawDimensionWeight] = []
    weights = brand.get("dimension_weights", {})
    if isinstance(weights, dict):
        for dimension, weight in weights.items():
            if _is_number(weight):
                dimension_weights.append(
                    RawDimensionWeight(
                        dimension=dimension,
                        weight=float(weight),
                        line_number=line_of(lines, (*base, "dimension_weights", dimension)),
                    )
                )
            else:
                problem(
                    ("dimension_weights", dimension),
                    f"dimension_weights.{dimension} must be a number, got {weight!r}",
                )
    else:
        problem(
            ("dimension_weights",),
            "dimension_weights must be a table: [brand.dimension_weights] then dimension = weight",
        )

    targets: list[RawBrandTarget] = []
    dimensions = brand.get("targets", {})
    if isinstance(dimensions, dict):
        for dimension, buckets in dimensions.items():
            if not isinstance(buckets, dict):
                problem(
                    ("targets", dimension),
                    f"targets.{dimension} must be a table: [brand.targets.{dimension}] then "
                    '"bucket" = weight',
                )
                continue
            if not buckets:
                problem(
                    ("targets", dimension),
                    f'[brand.targets.{dimension}] lists no buckets: add "bucket" = weight '
                    "lines or remove the table",
                )
            dimension_line = line_of(lines, (*base, "targets", dimension))
            for bucket, weight in buckets.items():
                if _is_number(weight):
                    targets.append(
                        RawBrandTarget(
                            dimension=dimension,
                            bucket=bucket,
                            weight=float(weight),
                            line_number=line_of(lines, (*base, "targets", dimension, bucket)),
                            dimension_line=dimension_line,
                        )
                    )
                else:
                    problem(
                        ("targets", dimension, bucket),
                        f'targets.{dimension}."{bucket}" must be a number, got {weight!r}',
                    )
    else:
        problem(("targets",), "targets must hold tables: [brand.targets.<dimension>]")

    record = RawBrand(
        source_file=str(path),
        brand_position=index + 1,
        header_line=header_line,
        brand_id=brand_id if isinstance(brand_id, str) else None,
        id_line=line_of(lines, (*base, "id")),
        name=name if isinstance(name := brand.get("name"), str) else None,
        name_line=line_of(lines, (*base, "name")),
        recruit_tiers=list(tiers) if isinstance(tiers, list) else None,
        recruit_tiers_line=line_of(lines, (*base, "recruit_tiers")),
        dimension_weights=dimension_weights,
        dimension_weights_line=line_of(lines, (*base, "dimension_weights")),
        targets=targets,
    )
    return record, problems


def _is_number(value: object) -> bool:
    # TOML booleans are Python bools, which are ints: `true` is not a weight.
    return isinstance(value, int | float) and not isinstance(value, bool)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BASIC_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_LITERAL_STRING = re.compile(r"'[^'\n]*'")


class _KeyLineScanner:
    """A minimal TOML reader that keeps only where keys are written.

    It trusts its input to be valid TOML (``tomllib`` has already parsed it), so it only needs
    to tell keys from values: headers, dotted and quoted keys, multi-line strings and arrays, and
    inline tables, whose keys it records too.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.lines: dict[KeyPath, int] = {}
        # Count of [[header]] tables seen per unindexed path, to index later headers under them.
        self.array_tables: dict[tuple[str, ...], int] = {}

    def scan(self) -> dict[KeyPath, int]:
        table: KeyPath = ()
        while True:
            self._skip_blank(newlines=True)
            if self.position >= len(self.text):
                return self.lines
            line = self._line()
            if self.text.startswith("[[", self.position):
                self.position += 2
                keys = self._key()
                self._expect("]]")
                self.array_tables[keys] = self.array_tables.get(keys, 0) + 1
                table = self._resolve(keys)
                self._record(table, line)
            elif self.text.startswith("[", self.position):
                self.position += 1
                keys = self._key()
                self._expect("]")
                table = self._resolve(keys)
                self._record(table, line)
            else:
                self._key_value(table)

    def _key_value(self, table: KeyPath) -> None:
        line = self._line()
        path = table + self._key()
        self._record(path, line)
        self._skip_blank(newlines=False)
        self._expect("=")
        self._value(path)

    def _value(self, path: KeyPath) -> None:
        self._skip_blank(newlines=False)
        text, start = self.text, self.position
        if text.startswith(('"""', "'''"), start):
            quote = text[start : start + 3]
            end = start + 3
            while True:
                end = text.index(quote, end)
                if quote == "'''" or not _escaped(text, end):
                    break
                end += 1
            # A closing delimiter may be followed by up to two more quotes belonging to the value.
            end += 3
            while end < len(text) and text[end] == quote[0]:
                end += 1
            self.position = end
        elif text.startswith('"', start):
            self.position = _match(_BASIC_STRING, text, start)
        elif text.startswith("'", start):
            self.position = _match(_LITERAL_STRING, text, start)
        elif text.startswith("[", start):
            self.position += 1
            index = 0
            while True:
                self._skip_blank(newlines=True)
                if text.startswith("]", self.position):
                    self.position += 1
                    return
                self._value((*path, index))
                index += 1
                self._skip_blank(newlines=True)
                if text.startswith(",", self.position):
                    self.position += 1
        elif text.startswith("{", start):
            self.position += 1
            while True:
                self._skip_blank(newlines=False)
                if text.startswith("}", self.position):
                    self.position += 1
                    return
                if text.startswith(",", self.position):
                    self.position += 1
                    continue
                self._key_value(path)
        else:
            scalar = re.compile(r"[^,\]}#\n]*")
            self.position = _match(scalar, text, start)

    def _key(self) -> tuple[str, ...]:
        parts = []
        while True:
            self._skip_blank(newlines=False)
            text, start = self.text, self.position
            if text.startswith('"', start):
                self.position = _match(_BASIC_STRING, text, start)
                parts.append(tomllib.loads(f"k = {text[start : self.position]}")["k"])
            elif text.startswith("'", start):
                self.position = _match(_LITERAL_STRING, text, start)
                parts.append(text[start + 1 : self.position - 1])
            else:
                self.position = _match(_BARE_KEY, text, start)
                parts.append(text[start : self.position])
            self._skip_blank(newlines=False)
            if not self.text.startswith(".", self.position):
                return tuple(parts)
            self.position += 1

    def _resolve(self, keys: tuple[str, ...]) -> KeyPath:
        resolved: list[str | int] = []
        for end in range(1, len(keys) + 1):
            resolved.append(keys[end - 1])
            count = self.array_tables.get(keys[:end])
            if count:
                resolved.append(count - 1)
        return tuple(resolved)

    def _record(self, path: KeyPath, line: int) -> None:
        for end in range(1, len(path) + 1):
            self.lines.setdefault(path[:end], line)

    def _skip_blank(self, *, newlines: bool) -> None:
        blank = re.compile(r"(?:[ \t\r\n]|#[^\n]*)*" if newlines else r"(?:[ \t]|#[^\n]*)*")
        self.position = _match(blank, self.text, self.position)

    def _expect(self, token: str) -> None:
        self._skip_blank(newlines=False)
        if not self.text.startswith(token, self.position):
            raise ValueError(f"expected {token!r} at line {self._line()}: is this valid TOML?")
        self.position += len(token)

    def _line(self) -> int:
        return self.text.count("\n", 0, self.position) + 1


def _match(pattern: re.Pattern[str], text: str, start: int) -> int:
    found = pattern.match(text, start)
    if found is None:
        raise ValueError(f"unexpected text at offset {start}: is this valid TOML?")
    return found.end()


def _escaped(text: str, index: int) -> bool:
    """Whether the character at ``index`` is escaped by an odd run of backslashes."""
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1
