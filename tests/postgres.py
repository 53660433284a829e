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


class PostgresServer:
    """A private PostgreSQL server in a temporary folder; ``stop()`` and ``start()`` it at will
    (the data and the port stay), e.g. to show what the intake does while its database is down."""

    def __init__(self, fsync: bool = False):
        self.fsync = fsync  # off for tests (speed); on for benchmarks (what production pays per commit)
        assert (BINDIR / "initdb").exists(), "PostgreSQL 15 is missing: run `make test`, which installs it"
        self.base = Path(tempfile.mkdtemp(prefix="kb-pg-"))  # under /tmp: reachable by the postgres user
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
        self.data, self.port = self.base / "data", free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args) -> None:
        subprocess.run([*_as_postgres(), *map(str, args)], check=True, capture_output=True)

    def init(self) -> None:
        self._run(BINDIR / "initdb", "-D", self.data, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")

    def start(self) -> None:
        fsync = "on" if self.fsync else "off"
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync={fsync} -c max_connections=200"
        self._run(BINDIR / "pg_ctl", "-D", self.data, "-o", options, "-l", self.base / "log", "-w", "start")

    def stop(self) -> None:
        self._run(BINDIR / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


@contextmanager
def postgres_instance(fsync: bool = False):
    """Yields a started :class:`PostgresServer`; stops and deletes it after."""
    server = PostgresServer(fsync=fsync)
    try:
        server.init()
        server.start()
        try:
            yield server
        finally:
            try:
                server.stop()
            except subprocess.CalledProcessError:  # already stopped by the test
                pass
    finally:
        server.remove()


@contextmanager
def postgres_server():
    """Yields an admin URL (``postgresql://postgres@127.0.0.1:PORT/postgres``); stops and deletes it after."""
    with postgres_instance() as server:
        yield server.url


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
