"""Dagster edge of design files: a sensor that syncs ``DESIGNS_DIR`` into the query designs.

It starts no run itself. A new design, or one whose terms (or anything else it collects)
changed, is picked up by ``new_query_designs_sensor`` (collection), the one place that starts
collection runs; this sensor only writes the tables it reads.
"""

import dagster as dg

from observatory_pipelines import settings
from observatory_pipelines.designs.sync import sync_folder
from observatory_pipelines.resources.postgres import PostgresResource

ERRORS_SHOWN = 20  # in the tick's skip reason; every error goes to the tick log


@dg.sensor(
    minimum_interval_seconds=settings.design_sync_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Syncs the query design files in DESIGNS_DIR into query_designs, search_terms "
    "and actor_lists (new, edited, removed or inactive files); invalid files are refused with "
    "file:line:column in the tick log and nothing of them is written. The collection sensor "
    "then starts the runs.",
)
def design_files_sensor(context: dg.SensorEvaluationContext, postgres: PostgresResource):
    folder = settings.designs_dir()
    report = sync_folder(postgres.engine(), folder)
    if report.folder_missing:
        return dg.SkipReason(f"{folder} does not exist: nothing synced (DESIGNS_DIR)")
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
    return dg.SkipReason(f"{folder}: {summary}" + (f"\n{shown}{tail}" if shown else ""))


defs = dg.Definitions(sensors=[design_files_sensor])
