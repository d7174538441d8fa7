"""The warehouse is a DuckLake: Parquet data files under a data path, and a catalog that records
which files make up each table at each snapshot.

The catalog is a SQLite file by default (embedded, nothing to run) or a PostgreSQL database when
several machines write (``docs/scale-out.md``). Every commit is a snapshot: a reader sees the last
complete one while a load runs, so analysts attach the same lake read-only and are never blocked,
and ``AT (VERSION => n)`` answers what a table said at an earlier snapshot.

Every connection is an in-memory DuckDB with the lake attached as ``lake`` and selected with
``USE``, so the rest of the code names tables as if they were local. The DuckDB extensions come
from the PyPI wheels pinned beside DuckDB and are installed from their files: nothing is
downloaded at run time.
"""

from __future__ import annotations

import contextlib
import random
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from warehouse.migrate import apply_migrations
from warehouse.snapshots import LAKE

EXTENSIONS = ("ducklake", "sqlite_scanner", "postgres_scanner")
POSTGRES_PREFIX = "postgres:"
_PASSWORD = re.compile(r"(password\s*=\s*)(\S+)", re.IGNORECASE)
# Two workers attaching a new PostgreSQL catalog at once both create its tables; PostgreSQL
# refuses the second (a duplicate key in pg_type) once the first has committed, so the second
# attaches again and finds the lake made.
LAKE_INIT_RACE = "Failed to initialize DuckLake"
MAX_ATTACH_ATTEMPTS = 5


class LakeNotFound(FileNotFoundError):
    """A reader asked for a lake that no run has created yet."""


class CatalogUnreachable(ConnectionError):
    """The lake's PostgreSQL catalog refused the connection or did not answer."""


@dataclass(frozen=True)
class LakeLocation:
    """Where the lake lives: its catalog and the directory of its data files.

    ``catalog`` is the path of a SQLite file, or ``postgres:`` followed by a libpq connection
    string (``postgres:dbname=lake host=db.internal user=pipeline``) for a catalog that several
    machines write to at once.
    """

    catalog: str
    data_path: Path

    @classmethod
    def in_directory(cls, directory: Path) -> LakeLocation:
        """The default layout: ``<directory>/lake.sqlite`` and ``<directory>/lake/``."""
        return cls(str(directory / "lake.sqlite"), directory / "lake")

    @property
    def on_postgres(self) -> bool:
        return self.catalog.startswith(POSTGRES_PREFIX)

    @property
    def attach_target(self) -> str:
        """What follows ``ATTACH``: ``ducklake:sqlite:<file>`` or ``ducklake:postgres:<dsn>``."""
        if self.on_postgres:
            return f"ducklake:{self.catalog}"
        return f"ducklake:sqlite:{Path(self.catalog).resolve()}"

    def attach_statement(self, *, read_only: bool) -> str:
        """The ``ATTACH`` an analyst's own DuckDB (CLI, Python, DBeaver) runs to read the lake."""
        options = [f"DATA_PATH {_quote(str(self.data_path.resolve()) + '/')}"]
        if read_only:
            options.append("READ_ONLY")
        return f"ATTACH {_quote(self.attach_target)} AS {LAKE} ({', '.join(options)})"

    def describe(self) -> str:
        """The catalog and data path for messages, with any password hidden."""
        catalog = _PASSWORD.sub(r"\1***", self.catalog)
        return f"catalog {catalog}, data files under {self.data_path}"


def extension_file(name: str) -> Path:
    """The extension file shipped by the ``duckdb-extension-<name>`` wheel for this DuckDB."""
    package = f"duckdb_extension_{name}"
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        raise RuntimeError(
            f"the DuckDB extension {name} is not installed: run `make install` (it installs "
            f"duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__} from PyPI)"
        ) from None
    path = Path(str(root)) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(
            f"{path} is missing: the {package} wheel does not match DuckDB {duckdb.__version__}; "
            "pin both to the same version and run `make install`"
        )
    return path


def install_extensions(connection: duckdb.DuckDBPyConnection) -> None:
    """Install the lake's extensions from their wheels unless DuckDB already has them.

    They go to DuckDB's extension directory (``~/.duckdb/extensions``), where the DuckDB CLI of
    ``make sql`` finds them too.
    """
    installed = {
        row[0]
        for row in connection.execute(
            "select extension_name from duckdb_extensions() where installed"
        ).fetchall()
    }
    for name in EXTENSIONS:
        if name not in installed:
            connection.execute(f"install {_quote(str(extension_file(name)))}")


