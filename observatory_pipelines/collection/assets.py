"""Dagster edge of collection: query designs as dynamic partitions, the collection asset,
the sensor that starts new designs, and the daily schedule for live designs."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from observatory_pipelines import settings
from observatory_pipelines.collection.plan import PlanError, batch_window, load_design
from observatory_pipelines.collection.runs import RunReport, start_run
from observatory_pipelines.collection.scheduling import (
    SensorCursor,
    live_requests,
    new_design_requests,
)
from observatory_pipelines.collection.source_reports import FIRST_SKIPPED_SHOWN
from observatory_pipelines.collection.sweep import heal_runs_of_dagster_run, sweep
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.resources.object_store import ObjectStoreResource
from observatory_pipelines.resources.partitions import query_designs_partitions
from observatory_pipelines.resources.postgres import PostgresResource
from observatory_pipelines.resources.schedules import utc_schedule
from observatory_pipelines.windows import as_bound


class CollectionConfig(dg.Config):
    """Window and mode of one collection; empty means the design's own batch window."""

    date_from: str | None = None  # ISO date or datetime, inclusive
    date_to: str | None = None  # ISO datetime exclusive, or a date included whole
    mode: str | None = None  # batch | live; default: arenas_config.mode


def _metadata(report: RunReport) -> dict[str, dg.MetadataValue]:
    arenas = {
        a.platform: {
            "status": a.status,
            "tier": a.tier,
            "records_collected": a.records_collected,
            "records_attributed": a.records_attributed,
            "duplicates_skipped": a.duplicates_skipped,
            "records_rejected": a.records_rejected,
            "records_repaired": a.records_repaired,
            "credits_estimated": a.credits_estimated,
            "credits_spent": a.credits_spent,
            "error": a.error,
            "sources": a.sources.as_metadata(),
        }
        for a in report.arenas
    }
    meta: dict[str, dg.MetadataValue] = {
        "collection_run_id": dg.MetadataValue.text(report.run_id),
        "status": dg.MetadataValue.text(report.status),
        "mode": dg.MetadataValue.text(report.mode),
        "window": dg.MetadataValue.text(
            f"{report.date_from.isoformat()} .. {report.date_to.isoformat()}"
        ),
        "records_collected": dg.MetadataValue.int(report.records_collected),
        "records_attributed": dg.MetadataValue.int(report.records_attributed),
        "duplicates_skipped": dg.MetadataValue.int(
            sum(a.duplicates_skipped for a in report.arenas)
        ),
        "records_rejected": dg.MetadataValue.int(sum(a.records_rejected for a in report.arenas)),
        "credits_spent": dg.MetadataValue.int(report.credits_spent),
        "failed_arenas": dg.MetadataValue.int(sum(a.status == "failed" for a in report.arenas)),
        "arenas": dg.MetadataValue.json(arenas),
        **_sources_metadata(report),
    }
    if report.error:
        meta["errors"] = dg.MetadataValue.text(report.error)
    return meta


def _sources_metadata(report: RunReport) -> dict[str, dg.MetadataValue]:
    """Skipped sources over every arena: how many, by reason, the first ones; and 304s."""
    by_reason: dict[str, int] = {}
    first: list[dict] = []
    for a in report.arenas:
        for reason, count in a.sources.by_reason.items():
            by_reason[reason] = by_reason.get(reason, 0) + count
        first += [{"platform": a.platform, **s} for s in a.sources.first_skipped]
    return {
        "skipped_sources": dg.MetadataValue.int(sum(a.sources.skipped for a in report.arenas)),
        "skipped_by_reason": dg.MetadataValue.json(dict(sorted(by_reason.items()))),
        "first_skipped_sources": dg.MetadataValue.json(first[:FIRST_SKIPPED_SHOWN]),
        "sources_not_modified": dg.MetadataValue.int(
            sum(a.sources.not_modified for a in report.arenas)
        ),
    }


