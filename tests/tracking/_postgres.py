"""A throw-away PostgreSQL cluster for the tracker tests: ``initdb`` + ``pg_ctl`` in a temp dir
on a free loopback port (run as the ``postgres`` user when the tests run as root, since the
server refuses root). ``AYOLINX_TEST_POSTGRES_DSN`` points the tests at an existing server."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.scale._servers import LOOPBACK, free_port


def _binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _missing(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must provide it", pytrace=False)
    pytest.skip(message)


@contextmanager
def postgres_server() -> Iterator[str]:
    """The DSN of a running PostgreSQL server (its ``postgres`` database), stopped afterwards."""
    existing = os.environ.get("AYOLINX_TEST_POSTGRES_DSN")
    if existing:
        yield existing
        return
    bin_dir = _binaries()
    if bin_dir is None:
        _missing("PostgreSQL is not installed (apt-get install postgresql)")
        return
    user: str | None = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _missing("running as root needs a 'postgres' user to own the test cluster")
        user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="ayolinx-pg-"))
    if user is not None:
        shutil.chown(root, user)
    data, port = root / "data", free_port()

    def run(command: list[str | Path]) -> None:
        subprocess.run(command, user=user, check=True, capture_output=True)

    run([bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"])
    options = f"-p {port} -k {root} -c listen_addresses={LOOPBACK} -c fsync=off"
    ctl: list[str | Path] = [bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-t", "30"]
    try:
        run([*ctl, "-o", options, "start"])
        yield f"postgresql://postgres@{LOOPBACK}:{port}/postgres"
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], user=user, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


async def fresh_database(server_dsn: str) -> str:
    """A new empty database on the server; its DSN."""
    import asyncpg  # type: ignore[import-untyped]

    name = f"t_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(server_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server_dsn.rsplit("/", 1)[0] + f"/{name}"
