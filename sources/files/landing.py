"""Landing an imported file: copied byte for byte into the raw zone before anything reads it.

Layout (content-addressed, so landing the same file twice changes nothing)::

    <raw_dir>/<source>/file/<sha256>.<format>
    <raw_dir>/<source>/_manifests/<sha256>.json      sha256, size, original name, first landing

The file's own name is only ever data in the manifest, never part of a path; ``source`` is
checked to be a plain name before it becomes a directory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from schemas.vocabulary import PLATFORMS
from sources.files.errors import ImportRefused
from sources.landing import sha256_of, write_atomically

SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
# Folders of the raw zone and the data directory that an import must never land into.
RESERVED_SOURCE_NAMES = frozenset({*PLATFORMS, "brands", "files", "imports", "lake", "work"})
FILE_ENTITY = "file"
MANIFESTS = "_manifests"
_BLOCK = 1 << 20


@dataclass(frozen=True)
class ImportLanding:
    """One landed file; ``path`` is relative to the raw directory."""

    source: str
    sha256: str
    size: int
    original_name: str
    file_format: str
    path: str
    landed_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, ensure_ascii=False)


def check_source_name(source: str) -> str:
    """``source`` if it is a plain name a folder can take; else :class:`ImportRefused`."""
    if not SOURCE_NAME.fullmatch(source):
        raise ImportRefused(
            f"--source {source!r} is not a plain name: use 1 to 63 lower-case letters, digits, "
            "'_' and '-', starting with a letter or digit (e.g. kaggle_top_instagram); no '/', "
            "'.', '..' or spaces, since it names the import's folder in the raw zone"
        )
    if source in RESERVED_SOURCE_NAMES:
        raise ImportRefused(
            f"--source {source!r} is reserved (it names a platform or a folder of the data "
            "directory): name the tool or export instead, e.g. kaggle_top_instagram"
        )
    return source


def check_import_file(path: Path) -> Path:
    """``path`` if it is a regular file to import; else :class:`ImportRefused` saying why."""
    if not path.exists():
        raise ImportRefused(f"{path} does not exist: give the path of the export to import")
    if path.is_dir():
        raise ImportRefused(f"{path} is a directory: give the path of one export file")
    if not path.is_file():
        raise ImportRefused(f"{path} is not a regular file (a pipe or a device?)")
    return path


def land_file(raw_dir: Path, source: str, path: Path, file_format: str) -> ImportLanding:
    """Copy ``path`` byte for byte into the raw zone and write its manifest; a file already
    landed (same SHA-256) keeps its first landing, and the raw zone does not change."""
    check_source_name(source)
    check_import_file(path)
    directory = raw_dir / source / FILE_ENTITY
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{secrets.token_hex(8)}.tmp"
    try:
        sha256, size = _copy_hashing(path, temporary)
        relative = Path(source) / FILE_ENTITY / f"{sha256}.{file_format}"
        manifest_path = raw_dir / source / MANIFESTS / f"{sha256}.json"
        if (
            manifest_path.is_file()
            and (raw_dir / relative).is_file()
            and sha256_of(raw_dir / relative) == sha256
        ):
            return ImportLanding(**json.loads(manifest_path.read_text(encoding="utf-8")))
        os.replace(temporary, raw_dir / relative)
    finally:
        temporary.unlink(missing_ok=True)
    landing = ImportLanding(
        source=source,
        sha256=sha256,
        size=size,
        original_name=path.name,
        file_format=file_format,
        path=relative.as_posix(),
        landed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    write_atomically(manifest_path, landing.to_json().encode("utf-8"))
    return landing


def verify_landing(raw_dir: Path, landing: ImportLanding) -> Path:
    """The landed file's path, after checking it still matches its SHA-256."""
    path = raw_dir / landing.path
    if not path.is_file() or sha256_of(path) != landing.sha256:
        raise ImportRefused(
            f"landed file {path} is missing or was changed after landing: import the export again"
        )
    return path


def _copy_hashing(source: Path, target: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as reading, open(target, "wb") as writing:
        for block in iter(lambda: reading.read(_BLOCK), b""):
            digest.update(block)
            writing.write(block)
            size += len(block)
        writing.flush()
        os.fsync(writing.fileno())
    return digest.hexdigest(), size
