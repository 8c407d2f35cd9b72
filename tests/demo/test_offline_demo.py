"""`make run`'s offline demo, headless: seeded, collected by the sensor, analysed by automation.

The same path as the UI without the UI: setup_local's functions seed the offline design
into the test database and write the synthetic corpus (import files in FILE_IMPORT_DIR,
recorded feeds for the replay); the replay serves the feeds on a free port of 127.0.0.1;
the collection sensor's run request is executed; the automation sensor's conditions are
evaluated on the instance that recorded the collection and what they request is
materialized, against the real Postgres and a moto S3 bucket. Then every analysis asset
has a non-empty output, its chart, and the corpus's spike shows in the volume.
"""

from __future__ import annotations

import base64
import json
import statistics
from datetime import date

import dagster as dg
import pytest
from sqlalchemy import text

from observatory_pipelines import setup_local
from observatory_pipelines.analysis import assets as analysis_assets
from observatory_pipelines.collection.assets import collected_content, new_query_designs_sensor
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.demo.assets import offline_demo_exports
from observatory_pipelines.demo.danish import OUTLETS
from observatory_pipelines.demo.design import (
    OFFLINE_DEMO_NAME,
    OFFLINE_IMPORT_FOLDER,
    offline_corpus,
)
from observatory_pipelines.demo.replay import ReplayServer

END = date(2026, 11, 30)
PNG = b"\x89PNG\r\n\x1a\n"
ANALYSIS_ASSETS = [
    analysis_assets.analysis_sql_models,
    analysis_assets.descriptive_statistics,
    *analysis_assets.NETWORK_ASSETS,
    *analysis_assets.EXPORT_ASSETS,
]


@pytest.fixture()
def demo_env(tmp_path, monkeypatch):
    monkeypatch.setenv("FILE_IMPORT_DIR", str(tmp_path / "imports"))
    monkeypatch.setenv("DEMO_DIR", str(tmp_path / "demo"))
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "demo-test-key")
    monkeypatch.setenv("ARENA_RATE_LIMIT_SCALE", "0")
    return tmp_path


@pytest.fixture()
def replay_server(demo_env):
    server = ReplayServer(demo_env / "demo" / "feeds").start()
    yield server
    server.stop()


def _png_in(markdown: str) -> bytes:
    assert markdown.startswith("![") and "(data:image/png;base64," in markdown
    return base64.b64decode(markdown.split("base64,", 1)[1].rstrip(")"))


def _tick(sensor, instance, resources):
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        result = sensor(context)
    return result if isinstance(result, list) else []


def _definitions():
    # Imported here, after the fixtures set the environment the module reads at import.
    from observatory_pipelines.definitions import automation_sensor, defs

    return automation_sensor, defs


def _partition_materializations(instance, design: str) -> dict[str, dict]:
    found = {}
    for key in instance.get_asset_keys():
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[design]), limit=1
        ).records
        if records:
            found[key.to_user_string()] = records[0].asset_materialization.metadata
    return found