@dg.asset(
    partitions_def=query_designs_partitions,
    group_name="collection",
    kinds={"postgres"},
    description="Records collected for one query design (partition) and window: one collection "
    "run, one task per arena, deduplicated into content_records.",
)
def collected_content(
    context: dg.AssetExecutionContext,
    config: CollectionConfig,
    postgres: PostgresResource,
    object_store: ObjectStoreResource,
) -> dg.MaterializeResult:
    engine = postgres.engine()
    design = load_design(engine, context.partition_key)
    if config.date_from and config.date_to:
        date_from = as_bound(config.date_from, end=False)
        date_to = as_bound(config.date_to, end=True)
    else:
        date_from, date_to = batch_window(design.arenas_config, datetime.now(UTC))
    report = start_run(
        engine,
        design.id,
        date_from,
        date_to,
        mode=config.mode or design.mode,
        dagster_run_id=context.run.run_id,
        object_store=object_store.outputs(),  # file_import "prefix" objects live there
    )
    metadata = _metadata(report)
    if report.status == "failed":
        raise dg.Failure(
            description=f"collection run {report.run_id} failed: {report.error}", metadata=metadata
        )
    return dg.MaterializeResult(metadata=metadata)


# No automatic retry: a retried run is a second collection run against external APIs with
# their own quotas, started before the run failure sensor has healed the first (whose
# reservation would still hold the credits). Records are idempotent (ON CONFLICT DO NOTHING)
# and a failed run's unfinished arenas are refunded in full, so re-running a failed window
# by hand (UI: re-execute, or a backfill of the partition) is safe. See
# docs/operations/fault_tolerance.md.
collect_query_design_job = dg.define_asset_job(
    "collect_query_design",
    selection=[collected_content],
    description="Collect one query design (partition) for the window in the run config.",
    tags={"dagster/max_runtime": str(6 * 3600)},
)

# One tag per platform the run calls; dagster.yaml's run coordinator lets one run per
# rate-limited platform run at a time (the per-host spacing holds within one worker only).
PLATFORM_TAG_PREFIX = "observatory/platform-"


def _platform_tags(postgres: PostgresResource, design_id: str) -> dict[str, str]:
    try:
        platforms = load_design(postgres.engine(), design_id).arenas
    except PlanError:
        return {}  # gone or unreadable: the run itself will say so
    return {f"{PLATFORM_TAG_PREFIX}{platform}": "true" for platform in platforms}


def _run_request(req, postgres: PostgresResource) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=req.run_key,
        partition_key=req.design_id,
        run_config={"ops": {"collected_content": {"config": req.run_config()}}},
        tags={
            "observatory/query_design": req.design_id,
            "observatory/mode": req.mode,
            **_platform_tags(postgres, req.design_id),
        },
    )


@dg.sensor(
    job=collect_query_design_job,
    minimum_interval_seconds=settings.collection_sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds new active query designs as partitions and starts their first run, once.",
)
def new_query_designs_sensor(context: dg.SensorEvaluationContext, postgres: PostgresResource):
    cursor = SensorCursor.parse(context.cursor)
    requests, next_cursor = new_design_requests(postgres.engine(), cursor, datetime.now(UTC))
    existing = set(context.instance.get_dynamic_partitions(query_designs_partitions.name))
    new_partitions = sorted({r.design_id for r in requests} - existing)
    partition_requests = (
        [query_designs_partitions.build_add_request(new_partitions)] if new_partitions else []
    )
    return dg.SensorResult(
        run_requests=[_run_request(r, postgres) for r in requests],
        dynamic_partitions_requests=partition_requests,
        cursor=next_cursor.dump(),
    )


