"""PostgreSQL servers of other major versions, started from a directory of binaries.

Used to prove that backups restore into the server they came from when that
server is older than the bundled client (PostgreSQL 18). The binaries come from
a registry package (``pgserver``: PostgreSQL 16) or from the operating system
(Debian's ``postgresql-15``, when installed). Only the binaries are used, never
pgserver's Python API. Each server lives in its own temporary folder, listens on
127.0.0.1 only (no Unix socket), trusts local connections and is stopped at
teardown. PostgreSQL refuses to run as root, so as root the binaries run as the
unprivileged user the embedded server uses.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

# Ports reserved for these tests (shared machine: other helpers use other ranges).
PORT_RANGE = range(56100, 56200)
SUPERUSER = "postgres"
RUN_AS_USER = "embedded_postgres"


def pgserver_bin_dir() -> Path:
    """The PostgreSQL 16 binaries inside the ``pgserver`` wheel (located without importing it)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the dev dependency pgserver is not installed: run make setup")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def debian_bin_dir(major: int) -> Path:
    return Path(f"/usr/lib/postgresql/{major}/bin")


def free_port() -> int:
    for port in PORT_RANGE:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORT_RANGE.start}-{PORT_RANGE.stop - 1}")


def _run_as() -> dict:
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(RUN_AS_USER)
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/false", RUN_AS_USER], check=True)
        entry = pwd.getpwnam(RUN_AS_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


class LocalServer:
    """``initdb`` + ``pg_ctl start`` of the binaries in ``bin_dir``; ``stop()`` removes it all."""

    def __init__(self, bin_dir: Path, port: int | None = None):
        self.bin_dir = Path(bin_dir)
        self.port = port or free_port()
        # Not pytest's tmp_path: as root that folder is 0700 and the server user cannot enter.
        self.root = Path(tempfile.mkdtemp(prefix=f"pg_{self.port}_"))
        self.pgdata = self.root / "data"
        self.log_path = self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> LocalServer:
        owner = _run_as()
        self.root.chmod(0o755)
        self.log_path.touch()
        if owner:
            os.chown(self.root, owner["user"], owner["group"])
            os.chown(self.log_path, owner["user"], owner["group"])
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "-U",
            SUPERUSER,
        )
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=50 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-t", "60", "-l", str(self.log_path),
                  "-o", options, "start")  # fmt: skip
        return self

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self._run(
                "pg_ctl", "-D", str(self.pgdata), "-m", "immediate", "-w", "stop", check=False
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, name: str, *args: str, check: bool = True) -> None:
        result = subprocess.run(
            [str(self.bin_dir / name), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd="/",
            start_new_session=True,
            **_run_as(),
        )
        if check and result.returncode != 0:
            tail = self.log_path.read_text()[-2000:] if self.log_path.exists() else ""
            raise RuntimeError(f"{name} failed ({result.returncode}): {result.stderr}\n{tail}")
