"""Dagster edge of the erasure: the ``erase_person`` job and the ``erasure_reanalysis`` sensor.

``erase_person`` runs ``service.erase`` with the run config (actor_id, or platform +
platform_user_id; requested_by, reference, dry_run) and reports counts only in its metadata
and run log: no identifier, pseudonym or name (the run config itself keeps the identifier in
Dagster's run history: docs/erasure.md says when to prefer the CLI).

It then deletes the finished Dagster runs that analysed an affected design (their
materialization previews show top actors); ``forget_erased_analysis_runs`` does the same for
an erasure made with the CLI (config: its ``erasure_log`` id).

``erasure_reanalysis`` (running by default) reads completed erasures of the last
``REANALYSIS_WINDOW`` and requests ``analyse_query_design`` (the standard analysis: default
``analysis_scope``) for every affected design that is a ``query_designs`` partition. The run
key (erasure, design) makes it once per erasure and design, whether the erasure ran here or
from the CLI. The analysis job is named, not imported: edges never import each other.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from observatory_pipelines.erasure import database
from observatory_pipelines.erasure.person import ErasureRefused, UnknownPerson, check_request
from observatory_pipelines.erasure.service import erase
from observatory_pipelines.resources.object_store import ObjectStoreResource
from observatory_pipelines.resources.partitions import query_designs_partitions
from observatory_pipelines.resources.postgres import PostgresResource

ANALYSIS_JOB = "analyse_query_design"
REANALYSIS_WINDOW = timedelta(days=7)


class ErasePersonConfig(dg.Config):
    """Whom to erase (actor_id, or platform + platform_user_id) and who asks why."""

    actor_id: str | None = None
    platform: str | None = None
    platform_user_id: str | None = None
    requested_by: str = ""
    reference: str = ""
    dry_run: bool = False
    # Delete the Dagster runs (and their event logs) that analysed an affected design: their
    # materialization previews (top actors, …) show the person. The re-analysis replaces them.
    forget_analysis_runs: bool = True


# Every analysis asset says its scope in its metadata (analysis/assets.py): a run that
# materialized one of them for an affected design holds previews of that design's records.
ANALYSIS_METADATA_MARK = "analysis_scope"


def forget_analysis_runs(
    instance: dg.DagsterInstance, designs: list[str], before: datetime
) -> list[str]:
    """Delete the finished runs created before ``before`` that materialized an analysis asset
    of one of ``designs``; the ids deleted. Runs still going are left (and named in the log)."""
    deleted = []
    for design in designs:
        runs = instance.get_runs(
            filters=dg.RunsFilter(tags={"dagster/partition": design}, created_before=before)
        )
        for run in runs:
            records = instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ).records
            analysed = any(
                ANALYSIS_METADATA_MARK in record.asset_materialization.metadata
                for record in records
                if record.asset_materialization is not None
            )
            if analysed and run.is_finished:
                instance.delete_run(run.run_id)
                deleted.append(run.run_id)
    return deleted


@dg.op(
    description="Erase every record of one person (GDPR) in one transaction, delete every "
    "analysis output and export that held them, and log what was done (no personal data)."
)
def erase_person_op(
    context: dg.OpExecutionContext,
    config: ErasePersonConfig,
    postgres: PostgresResource,
    object_store: ObjectStoreResource,
) -> None:
    started = datetime.now(UTC)
    try:
        request = check_request(
            requested_by=config.requested_by,
            reference=config.reference,
            actor_id=config.actor_id,
            platform=config.platform,
            platform_user_id=config.platform_user_id,
        )
    except ErasureRefused as exc:
        raise dg.Failure(description=f"erasure refused: {exc}; nothing was changed") from None
    try:
        report = erase(
            postgres.engine(),
            object_store.outputs(),
            request,
            dry_run=config.dry_run,
            mirror=object_store.backups(),
        )
    except UnknownPerson as exc:
        raise dg.Failure(description=exc.safe_message) from None
    metadata = {
        "dry_run": dg.MetadataValue.bool(report.dry_run),
        "status": dg.MetadataValue.text(report.status),
        "erasure_log_id": dg.MetadataValue.int(report.log_id or 0),
        "request_reference": dg.MetadataValue.text(request.reference),
        "identified_by": dg.MetadataValue.text(report.identified_by),
        "resolved_to_actor": dg.MetadataValue.bool(report.resolved_to_actor),
        "rows_deleted": dg.MetadataValue.json(report.rows_deleted),
        "rows_by_partition": dg.MetadataValue.json(report.rows_by_partition),
        "records_erased": dg.MetadataValue.int(report.rows_deleted["content_records"]),
        "affected_designs": dg.MetadataValue.json(report.affected_designs),
        "objects_deleted": dg.MetadataValue.int(len(report.object_keys)),
        "object_keys": dg.MetadataValue.json(report.object_keys[:200]),
    }
    if config.forget_analysis_runs and not report.dry_run:
        forgotten = forget_analysis_runs(context.instance, report.affected_designs, started)
        metadata["dagster_runs_deleted"] = dg.MetadataValue.int(len(forgotten))
    context.add_output_metadata(metadata)
    verb = "would erase" if report.dry_run else "erased"
    context.log.info(
        f"{verb} {report.rows_deleted['content_records']} record(s) of {request.describe_safely()} "
        f"(request {request.reference}): rows {report.rows_deleted}, "
        f"{len(report.affected_designs)} design(s), {len(report.object_keys)} output object(s)"
    )
    if not report.dry_run and not report.complete:
        raise dg.Failure(
            description=f"records erased (erasure log {report.log_id}) but "
            f"{len(report.object_errors)} output object(s) not deleted: run "
            "`erase --finish-pending` (or this job again) when the object store is back",
            metadata=metadata,
        )


@dg.job(
    description="GDPR erasure of one person: config actor_id, or platform + platform_user_id; "
    "requested_by, reference; dry_run to see the counts first. See docs/erasure.md."
)
def erase_person():
    erase_person_op()


class ForgetRunsConfig(dg.Config):
    """The erasure (its ``erasure_log`` id) whose designs' earlier analysis runs to delete."""

    erasure_log_id: int


