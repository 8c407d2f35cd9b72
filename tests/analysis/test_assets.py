"""The analysis assets materialize in process for one query design partition."""

from __future__ import annotations

import dataclasses
import io
import json

import dagster as dg
import pyarrow.parquet as pq
import pytest

from observatory_pipelines.analysis import assets
from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.analysis.sql_models import load_models, run_models
from observatory_pipelines.collection import assets as collection_assets

ALL = [
    assets.analysis_sql_models,
    assets.descriptive_statistics,
    *assets.NETWORK_ASSETS,
    *assets.EXPORT_ASSETS,
]


def _materialize(instance, design, postgres, object_store_resource, selection=None, **scope):
    return dg.materialize(
        ALL,
        selection=selection,
        partition_key=design,
        instance=instance,
        resources={
            "postgres": postgres,
            "object_store": object_store_resource,
            "analysis_scope": assets.AnalysisScopeResource(**scope),
        },
        raise_on_error=False,
    )


def _metadata(result, key: str) -> dict:
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(key)
    ]
    return event.materialization.metadata


def test_everything_materializes_for_one_design(corpus, postgres, object_store_resource):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", [corpus.design, corpus.other_design])
        result = _materialize(
            instance, corpus.design, postgres, object_store_resource, granularity="month"
        )
        assert result.success
        store = object_store_resource.outputs()

        assert _metadata(result, "stg_content")["dagster/row_count"].value == 9
        volume = _metadata(result, "volume_over_time")
        assert volume["dagster/row_count"].value == 2 and "period" in volume["preview"].value

        report_meta = _metadata(result, "descriptive_statistics")
        assert report_meta["total_records"].value == 9
        assert report_meta["volume_over_time"].value.startswith(
            "![records over time](data:image/png;base64,"
        )
        # granularity=month is not the standard analysis: it is stored under its own scope
        assert report_meta["analysis_scope"].value.startswith("filtered-")
        assert report_meta["filters"].value == {"granularity": "month"}
        report = json.loads(store.get_bytes(report_meta["object_key"].value))
        assert [row["count"] for row in report["volume"]] == [4, 5]
        assert report["top_terms"][0] == {"term": "klima", "count": 6}

        actor = _metadata(result, "actor_cooccurrence_network")
        assert (actor["nodes"].value, actor["edges"].value) == (5, 7)
        assert actor["degree_distribution"].value.startswith(
            "![degree distribution](data:image/png"
        )
        gexf_key = actor["gexf_key"].value
        assert gexf_key.startswith(f"exports/{corpus.owner}/") and gexf_key.endswith(".gexf")
        assert b'version="1.3"' in store.get_bytes(gexf_key)
        assert actor["gexf_url"].value.startswith("file://")

        for fmt in ("csv", "xlsx", "ndjson", "parquet"):
            meta = _metadata(result, f"content_export_{fmt}")
            key = meta["object_key"].value
            assert key == f"exports/{corpus.owner}/{result.run_id}.{fmt}"
            assert meta["dagster/row_count"].value == 9
            assert meta["bytes"].value == store.stat(key).size
            assert meta["url"].value
        parquet = store.get_bytes(f"exports/{corpus.owner}/{result.run_id}.parquet")
        assert pq.read_table(io.BytesIO(parquet)).num_rows == 9

        # the other design is untouched: nothing stored for it
        assert list(store.list(f"analysis/{corpus.other_design}/")) == []


STREAMED = [name for name, model in load_models().items() if model.returns == "stream"]


def test_streamed_models_store_the_rows_they_would_have_returned(
    conn, corpus, postgres, s3_object_store_resource
):
    """The models stored by streaming (actors_in_scope, ...) hold the same JSON document as
    when their rows were read back into Python, in S3 too; their preview shows the first rows."""
    assert set(STREAMED) == {"actors_in_scope", "actor_nodes", "term_sets", "actor_terms"}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", [corpus.design])
        result = _materialize(
            instance, corpus.design, postgres, s3_object_store_resource, selection=STREAMED
        )
        assert result.success
    params = check_scope(conn, AnalysisScope(corpus.design))
    as_rows = {n: dataclasses.replace(m, returns="rows") for n, m in load_models().items()}
    expected = run_models(conn, params, STREAMED, as_rows)
    conn.commit()
    store = s3_object_store_resource.outputs()
    for name in STREAMED:
        meta = _metadata(result, name)
        stored = json.loads(store.get_bytes(meta["object_key"].value))
        assert stored == {
            "model": name,
            "scope": "standard",
            "params": json.loads(json.dumps(assets.jsonable(params))),
            "rows": expected[name],
        }
        assert len(expected[name]) > 1, name
        assert meta["dagster/row_count"].value == len(expected[name])
        assert meta["preview"].value == assets._md_table(expected[name])


