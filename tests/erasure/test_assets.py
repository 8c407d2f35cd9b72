"""The Dagster edge: the ``erase_person`` job, and the sensor that re-analyses after it."""

from __future__ import annotations

import json

import dagster as dg

from observatory_pipelines.analysis import assets as analysis
from observatory_pipelines.erasure import assets
from observatory_pipelines.erasure.person import check_request
from observatory_pipelines.erasure.service import erase

from .conftest import JENS_MARKER, JENS_NAME, new_uuid, row_hashes, tables_mentioning

ANALYSIS = [analysis.analysis_sql_models, analysis.descriptive_statistics, *analysis.NETWORK_ASSETS]


def _run_job(instance, postgres, object_store_resource, **config):
    return assets.erase_person.execute_in_process(
        run_config={"ops": {"erase_person_op": {"config": config}}},
        resources={"postgres": postgres, "object_store": object_store_resource},
        instance=instance,
        raise_on_error=False,
    )


def _metadata(result) -> dict:
    [output] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    return output.event_specific_data.metadata


def _run_messages(instance, result) -> str:
    """Every message the run logged (steps, ops, Dagster's own events)."""
    return "\n".join(record.user_message for record in instance.all_logs(result.run_id)).casefold()


def test_the_job_erases_and_reports_counts_without_personal_data(
    corpus, db, postgres, object_store_resource
):
    with dg.instance_for_test() as instance:
        result = _run_job(
            instance,
            postgres,
            object_store_resource,
            platform="bluesky",
            platform_user_id=corpus.quinn_needles()[0],
            requested_by="Dorte DPO",
            reference="DPO-2026-018",
        )
        assert result.success
        metadata = _metadata(result)
        assert metadata["records_erased"].value == 2
        assert metadata["rows_deleted"].value["content_record_collections"] == 2
        assert metadata["status"].value == "completed"
        assert sorted(metadata["affected_designs"].value) == sorted([corpus.d1, corpus.d2])
        assert metadata["erasure_log_id"].value > 0
        logged = _run_messages(instance, result)
        assert "erased 2 record(s) of the given bluesky user (request dpo-2026-018)" in logged
        # Only the run config holds the identifier (docs/erasure.md); nothing the job wrote does.
        metadata_text = json.dumps({k: str(v.value) for k, v in metadata.items()}).casefold()
        for needle in corpus.quinn_needles():
            assert needle.casefold() not in metadata_text
            assert needle.casefold() not in logged
        assert tables_mentioning(db, corpus.quinn_needles()) == {}


def test_the_job_fails_for_an_unknown_person_without_naming_them(
    corpus, db, postgres, object_store_resource
):
    before = row_hashes(db)
    with dg.instance_for_test() as instance:
        result = _run_job(
            instance,
            postgres,
            object_store_resource,
            platform="bluesky",
            platform_user_id="did:plc:nobodyatall",
            requested_by="Dorte DPO",
            reference="DPO-1",
        )
        assert not result.success
        [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        message = failure.event_specific_data.error.message
        assert "no records or actor for the given bluesky user; nothing was changed" in message
        assert "nobodyatall" not in message
        refused = _run_job(
            instance,
            postgres,
            object_store_resource,
            actor_id=new_uuid(),
            requested_by="Dorte DPO",
            reference="my request",
        )
        assert not refused.success
    assert row_hashes(db) == before


def test_the_sensor_reanalyses_every_affected_design_once(
    corpus, db, postgres, object_store_resource
):
    outputs = object_store_resource.outputs()
    report = erase(
        db,
        outputs,
        check_request(requested_by="Dorte", reference="DPO-3", actor_id=corpus.jens_actor),
    )
    with dg.instance_for_test() as instance:
        # D2 was never collected through Dagster: not a partition, so nothing to launch for it
        instance.add_dynamic_partitions("query_designs", [corpus.d1, corpus.d3])
        context = dg.build_sensor_context(instance=instance, resources={"postgres": postgres})
        requests = assets.erasure_reanalysis(context)
        assert [(r.partition_key, r.tags["observatory/erasure_log_id"]) for r in requests] == [
            (corpus.d1, str(report.log_id))
        ]
        again = assets.erasure_reanalysis(context)
        assert [r.run_key for r in again] == [r.run_key for r in requests]  # Dagster runs it once
        definitions = dg.Definitions(
            jobs=[analysis.analyse_query_design_job], sensors=[assets.erasure_reanalysis]
        )
        assert definitions.resolve_sensor_def("erasure_reanalysis").job_name == (
            analysis.analyse_query_design_job.name
        )

        # What the request runs: the standard analysis of D1, now without him.
        result = dg.materialize(
            ANALYSIS,
            partition_key=requests[0].partition_key,
            instance=instance,
            resources={
                "postgres": postgres,
                "object_store": object_store_resource,
                "analysis_scope": analysis.AnalysisScopeResource(),
            },
        )
        assert result.success
    regenerated = outputs.get_bytes(f"analysis/{corpus.d1}/standard/descriptive.json").decode()
    assert json.loads(regenerated)["total_records"] == 3  # Oda, Quinn, Karl
    assert JENS_NAME not in regenerated and JENS_MARKER not in regenerated
    assert not any(p in regenerated for p in corpus.jens_pseudonyms)


def test_no_erasure_no_request(db, postgres):
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"postgres": postgres})
        skipped = assets.erasure_reanalysis(context)
        assert isinstance(skipped, dg.SkipReason)


