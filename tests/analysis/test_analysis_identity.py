"""One design's standard analysis and its filtered analyses live side by side, and stay put.

The standard analysis (no filter, default options) is what the automation keeps fresh; a
filtered launchpad run is stored under its own scope, so neither overwrites the other, and
every stored output says which filters it was computed with. Outputs of one (design, scope)
are replaced on the next run, never accumulated.
"""

from __future__ import annotations

import json

import dagster as dg

from observatory_pipelines.analysis import assets

ANALYSIS = [assets.analysis_sql_models, assets.descriptive_statistics, *assets.NETWORK_ASSETS]


def _analyse(instance, design, postgres, store_resource, **scope):
    result = dg.materialize(
        ANALYSIS,
        partition_key=design,
        instance=instance,
        resources={
            "postgres": postgres,
            "object_store": store_resource,
            "analysis_scope": assets.AnalysisScopeResource(**scope),
        },
    )
    assert result.success
    return result


def _metadata(result, key: str) -> dict:
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(key)
    ]
    return event.materialization.metadata


def _scopes(store, design: str) -> set[str]:
    prefix = f"analysis/{design}/"
    return {info.key[len(prefix) :].split("/", 1)[0] for info in store.list(prefix)}


def test_a_filtered_run_never_overwrites_the_standard_analysis(
    corpus, postgres, object_store_resource
):
    store = object_store_resource.outputs()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", [corpus.design])
        standard = _analyse(instance, corpus.design, postgres, object_store_resource)
        filtered = _analyse(
            instance, corpus.design, postgres, object_store_resource, platforms=["bluesky"]
        )

    [filtered_scope] = _scopes(store, corpus.design) - {"standard"}
    assert _scopes(store, corpus.design) == {"standard", filtered_scope}
    assert filtered_scope.startswith("filtered-")

    base = f"analysis/{corpus.design}"
    report = json.loads(store.get_bytes(f"{base}/standard/descriptive.json"))
    assert report["scope"] == "standard" and report["total_records"] == 9
    assert report["filters"]["platforms"] is None
    narrowed = json.loads(store.get_bytes(f"{base}/{filtered_scope}/descriptive.json"))
    assert narrowed["scope"] == filtered_scope and narrowed["total_records"] == 3
    assert narrowed["filters"]["platforms"] == ["bluesky"]
    assert narrowed["non_default_parameters"] == {"platforms": ["bluesky"]}

    model = json.loads(store.get_bytes(f"{base}/{filtered_scope}/models/volume_over_time.json"))
    assert model["params"]["platforms"] == ["bluesky"] and model["scope"] == filtered_scope
    graph = json.loads(store.get_bytes(f"{base}/{filtered_scope}/networks/actor_cooccurrence.json"))
    assert graph["non_default_parameters"] == {"platforms": ["bluesky"]}

    # what the UI shows says which analysis it is
    assert _metadata(standard, "descriptive_statistics")["analysis_scope"].value == "standard"
    meta = _metadata(filtered, "descriptive_statistics")
    assert meta["analysis_scope"].value == filtered_scope
    assert meta["filters"].value == {"platforms": ["bluesky"]}
    gexf = _metadata(filtered, "actor_cooccurrence_network")["gexf_key"].value
    assert (
        gexf == f"exports/{corpus.owner}/{corpus.design}/{filtered_scope}/actor_cooccurrence.gexf"
    )


def test_the_same_filters_name_the_same_scope_and_other_filters_another(
    corpus, postgres, object_store_resource
):
    store = object_store_resource.outputs()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", [corpus.design])
        for scope in (
            {"platforms": ["bluesky"], "date_from": "2026-02-01"},
            {"date_from": "2026-02-01", "platforms": ["bluesky"]},  # same filters, same scope
            {"platforms": ["bluesky"], "date_from": "2026-02-01", "top_limit": 5},
        ):
            _analyse(instance, corpus.design, postgres, object_store_resource, **scope)
    assert len(_scopes(store, corpus.design)) == 2


def test_analysing_twice_replaces_the_outputs_instead_of_adding_files(
    corpus, postgres, object_store_resource
):
    store = object_store_resource.outputs()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", [corpus.design, corpus.other_design])
        _analyse(instance, corpus.design, postgres, object_store_resource)
        first = sorted(info.key for info in store.list(""))
        _analyse(instance, corpus.design, postgres, object_store_resource)
        _analyse(instance, corpus.other_design, postgres, object_store_resource)
        every = sorted(info.key for info in store.list(""))

    gexf = [key for key in every if key.endswith(".gexf")]
    assert len(gexf) == 2 * len(assets.NETWORK_ASSETS)  # one per network and design, not per run
    assert {key.split("/")[2] for key in gexf} == {corpus.design, corpus.other_design}
    assert [key for key in every if corpus.other_design not in key] == first
