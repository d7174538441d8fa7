"""What an order import is asked to do, checked before anything lands or Prefect is involved.

The command line checks the request with :func:`prepare_order_import` before it starts the flow
(a refused command answers at once, with the message alone), and the flow checks it again for
runs started from the Prefect UI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from sources.files.errors import ImportRefused
from sources.files.landing import SOURCE_NAME, check_import_file
from sources.files.reading import detect_charset, detect_format, read_cells
from sources.orders import source_of
from sources.orders.mapping import LoadedOrderMapping, resolve_order_mapping

FX_COLUMNS: Final = ("currency", "rate_date", "base_currency", "rate")


@dataclass(frozen=True)
class OrderImportRequest:
    """What the order import was asked, checked before anything lands."""

    path: Path
    shop: str
    mapping: LoadedOrderMapping
    imported_at: dt.datetime  # UTC, aware: orders placed after it are refused

    @property
    def source(self) -> str:
        return source_of(self.shop)


def check_shop_name(shop: str) -> str:
    """``shop`` if it is a plain name a folder can take; else :class:`ImportRefused`."""
    if not SOURCE_NAME.fullmatch(shop) or len(shop) > 50:
        raise ImportRefused(
            f"--shop {shop!r} is not a plain name: use 1 to 50 lower-case letters, digits, '_' "
            "and '-', starting with a letter or digit (e.g. glowco); no '/', '.', '..' or "
            "spaces, since it names the shop's folder in the raw zone"
        )
    return shop


def prepare_order_import(
    path: str | Path, shop: str, mapping: str | None, *, now: dt.datetime | None = None
) -> OrderImportRequest:
    """Check the command before anything lands: the shop's name, the mapping (every problem at
    once), the file, that it is CSV and has the mapped columns. :class:`ImportRefused` says
    what is wrong."""
    check_shop_name(shop)
    loaded = resolve_order_mapping(mapping)
    file_path = check_import_file(Path(path))
    detect_format(file_path, file_path.name, "csv")
    charset = detect_charset(file_path, loaded.mapping.charset)
    try:
        first = next(
            read_cells(
                file_path,
                landed_file=file_path.name,
                file_format="csv",
                charset=charset,
                columns=loaded.mapping.columns.named(),
                delimiter=loaded.mapping.delimiter,
                batch_rows=1,
            ),
            None,
        )
    except ImportRefused as refusal:
        message = str(refusal).replace("[columns] or [metrics]", "[columns]")
        raise ImportRefused(f"{file_path} (mapping {loaded.name}): {message}") from None
    if first is None:
        raise ImportRefused(f"{file_path} has a header but no orders: there is nothing to import")
    return OrderImportRequest(
        path=file_path,
        shop=shop,
        mapping=loaded,
        imported_at=now or dt.datetime.now(dt.UTC),
    )


def prepare_fx_rates(path: str | Path) -> Path:
    """The FX rates file, checked before it lands: a CSV with the four columns."""
    file_path = check_import_file(Path(path))
    detect_format(file_path, file_path.name, "csv")
    try:
        next(fx_cells(file_path, file_path.name, batch_rows=1), None)
    except ImportRefused as refusal:
        message = str(refusal).replace(
            "Fix [columns] or [metrics] in the mapping",
            "Its header must be currency,rate_date,base_currency,rate",
        )
        raise ImportRefused(f"{file_path}: {message}") from None
    return file_path


def fx_cells(path: Path, landed_file: str, batch_rows: int) -> Iterator[pl.DataFrame]:
    """The FX rates file's rows as cells, ``batch_rows`` at a time."""
    return read_cells(
        path,
        landed_file=landed_file,
        file_format="csv",
        charset=detect_charset(path, None),
        columns={column: column for column in FX_COLUMNS},
        batch_rows=batch_rows,
    )