def test_the_job_deletes_the_dagster_runs_whose_previews_showed_the_person(
    corpus, db, postgres, object_store_resource
):
    resources = {
        "postgres": postgres,
        "object_store": object_store_resource,
        "analysis_scope": analysis.AnalysisScopeResource(),
    }
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", corpus.designs)
        runs = {
            design: dg.materialize(
                ANALYSIS, partition_key=design, instance=instance, resources=resources
            ).run_id
            for design in (corpus.d1, corpus.d3)
        }
        top_actors = dg.AssetKey("top_actors")
        [preview] = [
            record.asset_materialization.metadata["preview"].value
            for record in instance.get_records_for_run(
                runs[corpus.d1], of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ).records
            if record.asset_materialization.asset_key == top_actors
        ]
        assert JENS_NAME in preview  # the run log showed him

        result = _run_job(
            instance,
            postgres,
            object_store_resource,
            actor_id=corpus.jens_actor,
            requested_by="Dorte DPO",
            reference="DPO-4",
        )
        assert result.success
        assert _metadata(result)["dagster_runs_deleted"].value == 1
        assert instance.get_run_by_id(runs[corpus.d1]) is None
        assert instance.get_records_for_run(runs[corpus.d1]).records == []
        assert instance.get_run_by_id(runs[corpus.d3]) is not None  # D3 never held him
        remaining = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=top_actors, asset_partitions=[corpus.d1]), limit=10
        ).records
        assert remaining == []


def test_after_a_cli_erasure_the_forget_job_deletes_the_analysis_runs(
    corpus, db, postgres, object_store_resource
):
    resources = {
        "postgres": postgres,
        "object_store": object_store_resource,
        "analysis_scope": analysis.AnalysisScopeResource(),
    }
    selection = ["stg_content", "actors_in_scope", "top_actors"]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", corpus.designs)
        analysed = {
            design: dg.materialize(
                ANALYSIS,
                selection=selection,
                partition_key=design,
                instance=instance,
                resources=resources,
            ).run_id
            for design in (corpus.d2, corpus.d3)
        }
        report = erase(
            db,
            object_store_resource.outputs(),
            check_request(requested_by="Dorte", reference="DPO-5", actor_id=corpus.jens_actor),
        )
        result = assets.forget_erased_analysis_runs.execute_in_process(
            run_config={
                "ops": {
                    "forget_erased_analysis_runs_op": {"config": {"erasure_log_id": report.log_id}}
                }
            },
            resources={"postgres": postgres},
            instance=instance,
        )
        assert result.success
        assert instance.get_run_by_id(analysed[corpus.d2]) is None
        assert instance.get_run_by_id(analysed[corpus.d3]) is not None
        unknown = assets.forget_erased_analysis_runs.execute_in_process(
            run_config={
                "ops": {"forget_erased_analysis_runs_op": {"config": {"erasure_log_id": 999}}}
            },
            resources={"postgres": postgres},
            instance=instance,
            raise_on_error=False,
        )
        assert not unknown.success
