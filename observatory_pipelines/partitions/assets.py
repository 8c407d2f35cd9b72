"""Dagster edge of partition maintenance: the layout asset, its job, schedules and check."""

from datetime import date

import dagster as dg

from observatory_pipelines.partitions.manager import PARENT, PartitionManager, Status
from observatory_pipelines.partitions.months import partition_name, utc_instant
from observatory_pipelines.resources.postgres import PostgresResource
from observatory_pipelines.resources.schedules import utc_schedule

LAYOUT_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("name", "string"),
        dg.TableColumn("range_from", "string", description="inclusive, UTC"),
        dg.TableColumn("range_to", "string", description="exclusive, UTC"),
        dg.TableColumn("rows", "int"),
        dg.TableColumn("size_bytes", "int"),
    ]
)


class MaintenanceConfig(dg.Config):
    """``today`` (YYYY-MM-DD) overrides the UTC date, for backfills and tests."""

    today: str | None = None


def _bound(value) -> str:
    return "" if value is None else value.isoformat()


def layout_table(status: Status) -> dg.TableMetadataValue:
    records = [
        dg.TableRecord(
            {
                "name": p.name,
                "range_from": "DEFAULT" if p.is_default else _bound(p.range_from),
                "range_to": "" if p.is_default else _bound(p.range_to),
                "rows": p.rows if p.rows is not None else -1,
                "size_bytes": p.size_bytes,
            }
        )
        for p in status.layout.partitions
    ]
    return dg.MetadataValue.table(records=records, schema=LAYOUT_SCHEMA)


def status_metadata(status: Status) -> dict:
    ranged = status.layout.ranged
    return {
        "partitions": layout_table(status),
        "partition_count": len(ranged),
        "months_ahead": status.months_ahead,
        "covered_until": _bound(max((p.range_to for p in ranged if p.range_to), default=None)),
        "default_rows": status.default_rows,
        "default_rows_misplaced": status.default_rows_misplaced,
        "default_rows_before_floor": status.default_rows_before_floor,
        "default_rows_beyond_horizon": status.default_rows_beyond_horizon,
        "window": f"{utc_instant(status.floor).isoformat()} .. {utc_instant(status.horizon).isoformat()}",
    }


@dg.asset(
    name="content_partitions",
    group_name="maintenance",
    kinds={"postgres"},
    description=(
        "Monthly partitions of content_records, kept from the oldest data to "
        "PARTITION_PREMAKE_MONTHS ahead; rows waiting in the default partition are moved into "
        "their month. Metadata: every partition (range, rows, size) and the default's rows."
    ),
)
def content_partitions(
    context: dg.AssetExecutionContext, config: MaintenanceConfig, postgres: PostgresResource
) -> dg.MaterializeResult:
    today = date.fromisoformat(config.today) if config.today else None
    manager = PartitionManager(postgres.engine(), today=today)
    report = manager.run()
    status = manager.status(count_rows=True)
    metadata = status_metadata(status) | {
        "created": report.created,
        "moved_rows": sum(report.moved_rows.values()),
        "moved_rows_by_partition": report.moved_rows,
        "detached": report.detached,
        "dropped": report.dropped,
    }
    if report.failed:
        raise dg.Failure(
            description=f"partition maintenance failed for {sorted(report.failed)}",
            metadata=metadata | {"failed": report.failed},
        )
    context.log.info(
        f"partitions: created {len(report.created)}, months ahead {status.months_ahead}"
    )
    return dg.MaterializeResult(metadata=metadata)


@dg.asset_check(
    asset=content_partitions,
    name="partitions_ahead",
    # A month without a partition sends its rows to the default partition (or fails the
    # insert): data at risk, so a failure fails the run and shows red.
    blocking=True,
    description=(
        "Every month from the current one to PARTITION_PREMAKE_MONTHS ahead has a partition "
        "(a missing one is named), and the default partition holds no row whose month "
        "maintenance should have created."
    ),
)
def partitions_ahead(postgres: PostgresResource) -> dg.AssetCheckResult:
    status = PartitionManager(postgres.engine()).status()
    missing = status.missing_months
    problems = []
    if missing:
        problems.append(
            "no partition for "
            + ", ".join(f"{m:%Y-%m} ({partition_name(PARENT, m)})" for m in missing)
        )
    if status.default_rows_misplaced:
        problems.append(
            f"{status.default_rows_misplaced} default rows belong to a month of their own"
        )
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) or "partitions ahead and default partition clean",
        metadata={
            "months_ahead": status.months_ahead,
            "missing_months": dg.MetadataValue.json([f"{m:%Y-%m}" for m in missing]),
            "default_rows": status.default_rows,
            "default_rows_misplaced": status.default_rows_misplaced,
        },
    )


partition_maintenance = dg.define_asset_job(
    "partition_maintenance",
    selection=dg.AssetSelection.assets(content_partitions),
    description="Create months ahead, move default-partition rows home, apply retention.",
    # Safe to re-run: serialized by an advisory lock, one transaction per month, a second
    # run finds nothing to do (partitions/manager.py).
    tags={"dagster/max_runtime": "1800", "dagster/max_retries": "2"},
)

monthly_schedule = utc_schedule(
    "partition_maintenance_monthly",
    partition_maintenance,
    "0 3 1 * *",
    "1st of every month, 03:00 UTC.",
)

# A missed or failed monthly run is caught within a week, long before the premake runs out.
weekly_schedule = utc_schedule(
    "partition_maintenance_weekly",
    partition_maintenance,
    "30 3 * * 1",
    "Safety run every Monday, 03:30 UTC.",
)

partitions_ahead_check = dg.define_asset_job(
    "partitions_ahead_check",
    selection=dg.AssetSelection.checks(partitions_ahead),
    description="Is every month up to PARTITION_PREMAKE_MONTHS ahead partitioned?",
    tags={
        "dagster/max_runtime": "600",
        "dagster/max_retries": "1",
        "dagster/retry_on_asset_or_op_failure": "false",  # a failed check is the answer
    },
)

# A maintenance run that failed, or a partition dropped by hand, shows red the same day
# instead of at the next weekly run.
daily_check_schedule = utc_schedule(
    "partitions_ahead_daily",
    partitions_ahead_check,
    "0 6 * * *",
    "Every day, 06:00 UTC: the partitions_ahead check on its own.",
)

defs = dg.Definitions(
    assets=[content_partitions],
    asset_checks=[partitions_ahead],
    jobs=[partition_maintenance, partitions_ahead_check],
    schedules=[monthly_schedule, weekly_schedule, daily_check_schedule],
)