def test_subset_filters_and_s3(corpus, postgres, s3_object_store_resource):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", [corpus.design])
        result = _materialize(
            instance,
            corpus.design,
            postgres,
            s3_object_store_resource,
            selection=["stg_content", "top_terms", "content_export_ndjson"],
            platforms=["bluesky", "reddit"],
        )
        assert result.success
        materialized = {
            e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
        }
        assert materialized == {"stg_content", "top_terms", "content_export_ndjson"}
        assert _metadata(result, "stg_content")["dagster/row_count"].value == 6
        meta = _metadata(result, "content_export_ndjson")
        assert meta["dagster/row_count"].value == 6
        assert meta["url"].value.startswith("http://127.0.0.1")


def test_unknown_design_fails_the_run_with_a_clear_error(corpus, postgres, object_store_resource):
    missing = "00000000-0000-4000-8000-000000000000"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", [missing])
        result = _materialize(
            instance, missing, postgres, object_store_resource, selection=["stg_content"]
        )
        assert not result.success
        [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        assert (
            f"query design {missing} does not exist"
            in failure.event_specific_data.error.to_string()
        )


def test_bad_granularity_fails_with_allow_list_message(corpus, postgres, object_store_resource):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", [corpus.design])
        result = _materialize(
            instance,
            corpus.design,
            postgres,
            object_store_resource,
            selection=["volume_over_time"],
            granularity="day; DROP TABLE users",
        )
        assert not result.success
        [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        assert "granularity must be one of hour, day, week, month" in (
            failure.event_specific_data.error.to_string()
        )


def test_lineage_and_automation(postgres, object_store_resource):
    defs = dg.Definitions.merge(
        dg.Definitions(resources={"postgres": postgres, "object_store": object_store_resource}),
        collection_assets.defs,
        assets.defs,
    )
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey("stg_content")).parent_keys == {dg.AssetKey("collected_content")}
    assert graph.get(dg.AssetKey("actor_pairs")).parent_keys == {
        dg.AssetKey("actor_terms"),
        dg.AssetKey("actor_nodes"),
    }
    assert graph.get(dg.AssetKey("descriptive_statistics")).parent_keys == {
        dg.AssetKey(n)
        for n in (
            "volume_over_time",
            "top_actors",
            "top_terms",
            "engagement_distribution",
            "run_summary",
        )
    }
    for key in ("stg_content", "term_pairs", "descriptive_statistics", "term_cooccurrence_network"):
        assert graph.get(dg.AssetKey(key)).automation_condition is not None
    assert graph.get(dg.AssetKey("content_export_csv")).automation_condition is None
    partitions = graph.get(dg.AssetKey("stg_content")).partitions_def
    assert partitions == collection_assets.query_designs_partitions


@pytest.mark.parametrize("name", ["volume_over_time", "actor_pairs"])
def test_model_assets_depend_only_on_declared_models(name):
    model = assets.MODELS[name]
    spec = next(s for s in assets.MODEL_SPECS if s.key == dg.AssetKey(name))
    assert {d.asset_key for d in spec.deps} == {dg.AssetKey(d) for d in model.depends_on}


def test_a_streamed_document_is_whole_whatever_the_chunks_and_previews_ten_rows():
    """COPY may hand over pieces that do not end at a line: the document is the same and the
    preview holds the first PREVIEW_ROWS rows, parsed across the piece boundaries."""
    rows = [{"n": n, "text": 'a\\"b,\n' * (n % 3)} for n in range(25)]
    lines = "".join(("," if n else "") + json.dumps(row) + "\n" for n, row in enumerate(rows))
    pieces = [lines.encode()[i : i + 7] for i in range(0, len(lines.encode()), 7)]
    preview: list[dict] = []
    document = b"".join(assets._streamed_model("m", "standard", {"p": 1}, iter(pieces), preview))
    assert json.loads(document) == {
        "model": "m",
        "scope": "standard",
        "params": {"p": 1},
        "rows": rows,
    }
    assert preview == rows[: assets.PREVIEW_ROWS]
