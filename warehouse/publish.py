"""Publishing the analysts' copy of the warehouse.

DuckDB allows one read-write process or many read-only ones, never both: analysts therefore never
open the pipeline's file. After each run the pipeline copies its (closed, checkpointed) database
to a temporary file beside the published one and renames it into place. The rename is atomic, so
an analyst sees yesterday's complete copy or today's, never a half-loaded day; a session already
open keeps reading the copy it opened.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def publish_database(warehouse_path: Path, published_path: Path) -> Path:
    """Copy the closed warehouse to ``published_path`` atomically; return the published path."""
    wal = warehouse_path.with_name(warehouse_path.name + ".wal")
    if wal.exists():
        raise RuntimeError(
            f"{warehouse_path} still has a write-ahead log: close its connection (which "
            "checkpoints) before publishing"
        )
    published_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = published_path.with_name(f".{published_path.name}.{os.getpid()}.tmp")
    shutil.copyfile(warehouse_path, temporary)
    os.replace(temporary, published_path)
    return published_path
