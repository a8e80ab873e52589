# SPDX-License-Identifier: GPL-3.0-or-later
"""A throwaway PostgreSQL server for the tests: initdb and pg_ctl on a temporary folder,
listening on a unix socket there only, as the postgres user when the tests run as root (the
server refuses to run as root). `make setup` installs Debian's postgresql package when it is
missing."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def binaries() -> Path | None:
    """The folder of initdb, pg_ctl, pg_dump and pg_restore: Debian's /usr/lib/postgresql/N/bin
    (the newest), else the folder of pg_ctl on PATH when it holds them all."""
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("pg_ctl")
    if found and all((Path(found).parent / t).exists() for t in ("initdb", "pg_dump")):
        return Path(found).parent
    return None


class PostgresServer:
    """One server; `dsn(dbname)` is a connection string for psycopg."""

    def __init__(self) -> None:
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed: `make setup` installs it "
                               "(Debian package postgresql)")
        self.root = Path(tempfile.mkdtemp(prefix="fieldcoord-pg-"))
        self.data = self.root / "data"
        self.socket = self.root
        self.as_postgres = os.geteuid() == 0
        self.user = "postgres" if self.as_postgres else os.environ.get("USER", "postgres")
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self.port = 5432 + (os.getpid() % 1000) + 1
        self.started = False

    def _run(self, *cmd: str) -> None:
        full = list(cmd)
        if self.as_postgres:
            full = ["runuser", "-u", "postgres", "--", *full]
        done = subprocess.run(full, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> PostgresServer:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user,
                  "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-c listen_addresses='' -c unix_socket_directories='{self.socket}' "
                   f"-p {self.port} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")
        self.started = True
        return self

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.socket} port={self.port} user={self.user} dbname={dbname}"

    def create_database(self, name: str) -> str:
        import psycopg
        with psycopg.connect(self.dsn(), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def stop(self) -> None:
        if self.started:
            try:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                          "-w", "stop")
            finally:
                self.started = False
        shutil.rmtree(self.root, ignore_errors=True)
