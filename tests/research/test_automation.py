"""The research assets of a design run after that design's collection AND the enrichments
it set off — not in the same tick as the enrichments (they would read records not enriched
yet), and not for designs that were not collected (the enrichments are unpartitioned, so an
eager condition would re-run every design's analyses after every enrichment run)."""

from __future__ import annotations

import dagster as dg

from observatory_pipelines.definitions import defs
from observatory_pipelines.research.assets import research_assets

DESIGN = "7c0c7f1e-0000-4000-8000-000000000001"
OTHER = "7c0c7f1e-0000-4000-8000-000000000002"
RESEARCH = {asset.key for asset in research_assets}
ENRICHMENTS = [
    key
    for key in defs.resolve_asset_graph().get_all_asset_keys()
    if defs.resolve_asset_graph().get(key).group_name == "enrichments"
]


def _requested(result) -> dict[str, set[str]]:
    return {
        key.path[-1]: set(result.get_requested_partitions(key))
        for key in RESEARCH
        if result.get_requested_partitions(key)
    }


def test_a_designs_analyses_wait_for_its_enrichments_and_others_do_not_rerun():
    [sensor] = [
        s
        for s in defs.get_repository_def().sensor_defs
        if isinstance(s, dg.AutomationConditionSensorDefinition)
    ]
    assert ENRICHMENTS
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", [DESIGN, OTHER])

        def tick(cursor=None):
            return dg.evaluate_automation_conditions(
                defs=defs, instance=instance, asset_selection=sensor.asset_selection, cursor=cursor
            )

        def report(key, partition=None):
            instance.report_runless_asset_event(
                dg.AssetMaterialization(asset_key=key, partition=partition)
            )

        result = tick()
        for design in (DESIGN, OTHER):
            report("collected_content", design)
        result = tick(result.cursor)  # the enrichments are requested; the analyses wait
        assert all(result.get_num_requested(key) for key in ENRICHMENTS)
        assert _requested(result) == {}
        for key in ENRICHMENTS:
            report(key)
        result = tick(result.cursor)
        assert _requested(result) == {key.path[-1]: {DESIGN, OTHER} for key in RESEARCH}
        for key in RESEARCH:
            report(key, DESIGN)
            report(key, OTHER)
        result = tick(result.cursor)

        report("collected_content", DESIGN)  # only this design is collected again
        result = tick(result.cursor)
        assert _requested(result) == {}
        for key in ENRICHMENTS:
            report(key)
        result = tick(result.cursor)
        assert _requested(result) == {key.path[-1]: {DESIGN} for key in RESEARCH}
        for key in RESEARCH:
            report(key, DESIGN)
        assert _requested(tick(result.cursor)) == {}
