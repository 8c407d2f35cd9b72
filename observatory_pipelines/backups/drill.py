"""Restore drill: prove the latest backup restores and holds what its manifest says.

Restores into a scratch database created on the same server, compares every
table's row count with the manifest (which was counted in the dump's own
snapshot, so they must be equal), and always drops the scratch database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.pool import NullPool

from observatory_pipelines.backups import catalog
from observatory_pipelines.backups.restore import RestoreFailed, restore
from observatory_pipelines.db import introspect
from observatory_pipelines.db.engine import create_utc_engine, resolve_database_url
from observatory_pipelines.db.scratch import create_database, drop_database, unique_name
from observatory_pipelines.logs import get_logger
from observatory_pipelines.storage.object_store import ObjectStore

log = get_logger(__name__)


@dataclass
class DrillResult:
    key: str | None
    passed: bool
    reason: str
    tables: int = 0
    rows: int = 0
    mismatches: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    duration_seconds: float = 0.0


def compare_counts(
    expected: dict[str, int], actual: dict[str, int]
) -> dict[str, tuple[int | None, int | None]]:
    """``{table: (manifest, restored)}`` for every table that differs or is missing."""
    return {
        table: (expected.get(table), actual.get(table))
        for table in sorted(set(expected) | set(actual))
        if expected.get(table) != actual.get(table)
    }


def run_drill(store: ObjectStore, database_url: str | None = None) -> DrillResult:
    """Never raises for a bad backup: the result says what failed (the check reports it)."""
    started = time.monotonic()
    newest = catalog.latest(store)
    if newest is None:
        return DrillResult(None, False, f"no backups in bucket {store.bucket!r}")
    manifest = catalog.read_manifest(store, newest.key)
    if manifest is None:
        return DrillResult(newest.key, False, f"{newest.key} has no manifest to compare with")
    server = resolve_database_url(database_url)
    scratch = unique_name(f"restore_drill_{datetime.now(UTC):%Y%m%d%H%M%S}")
    log.info("restore_drill_started", key=newest.key, scratch_database=scratch)
    scratch_url = create_database(server, scratch)
    try:
        restore(store, newest.key, scratch_url)
        engine = create_utc_engine(scratch_url, poolclass=NullPool)
        try:
            actual = introspect.table_row_counts(engine)
        finally:
            engine.dispose()
    except Exception as exc:
        reason = " ".join(str(exc).split())
        if not isinstance(exc, RestoreFailed):
            reason = f"{type(exc).__name__}: {reason}"
        result = DrillResult(newest.key, False, f"restore failed: {reason}")
    else:
        mismatches = compare_counts(manifest.row_counts, actual)
        result = DrillResult(
            newest.key,
            passed=not mismatches,
            reason="row counts match the manifest"
            if not mismatches
            else f"{len(mismatches)} table(s) differ from the manifest",
            tables=len(actual),
            rows=sum(actual.values()),
            mismatches=mismatches,
        )
    finally:
        try:
            drop_database(server, scratch)
        except Exception as exc:
            log.warning("restore_drill_cleanup_failed", scratch_database=scratch, reason=str(exc))
    result.duration_seconds = round(time.monotonic() - started, 3)
    log.info(
        "restore_drill_passed" if result.passed else "restore_drill_failed",
        key=result.key,
        reason=result.reason,
        tables=result.tables,
        rows=result.rows,
        mismatches={t: list(v) for t, v in result.mismatches.items()},
        duration_seconds=result.duration_seconds,
    )
    return result
