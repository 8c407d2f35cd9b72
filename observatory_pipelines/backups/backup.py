"""Nightly backup: pg_dump → gzip → SHA-256 → multipart upload, manifest, retention pruning.

Plain Python (no Dagster); ``assets.py`` wraps it. Run by hand with
``python -m observatory_pipelines.backups.backup [--dry-run]``.

The row counts in the manifest come from the very snapshot pg_dump dumps
(``pg_export_snapshot`` + ``pg_dump --snapshot``), so a restore drill can
compare them exactly. The dump is never held in memory or on local disk: the
chunks go straight into ``ObjectStore.put``, which only makes the object
visible once complete.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, text

from observatory_pipelines import settings
from observatory_pipelines.backups import catalog, clients
from observatory_pipelines.backups.pgclient import ClientFailed, PgDumpStream
from observatory_pipelines.db import introspect, urls
from observatory_pipelines.db.engine import get_engine, resolve_database_url
from observatory_pipelines.logs import get_logger
from observatory_pipelines.storage.object_store import ObjectInfo, ObjectStore

log = get_logger(__name__)
_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f-]+$")


class BackupFailed(RuntimeError):
    """One line: what failed and why (pg_dump's own stderr when it was pg_dump)."""


@dataclass
class PruneResult:
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


@dataclass
class BackupResult:
    key: str
    manifest_key: str
    size: int
    sha256: str
    duration_seconds: float
    manifest: catalog.Manifest
    pruned: PruneResult = field(default_factory=PruneResult)


class _SnapshotBind:
    """Lets ``introspect`` (which asks for an engine) read inside our exported snapshot."""

    def __init__(self, conn: Connection):
        self._conn = conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        yield self._conn


@dataclass
class _Facts:
    row_counts: dict[str, int]
    server_version: str
    schema_revision: str | None


@contextmanager
def exported_snapshot(database_url: str) -> Iterator[str]:
    """A read-only repeatable-read transaction kept open while pg_dump uses its snapshot."""
    with get_engine(database_url).connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        conn.execute(text("SET TRANSACTION READ ONLY"))
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        try:
            yield snapshot
        finally:
            conn.rollback()


def _facts(database_url: str, snapshot: str) -> _Facts:
    """Counts on a second connection that imports the snapshot: if a count fails, the
    exporting transaction (which pg_dump still needs) is not the one aborted."""
    if not _SNAPSHOT_ID.match(snapshot):
        raise ValueError(f"unexpected snapshot id {snapshot!r}")
    with get_engine(database_url).connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        try:
            conn.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            bind = _SnapshotBind(conn)
            return _Facts(
                row_counts=introspect.table_row_counts(bind),
                server_version=introspect.server_version(bind),
                schema_revision=introspect.schema_revision(bind),
            )
        finally:
            conn.rollback()


def run_backup(
    store: ObjectStore,
    database_url: str | None = None,
    *,
    now: datetime | None = None,
    gzip_level: int | None = None,
    retention_days: int | None = None,
    prune_after: bool = True,
) -> BackupResult:
    """Dump, upload, write the manifest, prune. A failure leaves no dump and no manifest."""
    url = resolve_database_url(database_url)
    now = now or datetime.now(UTC)
    level = settings.backup_gzip_level() if gzip_level is None else gzip_level
    key = catalog.backup_key(now)
    started = time.monotonic()
    log.info(
        "backup_started",
        key=key,
        bucket=store.bucket,
        database=urls.describe(url),
        gzip_level=level,
    )
    try:
        result = _dump_and_upload(store, url, key, level, now, started)
    except Exception as exc:
        reason = _one_line(exc)
        log.error("backup_failed", key=key, reason=reason)
        raise BackupFailed(reason) from exc
    if prune_after:
        days = settings.backup_retention_days() if retention_days is None else retention_days
        result.pruned = prune(store, now=datetime.now(UTC), retention_days=days)
    log.info(
        "backup_complete",
        key=key,
        size=result.size,
        sha256=result.sha256,
        duration_seconds=result.duration_seconds,
        pruned=len(result.pruned.deleted),
    )
    return result


def _dump_and_upload(
    store: ObjectStore, url: str, key: str, level: int, now: datetime, started: float
) -> BackupResult:
    if store.exists(key):
        raise BackupFailed(f"{key} already exists in bucket {store.bucket!r}; not overwriting")
    major = clients.server_major(url)
    client = clients.for_dump(major)
    log.info(
        "backup_client",
        server_major=major,
        pg_dump=client.version(),
        source=client.source,
        matches_server=client.major == major,
    )
    with exported_snapshot(url) as snapshot, ThreadPoolExecutor(1) as pool:
        dump = PgDumpStream(
            urls.libpq_url(url), level=level, snapshot=snapshot, pg_dump=client.path("pg_dump")
        )
        # Counting runs beside the dump, in the same snapshot.
        facts = pool.submit(_facts, url, snapshot)
        try:
            store.put(
                key,
                dump,
                content_type="application/gzip",
                metadata={
                    "gzip-level": str(level),
                    "manifest": catalog.manifest_key(key),
                    "server-major": str(major),
                    "pg-dump-version": ".".join(map(str, client.release())),
                },
            )
        except Exception as exc:
            # The store may wrap what the iterator raised; pg_dump's own words win.
            if dump.error is not None:
                raise dump.error from exc
            raise BackupFailed(f"upload of {key} failed: {_one_line(exc)}") from exc
        finally:
            dump.close()
        log.info("backup_uploaded", key=key, size=dump.size, sha256=dump.sha256.hexdigest())
        try:
            # Known only now that the stream is complete; the manifest carries it too.
            store.update_metadata(key, {"sha256": dump.sha256.hexdigest()})
            known = facts.result()
            manifest = catalog.Manifest(
                key=key,
                created_at=now.astimezone(UTC).isoformat(),
                size=dump.size,
                sha256=dump.sha256.hexdigest(),
                gzip_level=level,
                server_version=known.server_version,
                server_major=major,
                pg_dump_version=client.version(),
                pg_dump_major=client.major,
                pg_dump_source=client.source,
                schema_revision=known.schema_revision,
                row_counts=known.row_counts,
                uncompressed_size=dump.raw_size,
                duration_seconds=round(time.monotonic() - started, 3),
            )
            store.put(
                catalog.manifest_key(key),
                manifest.to_json(),
                content_type="application/json",
                metadata={"sha256": manifest.sha256},
            )
        except Exception as exc:
            _remove_quietly(store, key)
            raise BackupFailed(f"manifest for {key} failed: {_one_line(exc)}") from exc
    log.info("manifest_uploaded", key=catalog.manifest_key(key), tables=len(manifest.row_counts))
    return BackupResult(
        key=key,
        manifest_key=catalog.manifest_key(key),
        size=manifest.size,
        sha256=manifest.sha256,
        duration_seconds=round(time.monotonic() - started, 3),
        manifest=manifest,
    )


def _remove_quietly(store: ObjectStore, key: str) -> None:
    try:
        store.remove(key)
    except Exception as exc:  # the original failure is the one to report
        log.warning("backup_cleanup_failed", key=key, reason=_one_line(exc))


def _one_line(exc: BaseException) -> str:
    # SQLAlchemy wraps the driver's error in boilerplate; the driver's words are the reason.
    exc = getattr(exc, "orig", None) or exc
    text_ = " ".join(str(exc).split()) or type(exc).__name__
    return (
        text_ if isinstance(exc, BackupFailed | ClientFailed) else f"{type(exc).__name__}: {text_}"
    )


# -- retention -----------------------------------------------------------------
def select_prunable(objects: list[ObjectInfo], *, now: datetime, retention_days: int) -> list[str]:
    """Keys under ``postgres/`` last modified before ``now - retention_days``.

    The newest dump and its manifest are kept whatever their age, and a pruned
    dump takes its manifest with it.
    """
    if retention_days < 0:
        raise ValueError(f"BACKUP_RETENTION_DAYS must be >= 0, got {retention_days}")
    cutoff = now - timedelta(days=retention_days)
    dumps = sorted((o.key for o in objects if catalog.is_backup_key(o.key)), reverse=True)
    keep = {dumps[0], catalog.manifest_key(dumps[0])} if dumps else set()
    present = {o.key for o in objects}
    doomed = {o.key for o in objects if o.last_modified < cutoff and o.key not in keep}
    for key in list(doomed):
        if catalog.is_backup_key(key) and catalog.manifest_key(key) in present:
            doomed.add(catalog.manifest_key(key))
    return sorted(doomed)


def prune(store: ObjectStore, *, now: datetime, retention_days: int) -> PruneResult:
    """Delete expired backups; every failure is a WARNING, never an exception."""
    result = PruneResult()
    try:
        doomed = select_prunable(
            list(store.list(catalog.PREFIX)), now=now, retention_days=retention_days
        )
    except Exception as exc:
        result.failed[catalog.PREFIX] = _one_line(exc)
        log.warning("prune_failed", prefix=catalog.PREFIX, reason=_one_line(exc))
        return result
    for key in doomed:
        try:
            store.remove(key)
        except Exception as exc:
            result.failed[key] = _one_line(exc)
            log.warning("prune_failed", key=key, reason=_one_line(exc))
        else:
            result.deleted.append(key)
            log.info("prune_deleted", key=key, retention_days=retention_days)
    log.info(
        "prune_complete",
        deleted=len(result.deleted),
        failed=len(result.failed),
        retention_days=retention_days,
    )
    return result


# -- CLI -----------------------------------------------------------------------
def describe_plan(store: ObjectStore, database_url: str | None, now: datetime) -> list[str]:
    """What a backup run would do, without doing any of it."""
    url = resolve_database_url(database_url)
    days = settings.backup_retention_days()
    major = clients.server_major(url)
    client = clients.for_dump(major)
    dump = PgDumpStream(
        urls.libpq_url(url), level=settings.backup_gzip_level(), pg_dump=client.path("pg_dump")
    )
    key = catalog.backup_key(now)
    doomed = select_prunable(list(store.list(catalog.PREFIX)), now=now, retention_days=days)
    matched = "matches the server" if client.major == major else "newer than the server"
    lines = [
        f"would dump {urls.describe(url)} (PostgreSQL {major}) with {client.version()} "
        f"from {client.bin_dir} ({client.source}; {matched})",
        f"  command: {' '.join(dump.argv()[:-1])} --snapshot=<exported> --dbname=<url>",
        f"  gzip level {dump.level}, SHA-256 of the compressed stream",
        f"would upload {key} and {catalog.manifest_key(key)} to bucket {store.bucket!r}",
        f"would prune {len(doomed)} object(s) older than {days} day(s)",
        *(f"  prune {k}" for k in doomed),
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m observatory_pipelines.backups.backup",
        description="Dump the database to the backups bucket, then prune expired backups.",
    )
    parser.add_argument("--dry-run", action="store_true", help="show what would happen, do nothing")
    args = parser.parse_args(argv)
    from observatory_pipelines.storage.config import object_store_from_env

    try:
        store = object_store_from_env().backups()
        if args.dry_run:
            lines = describe_plan(store, None, datetime.now(UTC))
            sys.stdout.write("\n".join(["DRY RUN: nothing is written or deleted", *lines]) + "\n")
            return 0
        result = run_backup(store)
    except Exception as exc:
        sys.stderr.write(f"backup failed: {_one_line(exc)}\n")
        return 1
    sys.stdout.write(
        f"{result.key} {catalog.human_size(result.size)} sha256={result.sha256} "
        f"pruned={len(result.pruned.deleted)}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
