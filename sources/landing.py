"""The raw landing zone: immutable, gzipped JSON lines, the one place a fact is never lost.

Layout::

    <raw_dir>/<source>/<entity>/date=<YYYY-MM-DD>/<run_id>.jsonl.gz
    <raw_dir>/<source>/_manifests/date=<YYYY-MM-DD>/<run_id>.json

Each file is written under a temporary name and renamed into place; the manifest (counts and
SHA-256 of every file) is written last, so a landing without a manifest is incomplete and is
never replayed. Every later step reads records back from here.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MANIFESTS = "_manifests"


class LandingError(RuntimeError):
    """A landed file is missing or does not match its manifest."""


@dataclass(frozen=True)
class LandedFile:
    """One landed file; ``path`` is relative to the raw directory, so the zone can move."""

    entity: str
    path: str
    records: int
    sha256: str


@dataclass(frozen=True)
class LandingManifest:
    """What one extraction run landed for one source and date."""

    source: str
    partition_date: str
    run_id: str
    landed_at: str
    files: tuple[LandedFile, ...]
    notes: tuple[str, ...] = ()

    def file_for(self, entity: str) -> LandedFile:
        for landed in self.files:
            if landed.entity == entity:
                return landed
        raise LandingError(
            f"landing {self.run_id} of {self.source} for {self.partition_date} has no "
            f"{entity!r} file"
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LandingManifest:
        data = json.loads(text)
        data["files"] = tuple(LandedFile(**landed) for landed in data["files"])
        data["notes"] = tuple(data.get("notes", ()))
        return cls(**data)


def new_run_id(now: dt.datetime | None = None) -> str:
    """A run id that sorts by time: ``20261124T020000Z-1a2b3c``."""
    moment = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{moment}-{secrets.token_hex(3)}"


def land_run(
    raw_dir: Path,
    source: str,
    partition_date: dt.date,
    run_id: str,
    records_by_entity: Mapping[str, Iterable[Mapping[str, Any]]],
    notes: Iterable[str] = (),
) -> LandingManifest:
    """Land every entity's records, then the manifest that makes the landing complete."""
    files = tuple(
        _land_entity(raw_dir, source, entity, partition_date, run_id, records)
        for entity, records in records_by_entity.items()
    )
    manifest = LandingManifest(
        source=source,
        partition_date=partition_date.isoformat(),
        run_id=run_id,
        landed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        files=files,
        notes=tuple(notes),
    )
    manifest_path = _manifest_dir(raw_dir, source, partition_date) / f"{run_id}.json"
    _write_atomically(manifest_path, manifest.to_json().encode())
    return manifest


def latest_manifest(raw_dir: Path, source: str, partition_date: dt.date) -> LandingManifest | None:
    """The most recent complete landing of ``source`` for ``partition_date``, if any."""
    manifest_dir = _manifest_dir(raw_dir, source, partition_date)
    candidates = sorted(manifest_dir.glob("*.json")) if manifest_dir.is_dir() else []
    if not candidates:
        return None
    return LandingManifest.from_json(candidates[-1].read_text(encoding="utf-8"))


def read_landed_lines(raw_dir: Path, landed: LandedFile) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, raw JSON text)`` of a landed file, after checking its checksum."""
    path = raw_dir / landed.path
    try:
        payload = path.read_bytes()
    except FileNotFoundError:
        raise LandingError(f"landed file {path} is missing; re-extract this date") from None
    if hashlib.sha256(payload).hexdigest() != landed.sha256:
        raise LandingError(
            f"landed file {path} does not match its manifest checksum: it was changed after "
            "landing; restore it or re-extract this date"
        )
    text = gzip.decompress(payload).decode("utf-8")
    for line_number, line in enumerate(text.splitlines(), start=1):
        if line:
            yield line_number, line


def _land_entity(
    raw_dir: Path,
    source: str,
    entity: str,
    partition_date: dt.date,
    run_id: str,
    records: Iterable[Mapping[str, Any]],
) -> LandedFile:
    lines = [json.dumps(record, ensure_ascii=False, sort_keys=True) for record in records]
    body = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
    # mtime=0 keeps the gzip bytes a pure function of the records.
    payload = gzip.compress(body, mtime=0)
    relative_path = (
        Path(source) / entity / f"date={partition_date.isoformat()}" / f"{run_id}.jsonl.gz"
    )
    _write_atomically(raw_dir / relative_path, payload)
    return LandedFile(
        entity=entity,
        path=relative_path.as_posix(),
        records=len(lines),
        sha256=hashlib.sha256(payload).hexdigest(),
    )


def _manifest_dir(raw_dir: Path, source: str, partition_date: dt.date) -> Path:
    return raw_dir / source / MANIFESTS / f"date={partition_date.isoformat()}"


def _write_atomically(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
