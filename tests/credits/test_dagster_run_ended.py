"""When Dagster says a collection's run ended (FAILURE or CANCELED), that run's collection
run is failed and its credits released at once — exactly that one, through the sweep's own
verdict — by the run failure sensor in a real Dagster instance."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import dagster as dg
from sqlalchemy import text

from observatory_pipelines.collection import assets as collection
from observatory_pipelines.collection.sweep import heal_runs_of_dagster_run
from observatory_pipelines.credits.common import LedgerKey
from observatory_pipelines.definitions import defs


def _status(db, run_id):
    with db.connect() as conn:
        return conn.execute(
            text("SELECT status, error_log FROM collection_runs WHERE id = :r"), {"r": run_id}
        ).one()


def _open_run(make_run, ledger, user, dagster_run_id: str, credits: int):
    run = make_run(
        user,
        status="running",
        started_at=datetime.now(UTC),
        dagster_run_id=dagster_run_id,
        tasks=[("social_media", "youtube", "running")],
    )
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), credits)
    return run


def test_only_the_ended_dagster_runs_collection_run_is_healed(db, ledger, make_user, make_run):
    user = make_user(credits=500)
    dead, alive = str(uuid.uuid4()), str(uuid.uuid4())
    dead_run = _open_run(make_run, ledger, user, dead, 120)
    alive_run = _open_run(make_run, ledger, user, alive, 80)
    statuses = {dead: "FAILURE", alive: "STARTED"}

    (healed,) = heal_runs_of_dagster_run(ledger, dead, statuses.get)

    assert healed.collection_run_id == dead_run
    assert healed.settlement.refunded == {"social_media/youtube": 120}
    row = _status(db, dead_run)
    assert row.status == "failed"
    assert row.error_log == (
        f"worker lost: Dagster run {dead} FAILURE ended while the collection run was running"
    )
    assert _status(db, alive_run).status == "running"
    assert [k.collection_run_id for k in ledger.open_reservations(alive_run)] == [alive_run]
    assert ledger.get_balance(user).available == 500 - 80
    assert heal_runs_of_dagster_run(ledger, dead, statuses.get) == []  # nothing open any more


def test_a_collection_run_another_live_dagster_run_works_on_is_left(
    db, ledger, make_user, make_run
):
    user = make_user(credits=100)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    run = _open_run(make_run, ledger, user, first, 30)
    with db.begin() as conn:  # a second worker (a re-execution) took one of its tasks over
        conn.execute(
            text(
                "INSERT INTO collection_tasks (collection_run_id, arena, platform, status,"
                " dagster_run_id) VALUES (:r, 'news_media', 'gdelt', 'running', :d)"
            ),
            {"r": run, "d": second},
        )
    statuses = {first: "FAILURE", second: "STARTED"}
    assert heal_runs_of_dagster_run(ledger, first, statuses.get) == []
    assert _status(db, run).status == "running"


def _ended_collection_run(
    instance: dg.DagsterInstance, status: dg.DagsterRunStatus
) -> tuple[dg.DagsterRun, dg.DagsterEvent]:
    job = defs.resolve_job_def(collection.collect_query_design_job.name)
    run = instance.create_run_for_job(job_def=job, run_config={})
    if status == dg.DagsterRunStatus.FAILURE:
        instance.report_run_failed(run, "worker process gone")
        event_type = dg.DagsterEventType.RUN_FAILURE
    else:
        instance.report_run_canceled(run, "cancelled from the UI")
        event_type = dg.DagsterEventType.RUN_CANCELED
    (record,) = instance.all_logs(run.run_id, of_type=event_type)
    return instance.get_run_by_id(run.run_id), record.dagster_event


def test_the_run_failure_sensor_releases_the_failed_runs_credits(
    db, ledger, make_user, make_run, postgres
):
    user = make_user(credits=300)
    with dg.instance_for_test() as instance:
        failed_run, failure = _ended_collection_run(instance, dg.DagsterRunStatus.FAILURE)
        run = _open_run(make_run, ledger, user, failed_run.run_id, 200)
        untouched = _open_run(make_run, ledger, user, str(uuid.uuid4()), 50)
        context = dg.build_run_status_sensor_context(
            sensor_name=collection.collection_run_failed_sensor.name,
            dagster_instance=instance,
            dagster_run=failed_run,
            dagster_event=failure,
            resources={"postgres": postgres},
        ).for_run_failure()
        collection.collection_run_failed_sensor(context)

    row = _status(db, run)
    assert row.status == "failed" and "worker lost" in row.error_log
    assert ledger.open_reservations(run) == []
    assert _status(db, untouched).status == "running"  # its Dagster run is unknown here
    assert ledger.get_balance(user).available == 300 - 50


def test_a_cancelled_collection_releases_its_credits(db, ledger, make_user, make_run, postgres):
    user = make_user(credits=100)
    with dg.instance_for_test() as instance:
        cancelled, event = _ended_collection_run(instance, dg.DagsterRunStatus.CANCELED)
        run = _open_run(make_run, ledger, user, cancelled.run_id, 60)
        context = dg.build_run_status_sensor_context(
            sensor_name=collection.collection_run_canceled_sensor.name,
            dagster_instance=instance,
            dagster_run=cancelled,
            dagster_event=event,
            resources={"postgres": postgres},
        )
        collection.collection_run_canceled_sensor(context)

    row = _status(db, run)
    assert row.status == "failed"
    assert f"Dagster run {cancelled.run_id} CANCELED ended" in row.error_log
    assert ledger.get_balance(user).available == 100
