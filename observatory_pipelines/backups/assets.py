"""Dagster edge of backups: the ``latest_backup`` asset, its checks, jobs and schedules.

- ``nightly_backup`` (BACKUP_SCHEDULE, default 02:00 UTC) materializes
  ``latest_backup``: dump, upload, manifest, prune; then runs ``backup_fresh``.
- ``backup_fresh`` fails when the newest backup in the bucket is older than
  BACKUP_MAX_AGE_HOURS (26); it also runs hourly on its own, so a nightly run
  that never happened is noticed too. Manual CLI backups count.
- ``restore_drill`` (BACKUP_DRILL_SCHEDULE, default Sunday 04:00 UTC) restores
  the newest backup into a scratch database and reports as the
  ``restore_drill`` check.

Both checks block: a failed one fails its run (red in the UI, a run-failure alert), because
either failure means the data could not be recovered today.
"""

from datetime import UTC, datetime

import dagster as dg

from observatory_pipelines import settings
from observatory_pipelines.backups import catalog
from observatory_pipelines.backups.backup import BackupFailed, run_backup
from observatory_pipelines.backups.drill import run_drill
from observatory_pipelines.resources.object_store import ObjectStoreResource
from observatory_pipelines.resources.postgres import PostgresResource
from observatory_pipelines.resources.schedules import utc_schedule


@dg.asset(
    name="latest_backup",
    group_name="maintenance",
    kinds={"postgres", "s3"},
    description=(
        "The newest pg_dump of the database in the backups bucket "
        "(postgres/YYYY/MM/DD/observatory_YYYYMMDD_HHMMSS.sql.gz + .manifest.json). "
        "Materializing it takes a backup and prunes those older than BACKUP_RETENTION_DAYS."
    ),
)
def latest_backup(
    context: dg.AssetExecutionContext, postgres: PostgresResource, object_store: ObjectStoreResource
) -> dg.MaterializeResult:
    store = object_store.backups()
    try:
        result = run_backup(store, postgres.url())
    except BackupFailed as exc:
        raise dg.Failure(description=f"backup failed: {exc}") from None
    manifest = result.manifest
    if result.pruned.failed:
        context.log.warning(f"pruning failed for {sorted(result.pruned.failed)} (run continues)")
    return dg.MaterializeResult(
        metadata={
            "key": result.key,
            "manifest_key": result.manifest_key,
            "bucket": store.bucket,
            "size_bytes": result.size,
            "size": catalog.human_size(result.size),
            "uncompressed_bytes": manifest.uncompressed_size,
            "duration_seconds": result.duration_seconds,
            "sha256": result.sha256,
            "gzip_level": manifest.gzip_level,
            "server_version": manifest.server_version,
            "server_major": manifest.server_major,
            "pg_dump_version": manifest.pg_dump_version,
            "pg_dump_source": manifest.pg_dump_source or "",
            "schema_revision": manifest.schema_revision or "",
            "tables": len(manifest.row_counts),
            "rows": sum(manifest.row_counts.values()),
            "row_counts": dg.MetadataValue.json(manifest.row_counts),
            "pruned": dg.MetadataValue.json(result.pruned.deleted),
            "prune_failures": dg.MetadataValue.json(result.pruned.failed),
        }
    )


@dg.asset_check(
    asset=latest_backup,
    name="backup_fresh",
    # No recent backup means no way back after a loss: fail the run (red), not only the check.
    blocking=True,
    description="The newest backup in the bucket was taken within BACKUP_MAX_AGE_HOURS (26 h).",
)
def backup_fresh(object_store: ObjectStoreResource) -> dg.AssetCheckResult:
    store = object_store.backups()
    max_hours = settings.backup_max_age_hours()
    newest = catalog.latest(store)
    if newest is None:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"no backups in bucket {store.bucket!r}",
            metadata={"max_age_hours": max_hours},
        )
    taken = catalog.taken_at(newest.key)
    age_hours = (datetime.now(UTC) - taken).total_seconds() / 3600
    passed = age_hours <= max_hours
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"newest backup {newest.key} is {age_hours:.1f} h old"
            + ("" if passed else f", older than {max_hours} h")
        ),
        metadata={
            "key": newest.key,
            "age_hours": round(age_hours, 2),
            "max_age_hours": max_hours,
            "size_bytes": newest.size,
        },
    )


