"""Restore a backup: verify first, then stream through gunzip into ``psql``.

``python -m observatory_pipelines.backups.restore --list | --restore KEY|latest
[--target-url URL] [--dry-run] [--force]``

Two passes over the object, neither stored locally: the first checks the
SHA-256 and the gzip framing (a corrupt or truncated file is refused before the
target is touched); the second feeds ``psql --single-transaction`` and checks
the hash again before letting psql commit, so an object that changed between
the passes still cannot land. The psql is chosen for the target's major version
and the dump's pg_dump (``clients``); header settings an older target does not
know are skipped (``session_header``). Exit codes: 0 ok, 1 failed, 2 usage,
3 refused (target not empty, no --force), 4 verification failed.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from observatory_pipelines.backups import catalog, clients
from observatory_pipelines.backups.pgclient import READ_SIZE, StderrTail, client_target
from observatory_pipelines.backups.session_header import SessionHeaderFilter, known_settings
from observatory_pipelines.db import urls
from observatory_pipelines.db.engine import connect, resolve_database_url
from observatory_pipelines.logs import get_logger
from observatory_pipelines.storage.object_store import ObjectInfo, ObjectStore

log = get_logger(__name__)

EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED, EXIT_UNVERIFIED = 1, 2, 3, 4
_INFLATE_LIMIT = 4 * READ_SIZE
# Recreates the schema as PostgreSQL 15+ makes it, inside psql's single transaction.
RESET_PUBLIC = (
    b"DROP SCHEMA IF EXISTS public CASCADE;\n"
    b"CREATE SCHEMA public AUTHORIZATION pg_database_owner;\n"
    b"GRANT USAGE ON SCHEMA public TO PUBLIC;\n"
)
_RELATIONS_SQL = """
    SELECT n.nspname, c.relname, c.relkind
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND NOT c.relispartition
    ORDER BY n.nspname, c.relname
"""


class RestoreFailed(RuntimeError):
    exit_code = EXIT_FAILED


class RestoreRefused(RestoreFailed):
    exit_code = EXIT_REFUSED


class VerificationFailed(RestoreFailed):
    exit_code = EXIT_UNVERIFIED


@dataclass
class RestoreResult:
    key: str
    target: str
    size: int
    sha256: str
    replaced: dict[str, int | None]
    duration_seconds: float
    server_major: int = 0
    psql_version: str = ""
    skipped_settings: tuple[str, ...] = ()


# -- verification ----------------------------------------------------------------
def _read(store: ObjectStore, key: str) -> Iterator[bytes]:
    with store.open(key) as handle:
        while chunk := handle.read(READ_SIZE):
            yield chunk


def _gunzip(compressed: Iterable[bytes], digest, key: str) -> Iterator[bytes]:
    """Decompressed chunks (bounded size); hashes the compressed bytes as they pass."""
    inflater = zlib.decompressobj(31)
    for chunk in compressed:
        digest.update(chunk)
        if inflater.eof:
            raise VerificationFailed(f"{key}: unexpected data after the end of the gzip stream")
        pending, full = chunk, False
        # A full output buffer may leave output inside zlib even with no input left.
        while (pending or full) and not inflater.eof:
            try:
                out = inflater.decompress(pending, _INFLATE_LIMIT)
            except zlib.error as exc:
                raise VerificationFailed(f"{key}: not a valid gzip stream ({exc})") from None
            pending = inflater.unconsumed_tail
            full = len(out) == _INFLATE_LIMIT
            if out:
                yield out
        if inflater.unused_data:
            raise VerificationFailed(f"{key}: unexpected data after the end of the gzip stream")
    if not inflater.eof:
        raise VerificationFailed(f"{key}: truncated (gzip stream ends early)")


def verify(store: ObjectStore, info: ObjectInfo, expected_sha256: str | None) -> str:
    """Read the whole object once: gzip integrity, size and checksum. Returns the hash."""
    digest = hashlib.sha256()
    for _ in _gunzip(_read(store, info.key), digest, info.key):
        pass
    actual = digest.hexdigest()
    if expected_sha256 and actual != expected_sha256:
        raise VerificationFailed(
            f"{info.key}: checksum mismatch (expected sha256 {expected_sha256}, got {actual})"
        )
    log.info("restore_verified", key=info.key, sha256=actual, checked=bool(expected_sha256))
    return actual


# -- target ------------------------------------------------------------------------
def target_contents(database_url: str) -> dict[str, int | None]:
    """Relations a restore would replace: tables with exact row counts, views as None."""
    contents: dict[str, int | None] = {}
    with connect(database_url, autocommit=True) as conn:
        for schema, name, kind in conn.execute(_RELATIONS_SQL).fetchall():
            qualified = name if schema == "public" else f"{schema}.{name}"
            if kind in ("r", "p"):
                quoted = f'"{schema}"."{name}"'
                contents[qualified] = conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
            else:
                contents[qualified] = None
    return contents


def target_server(database_url: str) -> tuple[int, set[str]]:
    """The target's major version and the names of its settings."""
    with connect(database_url, autocommit=True) as conn:
        return clients.major_of(conn), known_settings(conn)


