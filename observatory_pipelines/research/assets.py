"""Dagster edge of the research analyses: one asset per analysis, partitioned by design.

Each asset reads one query design's records (and the enrichment tables it names) within
the ``analysis_scope`` resource's filters — the same launchpad config as the analysis
group — and stores its tables, networks and charts (research/publish.py). Eager like the
descriptive analyses: a finished collection of a design, or a new enrichment run, brings
the design's research outputs up to date once nothing they read is still running.
"""

from typing import Any

import dagster as dg

from observatory_pipelines.analysis.plots import markdown_image
from observatory_pipelines.analysis.scope import (
    check_scope,
    design_owner,
    non_default_parameters,
    scope_id,
)
from observatory_pipelines.analysis.sql_models import jsonable
from observatory_pipelines.db.engine import connect
from observatory_pipelines.logs import get_logger
from observatory_pipelines.research.catalog import ANALYSES
from observatory_pipelines.research.framework import ResearchAnalysis, Table
from observatory_pipelines.research.publish import publish
from observatory_pipelines.resources.partitions import query_designs_partitions

# Declared by key: the collection and enrichment edges define these, edges never import each other.
COLLECTED_CONTENT = dg.AssetKey("collected_content")
GROUP = "research"
PREVIEW_ROWS = 10
log = get_logger(__name__)


def _md_table(table: Table, limit: int = PREVIEW_ROWS) -> str:
    if not table.rows:
        return "_no rows_"

    def cell(value: Any) -> str:
        return str(jsonable(value)).replace("|", "\\|").replace("\n", " ")[:60]

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += [
        "| " + " | ".join(cell(row.get(c)) for c in table.columns) + " |"
        for row in table.rows[:limit]
    ]
    return "\n".join(lines)


def _summary_value(value: Any) -> dg.MetadataValue:
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    if isinstance(value, str):
        return dg.MetadataValue.text(value)
    return dg.MetadataValue.json(jsonable(value))


def _asset(analysis: ResearchAnalysis) -> dg.AssetsDefinition:
    @dg.asset(
        name=analysis.name,
        partitions_def=query_designs_partitions,
        deps=[COLLECTED_CONTENT, *(dg.AssetKey(name) for name in analysis.reads)],
        group_name=GROUP,
        code_version=analysis.version,
        kinds={"postgres", "python"},
        automation_condition=dg.AutomationCondition.eager(),
        description=analysis.description,
        required_resource_keys={"postgres", "object_store", "analysis_scope"},
    )
    def _research_asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        design = context.partition_key
        resources = context.resources
        with connect(resources.postgres.url()) as conn:
            params = check_scope(conn, resources.analysis_scope.scope(design))
            owner = design_owner(conn, design)
            log.info("research_started", analysis=analysis.name, query_design_id=design)
            output = analysis.compute(conn, params)
        scope = scope_id(params)
        store = resources.object_store.outputs()
        published = publish(
            store, analysis, output, design=design, scope=scope, owner=owner, params=params
        )
        log.info(
            "research_done",
            analysis=analysis.name,
            query_design_id=design,
            tables={name: len(t.rows) for name, t in output.tables.items()},
        )
        metadata: dict[str, Any] = {
            "version": dg.MetadataValue.text(analysis.version),
            "analysis_scope": dg.MetadataValue.text(scope),
            "filters": dg.MetadataValue.json(non_default_parameters(params)),
            "parameters": dg.MetadataValue.json(jsonable(output.parameters)),
            "result_key": dg.MetadataValue.text(published.result),
        }
        for name, value in output.summary.items():
            metadata[name] = _summary_value(value)
        for name, table in output.tables.items():
            metadata[f"{name}_rows"] = dg.MetadataValue.int(len(table.rows))
            metadata[f"{name}_preview"] = dg.MetadataValue.md(_md_table(table))
        for name, graph in output.networks.items():
            metadata[f"{name}_metrics"] = dg.MetadataValue.json(jsonable(graph.get("metrics", {})))
        for name, key in published.gexf.items():
            metadata[f"{name}_gexf_key"] = dg.MetadataValue.text(key)
        for name, png in output.charts.items():
            metadata[name] = dg.MetadataValue.md(markdown_image(png, name.replace("_", " ")))
        return dg.MaterializeResult(metadata=metadata)

    return _research_asset


research_assets = [_asset(analysis) for analysis in ANALYSES]

research_query_design_job = dg.define_asset_job(
    "research_query_design",
    selection=dg.AssetSelection.groups(GROUP),
    description="Every research analysis of one query design (link mining, propagation, "
    "coordination, emergent terms, spikes, interaction networks, …).",
    # Each analysis replaces its outputs: a re-run is safe.
    tags={"dagster/max_runtime": str(2 * 3600), "dagster/max_retries": "1"},
)

defs = dg.Definitions(assets=research_assets, jobs=[research_query_design_job])
