"""Numbered SQL migrations (``migrations/NNN_name.sql``), applied once each, in order, on start."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import duckdb

MIGRATION_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


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
    connection.execute(
        "create table if not exists schema_migrations ("
        " version integer primary key, name varchar not null,"
        " applied_at timestamp not null default current_timestamp)"
    )
    applied = {
        row[0] for row in connection.execute("select version from schema_migrations").fetchall()
    }
    newly_applied = []
    for migration in available_migrations():
        if migration.version in applied:
            continue
        connection.execute("begin transaction")
        try:
            connection.execute(migration.sql)
            connection.execute(
                "insert into schema_migrations (version, name) values (?, ?)",
                [migration.version, migration.name],
            )
            connection.execute("commit")
        except duckdb.Error:
            connection.execute("rollback")
            raise
        newly_applied.append(migration)
    return newly_applied