def describe_contents(contents: dict[str, int | None]) -> str:
    parts = [
        f"{name} ({rows} rows)" if rows is not None else f"{name} (view)"
        for name, rows in contents.items()
    ]
    return f"{len(contents)} relation(s): " + ", ".join(parts)


# -- restore -----------------------------------------------------------------------
def restore(
    store: ObjectStore, key: str, target_url: str | None = None, *, force: bool = False
) -> RestoreResult:
    started = time.monotonic()
    info = catalog.resolve(store, key)
    manifest = catalog.read_manifest(store, info.key)
    expected = catalog.expected_sha256(info, manifest)
    url = resolve_database_url(target_url)
    target = urls.describe(url)
    log.info("restore_started", key=info.key, target=target, size=info.size, force=force)
    try:
        existing = target_contents(url)
        if existing and not force:
            raise RestoreRefused(
                f"target {target} is not empty; --force would drop and replace "
                f"{describe_contents(existing)}"
            )
        major, known = target_server(url)
        client = clients.for_restore(major, manifest.pg_dump_version if manifest else None)
        log.info(
            "restore_client",
            key=info.key,
            server_major=major,
            psql=client.version("psql"),
            source=client.source,
            dumped_by=manifest.pg_dump_version if manifest else None,
        )
        header = SessionHeaderFilter(known)
        actual = verify(store, info, expected)
        _feed_psql(
            store,
            info,
            url,
            expected=actual,
            reset=bool(existing),
            psql=client.path("psql"),
            header=header,
        )
        if header.skipped:
            log.info(
                "restore_skipped_settings",
                key=info.key,
                server_major=major,
                settings=header.skipped,
            )
    except clients.ClientNotFound as exc:
        log.error("restore_failed", key=info.key, target=target, reason=str(exc))
        raise RestoreFailed(str(exc)) from None
    except RestoreFailed as exc:
        event = "restore_refused" if isinstance(exc, RestoreRefused) else "restore_failed"
        log.error(event, key=info.key, target=target, reason=str(exc))
        raise
    result = RestoreResult(
        key=info.key,
        target=target,
        size=info.size,
        sha256=actual,
        replaced=existing,
        duration_seconds=round(time.monotonic() - started, 3),
        server_major=major,
        psql_version=client.version("psql"),
        skipped_settings=tuple(header.skipped),
    )
    log.info(
        "restore_complete",
        key=info.key,
        target=target,
        replaced=len(existing),
        duration_seconds=result.duration_seconds,
    )
    return result


