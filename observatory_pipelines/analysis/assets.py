"""Dagster edge of analysis: SQL models, descriptive report, networks and exports as assets.

Everything is partitioned by query design (the ``query_designs`` dynamic partitions the
collection domain adds keys to), so one design is analysed without touching the others.
Optional filters and limits come from the ``analysis_scope`` resource, set per run in the
launchpad (``resources: analysis_scope: config: {...}``).

Lineage: ``collected_content`` → ``stg_content`` → models → report / networks; exports hang
off ``stg_content``. SQL models, the report and the networks are eager: once the automation
sensor runs, a finished collection of a design re-analyses that design. Exports run only
when asked (they are large and belong to a person).
"""

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dagster as dg
import psycopg

from observatory_pipelines.analysis import plots
from observatory_pipelines.analysis.descriptive import DESCRIPTIVE_MODELS, assemble_report
from observatory_pipelines.analysis.exports import XLSX_MAX_DATA_ROWS, export_records
from observatory_pipelines.analysis.network import NETWORK_MODELS, build_network, gexf_bytes
from observatory_pipelines.analysis.scope import (
    LIMITS,
    STANDARD_SCOPE,
    AnalysisScope,
    check_scope,
    design_owner,
    non_default_parameters,
    scope_id,
)
from observatory_pipelines.analysis.sql_models import (
    code_versions,
    jsonable,
    load_models,
    run_models,
)
from observatory_pipelines.db.engine import connect
from observatory_pipelines.resources.object_store import ObjectStoreResource
from observatory_pipelines.resources.partitions import query_designs_partitions
from observatory_pipelines.resources.postgres import PostgresResource

# Declared by key: the collection edge defines the asset, and edges never import each other.
COLLECTED_CONTENT = dg.AssetKey("collected_content")
PRESIGN_FOR = timedelta(hours=1)
GROUP = "analysis"
EAGER = dg.AutomationCondition.eager()


class AnalysisScopeResource(dg.ConfigurableResource):
    """Filters and limits for one run; the partition key is the query design."""

    collection_run_id: str | None = None
    date_from: str | None = None  # ISO date (whole day) or datetime, inclusive
    date_to: str | None = None  # ISO date (whole day) or datetime, inclusive
    arenas: list[str] = []
    platforms: list[str] = []
    languages: list[str] = []
    terms: list[str] = []
    granularity: str = "day"  # allow-listed: hour | day | week | month
    sort: str = "post_count"  # allow-listed: post_count | engagement
    top_limit: int = LIMITS["top_limit"][0]
    actor_limit: int = LIMITS["actor_limit"][0]
    actor_min_weight: int = LIMITS["actor_min_weight"][0]
    actor_edge_limit: int = LIMITS["actor_edge_limit"][0]
    term_min_weight: int = LIMITS["term_min_weight"][0]
    term_edge_limit: int = LIMITS["term_edge_limit"][0]
    bipartite_edge_limit: int = LIMITS["bipartite_edge_limit"][0]
    xlsx_max_rows_per_sheet: int = XLSX_MAX_DATA_ROWS

    def scope(self, query_design_id: str) -> AnalysisScope:
        return AnalysisScope(
            query_design_id=query_design_id,
            collection_run_id=self.collection_run_id,
            arenas=self.arenas or None,
            platforms=self.platforms or None,
            date_from=self.date_from,
            date_to=self.date_to,
            languages=self.languages or None,
            terms=self.terms or None,
            granularity=self.granularity,
            sort=self.sort,
            options={name: getattr(self, name) for name in LIMITS},
        )


def _connect(postgres: PostgresResource) -> psycopg.Connection:
    return connect(postgres.url())  # in UTC: day buckets and exported times are UTC


def _base(design: str, scope: str) -> str:
    """Every output of one analysis: ``analysis/<design>/<scope>/`` (see docs/analysis_outputs.md)."""
    return f"analysis/{design}/{scope}"


def _model_key(design: str, scope: str, name: str) -> str:
    return f"{_base(design, scope)}/models/{name}.json"


def _scope_metadata(scope: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "analysis_scope": dg.MetadataValue.text(scope),
        "filters": dg.MetadataValue.json(non_default_parameters(params)),
    }


def _put_json(store, key: str, payload: Any) -> None:
    data = json.dumps(jsonable(payload), ensure_ascii=False, indent=1).encode()
    store.put(key, data, content_type="application/json")


