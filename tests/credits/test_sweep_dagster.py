"""The sweep job (collection/assets.py) that heals dead runs and settles finished ones, in process."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
from sqlalchemy import text

from observatory_pipelines.collection import assets as collection_assets
from observatory_pipelines.credits.common import LedgerKey
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.resources.io_manager import ObjectStoreIOManager


def summary_of(result) -> dict:
    """The sweep's summary: the step's output metadata (the op stores nothing)."""
    (output,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    return {k: v.value for k, v in output.step_output_data.metadata.items()}


def test_settlement_job_heals_finished_runs(
    postgres, make_user, make_run, s3_object_store_resource
):
    ledger = CreditLedger(postgres.engine())
    user = make_user(credits=1000)
    done = make_run(
        user,
        status="completed",
        credits_spent=30,
        tasks=[("social_media", "youtube", "completed", 30)],
    )
    failed = make_run(user, status="failed", tasks=[("social_media", "x_twitter", "failed")])
    running = make_run(user, status="running")
    ledger.reserve(LedgerKey(user, done, "social_media", "youtube", "medium"), 100)
    ledger.reserve(LedgerKey(user, failed, "social_media", "x_twitter", "medium"), 50)
    ledger.reserve(LedgerKey(user, running, "social_media", "youtube", "medium"), 20)
    assert ledger.get_balance(user).available == 830

    # The project's IO manager on a real (moto) bucket: the sweep's summary must not land there.
    resources = {
        "postgres": postgres,
        "io_manager": ObjectStoreIOManager(object_store=s3_object_store_resource),
    }
    with dg.instance_for_test() as instance:
        result = collection_assets.settle_finished_runs.execute_in_process(
            instance=instance, resources=resources
        )
        assert result.success
        assert result.output_for_node("settle_finished_runs_op") is None
        assert list(s3_object_store_resource.outputs().list()) == []
        assert not [e for e in result.all_events if e.event_type_value == "HANDLED_OUTPUT"]
        summary = summary_of(result)
        assert summary["runs_found"] == 2 and summary["runs_failed"] == 0
        assert summary["credits_charged"] == 30 and summary["credits_released"] == 50
        assert ledger.get_balance(user).available == 950  # 1000 - 30 spent - 20 still held

        again = collection_assets.settle_finished_runs.execute_in_process(
            instance=instance, resources=resources
        )
        assert summary_of(again)["runs_found"] == 0
        assert list(s3_object_store_resource.outputs().list()) == []
        assert ledger.get_balance(user).available == 950


def test_settlement_job_fails_runs_whose_worker_died(postgres, make_user, make_run, monkeypatch):
    """A Dagster run that failed, one the instance never saw (idle past the grace period), and
    one still started: the first two are failed and refunded, the third is left alone."""
    monkeypatch.setenv("COLLECTION_STALE_RUN_HOURS", "2")
    ledger = CreditLedger(postgres.engine())
    user = make_user(credits=1000)
    with dg.instance_for_test() as instance:
        crashed_id, alive_id, unknown_id = (str(uuid.uuid4()) for _ in range(3))
        for run_id in (crashed_id, alive_id):
            instance.add_run(
                dg.DagsterRun(
                    job_name="collect_query_design",
                    run_id=run_id,
                    status=dg.DagsterRunStatus.STARTED,
                )
            )
        instance.report_run_failed(instance.get_run_by_id(crashed_id), "worker killed")

        long_ago = datetime.now(UTC) - timedelta(hours=3)
        crashed = make_run(
            user, status="running", started_at=datetime.now(UTC), dagster_run_id=crashed_id,
            tasks=[("social_media", "youtube", "completed", 7), ("social_media", "x_twitter", "running")],
        )  # fmt: skip
        unknown = make_run(
            user, status="running", started_at=long_ago, dagster_run_id=unknown_id,
            tasks=[("social_media", "youtube", "running")],
        )  # fmt: skip
        alive = make_run(
            user, status="running", started_at=long_ago, dagster_run_id=alive_id,
            tasks=[("social_media", "youtube", "running")],
        )  # fmt: skip
        ledger.reserve(LedgerKey(user, crashed, "social_media", "youtube", "medium"), 20)
        ledger.reserve(LedgerKey(user, crashed, "social_media", "x_twitter", "medium"), 30)
        ledger.reserve(LedgerKey(user, unknown, "social_media", "youtube", "medium"), 40)
        ledger.reserve(LedgerKey(user, alive, "social_media", "youtube", "medium"), 50)
        with postgres.engine().begin() as conn:  # created and reserved 3 h ago too
            for table in ("credit_transactions", "collection_runs"):
                column = "collection_run_id" if table == "credit_transactions" else "id"
                conn.execute(
                    text(
                        f"UPDATE {table} SET created_at = now() - interval '3 hours'"
                        f" WHERE {column} IN (:u, :a)"
                    ),
                    {"u": unknown, "a": alive},
                )
        assert ledger.get_balance(user).available == 860

        result = collection_assets.settle_finished_runs.execute_in_process(
            instance=instance, resources={"postgres": postgres}
        )
        summary = summary_of(result)
        assert summary["dead_runs_healed"] == 2 and summary["dead_runs_failed"] == 0
        assert summary["dead_credits_charged"] == 7
        assert summary["dead_credits_released"] == 70
        assert ledger.get_balance(user).available == 943  # 1000 - 7 charged - 50 still held

        with postgres.engine().connect() as conn:
            runs = dict(
                conn.execute(
                    text(
                        "SELECT id, status || ' | ' || COALESCE(error_log, '') FROM collection_runs"
                    )
                ).all()
            )
        assert runs[crashed] == (
            f"failed | worker lost: Dagster run {crashed_id} FAILURE ended while the collection "
            "run was running"
        )
        assert runs[unknown].startswith(
            f"failed | worker lost: Dagster run {unknown_id} unknown to this instance"
        )
        assert "(over 2 h)" in runs[unknown]
        assert runs[alive] == "running | "
        assert set(summary["dead_run_ids"].split(", ")) == {str(crashed), str(unknown)}

        again = collection_assets.settle_finished_runs.execute_in_process(
            instance=instance, resources={"postgres": postgres}
        )
        assert summary_of(again)["dead_runs_healed"] == 0
        assert ledger.get_balance(user).available == 943


def test_schedule_runs_the_settlement_job_every_15_minutes():
    schedule = collection_assets.settle_finished_runs_schedule
    assert schedule.cron_schedule == "*/15 * * * *"
    assert schedule.job_name == "settle_finished_runs"
    with (
        dg.instance_for_test() as instance,
        dg.build_schedule_context(instance=instance) as context,
    ):
        data = schedule.evaluate_tick(context)
    assert len(data.run_requests) == 1


def test_sweep_job_keeps_its_name_and_schedule(postgres, object_store_resource):
    defs = dg.Definitions.merge(
        dg.Definitions(resources={"postgres": postgres, "object_store": object_store_resource}),
        collection_assets.defs,
    )
    assert defs.resolve_job_def("settle_finished_runs") is not None
    assert defs.resolve_schedule_def("settle_finished_runs_schedule") is not None
