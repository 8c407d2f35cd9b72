"""Dagster edge of the offline demo: its exports follow its analysis, so the demo shows them.

Exports carry no automation condition (a researcher asks for them), so without this the
offline demo of ``make run`` would leave the four ``content_export_*`` assets of the
analysis group empty. For each offline demo design (none outside the local demo: the
sensor then skips), a new ``stg_content`` materialization requests one run of the
exports for that design; the run key (design + materialization) makes it once each.
"""

import dagster as dg

from observatory_pipelines.demo.design import offline_design_ids
from observatory_pipelines.resources.partitions import query_designs_partitions
from observatory_pipelines.resources.postgres import PostgresResource

# Declared by key: the analysis edge defines these assets, and edges never import each other.
STG_CONTENT = dg.AssetKey("stg_content")
EXPORTS = [dg.AssetKey(f"content_export_{fmt}") for fmt in ("csv", "xlsx", "ndjson", "parquet")]


@dg.sensor(
    asset_selection=dg.AssetSelection.assets(*EXPORTS),
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Offline demo only: exports the demo design after each analysis of it, so "
    "every asset of the analysis group is materialized in the demo.",
)
def offline_demo_exports(context: dg.SensorEvaluationContext, postgres: PostgresResource):
    known = set(context.instance.get_dynamic_partitions(query_designs_partitions.name))
    requests = []
    for design in offline_design_ids(postgres.engine()):
        if design not in known:
            continue
        latest = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=STG_CONTENT, asset_partitions=[design]), limit=1
        ).records
        if latest:
            requests.append(
                dg.RunRequest(
                    run_key=f"{design}:{latest[0].storage_id}",
                    partition_key=design,
                    asset_selection=EXPORTS,
                    tags={"observatory/query_design": design},
                )
            )
    if not requests:
        return dg.SkipReason("no analysed offline demo design to export")
    return requests


defs = dg.Definitions(sensors=[offline_demo_exports])
