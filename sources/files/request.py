"""What an import is asked to do, checked before anything lands or Prefect is involved.

The command line checks the request with :func:`prepare_import` before it starts the flow (so a
refused command answers at once, with the message alone), and the flow checks it again for runs
started from the Prefect UI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sources.files.errors import ImportRefused
from sources.files.landing import check_import_file, check_source_name
from sources.files.mapping import LoadedMapping, resolve_mapping
from sources.files.reading import detect_format


@dataclass(frozen=True)
class ImportRequest:
    """What the import was asked, checked before anything lands."""

    path: Path
    source: str
    mapping: LoadedMapping
    file_format: str
    default_as_of: dt.date | None  # --date, else the mapping's as_of_date
    imported_on: dt.date


def prepare_import(
    path: str | Path,
    source: str,
    mapping: str | None,
    date: dt.date | None,
    *,
    today: dt.date | None = None,
) -> ImportRequest:
    """Check the command before anything lands: the source name, the mapping (every problem at
    once), the file, its format and the as-of date. :class:`ImportRefused` says what is wrong."""
    check_source_name(source)
    loaded = resolve_mapping(mapping, source)
    file_path = check_import_file(Path(path))
    file_format = detect_format(file_path, file_path.name, loaded.mapping.format)
    imported_on = today or dt.datetime.now(dt.UTC).date()
    default_as_of = date or loaded.mapping.as_of_date
    if default_as_of is not None and default_as_of > imported_on:
        raise ImportRefused(
            f"the as-of date {default_as_of} is in the future (today is {imported_on} UTC): "
            "give the date the export's counts are as of"
        )
    if default_as_of is None and loaded.mapping.columns.as_of is None:
        raise ImportRefused(
            f"the counts of {file_path.name} are as of no known date: give --date YYYY-MM-DD "
            f"(or as_of_date in the mapping {loaded.name}, or map the file's date column as "
            "columns.as_of)"
        )
    return ImportRequest(file_path, source, loaded, file_format, default_as_of, imported_on)
