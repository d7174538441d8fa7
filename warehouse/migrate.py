"""Numbered SQL migrations (``migrations/NNN_name.sql``), applied once each, in order, on start.

The pending migrations are applied in one labelled commit (a new lake is created in one
snapshot, at a third of the time of one commit each). Two workers opening a new lake at the same
moment may race to apply the same migration: the loser's commit conflicts (or finds a table it
creates already there), and it reads what the winner applied and goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import duckdb

from warehouse.snapshots import commit

MIGRATION_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
# A conflicting commit is retried after re-reading; more races than this is not a race.
MAX_CONFLICTS = 5


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """The migrations shipped with the package, by version."""
    migrations = []
    for entry in resources.files("warehouse").joinpath("migrations").iterdir():
        match = MIGRATION_FILE.match(entry.name)
        if match:
            migrations.append(
                Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8"))
            )
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version number: {sorted(versions)}")
    return sorted(migrations, key=lambda m: m.version)


def apply_migrations(connection: duckdb.DuckDBPyConnection) -> list[Migration]:
    """Apply the migrations not yet recorded in ``schema_migrations``; return those applied."""
    conflicts = 0
    while True:
        try:
            _create_migrations_table(connection)
            pending = _pending(connection)
            if pending:
                _apply(connection, pending)
            return pending
        except (duckdb.TransactionException, duckdb.CatalogException) as error:
            # Another worker applied them meanwhile: its commit conflicts with ours, or (when it
            # committed between our reading schema_migrations and our first statement) the
            # table we create is already there. Either way, read again what is pending.
            if isinstance(error, duckdb.CatalogException) and "already exists" not in str(error):
                raise
            conflicts += 1
            if conflicts > MAX_CONFLICTS:
                raise


def _create_migrations_table(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(
        "create table if not exists schema_migrations ("
        " version integer not null, name varchar not null,"
        " applied_at timestamp not null default current_timestamp)"
    )


def _pending(connection: duckdb.DuckDBPyConnection) -> list[Migration]:
    applied = {
        row[0] for row in connection.execute("select version from schema_migrations").fetchall()
    }
    return [m for m in available_migrations() if m.version not in applied]


def _apply(connection: duckdb.DuckDBPyConnection, migrations: list[Migration]) -> None:
    names = ", ".join(f"{m.version:03d}_{m.name}" for m in migrations)
    with commit(connection, f"migrations {names}"):
        for migration in migrations:
            connection.execute(migration.sql)
            connection.execute(
                "insert into schema_migrations (version, name) values (?, ?)",
                [migration.version, migration.name],
            )