@dg.asset_check(
    asset=latest_backup,
    name="restore_drill",
    # A backup that does not restore is no backup: fail the run so the UI and alerts show red.
    blocking=True,
    description=(
        "The newest backup restores into a scratch database on the same server and every "
        "table's row count equals its manifest; the scratch database is dropped afterwards."
    ),
)
def restore_drill_check(
    postgres: PostgresResource, object_store: ObjectStoreResource
) -> dg.AssetCheckResult:
    result = run_drill(object_store.backups(), postgres.url())
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{result.key or 'no backup'}: {result.reason}",
        metadata={
            "key": result.key or "",
            "tables": result.tables,
            "rows": result.rows,
            "duration_seconds": result.duration_seconds,
            "mismatches": dg.MetadataValue.json(
                {t: {"manifest": m, "restored": r} for t, (m, r) in result.mismatches.items()}
            ),
        },
    )


nightly_backup = dg.define_asset_job(
    "nightly_backup",
    selection=dg.AssetSelection.assets(latest_backup).without_checks()
    | dg.AssetSelection.checks(backup_fresh),
    description="pg_dump to the backups bucket, manifest, retention pruning, freshness check.",
    tags={
        "observatory/exclusive": "database-dump",  # one dump or drill at a time (dagster.yaml)
        "dagster/max_runtime": str(4 * 3600),
        # A dump whose worker died left nothing visible (the manifest comes last): retry
        # that once; a dump that failed on its own (disk full, credentials) is not retried.
        "dagster/max_retries": "1",
        "dagster/retry_on_asset_or_op_failure": "false",
    },
)

restore_drill = dg.define_asset_job(
    "restore_drill",
    selection=dg.AssetSelection.checks(restore_drill_check),
    description="Restore the newest backup into a scratch database and compare row counts.",
    tags={
        "observatory/exclusive": "database-dump",
        "dagster/max_runtime": str(4 * 3600),
        "dagster/max_retries": "1",
        "dagster/retry_on_asset_or_op_failure": "false",  # a failed drill is the answer
    },
)

backup_freshness = dg.define_asset_job(
    "backup_freshness",
    selection=dg.AssetSelection.checks(backup_fresh),
    description="Is the newest backup younger than BACKUP_MAX_AGE_HOURS?",
    tags={"dagster/max_runtime": "600"},
)


def build_defs() -> dg.Definitions:
    """Schedules read BACKUP_SCHEDULE / BACKUP_DRILL_SCHEDULE when the code location loads."""
    schedules = [
        utc_schedule(
            "nightly_backup_schedule",
            nightly_backup,
            settings.backup_schedule(),
            f"Nightly backup, cron {settings.backup_schedule()!r} UTC (BACKUP_SCHEDULE).",
            variable="BACKUP_SCHEDULE",
        ),
        utc_schedule(
            "restore_drill_weekly",
            restore_drill,
            settings.backup_drill_schedule(),
            f"Restore drill, cron {settings.backup_drill_schedule()!r} UTC "
            "(BACKUP_DRILL_SCHEDULE).",
            variable="BACKUP_DRILL_SCHEDULE",
        ),
        # Catches a nightly run that never started, not only one that failed.
        utc_schedule(
            "backup_freshness_hourly",
            backup_freshness,
            "17 * * * *",
            "Hourly freshness check of the newest backup.",
        ),
    ]
    return dg.Definitions(
        assets=[latest_backup],
        asset_checks=[backup_fresh, restore_drill_check],
        jobs=[nightly_backup, restore_drill, backup_freshness],
        schedules=schedules,
    )


defs = build_defs()
