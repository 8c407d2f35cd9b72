"""Dagster edge: the sensor starts each new design once, the schedule asks for yesterday,
the asset's metadata reports per-arena counts without secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import pytest
from sqlalchemy import text

from observatory_pipelines.collection.assets import (
    collected_content,
    live_query_designs_schedule,
    new_query_designs_sensor,
    query_designs_partitions,
)
from observatory_pipelines.collection.credential_pool import add_credential

from .conftest import item, make_design, make_user


def _tick(sensor, instance, cursor, postgres):
    # Contexts with resources are context managers: leaving them closes what they opened.
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"postgres": postgres}
    ) as context:
        return sensor(context)


def _scheduled(schedule, instance, when, postgres):
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources={"postgres": postgres}
    ) as context:
        return schedule(context)


def _apply(instance, result: dg.SensorResult) -> None:
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def test_sensor_requests_one_run_per_new_design_exactly_once(db, postgres):
    user = make_user(db)
    batch = make_design(
        db,
        user,
        {
            "mode": "batch",
            "date_from": "2026-03-01",
            "date_to": "2026-03-07",
            "arenas": {"fake_news": {}},
        },
    )
    live = make_design(db, user, {"mode": "live", "arenas": {"fake_news": {}}})
    with dg.instance_for_test() as instance:
        first = _tick(new_query_designs_sensor, instance, None, postgres)
        by_key = {r.partition_key: r for r in first.run_requests}
        assert set(by_key) == {batch, live}
        window = by_key[batch].run_config["ops"]["collected_content"]["config"]
        assert window == {
            "date_from": "2026-03-01T00:00:00+00:00",
            "date_to": "2026-03-08T00:00:00+00:00",
            "mode": "batch",
        }
        assert (
            by_key[batch].run_key == f"{batch}:2026-03-01T00:00:00+00:00:2026-03-08T00:00:00+00:00"
        )
        assert by_key[live].run_config["ops"]["collected_content"]["config"]["mode"] == "live"
        _apply(instance, first)
        assert set(instance.get_dynamic_partitions("query_designs")) == {batch, live}

        again = _tick(new_query_designs_sensor, instance, first.cursor, postgres)
        assert again.run_requests == [] and not again.dynamic_partitions_requests

        third_design = make_design(db, user, {"arenas": {"fake_news": {}}})
        with db.begin() as conn:  # an inactive design is never started
            make_design(db, user, {"arenas": {}}, name="off")
            conn.execute(text("UPDATE query_designs SET is_active = false WHERE name = 'off'"))
        third = _tick(new_query_designs_sensor, instance, again.cursor, postgres)
        assert [r.partition_key for r in third.run_requests] == [third_design]

        # Even with the cursor lost, a window already run is not requested again.
        with db.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO collection_runs (query_design_id, initiated_by, date_from, date_to)"
                    " VALUES (:d, :u, '2026-03-01', '2026-03-08')"
                ),
                {"d": batch, "u": user},
            )
        fresh = _tick(new_query_designs_sensor, instance, None, postgres)
        assert batch not in {r.partition_key for r in fresh.run_requests}


def test_live_schedule_requests_yesterdays_utc_window(db, postgres):
    user = make_user(db)
    old = datetime(2026, 3, 1, tzinfo=UTC)
    live = make_design(db, user, {"mode": "live", "arenas": {"fake_news": {}}}, created_at=old)
    make_design(db, user, {"mode": "batch", "arenas": {"fake_news": {}}}, created_at=old)
    stopped = make_design(db, user, {"mode": "live", "arenas": {}}, name="stopped", created_at=old)
    with db.begin() as conn:
        conn.execute(
            text("UPDATE query_designs SET is_active = false WHERE id = :i"), {"i": stopped}
        )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("query_designs", [live, stopped])
        tick = datetime(2026, 3, 10, 0, 15, tzinfo=UTC)
        (request,) = _scheduled(live_query_designs_schedule, instance, tick, postgres)
        assert request.partition_key == live
        assert request.run_config["ops"]["collected_content"]["config"] == {
            "date_from": "2026-03-09T00:00:00+00:00",
            "date_to": "2026-03-10T00:00:00+00:00",
            "mode": "live",
        }
        with db.begin() as conn:
            conn.execute(
                text("UPDATE query_designs SET is_active = false WHERE id = :i"), {"i": live}
            )
        skipped = _scheduled(live_query_designs_schedule, instance, tick, postgres)
        assert isinstance(skipped, dg.SkipReason)


def test_asset_materialization_reports_per_arena_counts_without_secrets(
    db, postgres, json_server, object_store_resource
):
    json_server.feed("asset-news", [[item(1), item(2)], [item(2), item(3, published=None)]])
    json_server.feed("asset-social", [[item(10)]])
    user = make_user(db, credits=20)
    add_credential(
        db, "fake_social", "yt key", {"api_key": "good-key", "password": "hunter2-secret"}
    )
    config = {
        "arenas": {
            "fake_news": {"tier": "premium", "feed": "asset-news"},
            "fake_social": {"feed": "asset-social"},
        }
    }
    design = make_design(db, user, config)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(query_designs_partitions.name, [design])
        run_config = {
            "ops": {
                "collected_content": {
                    "config": {"date_from": "2026-03-01", "date_to": "2026-03-07"}
                }
            }
        }
        result = dg.materialize(
            [collected_content], partition_key=design, instance=instance,
            resources={"postgres": postgres, "object_store": object_store_resource},
            run_config=run_config,
        )  # fmt: skip
        assert result.success
        (mat,) = result.asset_materializations_for_node("collected_content")
        meta = {k: v.value for k, v in mat.metadata.items()}
        assert meta["records_collected"] == 4 and meta["duplicates_skipped"] == 1
        assert meta["credits_spent"] == 1  # 2 requests x 100 units at premium, 5 credits/1k
        arenas = meta["arenas"]
        assert arenas["fake_news"]["records_collected"] == 3
        assert arenas["fake_social"]["records_collected"] == 1
        assert "good-key" not in json.dumps(meta) and "hunter2" not in json.dumps(meta)
        with db.connect() as conn:
            task_run_ids = set(
                conn.execute(text("SELECT dagster_run_id FROM collection_tasks")).scalars()
            )
        assert task_run_ids == {result.run_id}
        events = instance.all_logs(result.run_id)
        assert not any(
            "good-key" in (e.message or "") or "hunter2" in (e.message or "") for e in events
        )


def test_asset_fails_visibly_when_every_arena_fails(
    db, postgres, json_server, object_store_resource
):
    json_server.feed("asset-broken", [(503, {"error": "down"})])
    user = make_user(db)
    design = make_design(db, user, {"arenas": {"fake_news": {"feed": "asset-broken"}}})
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(query_designs_partitions.name, [design])
        with pytest.raises(dg.Failure, match="HTTP 503"):
            dg.materialize(
                [collected_content],
                partition_key=design,
                instance=instance,
                resources={"postgres": postgres, "object_store": object_store_resource},
            )
