"""Debian's PostgreSQL 15, started in a temporary folder for one test session (PITFALLS.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine

from .mailserver import free_port

BINDIR = Path("/usr/lib/postgresql/15/bin")


def _as_postgres() -> list[str]:
    # initdb refuses to run as root: run the server as the `postgres` system user then.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@contextmanager
def postgres_server():
    """Yields an admin URL (``postgresql://postgres@127.0.0.1:PORT/postgres``); stops and deletes it after."""
    assert (BINDIR / "initdb").exists(), "PostgreSQL 15 is missing: run `make test`, which installs it"
    base = Path(tempfile.mkdtemp(prefix="kb-pg-"))  # under /tmp: reachable by the postgres user
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    data, port = base / "data", free_port()
    run = lambda *args: subprocess.run([*_as_postgres(), *map(str, args)], check=True, capture_output=True)  # noqa: E731
    try:
        run(BINDIR / "initdb", "-D", data, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        run(BINDIR / "pg_ctl", "-D", data, "-o", options, "-l", base / "log", "-w", "start")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(BINDIR / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def fresh_schema(admin_url: str):
    """An empty schema of its own for one test, as a database URL (its search_path); dropped afterwards.

    A schema per test instead of a database per test: CREATE DATABASE costs ~0.3 s, a schema ~1 ms.
    """
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    try:
        yield f"{admin_url}?options=-csearch_path%3D{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
        admin.dispose()
