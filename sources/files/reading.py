"""Reading a landed export: its format, its charset, and its records as cells, in batches.

Every reader yields frames of the same shape: ``landed_file``, ``line_number`` (the record's
first line in the file; a Parquet row's number), ``raw_record`` (the whole record as JSON text,
as decoded, before any repair), ``record_problem`` (why a record is none: a CSV line with too
many fields, a JSON line that is not JSON; else NULL) and one text column per mapped field. Cells
stay text: the contracts judge them.

CSV records are split by the ``csv`` module's C reader, the one way to know each record's first
physical line and its field count (a quoted newline, a stray separator); cells go straight into
one list per column for the batch, and all the work on values is Polars'. A JSON array is one
document, so it is read whole; NDJSON line by line. Parquet in its own row batches.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

import polars as pl
import pyarrow.parquet as pq

from sources.files.errors import ImportRefused

UTF8_BOM: Final = codecs.BOM_UTF8
SNIFF_BYTES: Final = 4096
EXTENSIONS: Final = {
    ".csv": "csv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".parquet": "parquet",
    ".pq": "parquet",
}
PROVENANCE_SCHEMA: Final = {
    "landed_file": pl.String,
    "line_number": pl.Int64,
    "raw_record": pl.String,
    "record_problem": pl.String,
}
_BLOCK: Final = 1 << 20
# JSON: a string (kept) or a bare number / NaN / Infinity outside any string (quoted, so its
# literal text is read as written instead of through a float).
_STRING_OR_BARE_NUMBER = (
    r'("(?:[^"\\]|\\.)*")|(-?(?:\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?|NaN|-?Infinity)'
)
_MARK = "\x00"
EXCERPT_CHARS: Final = 60


# -- format and charset ---------------------------------------------------------------------
def detect_format(path: Path, original_name: str, declared: str | None) -> str:
    """The file's format: the mapping's, else from its name and first bytes; anything the
    import cannot read is refused with what it looks like instead."""
    with open(path, "rb") as reading:
        head = reading.read(SNIFF_BYTES)
    if not head:
        raise ImportRefused(f"{original_name} is empty: there is nothing to import")
    if head.startswith(b"PK\x03\x04"):
        raise ImportRefused(
            f"unknown format: {original_name} is a zip archive (an Excel workbook?); export the "
            "sheet as CSV and import that"
        )
    text_start = head.removeprefix(UTF8_BOM).lstrip()
    if text_start.startswith(b"<"):
        raise ImportRefused(
            f"unknown format: {original_name} looks like HTML or XML (a web page saved instead "
            "of the export?); download the export itself as CSV, JSON or Parquet"
        )
    if declared is not None:
        return declared
    if head.startswith(b"PAR1"):
        return "parquet"
    extension = Path(original_name).suffix.lower()
    by_name = EXTENSIONS.get(extension)
    if by_name == "parquet":
        raise ImportRefused(f"{original_name} is named .parquet but is not a Parquet file")
    if by_name in ("json", "ndjson") or by_name is None:
        if text_start.startswith(b"["):
            return "json"
        if text_start.startswith(b"{"):
            return "ndjson"
    if by_name is None:
        raise ImportRefused(
            f"unknown format: {original_name} (the import reads CSV, JSON, NDJSON and Parquet); "
            'if it is one of them, name it so (.csv, .json, ...) or set format = "csv" in the '
            "mapping"
        )
    return by_name


def detect_charset(path: Path, declared: str | None) -> str:
    """The charset to decode the file with: the mapping's (a UTF-8 BOM still skipped), else
    UTF-8 when every byte is valid UTF-8 (``utf-8-sig`` when it starts with a BOM), else cp1252
    when it decodes as cp1252, else latin-1 (which decodes any byte)."""
    with open(path, "rb") as reading:
        has_bom = reading.read(len(UTF8_BOM)) == UTF8_BOM
    if declared is not None:
        return "utf-8-sig" if declared == "utf-8" and has_bom else declared
    if _decodes(path, "utf-8"):
        return "utf-8-sig" if has_bom else "utf-8"
    return "cp1252" if _decodes(path, "cp1252") else "latin-1"


def _decodes(path: Path, charset: str) -> bool:
    decoder = codecs.getincrementaldecoder(charset)(errors="strict")
    with open(path, "rb") as reading:
        try:
            for block in iter(lambda: reading.read(_BLOCK), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


# -- records --------------------------------------------------------------------------------
def read_cells(
    path: Path,
    *,
    landed_file: str,
    file_format: str,
    charset: str,
    columns: Mapping[str, str],
    delimiter: str = ",",
    batch_rows: int = 20_000,
) -> Iterator[pl.DataFrame]:
    """The file's records as cells, ``batch_rows`` at a time; ``columns`` maps each field to
    the file's column (or JSON key). A CSV or Parquet file without a mapped column is refused
    up front, naming the columns it has."""
    try:
        if file_format == "csv":
            yield from _csv_cells(path, landed_file, charset, columns, delimiter, batch_rows)
        elif file_format == "parquet":
            yield from _parquet_cells(path, landed_file, columns, batch_rows)
        elif file_format == "json":
            yield from _json_array_cells(path, landed_file, charset, columns, batch_rows)
        elif file_format == "ndjson":
            yield from _ndjson_cells(path, landed_file, charset, columns, batch_rows)
        else:
            raise ImportRefused(f"unknown format {file_format!r}")
    except UnicodeDecodeError as error:
        raise ImportRefused(
            f"the file is not {charset} (byte {error.start} of a block cannot be decoded): fix "
            "charset in the mapping, or remove it to let the import detect the charset"
        ) from None


def _csv_cells(
    path: Path,
    landed_file: str,
    charset: str,
    columns: Mapping[str, str],
    delimiter: str,
    batch_rows: int,
) -> Iterator[pl.DataFrame]:
    with open(path, encoding=charset, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = _unique_names([name.strip() for name in next(reader)])
        except StopIteration:
            raise ImportRefused("the file has no header line: nothing to import") from None
        positions = _positions(header, columns)
        batch = _CsvBatch(header)
        end_of_previous = reader.line_num
        while True:
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                batch.add_problem(end_of_previous + 1, f"record: unreadable CSV ({error})")
                end_of_previous = reader.line_num
                continue
            first_line, end_of_previous = end_of_previous + 1, reader.line_num
            if not record:
                continue  # a blank line
            batch.add(first_line, record)
            if batch.rows == batch_rows:
                yield batch.frame(landed_file, positions)
                batch = _CsvBatch(header)
        if batch.rows:
            yield batch.frame(landed_file, positions)


class _CsvBatch:
    """The records of one batch, turned into one list per column at the end (in C, by zip)."""

    def __init__(self, header: list[str]) -> None:
        self.header = header
        self.records: list[list[str]] = []
        self.line_numbers: list[int] = []
        self.problems: list[str | None] = []
        self.ragged: dict[int, str] = {}  # position in the batch -> raw record of a ragged row
        self.rows = 0

    def add(self, line_number: int, record: list[str]) -> None:
        width = len(self.header)
        problem = None
        if len(record) != width:
            problem = (
                f"record: {len(record)} fields where the header has {width} (a separator or a "
                "quote out of place?)"
            )
            self.ragged[self.rows] = json.dumps(
                {
                    **dict(zip(self.header, record, strict=False)),
                    **({"_extra_fields": record[width:]} if len(record) > width else {}),
                },
                ensure_ascii=False,
            )
        self.records.append(record)
        self.line_numbers.append(line_number)
        self.problems.append(problem)
        self.rows += 1

    def add_problem(self, line_number: int, problem: str) -> None:
        self.ragged[self.rows] = json.dumps({"_unreadable": problem})
        self.records.append([])
        self.line_numbers.append(line_number)
        self.problems.append(problem)
        self.rows += 1

    def frame(self, landed_file: str, positions: Mapping[str, int]) -> pl.DataFrame:
        width = len(self.header)
        columns = list(itertools.zip_longest(*self.records))[:width]
        columns += [(None,) * self.rows] * (width - len(columns))
        cells = pl.DataFrame(
            dict(zip(self.header, columns, strict=True)),
            schema=dict.fromkeys(self.header, pl.String),
        )
        raw = cells.select(pl.struct(pl.all()).struct.json_encode()).to_series()
        if self.ragged:
            raw = raw.scatter(list(self.ragged), list(self.ragged.values()))
        return pl.DataFrame(
            {
                "landed_file": [landed_file] * self.rows,
                "line_number": self.line_numbers,
                "raw_record": raw,
                "record_problem": self.problems,
            },
            schema=PROVENANCE_SCHEMA,
        ).with_columns(
            cells.get_column(self.header[position]).alias(field)
            for field, position in positions.items()
        )


def _unique_names(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in header:
        name = name.removeprefix("\ufeff") or "column"
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique


def _positions(header: list[str], columns: Mapping[str, str]) -> dict[str, int]:
    """Field -> position of its column: the exact name, else the one name equal to it ignoring
    case and surrounding spaces. Every missing column is named at once."""
    folded: dict[str, list[int]] = {}
    for position, name in enumerate(header):
        folded.setdefault(name.strip().casefold(), []).append(position)
    positions, missing = {}, []
    for field, column in columns.items():
        if column in header:
            positions[field] = header.index(column)
        elif len(folded.get(column.strip().casefold(), [])) == 1:
            positions[field] = folded[column.strip().casefold()][0]
        else:
            missing.append(f"{column!r} ({field})")
    if missing:
        raise ImportRefused(
            f"the mapping names column(s) the file does not have: {', '.join(missing)}; the "
            f"file's columns are {', '.join(repr(name) for name in header)}. Fix [columns] or "
            "[metrics] in the mapping"
        )
    return positions


def _parquet_cells(
    path: Path, landed_file: str, columns: Mapping[str, str], batch_rows: int
) -> Iterator[pl.DataFrame]:
    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise ImportRefused(f"the file is not a readable Parquet file ({error})") from None
    header = list(parquet.schema_arrow.names)
    positions = _positions(header, columns)
    first_row = 1
    for record_batch in parquet.iter_batches(batch_size=batch_rows):
        frame = pl.from_arrow(record_batch)
        assert isinstance(frame, pl.DataFrame)
        texts = {field: _as_text(frame, header[position]) for field, position in positions.items()}
        yield pl.DataFrame(
            {
                "landed_file": [landed_file] * frame.height,
                "line_number": range(first_row, first_row + frame.height),
                "raw_record": frame.select(pl.struct(pl.all()).struct.json_encode()).to_series(),
                "record_problem": [None] * frame.height,
            },
            schema=PROVENANCE_SCHEMA,
        ).with_columns(texts[field].alias(field) for field in positions)
        first_row += frame.height


def _as_text(frame: pl.DataFrame, name: str) -> pl.Series:
    column = frame.get_column(name)
    if column.dtype.is_nested():
        encoded = frame.select(pl.struct(pl.col(name)).struct.json_encode()).to_series()
        return encoded.str.json_path_match(json_path_of(name))
    return column.cast(pl.String)


def _json_array_cells(
    path: Path, landed_file: str, charset: str, columns: Mapping[str, str], batch_rows: int
) -> Iterator[pl.DataFrame]:
    text = path.read_text(encoding=charset)
    position = _skip_space(text, 0)
    if not text.startswith("[", position):
        raise ImportRefused(
            "the JSON file is not an array of records (it starts with "
            f"{text[position : position + 20]!r}); export the records as a JSON array or NDJSON"
        )
    decoder = json.JSONDecoder()
    line, counted_to = 1, 0
    numbers: list[int] = []
    records: list[str] = []
    position += 1
    while True:
        position = _skip_space(text, position)
        if position >= len(text) or text[position] == "]":
            break
        line += text.count("\n", counted_to, position)
        counted_to = position
        try:
            _, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            # Truncated or broken from here on: the rest is one record that is no record.
            numbers.append(line)
            records.append(text[position:].rstrip())
            break
        numbers.append(line)
        records.append(text[position:end])
        position = _skip_space(text, end)
        if position < len(text) and text[position] == ",":
            position += 1
        elif position < len(text) and text[position] != "]":
            line += text.count("\n", counted_to, position)
            counted_to = position
            numbers.append(line)
            records.append(text[position:].rstrip())
            break
        if len(records) == batch_rows:
            yield _json_frame(landed_file, numbers, records, columns)
            numbers, records = [], []
    if records:
        yield _json_frame(landed_file, numbers, records, columns)


def _ndjson_cells(
    path: Path, landed_file: str, charset: str, columns: Mapping[str, str], batch_rows: int
) -> Iterator[pl.DataFrame]:
    numbers: list[int] = []
    records: list[str] = []
    with open(path, encoding=charset, newline=None) as lines:
        for number, line in enumerate(lines, start=1):
            record = line.strip()
            if not record:
                continue
            numbers.append(number)
            records.append(record)
            if len(records) == batch_rows:
                yield _json_frame(landed_file, numbers, records, columns)
                numbers, records = [], []
    if records:
        yield _json_frame(landed_file, numbers, records, columns)


def _json_frame(
    landed_file: str, numbers: list[int], records: list[str], columns: Mapping[str, str]
) -> pl.DataFrame:
    lines = pl.DataFrame(
        {
            "landed_file": [landed_file] * len(records),
            "line_number": numbers,
            "raw_record": records,
        },
        schema={"landed_file": pl.String, "line_number": pl.Int64, "raw_record": pl.String},
    )
    paths = {field: json_path_of(column) for field, column in columns.items()}
    return json_cells(lines.lazy(), paths).collect()


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


# -- JSON fields ---------------------------------------------------------------------------
def json_cells(lines: pl.LazyFrame, json_paths: Mapping[str, str]) -> pl.LazyFrame:
    """``lines`` (``landed_file``, ``line_number``, ``raw_record``: one JSON text each) plus
    ``record_problem`` and one text column per field of ``json_paths`` (field -> JSON path).

    A value is its literal text: ``475800000.1`` stays those digits, a string its content, an
    object its JSON; a missing key is NULL. ``record_problem`` says why a record is none: not
    valid JSON (a truncated line), or not a JSON object.
    """
    quoted = _quote_bare_numbers(pl.col("raw_record"))
    is_json = quoted.str.json_path_match("$").is_not_null() | (
        pl.col("raw_record").str.strip_chars() == "null"
    )
    is_object = pl.col("raw_record").str.strip_chars_start().str.starts_with("{")
    problem = (
        pl.when(~is_json)
        .then(pl.format("record: not valid JSON ({})", _excerpt(pl.col("raw_record"))))
        .when(~is_object)
        .then(pl.format("record: not a JSON object (got {})", _excerpt(pl.col("raw_record"))))
    )
    return lines.with_columns(
        problem.alias("record_problem"),
        *(quoted.str.json_path_match(path).alias(field) for field, path in json_paths.items()),
    ).select(*PROVENANCE_SCHEMA, *json_paths)


def json_path_of(key: str) -> str:
    """The JSON path of a top-level key, whatever characters it holds."""
    return "$['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"


def _quote_bare_numbers(record: pl.Expr) -> pl.Expr:
    marked = record.str.replace_all(_STRING_OR_BARE_NUMBER, f"${{1}}{_MARK}${{2}}{_MARK}")
    return marked.str.replace_all(_MARK * 2, "", literal=True).str.replace_all(
        _MARK, '"', literal=True
    )


def _excerpt(text: pl.Expr) -> pl.Expr:
    return (
        pl.when(text.str.len_chars() > EXCERPT_CHARS)
        .then(text.str.slice(0, EXCERPT_CHARS) + "…")
        .otherwise(text)
    )