@dg.op(
    description="Delete the finished Dagster runs that analysed a design of one erasure before "
    "it (their materialization previews may show the person); for erasures made with the CLI."
)
def forget_erased_analysis_runs_op(
    context: dg.OpExecutionContext, config: ForgetRunsConfig, postgres: PostgresResource
) -> None:
    entries = list(database.log_entries(postgres.engine(), log_id=config.erasure_log_id))
    if not entries:
        raise dg.Failure(description=f"no erasure {config.erasure_log_id} in erasure_log")
    [entry] = entries
    designs = list(entry["affected_design_ids"])
    forgotten = forget_analysis_runs(context.instance, designs, entry["erased_at"])
    context.log.info(
        f"erasure {entry['id']}: deleted {len(forgotten)} analysis run(s) of "
        f"{len(designs)} design(s)"
    )
    context.add_output_metadata(
        {
            "erasure_log_id": dg.MetadataValue.int(entry["id"]),
            "dagster_runs_deleted": dg.MetadataValue.int(len(forgotten)),
            "run_ids": dg.MetadataValue.json(forgotten[:200]),
        }
    )


@dg.job(
    description="After a CLI erasure: delete the Dagster runs whose analysis previews showed "
    "the erased person (config erasure_log_id). erase_person does this itself."
)
def forget_erased_analysis_runs():
    forget_erased_analysis_runs_op()


def reanalysis_requests(
    engine, partitions: set[str], now: datetime
) -> tuple[list[dg.RunRequest], list[str]]:
    """Run requests for the affected designs of recent completed erasures; and the designs
    skipped because they are not partitions (never collected through Dagster)."""
    requests, skipped = [], []
    for entry in database.log_entries(engine, status="completed", since=now - REANALYSIS_WINDOW):
        for design in entry["affected_design_ids"]:
            if design not in partitions:
                skipped.append(design)
                continue
            requests.append(
                dg.RunRequest(
                    run_key=f"erasure:{entry['id']}:{entry['erased_at'].isoformat()}:{design}",
                    partition_key=design,
                    tags={"observatory/erasure_log_id": str(entry["id"])},
                )
            )
    return requests, skipped


@dg.sensor(
    job_name=ANALYSIS_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After an erasure (job or CLI), recomputes the standard analysis of every "
    "design whose records were erased; once per erasure and design (run key).",
)
def erasure_reanalysis(context: dg.SensorEvaluationContext, postgres: PostgresResource):
    partitions = set(context.instance.get_dynamic_partitions(query_designs_partitions.name))
    requests, skipped = reanalysis_requests(postgres.engine(), partitions, datetime.now(UTC))
    if not requests:
        return dg.SkipReason(
            "no recent erasure to re-analyse"
            + (f" ({len(skipped)} design(s) are not partitions)" if skipped else "")
        )
    return requests


defs = dg.Definitions(
    jobs=[erase_person, forget_erased_analysis_runs], sensors=[erasure_reanalysis]
)