PREVIEW_ROWS = 10


def _streamed_model(
    name: str, scope: str, params: dict[str, Any], lines: Iterator[bytes], preview: list[dict]
) -> Iterator[bytes]:
    """The stored document of a ``returns: stream`` model (the same JSON as ``_put_json``
    writes for the others) around its rows' JSON lines as Postgres sends them; the first
    PREVIEW_ROWS rows are parsed into ``preview`` on the way."""
    head = json.dumps(
        {"model": name, "scope": scope, "params": jsonable(params)}, ensure_ascii=False
    )
    yield (head[:-1] + ', "rows": [\n').encode()
    pending = b""
    for chunk in lines:
        if len(preview) < PREVIEW_ROWS:
            pending += chunk
            *complete, pending = pending.split(b"\n")
            wanted = complete[: PREVIEW_ROWS - len(preview)]
            preview.extend(json.loads(line.lstrip(b",")) for line in wanted)
        yield bytes(chunk)
    yield b"]}\n"


def _read_model(store, design: str, params: dict[str, Any], name: str) -> dict:
    """The stored rows of model ``name`` for exactly these parameters, or a clear failure."""
    scope = scope_id(params)
    try:
        stored = json.loads(store.get_bytes(_model_key(design, scope, name)))
    except KeyError:
        raise dg.Failure(
            f"SQL model {name!r} has not been materialized for query design {design} with "
            f"these filters (scope {scope}): materialize it (or the whole analysis group) "
            "for this partition with the same analysis_scope first"
        ) from None
    if stored["params"] != jsonable(params):
        raise dg.Failure(
            f"SQL model {name!r} of query design {design} (scope {scope}) was computed with "
            "other parameters (defaults changed since?): materialize it again first"
        )
    return stored


def _md_table(rows: list[dict], limit: int = 10) -> str:
    if not rows:
        return "_no rows_"
    columns = list(rows[0])

    def cell(value: Any) -> str:
        text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
        return str(text).replace("|", "\\|").replace("\n", " ")[:80]

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows[:limit]]
    return "\n".join(lines)


# --- one asset per SQL model, all in one step so stg_content is built once ---

MODELS = load_models()
# Editing a model's SQL (or a model it reads) changes its code version: Dagster shows it as
# changed and the eager automation rebuilds it; the persisted facets follow facets.code_version.
MODEL_VERSIONS = code_versions(MODELS)
MODEL_SPECS = [
    dg.AssetSpec(
        key=name,
        deps=list(model.depends_on) + ([COLLECTED_CONTENT] if not model.depends_on else []),
        description=f"{model.description} (SQL: dbt_like_sql/{model.path.name})",
        group_name=GROUP,
        kinds={"postgres", "sql"},
        automation_condition=EAGER,
        skippable=True,
        code_version=MODEL_VERSIONS[name],
    )
    for name, model in MODELS.items()
]


@dg.multi_asset(
    name="analysis_sql_models",
    specs=MODEL_SPECS,
    partitions_def=query_designs_partitions,
    can_subset=True,
    description="The dbt-like SQL models of one query design, built as temp tables in one "
    "transaction; each model's rows are stored as JSON in the outputs bucket (those no other "
    "asset reads streamed from Postgres, never loaded into Python).",
)
def analysis_sql_models(
    context: dg.AssetExecutionContext,
    postgres: PostgresResource,
    object_store: ObjectStoreResource,
    analysis_scope: AnalysisScopeResource,
):
    design = context.partition_key
    selected = [name for name in MODELS if dg.AssetKey(name) in context.selected_asset_keys]
    refreshes: list = []
    store = object_store.outputs()
    previews: dict[str, list[dict]] = {}

    def publish(name: str, lines: Iterator[bytes]) -> None:
        # Inside the analysis transaction (the temp table is read while it is uploaded).
        preview = previews.setdefault(name, [])
        document = _streamed_model(name, scope, params, lines, preview)
        store.put(_model_key(design, scope, name), document, content_type="application/json")

    with _connect(postgres) as conn:
        params = check_scope(conn, analysis_scope.scope(design))
        scope = scope_id(params)
        results = run_models(conn, params, selected, facet_refreshes=refreshes, publish=publish)
    for name in selected:
        rows = results[name]
        key = _model_key(design, scope, name)
        used = {p: params[p] for p in MODELS[name].params}
        if MODELS[name].returns != "stream":
            _put_json(store, key, {"model": name, "scope": scope, "params": params, "rows": rows})
        metadata: dict[str, Any] = {
            "object_key": dg.MetadataValue.text(key),
            "params": dg.MetadataValue.json(jsonable(used)),
            **_scope_metadata(scope, params),
        }
        if name == "stg_content" and refreshes:  # the standard scope's stored facets
            for key, value in refreshes[0].metadata().items():
                if isinstance(value, int):
                    metadata[key] = dg.MetadataValue.int(value)
                elif value is not None:
                    metadata[key] = dg.MetadataValue.text(value)
        if MODELS[name].returns == "stream":
            metadata["dagster/row_count"] = dg.MetadataValue.int(rows[0]["rows"])
            metadata["preview"] = dg.MetadataValue.md(_md_table(previews[name]))
        elif MODELS[name].returns == "count":
            metadata["dagster/row_count"] = dg.MetadataValue.int(rows[0]["rows"])
        else:
            metadata["dagster/row_count"] = dg.MetadataValue.int(len(rows))
            metadata["preview"] = dg.MetadataValue.md(_md_table(rows))
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)