def test_offline_demo_collects_analyses_and_shows_the_spike(
    db, postgres, s3_object_store_resource, replay_server
):
    corpus = offline_corpus(END)
    design, window_end, created = setup_local.seed_offline_demo(db, replay_server.base_url, END)
    files = setup_local.write_offline_files(corpus)
    assert created and window_end == END
    assert files["feeds"] == len(OUTLETS) and min(files[k] for k in ("bluesky", "reddit")) > 300
    resources = {"postgres": postgres, "object_store": s3_object_store_resource}
    automation_sensor, defs = _definitions()

    with dg.instance_for_test() as instance:

        def automation_tick(cursor=None):
            return dg.evaluate_automation_conditions(
                defs=defs,
                instance=instance,
                asset_selection=automation_sensor.asset_selection,
                cursor=cursor,
            )

        # --- the collection sensor starts the design, once ---
        with dg.build_sensor_context(instance=instance, resources=resources) as context:
            tick = new_query_designs_sensor(context)
        for request in tick.dynamic_partitions_requests:
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
        [run_request] = [r for r in tick.run_requests if r.partition_key == design]
        assert run_request.run_config["ops"]["collected_content"]["config"]["date_from"] == (
            corpus.config.start.isoformat() + "T00:00:00+00:00"
        )
        before = automation_tick()
        assert before.total_requested == 0  # nothing collected yet: nothing to analyse

        collected = dg.materialize(
            [collected_content],
            partition_key=run_request.partition_key,
            run_config=run_request.run_config,
            tags=run_request.tags,
            instance=instance,
            resources=resources,
        )
        assert collected.success
        meta = collected.get_asset_materialization_events()[0].materialization.metadata
        assert meta["status"].value == "completed" and meta["failed_arenas"].value == 0
        arenas = meta["arenas"].value
        assert arenas["rss_feeds"]["records_collected"] > 200
        imported = arenas["file_import"]
        rows = sum(files[k] for k in ("bluesky", "reddit", "x_twitter"))
        assert imported["records_collected"] + imported["duplicates_skipped"] == rows
        assert imported["records_rejected"] == 0 and imported["duplicates_skipped"] < rows / 50
        # every recorded feed was fetched from the replay, nothing from anywhere else
        fetched = {p for p in replay_server.requests if p.startswith("/feeds/")}
        assert fetched == {f"/feeds/{key}.xml" for key, *_ in OUTLETS}

        # --- credits: reserved, then settled; nothing left open ---
        run_id = meta["collection_run_id"].value
        assert CreditLedger(db).open_reservations(run_id) == []
        with db.connect() as conn:
            kinds = conn.execute(
                text(
                    "SELECT platform, array_agg(transaction_type ORDER BY transaction_type) "
                    "FROM credit_transactions WHERE collection_run_id = :run GROUP BY platform"
                ),
                {"run": run_id},
            ).all()
            per_platform = dict(
                conn.execute(
                    text(
                        "SELECT c.platform, count(*) FROM content_record_collections AS l "
                        "JOIN content_records AS c ON c.id = l.content_record_id "
                        "AND c.published_at = l.published_at "
                        "WHERE l.query_design_id = :design GROUP BY c.platform"
                    ),
                    {"design": design},
                ).all()
            )
        assert {p: "settlement" in k for p, k in kinds} == {"rss_feeds": True, "file_import": True}
        assert set(per_platform) == {"rss_feeds", "bluesky", "reddit", "x_twitter"}

        # --- the automation sensor asks for the analysis of this design, and only that ---
        after = automation_tick(before.cursor)
        graph = defs.resolve_asset_graph()

        def analysis_requested(evaluation):
            # Other groups (e.g. enrichments) may follow a collection too; this is about analysis.
            return {
                key: evaluation.get_requested_partitions(key)
                for key in graph.get_all_asset_keys()
                if graph.get(key).group_name == "analysis"
                and evaluation.get_requested_partitions(key)
            }

        requested = analysis_requested(after)
        assert requested and all(parts == {design} for parts in requested.values())
        analysed = dg.materialize(
            ANALYSIS_ASSETS,
            selection=list(requested),
            partition_key=design,
            instance=instance,
            resources={**resources, "analysis_scope": analysis_assets.AnalysisScopeResource()},
        )
        assert analysed.success
        assert analysis_requested(automation_tick(after.cursor)) == {}

        # exports carry no automation condition: the demo's own sensor asks for them, once
        [export_request] = _tick(offline_demo_exports, instance, resources)
        assert export_request.partition_key == design
        exported = dg.materialize(
            ANALYSIS_ASSETS,
            selection=export_request.asset_selection,
            partition_key=design,
            instance=instance,
            resources={**resources, "analysis_scope": analysis_assets.AnalysisScopeResource()},
        )
        assert exported.success
        assert _tick(offline_demo_exports, instance, resources)[0].run_key == (
            export_request.run_key  # the same analysis: the same key, so no second run
        )

        # --- every asset of the analysis group is materialized, none empty ---
        analysis_group = {
            k.to_user_string()
            for k in graph.get_all_asset_keys()
            if graph.get(k).group_name == "analysis"
        }
        materialized = _partition_materializations(instance, design)
        assert analysis_group <= set(materialized)
        store = s3_object_store_resource.outputs()
        for name in sorted(analysis_group):
            metadata = materialized[name]
            if "dagster/row_count" in metadata:
                assert metadata["dagster/row_count"].value > 0, name
            for key_field in ("object_key", "graph_key", "gexf_key"):
                if key_field in metadata:
                    assert store.stat(metadata[key_field].value).size > 0, (name, key_field)
        for network in ("actor_cooccurrence", "term_cooccurrence", "actor_term_bipartite"):
            metadata = materialized[f"{network}_network"]
            assert metadata["nodes"].value > 5 and metadata["edges"].value > 5
            assert _png_in(metadata["degree_distribution"].value).startswith(PNG)
        cross = materialized["cross_platform_actors_network"]
        assert cross["nodes"].value >= 5  # the public actors post on three platforms

        # --- the report: skewed actors, co-occurring terms, the spike in the volume ---
        report_meta = materialized["descriptive_statistics"]
        assert _png_in(report_meta["volume_over_time"].value).startswith(PNG)
        report = json.loads(store.get_bytes(report_meta["object_key"].value))
        assert report["total_records"] == sum(per_platform.values())
        by_day = {row["period"][:10]: row["count"] for row in report["volume"]}
        peak = max(by_day, key=by_day.get)
        assert peak in {d.isoformat() for d in corpus.config.spike_dates}
        assert by_day[peak] > 3 * statistics.median(by_day.values())
        top = [row["post_count"] for row in report["top_actors"]]
        assert top[0] > 5 * top[-1]  # Zipf: the most active actor far ahead of the tenth
        assert report["top_terms"][0]["count"] > report["top_terms"][-1]["count"]
        assert report["engagement"]


def test_seeding_twice_keeps_one_design_and_the_same_files(db, demo_env):
    first = setup_local.seed_offline_demo(db, "http://127.0.0.1:1", END)
    setup_local.write_offline_files(offline_corpus(first[1]))
    imports = demo_env / "imports" / OFFLINE_IMPORT_FOLDER
    written = {p.name: p.read_bytes() for p in sorted(imports.iterdir())}
    # A later day: the existing design keeps its window, so the corpus is the same.
    again = setup_local.seed_offline_demo(db, "http://127.0.0.1:1", date(2026, 12, 24))
    setup_local.write_offline_files(offline_corpus(again[1]))
    assert again == (first[0], END, False)
    assert {p.name: p.read_bytes() for p in sorted(imports.iterdir())} == written
    with db.connect() as conn:
        designs = conn.execute(
            text("SELECT count(*) FROM query_designs WHERE name = :n"), {"n": OFFLINE_DEMO_NAME}
        ).scalar_one()
        actors = conn.execute(text("SELECT count(*) FROM actors")).scalar_one()
        presences = conn.execute(text("SELECT count(*) FROM actor_platform_presences")).scalar_one()
    assert designs == 1
    assert (actors, presences) == (8, 24)  # eight public actors, on three platforms each
