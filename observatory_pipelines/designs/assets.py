"""Dagster edge of design files: a sensor that syncs ``DESIGNS_DIR`` into the query designs.

It starts no run itself. A new design, or one whose terms (or anything else it collects)
changed, is picked up by ``new_query_designs_sensor`` (collection), the one place that starts
collection runs; this sensor only writes the tables it reads.
"""

import dagster as dg

from observatory_pipelines import settings
from observatory_pipelines.designs.sync import SyncReport, sync_folder, sync_prefix
from observatory_pipelines.resources.object_store import ObjectStoreResource
from observatory_pipelines.resources.postgres import PostgresResource

ERRORS_SHOWN = 20  # in the tick's skip reason; every error goes to the tick log


@dg.sensor(
    minimum_interval_seconds=settings.design_sync_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Syncs the query design files in DESIGNS_DIR (and DESIGNS_PREFIX in the outputs "
    "bucket, when set) into query_designs, search_terms "
    "and actor_lists (new, edited, removed or inactive files); invalid files are refused with "
    "file:line:column in the tick log and nothing of them is written. The collection sensor "
    "then starts the runs.",
)
def design_files_sensor(
    context: dg.SensorEvaluationContext,
    postgres: PostgresResource,
    object_store: ObjectStoreResource,
):
    engine = postgres.engine()
    folder = settings.designs_dir()
    reports = {str(folder): sync_folder(engine, folder)}
    prefix = settings.designs_prefix()
    if prefix:
        store = object_store.outputs()
        reports[f"{store.bucket}/{prefix}"] = sync_prefix(engine, store, prefix)
    return dg.SkipReason("\n".join(_told(context, where, r) for where, r in reports.items()))


def _told(context: dg.SensorEvaluationContext, where: str, report: SyncReport) -> str:
    """Log one sync in the tick log; its line (and first errors) for the skip reason."""
    if report.folder_missing:
        return f"{where} does not exist: nothing synced (DESIGNS_DIR)"
    for error in report.errors:
        context.log.error(f"design file refused: {error}")
    for kind in ("created", "updated", "deactivated"):
        names = getattr(report, kind)
        if names:
            context.log.info(f"designs {kind}: {', '.join(names)}")
    summary = ", ".join(f"{k} {v}" for k, v in report.summary().items())
    shown = "\n".join(str(e) for e in report.errors[:ERRORS_SHOWN])
    more = len(report.errors) - ERRORS_SHOWN
    tail = f"\n... and {more} more (tick log)" if more > 0 else ""
    return f"{where}: {summary}" + (f"\n{shown}{tail}" if shown else "")


defs = dg.Definitions(sensors=[design_files_sensor])