def _feed_psql(
    store: ObjectStore,
    info: ObjectInfo,
    url: str,
    *,
    expected: str,
    reset: bool,
    psql: str,
    header: SessionHeaderFilter,
):
    conninfo, env = client_target(urls.libpq_url(url))
    argv = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
    proc = subprocess.Popen(
        [*argv, f"--dbname={conninfo}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd="/",
        start_new_session=True,
    )
    tail = StderrTail(proc.stderr)
    digest = hashlib.sha256()
    try:
        if reset:
            proc.stdin.write(RESET_PUBLIC)
        for chunk in header(_gunzip(_read(store, info.key), digest, info.key)):
            proc.stdin.write(chunk)
        if digest.hexdigest() != expected:
            raise VerificationFailed(f"{info.key}: object changed while restoring; rolled back")
        proc.stdin.close()  # end of input: psql commits its single transaction
    except BrokenPipeError:
        pass  # psql stopped reading: its exit code and stderr say why
    except BaseException:
        proc.kill()  # without end-of-input psql never commits
        proc.wait()
        raise
    code = proc.wait()
    if code != 0:
        raise RestoreFailed(f"psql exited with {code}: {tail.text() or 'no stderr'}")


# -- CLI ---------------------------------------------------------------------------
def list_lines(store: ObjectStore, now: datetime | None = None) -> list[str]:
    backups = catalog.list_backups(store)
    if not backups:
        return [f"no backups under {catalog.PREFIX} in bucket {store.bucket!r}"]
    width = max(len(b.key) for b in backups)
    lines = [f"{'KEY':<{width}}  {'SIZE':>10}  AGE"]
    for info in backups:
        age = catalog.human_age(catalog.taken_at(info.key), now)
        lines.append(f"{info.key:<{width}}  {catalog.human_size(info.size):>10}  {age}")
    return lines


def plan_lines(store: ObjectStore, key: str, target_url: str | None, force: bool) -> list[str]:
    info = catalog.resolve(store, key)
    manifest = catalog.read_manifest(store, info.key)
    expected = catalog.expected_sha256(info, manifest)
    url = resolve_database_url(target_url)
    existing = target_contents(url)
    major, _known = target_server(url)
    dumped_by = manifest.pg_dump_version if manifest else None
    client = clients.for_restore(major, dumped_by)
    lines = [
        f"would verify {info.key} ({catalog.human_size(info.size)}, "
        f"sha256 {expected or 'unknown: gzip integrity only'})",
        f"would restore into {urls.describe(url)} (PostgreSQL {major}) with "
        f"{client.version('psql')} --single-transaction from {client.bin_dir} ({client.source})",
        f"  dump made by {dumped_by or 'an unknown pg_dump'}; header settings PostgreSQL "
        f"{major} does not know would be skipped",
    ]
    if manifest:
        lines.append(
            f"  backup taken {manifest.created_at}, schema revision {manifest.schema_revision}, "
            f"{sum(manifest.row_counts.values())} rows in {len(manifest.row_counts)} tables"
        )
    if not existing:
        lines.append("target is empty")
    elif force:
        lines.append(f"would drop and replace (--force) {describe_contents(existing)}")
    else:
        lines.append(
            f"would REFUSE: target is not empty and --force not given; it holds "
            f"{describe_contents(existing)}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m observatory_pipelines.backups.restore",
        description="List backups, or restore one into DATABASE_URL (or --target-url).",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--list", action="store_true", help="backups, newest first")
    action.add_argument("--restore", metavar="KEY", help="a backup key, or 'latest'")
    parser.add_argument("--target-url", help="restore here instead of DATABASE_URL")
    parser.add_argument("--dry-run", action="store_true", help="show what would happen")
    parser.add_argument("--force", action="store_true", help="replace a non-empty database")
    args = parser.parse_args(argv)
    from observatory_pipelines.storage.config import object_store_from_env

    try:
        store = object_store_from_env().backups()
        if args.list:
            _out(list_lines(store))
            return 0
        if args.dry_run:
            plan = plan_lines(store, args.restore, args.target_url, args.force)
            _out(["DRY RUN: nothing is changed", *plan])
            return 0
        result = restore(store, args.restore, args.target_url, force=args.force)
    except RestoreFailed as exc:
        verb = "failed" if exc.exit_code == EXIT_FAILED else "refused"
        sys.stderr.write(f"restore {verb}: {' '.join(str(exc).split())}\n")
        return exc.exit_code
    except Exception as exc:
        sys.stderr.write(f"restore failed: {type(exc).__name__}: {' '.join(str(exc).split())}\n")
        return EXIT_FAILED
    _out([f"restored {result.key} into {result.target} in {result.duration_seconds}s"])
    return 0


def _out(lines: list[str]) -> None:
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main(None))