def open_lake(
    location: LakeLocation, *, read_only: bool = False, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection with the lake attached as ``lake`` and in use.

    A read-write connection creates the lake if needed and applies the migrations; a read-only
    one refuses a lake that does not exist yet and never blocks (or waits for) a writer.
    """
    if not location.on_postgres and read_only and not Path(location.catalog).exists():
        raise LakeNotFound(
            f"no lake at {location.catalog} yet: run `influencers nightly` (or `make demo`) "
            "first, or point INFLUENCERS_LAKE_CATALOG at an existing catalog"
        )
    connection = duckdb.connect()
    try:
        if threads is not None:
            connection.execute(f"set threads = {int(threads)}")
        install_extensions(connection)
        connection.execute("load ducklake")
        if not read_only:
            location.data_path.mkdir(parents=True, exist_ok=True)
            if not location.on_postgres:
                _use_write_ahead_log(Path(location.catalog))
        _attach(connection, location, read_only=read_only)
        connection.execute(f"use {LAKE}")
        if not read_only:
            apply_migrations(connection)
    except BaseException:
        connection.close()
        raise
    return connection


# Opening the lake (loading the extension, attaching the catalog, checking the migrations) costs
# 0.3 to 1 s; a nightly run loads three sources one after another. Connections that ended
# cleanly wait here to be reused by the next load of the same process, a few at most.
MAX_IDLE_CONNECTIONS = 2
# Each idle connection with the lake's latest snapshot when it came back (id and time).
_idle: list[tuple[tuple[object, ...], tuple[int, object] | None, duckdb.DuckDBPyConnection]] = []
_idle_lock = threading.Lock()


@contextlib.contextmanager
def lake_connection(
    location: LakeLocation, *, threads: int | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the lake for one unit of work, reused within the process.

    A connection comes back for reuse only when the work ended without an error (so never in
    the middle of a transaction). One whose SQLite catalog file was since deleted or replaced is
    closed instead of reused: a catalog put back from a copy (a restored backup) may even get
    the same inode, so the last snapshot the connection saw must also still be there, as it
    was. Each transaction on it reads the lake's latest snapshot, as a new connection would.
    """
    key = (
        location.attach_statement(read_only=False),
        str(location.data_path),
        threads,
        _catalog_identity(location),
    )
    connection, seen = None, None
    with _idle_lock:
        for index, entry in enumerate(_idle):
            if entry[0] == key:
                del _idle[index]
                _, seen, connection = entry
                break
    if connection is not None and not _still_there(location, seen):
        connection.close()
        connection = None
    if connection is None:
        connection = open_lake(location, threads=threads)
    try:
        yield connection
    except BaseException:
        connection.close()
        raise
    if key[-1] != _catalog_identity(location):
        connection.close()
        return
    latest = None if location.on_postgres else _snapshot(location)
    with _idle_lock:
        _idle.append((key, latest, connection))
        evicted = _idle[:-MAX_IDLE_CONNECTIONS]
        del _idle[:-MAX_IDLE_CONNECTIONS]
    for _, _, old in evicted:
        old.close()


def _catalog_identity(location: LakeLocation) -> object:
    """Which lake the location's SQLite catalog file holds now: its device and inode, and the
    time of the lake's first snapshot (a lake deleted and created again may get the same inode);
    None on PostgreSQL."""
    if location.on_postgres:
        return None
    catalog = Path(location.catalog)
    try:
        status = catalog.stat()
    except FileNotFoundError:
        return "missing"
    return (status.st_dev, status.st_ino, _snapshot(location, 0))


def _still_there(location: LakeLocation, seen: tuple[int, object] | None) -> bool:
    """Whether the snapshot a connection saw last is still in the catalog, as it was (always on
    PostgreSQL, whose catalog is no file to put back)."""
    return location.on_postgres or (seen is not None and _snapshot(location, seen[0]) == seen)


def _snapshot(location: LakeLocation, snapshot_id: int | None = None) -> tuple[int, object] | None:
    """(id, time) of the SQLite catalog's snapshot ``snapshot_id``, or of its latest; None if
    there is none."""
    query = "select snapshot_id, snapshot_time from ducklake_snapshot"
    if snapshot_id is None:
        query += " order by snapshot_id desc limit 1"
    else:
        query += f" where snapshot_id = {int(snapshot_id)}"
    try:
        uri = f"{Path(location.catalog).resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5)) as database:
            found = database.execute(query).fetchone()
    except sqlite3.Error:
        return None
    return (int(found[0]), found[1]) if found is not None else None


def _use_write_ahead_log(catalog: Path) -> None:
    """Put a SQLite catalog in WAL mode (it stays so, in the file), creating it if need be.

    In SQLite's default rollback-journal mode a reader inside a transaction (an analyst's
    ``BEGIN`` in the DuckDB CLI, or one long query) holds a lock that makes the nightly commit
    fail with "database is locked"; with the write-ahead log readers and the writer never block
    each other, and a reader keeps its snapshot until its transaction ends.
    """
    catalog.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(catalog, timeout=60)) as database:
        database.execute("pragma journal_mode = wal")


def _attach(
    connection: duckdb.DuckDBPyConnection, location: LakeLocation, *, read_only: bool
) -> None:
    for attempt in range(1, MAX_ATTACH_ATTEMPTS + 1):
        try:
            connection.execute(location.attach_statement(read_only=read_only))
            return
        except duckdb.Error as error:
            if location.on_postgres and "Unable to connect to Postgres" in str(error):
                # libpq's words come after the connection string (which may hold a password).
                said = str(error).split('": ', 1)[-1]
                reason = " ".join(_PASSWORD.sub(r"\1***", said).split())
                stop = "" if reason.endswith((".", "?")) else "."
                raise CatalogUnreachable(
                    f"cannot connect to the lake's catalog ({location.describe()}): {reason}{stop} "
                    "Check INFLUENCERS_LAKE_CATALOG (host, port, dbname, user), that PostgreSQL "
                    "accepts connections from this machine, and that the password is in "
                    "PGPASSWORD or ~/.pgpass (docs/scale-out.md)"
                ) from None
            if LAKE_INIT_RACE not in str(error) or attempt == MAX_ATTACH_ATTEMPTS:
                raise
            time.sleep(random.uniform(0.1, 0.5) * attempt)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
