"""Landing an order export: its PII-free order records, never its bytes.

Layout (the raw zone's usual one, ``sources.landing``)::

    <raw_dir>/orders_<shop>/order/date=<YYYY-MM-DD>/<landing id>.jsonl.gz
    <raw_dir>/orders_<shop>/_manifests/date=<YYYY-MM-DD>/<landing id>.json

One record per order (``sources.orders.reading``), with the lines it came from. The manifest
keeps the original file's SHA-256, size and name, the charset and the mapping. The landing id is
a digest of the shop, the file's SHA-256 and the mapping's, so importing the same file again
finds its landing and lands nothing new (the date is that of the first landing).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sources.files.reading import detect_charset
from sources.landing import (
    MANIFESTS,
    LandingError,
    LandingManifest,
    LandingWriter,
    sha256_of,
    verify_landed_file,
)
from sources.orders import ENTITY
from sources.orders.reading import order_records
from sources.orders.request import OrderImportRequest


def landing_id_of(request: OrderImportRequest, file_sha256: str) -> str:
    """The same shop, file and mapping always give the same id."""
    key = "|".join((request.source, file_sha256, request.mapping.sha256))
    return "orders-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def land_orders(raw_dir: Path, request: OrderImportRequest, batch_rows: int) -> LandingManifest:
    """Land the export's order records (or find them landed already) and return the manifest."""
    file_sha256 = sha256_of(request.path)
    landing_id = landing_id_of(request, file_sha256)
    earlier = _earlier_landing(raw_dir, request.source, landing_id)
    if earlier is not None:
        return earlier
    mapping = request.mapping.mapping
    charset = detect_charset(request.path, mapping.charset)
    landed_on = request.imported_at.date()
    with LandingWriter(raw_dir, request.source, landed_on, landing_id, [ENTITY]) as writer:
        orders = lines = 0
        for batch in order_records(
            request.path,
            mapping,
            charset=charset,
            landed_file=request.path.name,
            batch_rows=batch_rows,
        ):
            for record in batch.iter_rows(named=True):
                writer.land(ENTITY, record)
                lines += record["line_items"]
            orders += batch.height
        return writer.finish(
            extract={
                "original_name": request.path.name,
                "original_sha256": file_sha256,
                "original_bytes": request.path.stat().st_size,
                "charset": charset,
                "mapping": request.mapping.name,
                "mapping_sha256": request.mapping.sha256,
                "shop": request.shop,
                "lines": lines,
                "orders": orders,
            }
        )


def _earlier_landing(raw_dir: Path, source: str, landing_id: str) -> LandingManifest | None:
    for path in sorted((raw_dir / source / MANIFESTS).glob(f"date=*/{landing_id}.json")):
        manifest = LandingManifest.from_json(path.read_text(encoding="utf-8"))
        try:
            verify_landed_file(raw_dir, manifest.file_for(ENTITY))
        except LandingError:
            continue  # damaged: land again
        return manifest
    return None