# --- descriptive report ---


@dg.asset(
    partitions_def=query_designs_partitions,
    deps=list(DESCRIPTIVE_MODELS),
    group_name=GROUP,
    kinds={"python", "json"},
    automation_condition=EAGER,
    description="Volume over time, top actors and terms, engagement distribution and run "
    "summary of one query design, as one JSON report with a volume chart.",
)
def descriptive_statistics(
    context: dg.AssetExecutionContext,
    object_store: ObjectStoreResource,
    analysis_scope: AnalysisScopeResource,
) -> dg.MaterializeResult:
    design = context.partition_key
    store = object_store.outputs()
    params = analysis_scope.scope(design).params()
    scope = scope_id(params)
    # Every model read was computed with these very parameters (checked), never a mix.
    stored = {name: _read_model(store, design, params, name) for name in DESCRIPTIVE_MODELS}
    report = {
        "scope": scope,
        "non_default_parameters": non_default_parameters(params),
        **assemble_report({n: s["rows"] for n, s in stored.items()}, params),
        "parameters": jsonable(params),
    }
    key = f"{_base(design, scope)}/descriptive.json"
    _put_json(store, key, report)
    chart = plots.volume_chart(report["volume"], report["granularity"])
    return dg.MaterializeResult(
        metadata={
            "total_records": dg.MetadataValue.int(report["total_records"]),
            "object_key": dg.MetadataValue.text(key),
            "url": dg.MetadataValue.url(store.presign(key, PRESIGN_FOR)),
            "volume_over_time": dg.MetadataValue.md(
                plots.markdown_image(chart, "records over time")
            ),
            "top_actors": dg.MetadataValue.md(_md_table(report["top_actors"])),
            "top_terms": dg.MetadataValue.md(_md_table(report["top_terms"])),
            "engagement": dg.MetadataValue.json(report["engagement"]),
            **_scope_metadata(scope, params),
        }
    )


# --- networks ---


