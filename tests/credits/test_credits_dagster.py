"""The credits domain's asset, check, job and schedule, materialized in process."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
from sqlalchemy import text

from observatory_pipelines.credits import assets as credit_assets
from observatory_pipelines.credits.ledger import CreditLedger


def _materialize(postgres):
    return dg.materialize(
        [credit_assets.credit_balances, credit_assets.credit_ledger_consistent],
        resources={"postgres": postgres},
        raise_on_error=True,
    )


def test_credit_balances_table_and_passing_check(postgres, make_user, make_run):
    ledger = CreditLedger(postgres.engine())
    rich = make_user(credits=1000, name="rich")
    make_user(credits=None, name="empty")
    run = make_run(rich)
    ledger.reserve(rich, run, "social_media", "youtube", "medium", 100)
    ledger.settle(rich, run, "social_media", "youtube", "medium", 60)

    result = _materialize(postgres)
    assert result.success
    materialization = result.asset_materializations_for_node("credit_balances")[0]
    metadata = materialization.metadata
    assert metadata["users"].value == 2
    assert metadata["negative_balances"].value == 0
    table = metadata["balances"].value
    assert [c.name for c in table.schema.columns] == [
        "user_id",
        "display_name",
        "allocated",
        "reserved",
        "settled",
        "refunded",
        "available",
    ]
    rows = {r.data["display_name"]: r.data for r in table.records}
    assert rows["rich"] == {
        "user_id": str(rich),
        "display_name": "rich",
        "allocated": 1000,
        "reserved": 100,
        "settled": 60,
        "refunded": 100,
        "available": 940,
    }
    assert rows["empty"]["available"] == 0
    (check,) = result.get_asset_check_evaluations()
    assert check.passed


def test_check_fails_on_negative_balance_and_stale_runs(postgres, make_user, make_run):
    ledger = CreditLedger(postgres.engine())
    user = make_user(credits=10, name="overspent")
    run = make_run(user)
    ledger.reserve(user, run, "social_media", "x_twitter", "medium", 10)
    ledger.settle(user, run, "social_media", "x_twitter", "medium", 15)  # real cost above budget
    stale = make_run(user, status="failed", completed_at=datetime.now(UTC) - timedelta(days=2))
    other = make_user(credits=100, name="other")
    ledger.reserve(other, stale, "social_media", "youtube", "medium", 5)

    result = dg.materialize(
        [credit_assets.credit_balances, credit_assets.credit_ledger_consistent],
        resources={"postgres": postgres},
        raise_on_error=False,
    )
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["negative_balances"].value == 1
    assert check.metadata["stale_unsettled_runs"].value == 1
    assert check.metadata["stale_run_ids"].value == str(stale)


def test_settlement_job_heals_finished_runs(postgres, make_user, make_run):
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
    ledger.reserve(user, done, "social_media", "youtube", "medium", 100)
    ledger.reserve(user, failed, "social_media", "x_twitter", "medium", 50)
    ledger.reserve(user, running, "social_media", "youtube", "medium", 20)
    assert ledger.get_balance(user).available == 830

    with dg.instance_for_test() as instance:
        result = credit_assets.settle_finished_runs.execute_in_process(
            instance=instance, resources={"postgres": postgres}
        )
        assert result.success
        summary = result.output_for_node("settle_finished_runs_op")
        assert summary["runs_found"] == 2 and summary["runs_failed"] == 0
        assert summary["credits_charged"] == 30 and summary["credits_released"] == 50
        assert ledger.get_balance(user).available == 950  # 1000 - 30 spent - 20 still held

        again = credit_assets.settle_finished_runs.execute_in_process(
            instance=instance, resources={"postgres": postgres}
        )
        assert again.output_for_node("settle_finished_runs_op")["runs_found"] == 0
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
        ledger.reserve(user, crashed, "social_media", "youtube", "medium", 20)
        ledger.reserve(user, crashed, "social_media", "x_twitter", "medium", 30)
        ledger.reserve(user, unknown, "social_media", "youtube", "medium", 40)
        ledger.reserve(user, alive, "social_media", "youtube", "medium", 50)
        with postgres.engine().begin() as conn:  # the reservations were made 3 h ago too
            conn.execute(
                text(
                    "UPDATE credit_transactions SET created_at = now() - interval '3 hours'"
                    " WHERE collection_run_id IN (:u, :a)"
                ),
                {"u": unknown, "a": alive},
            )
        assert ledger.get_balance(user).available == 860

        result = credit_assets.settle_finished_runs.execute_in_process(
            instance=instance, resources={"postgres": postgres}
        )
        summary = result.output_for_node("settle_finished_runs_op")
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
        (output,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
        shown = output.step_output_data.metadata["dead_run_ids"].value
        assert set(shown.split(", ")) == {str(crashed), str(unknown)}

        again = credit_assets.settle_finished_runs.execute_in_process(
            instance=instance, resources={"postgres": postgres}
        )
        assert again.output_for_node("settle_finished_runs_op")["dead_runs_healed"] == 0
        assert ledger.get_balance(user).available == 943


def test_schedule_runs_the_settlement_job_every_15_minutes():
    schedule = credit_assets.settle_finished_runs_schedule
    assert schedule.cron_schedule == "*/15 * * * *"
    assert schedule.job_name == "settle_finished_runs"
    with (
        dg.instance_for_test() as instance,
        dg.build_schedule_context(instance=instance) as context,
    ):
        data = schedule.evaluate_tick(context)
    assert len(data.run_requests) == 1


def test_domain_definitions_resolve_with_the_postgres_resource(postgres):
    defs = dg.Definitions.merge(
        dg.Definitions(resources={"postgres": postgres}), credit_assets.defs
    )
    defs.validate_loadable(defs)
    assert defs.resolve_job_def("settle_finished_runs") is not None
    assert defs.resolve_schedule_def("settle_finished_runs_schedule") is not None
    assert defs.resolve_assets_def("credit_balances") is not None
