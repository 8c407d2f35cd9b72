"""Running the PostgreSQL client binaries (pg_dump, psql) safely.

Which binaries (matching the server's major version, or the bundled ones) is
decided in ``clients``.

The password never goes on a command line (where ``ps`` and error messages
would show it): it is handed to the child through ``PGPASSWORD``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import zlib
from collections import deque
from collections.abc import Iterator

from observatory_pipelines.db import urls
from observatory_pipelines.db.embedded import bin_path
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

READ_SIZE = 1 << 20
# Compressed chunks handed to the object store: large enough to keep per-call
# overhead low, small enough to keep memory flat.
OUT_CHUNK = 4 << 20
PROGRESS_EVERY = 64 << 20  # compressed bytes between progress events


class ClientFailed(RuntimeError):
    """A client binary failed; the message carries its own stderr."""


def binary(name: str) -> str:
    """A bundled (PostgreSQL 18) client binary; backups choose theirs in ``clients``."""
    return str(bin_path(name))


def client_target(raw_url: str) -> tuple[str, dict[str, str]]:
    """``(conninfo URL without password, environment for the child)`` for any URL spelling."""
    url = urls.parse_database_url(raw_url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = url.password
    env.setdefault("PGAPPNAME", "observatory-backups")
    env["PGTZ"] = "UTC"  # every session in UTC, pg_dump and psql too (docs/architecture.md)
    # URL.set() ignores None, so the password is dropped with the tuple's own _replace.
    bare = url.set(drivername="postgresql")._replace(password=None)
    conninfo = bare.render_as_string(hide_password=False)
    return conninfo, env


def client_version(name: str) -> str:
    out = subprocess.run([binary(name), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


class StderrTail:
    """Drains a child's stderr in a thread (so the child never blocks on it), keeping the end."""

    def __init__(self, stream, max_lines: int = 40):
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._lines.append(line)
        stream.close()

    def text(self, timeout: float = 5.0) -> str:
        self._thread.join(timeout)
        return " | ".join(self._lines)


class PgDumpStream:
    """Iterates over ``pg_dump`` output, gzip-compressed, hashing the compressed bytes.

    Plain SQL with ``--no-owner --no-privileges`` so the dump restores into any
    database as any role. If pg_dump exits non-zero the iteration raises
    ``ClientFailed`` *before* yielding the final chunk, so a consumer that
    uploads the chunks never sees a complete stream and must abort.
    """

    def __init__(
        self,
        database_url: str,
        *,
        level: int,
        snapshot: str | None = None,
        pg_dump: str | None = None,
    ):
        if not 0 <= level <= 9:
            raise ValueError(f"BACKUP_GZIP_LEVEL must be 0..9, got {level}")
        self.database_url = database_url
        self.level = level
        self.snapshot = snapshot
        self.pg_dump = pg_dump or binary("pg_dump")
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.raw_size = 0
        self.error: ClientFailed | None = None
        self._proc: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        conninfo, _env = client_target(self.database_url)
        argv = [self.pg_dump, "--format=plain", "--no-owner", "--no-privileges"]
        if self.snapshot:
            argv.append(f"--snapshot={self.snapshot}")
        return [*argv, f"--dbname={conninfo}"]

    def __iter__(self) -> Iterator[bytes]:
        _conninfo, env = client_target(self.database_url)
        proc = subprocess.Popen(
            self.argv(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd="/",
            start_new_session=True,
        )
        self._proc = proc
        tail = StderrTail(proc.stderr)
        compressor = zlib.compressobj(self.level, zlib.DEFLATED, 31)  # 31: gzip framing
        pending = bytearray()
        try:
            while data := proc.stdout.read(READ_SIZE):
                self.raw_size += len(data)
                pending += compressor.compress(data)
                if len(pending) >= OUT_CHUNK:
                    yield self._emit(pending)
            pending += compressor.flush()
            code = proc.wait()
            if code != 0:
                self.error = ClientFailed(
                    f"pg_dump exited with {code}: {tail.text() or 'no stderr'}"
                )
                raise self.error
            if pending:
                yield self._emit(pending)
        finally:
            self.close()

    def _emit(self, pending: bytearray) -> bytes:
        chunk = bytes(pending)
        pending.clear()
        self.sha256.update(chunk)
        before, self.size = self.size, self.size + len(chunk)
        if before // PROGRESS_EVERY != self.size // PROGRESS_EVERY:
            # Long dumps show progress in the run log, not only a start and an end.
            log.info("backup_progress", dumped_bytes=self.raw_size, compressed_bytes=self.size)
        return chunk

    def close(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout and not proc.stdout.closed:
            proc.stdout.close()