def _network_asset(network: str, model: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"{network}_network",
        partitions_def=query_designs_partitions,
        deps=[model],
        group_name=GROUP,
        kinds={"networkx", "gexf"},
        automation_condition=EAGER,
        description=f"The {network.replace('_', ' ')} network of one query design: graph JSON, "
        f"GEXF 1.3 with a 1 h download link, degree/weighted degree/Louvain communities.",
    )
    def _asset(
        context: dg.AssetExecutionContext,
        postgres: PostgresResource,
        object_store: ObjectStoreResource,
        analysis_scope: AnalysisScopeResource,
    ) -> dg.MaterializeResult:
        design = context.partition_key
        store = object_store.outputs()
        params = analysis_scope.scope(design).params()
        scope = scope_id(params)
        graph = build_network(network, _read_model(store, design, params, model)["rows"])
        json_key = f"{_base(design, scope)}/networks/{network}.json"
        _put_json(
            store,
            json_key,
            {
                "scope": scope,
                "non_default_parameters": non_default_parameters(params),
                "parameters": params,
                **graph,
            },
        )
        with _connect(postgres) as conn:
            owner = design_owner(conn, design)
        # One stable key per (design, scope, network): the next run replaces the file.
        gexf_key = f"exports/{owner}/{design}/{scope}/{network}.gexf"
        description = f"{network.replace('_', ' ')} network of query design {design}"
        if scope != STANDARD_SCOPE:
            description += f" ({scope}: {json.dumps(non_default_parameters(params))})"
        store.put(gexf_key, gexf_bytes(graph, description), content_type="application/gexf+xml")
        png = plots.degree_distribution(graph, f"{network.replace('_', ' ')}: degrees")
        return dg.MaterializeResult(
            metadata={
                "nodes": dg.MetadataValue.int(graph["metrics"]["nodes"]),
                "edges": dg.MetadataValue.int(graph["metrics"]["edges"]),
                "communities": dg.MetadataValue.int(graph["metrics"]["communities"]),
                "metrics": dg.MetadataValue.json(graph["metrics"]),
                "graph_key": dg.MetadataValue.text(json_key),
                "gexf_key": dg.MetadataValue.text(gexf_key),
                "gexf_url": dg.MetadataValue.url(store.presign(gexf_key, PRESIGN_FOR)),
                "degree_distribution": dg.MetadataValue.md(
                    plots.markdown_image(png, "degree distribution")
                ),
                **_scope_metadata(scope, params),
            }
        )

    return _asset


NETWORK_ASSETS = [_network_asset(network, model) for network, model in NETWORK_MODELS.items()]


# --- exports ---


def _export_asset(fmt: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"content_export_{fmt}",
        partitions_def=query_designs_partitions,
        deps=["stg_content"],
        group_name=GROUP,
        kinds={fmt, "s3"},
        description=f"The design's records (same filters as the analysis) as {fmt.upper()}, "
        "streamed to exports/{user_id}/{export_id}." + fmt + " with a 1 h download link.",
    )
    def _asset(
        context: dg.AssetExecutionContext,
        postgres: PostgresResource,
        object_store: ObjectStoreResource,
        analysis_scope: AnalysisScopeResource,
    ) -> dg.MaterializeResult:
        design = context.partition_key
        store = object_store.outputs()
        with _connect(postgres) as conn:
            params = check_scope(conn, analysis_scope.scope(design))
            owner = design_owner(conn, design)
            key = f"exports/{owner}/{context.run.run_id}.{fmt}"
            result = export_records(
                conn,
                params,
                fmt,
                store,
                key,
                metadata={"query-design": design, "dagster-run": context.run.run_id},
                max_rows_per_sheet=analysis_scope.xlsx_max_rows_per_sheet,
            )
        metadata = {
            "dagster/row_count": dg.MetadataValue.int(result.rows),
            "bytes": dg.MetadataValue.int(result.size),
            "object_key": dg.MetadataValue.text(key),
            "export_id": dg.MetadataValue.text(context.run.run_id),
            "url": dg.MetadataValue.url(store.presign(key, PRESIGN_FOR)),
        }
        if fmt == "xlsx":
            metadata["sheets"] = dg.MetadataValue.int(result.sheets)
            metadata["truncated_cells"] = dg.MetadataValue.int(result.truncated_cells)
        return dg.MaterializeResult(metadata=metadata)

    return _asset


EXPORT_ASSETS = [_export_asset(fmt) for fmt in ("csv", "xlsx", "ndjson", "parquet")]

analyse_query_design_job = dg.define_asset_job(
    "analyse_query_design",
    selection=dg.AssetSelection.assets(
        analysis_sql_models, descriptive_statistics, *NETWORK_ASSETS
    ),
    description="Every SQL model, the descriptive report and the networks of one query design.",
    # Each model replaces its scope's rows: a re-run is safe.
    tags={"dagster/max_runtime": str(2 * 3600), "dagster/max_retries": "1"},
)
export_query_design_job = dg.define_asset_job(
    "export_query_design",
    selection=dg.AssetSelection.assets(*EXPORT_ASSETS),
    description="CSV, XLSX, NDJSON and Parquet exports of one query design's records.",
    tags={"dagster/max_runtime": str(2 * 3600), "dagster/max_retries": "1"},
)

defs = dg.Definitions(
    assets=[analysis_sql_models, descriptive_statistics, *NETWORK_ASSETS, *EXPORT_ASSETS],
    jobs=[analyse_query_design_job, export_query_design_job],
    resources={"analysis_scope": AnalysisScopeResource()},
)