@dg.schedule(
    job=collect_query_design_job,
    cron_schedule="15 0 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day: yesterday's UTC window for every active live-mode query design.",
)
def live_query_designs_schedule(context: dg.ScheduleEvaluationContext, postgres: PostgresResource):
    tick = context.scheduled_execution_time or datetime.now(UTC)
    yesterday = (tick.astimezone(UTC) - timedelta(days=1)).date()
    existing = set(context.instance.get_dynamic_partitions(query_designs_partitions.name))
    requests = [r for r in live_requests(postgres.engine(), yesterday) if r.design_id in existing]
    if not requests:
        return dg.SkipReason(f"no active live query design to collect for {yesterday.isoformat()}")
    return [_run_request(r, postgres) for r in requests]


def _dagster_status(instance: dg.DagsterInstance):
    def status(run_id: str) -> str | None:
        run = instance.get_run_by_id(run_id)
        return run.status.value if run is not None else None

    return status


@dg.op(
    description="Fail runs whose worker died (their Dagster run ended, or is unknown and idle "
    "past COLLECTION_STALE_RUN_HOURS), then settle or refund every finished run whose "
    "reservations are still open. Its summary is the step's output metadata; nothing is stored."
)
def settle_finished_runs_op(context: dg.OpExecutionContext, postgres: PostgresResource) -> None:
    grace = timedelta(hours=settings.collection_stale_run_hours())
    done = sweep(CreditLedger(postgres.engine()), _dagster_status(context.instance), grace)
    summary = {k: v for k, v in vars(done).items() if k not in ("dead_run_ids", "failed_run_ids")}
    context.log.info(f"settlement: {summary}")
    # The summary is for the run page only: returning it would make the IO manager store an
    # object every 15 minutes that nothing reads. Failed runs stay open: the next tick retries
    # them, and the ledger check reports any that stay unsettled for more than a day.
    context.add_output_metadata(
        {
            **summary,
            "failed_run_ids": ", ".join(done.failed_run_ids[:20]),
            "dead_run_ids": ", ".join(done.dead_run_ids[:20]),
        }
    )


@dg.job(
    description="Fail collection runs whose worker died and close the open credit "
    "reservations of finished runs.",
    tags={"dagster/max_runtime": "900", "dagster/max_retries": "2"},
)
def settle_finished_runs():
    settle_finished_runs_op()


settle_finished_runs_schedule = utc_schedule(
    "settle_finished_runs_schedule",
    settle_finished_runs,
    "*/15 * * * *",
    "Every 15 minutes: settle finished runs, heal dead ones.",
)


def _heal_ended_collection(context: dg.RunStatusSensorContext, postgres: PostgresResource):
    run_id = context.dagster_run.run_id
    healed = heal_runs_of_dagster_run(
        CreditLedger(postgres.engine()), run_id, _dagster_status(context.instance)
    )
    for done in healed:
        released = sum(done.settlement.refunded.values()) if done.settlement else 0
        context.log.info(
            f"collection run {done.collection_run_id} of Dagster run {run_id} failed "
            f"({done.reason}); {released} credits released"
        )


@dg.run_failure_sensor(
    monitored_jobs=[collect_query_design_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=10,
    description="When a collection's Dagster run fails (its worker died and run monitoring "
    "failed it, or the step raised), fail its collection run and release its credits now.",
)
def collection_run_failed_sensor(
    context: dg.RunFailureSensorContext, postgres: PostgresResource
) -> None:
    _heal_ended_collection(context, postgres)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.CANCELED,
    monitored_jobs=[collect_query_design_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=10,
    description="When a collection's Dagster run is cancelled, fail its collection run and "
    "release its credits now.",
)
def collection_run_canceled_sensor(
    context: dg.RunStatusSensorContext, postgres: PostgresResource
) -> None:
    _heal_ended_collection(context, postgres)


defs = dg.Definitions(
    assets=[collected_content],
    jobs=[collect_query_design_job, settle_finished_runs],
    sensors=[
        new_query_designs_sensor,
        collection_run_failed_sensor,
        collection_run_canceled_sensor,
    ],
    schedules=[live_query_designs_schedule, settle_finished_runs_schedule],
)
