"""A throwaway PostgreSQL cluster from Debian's binaries, for Prefect's server and the lake's
catalog.

Shared by the tests of the scale-out path (docs/scale-out.md). `make postgres` installs the
binaries. Every process started here is stopped in ``finally``.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin/initdb"
# PostgreSQL refuses to run as root; as root, the cluster is run by Debian's `postgres` user.
PG_OS_USER = "postgres"
PG_SUPERUSER = "postgres"
DB_USER = "prefect"
DB_NAME = "prefect"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgres_bin_dir() -> Path:
    found = sorted(glob.glob(PG_BIN_GLOB), key=lambda path: int(Path(path).parts[-3]))
    if not found:
        pytest.fail(
            f"PostgreSQL server binaries not found ({PG_BIN_GLOB}): run `make postgres` "
            "(installs Debian's postgresql package)",
            pytrace=False,
        )
    return Path(found[-1]).parent


def base_env() -> dict[str, str]:
    """This process's environment without any Prefect setting (the harness sets some)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    return env


def as_pg_user(command: Sequence[str]) -> list[str]:
    if os.geteuid() != 0:
        return list(command)
    return ["runuser", "-u", PG_OS_USER, "--", *command]


def run(command: Sequence[str], *, timeout: float = 60, **kwargs: object) -> str:
    """Run a command; on failure, fail the test with its output."""
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}",
            pytrace=False,
        )
    return str(result.stdout)


@contextmanager
def postgres_cluster(
    log_dir: Path, databases: Sequence[str] = (DB_NAME,), *, fsync: bool = False
) -> Iterator[tuple[int, str]]:
    """A throwaway cluster on 127.0.0.1; yields (port, password of DB_USER), who owns each of
    ``databases``.

    Nothing in it must survive a crash of the machine, so by default it never waits for the disk
    (``fsync=off``: start, commits and stop take a fraction of the time); a benchmark of commits
    asks for ``fsync=True``, as a real server runs.

    The cluster lives in its own directory under the system temp dir, owned by the `postgres`
    user: pytest's tmp_path is private to root (0700), where `postgres` cannot reach.
    """
    bin_dir = postgres_bin_dir()
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(PG_OS_USER)
        except KeyError:
            pytest.fail(f"no `{PG_OS_USER}` user to run PostgreSQL: run `make postgres`")
    root = Path(tempfile.mkdtemp(prefix="pg-"))
    data_dir, socket_dir, log_file = root / "data", root / "socket", root / "postgres.log"
    socket_dir.mkdir()
    if os.geteuid() == 0:
        for path in (root, socket_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = free_port()
    password = secrets.token_hex(16)
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data_dir)]
    started = False
    try:
        run(
            as_pg_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    PG_SUPERUSER,
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    *([] if fsync else ["--no-sync"]),
                ]
            ),
            timeout=120,
        )
        options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1"
        if not fsync:
            options += " -c fsync=off"
        started = True  # from here on, stop it even if start reports a failure
        run(
            as_pg_user([*pg_ctl, "-l", str(log_file), "-o", options, "-w", "-t", "60", "start"]),
            timeout=90,
        )
        psql = ["psql", "-h", str(socket_dir), "-p", str(port), "-U", PG_SUPERUSER]
        statements = [
            f"create role {DB_USER} login password '{password}'",
            *(f"create database {name} owner {DB_USER}" for name in databases),
        ]
        run(
            as_pg_user(
                [
                    *psql,
                    "-d",
                    "postgres",
                    "-v",
                    "ON_ERROR_STOP=1",
                    *(arg for statement in statements for arg in ("-c", statement)),
                ]
            )
        )
        yield port, password
    finally:
        if started:
            subprocess.run(
                as_pg_user([*pg_ctl, "-m", "fast", "-w", "-t", "60", "stop"]),
                capture_output=True,
                timeout=90,
                check=False,
            )
        if log_file.exists():
            shutil.copy(log_file, log_dir / "postgres.log")
        shutil.rmtree(root, ignore_errors=True)


def database_url(port: int, password: str) -> str:
    """Prefect's connection URL for the cluster's database."""
    return f"postgresql+asyncpg://{DB_USER}:{password}@127.0.0.1:{port}/{DB_NAME}"


def lake_catalog(port: int, database: str) -> str:
    """``INFLUENCERS_LAKE_CATALOG`` for a lake whose catalog is ``database`` in the cluster; the
    password comes from ``PGPASSWORD`` (or ``~/.pgpass``), as docs/scale-out.md says."""
    return f"postgres:dbname={database} host=127.0.0.1 port={port} user={DB_USER}"
