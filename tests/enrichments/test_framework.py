"""Once per record, new records only, everything again on a new version, nothing lost."""

from __future__ import annotations

import dataclasses

import dagster as dg
import pytest

from observatory_pipelines.db.engine import connect
from observatory_pipelines.definitions import defs
from observatory_pipelines.enrichments import assets as edge
from observatory_pipelines.enrichments.catalog import ENRICHMENTS, URLS
from observatory_pipelines.enrichments.framework import EnrichmentBusy, run_enrichment
from observatory_pipelines.enrichments.service import check_coverage, enrich

from .conftest import fill


def _versions(conn, table="enrichment_url_records"):
    return conn.execute(
        f"SELECT method_version, count(*) FROM {table} GROUP BY 1 ORDER BY 1"
    ).fetchall()


def test_no_records_gives_an_empty_valid_result_and_a_passing_coverage(conn, database_url):
    for enrichment in ENRICHMENTS:
        result = enrich(database_url, enrichment)
        assert result["records_enriched_now"] == 0 and result["records"] == 0
        found = check_coverage(database_url, enrichment)
        assert found["missing"] == 0 and found["stored_version"] == found["current_version"]
        assert found["current_version"].startswith(enrichment.method_version)


def test_a_second_run_enriches_only_the_new_records(conn, database_url):
    fill(conn, 23)
    first = run_enrichment(conn, URLS, page_size=5)  # several pages, keyset by id
    assert (first.records, first.pages) == (23, 5)
    assert first.rows_written == {"enrichment_urls": 23, "enrichment_url_records": 23}

    again = run_enrichment(conn, URLS, page_size=5)
    assert again.records == 0 and again.rows_written == {}

    fill(conn, 7, start=100)
    second = run_enrichment(conn, URLS, page_size=5)
    assert second.records == 7
    assert second.rows_written == {"enrichment_urls": 7, "enrichment_url_records": 7}
    assert conn.execute("SELECT count(*) FROM enrichment_urls").fetchone()[0] == 30


def test_a_new_version_recomputes_every_record(conn, database_url):
    fill(conn, 12)
    run_enrichment(conn, URLS, page_size=5)
    bumped = dataclasses.replace(URLS, method_version=URLS.method_version + "-next")
    assert check_coverage(database_url, bumped)["missing"] == 12

    rerun = run_enrichment(conn, bumped, page_size=5)

    assert rerun.recomputed_all and rerun.records == 12
    assert _versions(conn) == [(bumped.method_version, 12)]
    assert conn.execute("SELECT count(*) FROM enrichment_urls").fetchone()[0] == 12
    assert check_coverage(database_url, bumped)["missing"] == 0


def test_results_of_deleted_records_are_pruned(conn, database_url):
    ids = fill(conn, 4)
    enrich(database_url, URLS)
    conn.execute("DELETE FROM content_records WHERE id = %s", [ids[0]])

    result = enrich(database_url, URLS)

    assert result["rows_pruned"] == 2  # its link and its marker row
    assert result["records_enriched_now"] == 0
    assert conn.execute("SELECT count(*) FROM enrichment_url_records").fetchone()[0] == 3


def test_the_assets_materialize_with_metadata_and_their_checks_pass(conn, postgres):
    fill(conn, 3)
    result = dg.materialize(
        [*edge.enrichment_assets, *edge.enrichment_checks], resources={"postgres": postgres}
    )

    assert result.success
    [materialization] = result.asset_materializations_for_node(URLS.name)
    assert materialization.metadata["records_enriched_now"].value == 3
    assert materialization.metadata["method_version"].value == URLS.method_version
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {f"{e.name}_complete": True for e in ENRICHMENTS}


def test_a_collection_of_any_design_requests_every_enrichment():
    sensor = next(
        s
        for s in defs.get_repository_def().sensor_defs
        if isinstance(s, dg.AutomationConditionSensorDefinition)
    )
    names = {e.name for e in ENRICHMENTS}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", ["d1", "d2"])

        def tick(cursor=None):
            return dg.evaluate_automation_conditions(
                defs=defs, instance=instance, asset_selection=sensor.asset_selection, cursor=cursor
            )

        def requested(result):
            return {name for name in names if result.get_num_requested(dg.AssetKey(name))}

        first = tick()  # nothing collected yet: nothing to enrich
        assert requested(first) == set()
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key="collected_content", partition="d2")
        )
        after = tick(first.cursor)
        assert requested(after) == names
        for name in names:
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=name))
        quiet = tick(after.cursor)
        assert requested(quiet) == set()


def test_a_second_concurrent_run_of_one_enrichment_is_refused_by_name(conn, database_url):
    fill(conn, 2)
    key = f"observatory_pipelines.enrichments:{URLS.name}"
    with connect(database_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", [key])
        with pytest.raises(EnrichmentBusy, match="record_urls"):
            run_enrichment(conn, URLS)
        other.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])
    assert conn.execute("SELECT count(*) FROM enrichment_url_records").fetchone() == (0,)
    assert run_enrichment(conn, URLS).records == 2
