"""The loaded Definitions re-analyse a design by themselves after its collection.

Evaluated the way the daemon evaluates the automation sensor defined in code (no sensor to
switch on in the UI): a new ``collected_content`` materialization of a design requests the
eager analysis assets of that design, and a tick with nothing new requests nothing.
"""

from __future__ import annotations

import dagster as dg

from observatory_pipelines.definitions import defs

DESIGN = "7c0c7f1e-0000-4000-8000-000000000001"
OTHER = "7c0c7f1e-0000-4000-8000-000000000002"
EAGER_ANALYSIS = {
    "stg_content",
    "volume_over_time",
    "top_terms",
    "actor_pairs",
    "descriptive_statistics",
    "actor_cooccurrence_network",
    "term_cooccurrence_network",
    "actor_term_bipartite_network",
    "cross_platform_actors_network",
}


def _automation_sensors() -> list[dg.AutomationConditionSensorDefinition]:
    return [
        s
        for s in defs.get_repository_def().sensor_defs
        if isinstance(s, dg.AutomationConditionSensorDefinition)
    ]


def test_analysis_depends_on_collected_content_in_the_loaded_definitions():
    graph = defs.resolve_asset_graph()
    stg = graph.get(dg.AssetKey("stg_content"))
    assert stg.parent_keys == {dg.AssetKey("collected_content")}
    collected = graph.get(dg.AssetKey("collected_content"))
    # one partitions definition for both edges, not two that happen to share a name
    assert stg.partitions_def is collected.partitions_def
    assert graph.get(dg.AssetKey("descriptive_statistics")).partitions_def is stg.partitions_def


def test_the_automation_sensor_is_defined_in_code_and_running_by_default():
    [sensor] = _automation_sensors()
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    targeted = {k.to_user_string() for k in sensor.asset_selection.resolve(graph)}
    eager = {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if graph.get(k).is_materializable and graph.get(k).automation_condition is not None
    }
    assert EAGER_ANALYSIS <= eager <= targeted


def test_a_new_collection_requests_the_analysis_of_that_design():
    [sensor] = _automation_sensors()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", [DESIGN, OTHER])

        def tick(cursor=None):
            return dg.evaluate_automation_conditions(
                defs=defs, instance=instance, asset_selection=sensor.asset_selection, cursor=cursor
            )

        before = tick()  # nothing collected yet: nothing to analyse
        assert before.total_requested == 0

        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key="collected_content", partition=DESIGN)
        )
        after = tick(before.cursor)
        requested = {
            key.to_user_string()
            for key in defs.resolve_asset_graph().get_all_asset_keys()
            if after.get_requested_partitions(key)
        }
        assert EAGER_ANALYSIS <= requested
        assert not any(name.startswith("content_export_") for name in requested)
        for name in EAGER_ANALYSIS:
            assert after.get_requested_partitions(dg.AssetKey(name)) == {DESIGN}

        again = tick(after.cursor)  # nothing new since: nothing requested
        assert again.total_requested == 0
