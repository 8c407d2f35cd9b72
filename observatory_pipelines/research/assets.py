"""Dagster edge of the research analyses: one asset per analysis, partitioned by design.

Each asset reads one query design's records (and the enrichment tables it names) within
the ``analysis_scope`` resource's filters — the same launchpad config as the analysis
group — and stores its tables, networks and charts (research/publish.py). A finished
collection of a design brings that design's research outputs up to date once the
enrichments it requested have run (``AFTER_THE_DESIGNS_COLLECTION``).
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from observatory_pipelines import settings
from observatory_pipelines.analysis.plots import markdown_image
from observatory_pipelines.analysis.scope import (
    STANDARD_SCOPE,
    check_scope,
    design_owner,
    non_default_parameters,
    scope_id,
)
from observatory_pipelines.analysis.sql_models import jsonable
from observatory_pipelines.db.engine import connect
from observatory_pipelines.logs import get_logger
from observatory_pipelines.research import periods, spikes
from observatory_pipelines.research.catalog import ANALYSES
from observatory_pipelines.research.framework import ResearchAnalysis, Table
from observatory_pipelines.research.publish import publish
from observatory_pipelines.resources.partitions import query_designs_partitions

# Declared by key: the collection and enrichment edges define these, edges never import each other.
COLLECTED_CONTENT = dg.AssetKey("collected_content")
GROUP = "research"
PREVIEW_ROWS = 10
log = get_logger(__name__)

# Not ``eager()``: the enrichments are unpartitioned, so every enrichment run would count as
# an update of every design's partition and re-run all designs' analyses, and a design's
# analyses would be requested in the very tick its collection requests the enrichments
# (reading them before they saw the new records). Instead a design's analyses run once the
# design was collected (or their partition is new) AND, after that, an enrichment run ended
# with none still running: the new records are enriched by then, and other designs wait for
# their own collections. The enrichment keys are told apart from the collection by name.
_COLLECTION = dg.AssetSelection.assets(COLLECTED_CONTENT)
AFTER_THE_DESIGNS_COLLECTION = (
    (
        dg.AutomationCondition.newly_missing()
        | dg.AutomationCondition.any_deps_updated().allow(_COLLECTION)
    ).since_last_handled()
    & dg.AutomationCondition.any_deps_updated().ignore(_COLLECTION)
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after_the_designs_collection")


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
        automation_condition=AFTER_THE_DESIGNS_COLLECTION,
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


# --- volume spikes: the check that warns and the sensor that notifies (research/spikes.py) ---

VOLUME_SPIKES = dg.AssetKey("volume_spikes")


def _latest_spike_alerts(instance: dg.DagsterInstance, design: str) -> tuple[str, list] | None:
    """The analysis scope and spike alerts of the latest volume_spikes materialization of
    ``design`` (None before the first)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=VOLUME_SPIKES, asset_partitions=[design]), limit=1
    ).records
    if not records:
        return None
    meta = records[0].asset_materialization.metadata
    return meta["analysis_scope"].value, meta["spike_alerts"].value


@dg.asset_check(
    asset=VOLUME_SPIKES,
    name="volume_spikes_recent",
    partitions_def=query_designs_partitions,
    # after each materialization of the design's volume_spikes (a run of the job runs it too)
    automation_condition=dg.AutomationCondition.any_deps_updated(),
    description="Warns (never fails) when the design's latest volume_spikes lists a spike "
    f"within the last {spikes.DEFAULTS['recent_days']} days (Copenhagen), naming them.",
)
def volume_spikes_recent(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    design = context.partition_key
    latest = _latest_spike_alerts(context.instance, design)
    today = periods.local_day(datetime.now(UTC))
    recent = spikes.recent_alerts(latest[1], today) if latest else []
    return dg.AssetCheckResult(
        passed=not recent,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(recent)} spike(s) since {today - timedelta(days=spikes.DEFAULTS['recent_days'])}"
            if recent else "no recent spike"
        ),
        metadata={
            "recent_spikes": dg.MetadataValue.json(recent),
            "analysis_scope": dg.MetadataValue.text(latest[0] if latest else "none"),
        },
    )  # fmt: skip


@dg.sensor(
    name="volume_spike_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends each new recent volume spike of a design's standard analysis once: a "
    "structured volume_spike log line, and a JSON POST to SPIKE_ALERT_WEBHOOK_URL when the "
    "operator set one. Starts no run.",
)
def volume_spike_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    state = json.loads(context.cursor) if context.cursor else {}
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=VOLUME_SPIKES, after_storage_id=state.get("after")),
        limit=500,
        ascending=True,
    )
    batches = []
    for record in result.records:
        meta = record.asset_materialization.metadata
        # a filtered launchpad run has other counts: only the standard analysis alerts
        if meta.get("analysis_scope") and meta["analysis_scope"].value == STANDARD_SCOPE:
            batches.append((record.partition_key, meta["spike_alerts"].value))
    today = periods.local_day(datetime.now(UTC))
    state, counts = spikes.process_alerts(state, batches, today, settings.spike_alert_webhook_url())
    if result.records:
        state["after"] = result.records[-1].storage_id
    else:
        state["after"] = state.get("after")
    context.update_cursor(json.dumps(state, sort_keys=True))
    return dg.SkipReason(
        f"{len(result.records)} new volume_spikes materialization(s); alerts sent "
        f"{counts['sent']}, failed {counts['failed']}, given up {counts['given_up']}"
    )


defs = dg.Definitions(
    assets=research_assets,
    asset_checks=[volume_spikes_recent],
    jobs=[research_query_design_job],
    sensors=[volume_spike_sensor],
)
