"""The run state machine: allowed transitions happen, refused ones change nothing (real Postgres)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from observatory_pipelines.collection import run_states
from observatory_pipelines.collection.plan import load_design
from observatory_pipelines.collection.runs import create_run

from .conftest import make_design, make_user

FROM = datetime(2026, 3, 1, tzinfo=UTC)
TO = datetime(2026, 3, 8, tzinfo=UTC)


def new_run(db) -> tuple[str, str]:
    user = make_user(db, credits=10)
    design = make_design(db, user, {"arenas": {"rss_feeds": {"feeds": ["http://127.0.0.1:9/x"]}}})
    run = create_run(db, load_design(db, design), FROM, TO)
    with db.connect() as conn:
        task = conn.execute(
            text("SELECT id FROM collection_tasks WHERE collection_run_id = :r"), {"r": run}
        ).scalar_one()
    return run, str(task)


def progress(records: int, credits: int = 0, attributed: int = 0) -> dict:
    return dict(
        records_collected=records, records_attributed=attributed, duplicates_skipped=1,
        records_rejected=0, credential_id=None, rate_limit_state={"requests": 1},
    )  # fmt: skip


def task_row(db, task):
    with db.connect() as conn:
        return conn.execute(text("SELECT * FROM collection_tasks WHERE id = :t"), {"t": task}).one()


def run_row(db, run):
    with db.connect() as conn:
        return conn.execute(text("SELECT * FROM collection_runs WHERE id = :r"), {"r": run}).one()


def task_status(db, task) -> str:
    with db.connect() as conn:
        return conn.execute(
            text("SELECT status FROM collection_tasks WHERE id = :t"), {"t": task}
        ).scalar_one()


def test_the_happy_path_is_allowed(db):
    run, task = new_run(db)
    assert run_states.run_status(db, run) == "pending"
    assert run_states.start_run(db, run, estimated_credits=3)
    assert run_states.start_task(db, task, "dagster-1")
    assert run_states.complete_task(db, task, credits_spent=2)
    assert run_states.finish_run(db, run, "completed", error=None)
    assert run_states.run_status(db, run) == "completed"
    assert task_status(db, task) == "completed"


def test_a_run_failed_by_the_sweep_is_never_reopened_by_a_late_worker(db):
    run, task = new_run(db)
    run_states.start_run(db, run, estimated_credits=3)
    run_states.start_task(db, task, "dagster-1")
    healed = run_states.fail_dead_run(db, run, "worker lost")
    assert (healed.run_failed, healed.tasks_failed) == (True, 1)

    # The worker was not dead after all, and tries to finish:
    assert not run_states.complete_task(db, task, credits_spent=2)
    assert not run_states.finish_run(db, run, "completed", error=None)
    # ... and its next page only saves counters: no heartbeat, no revival.
    assert not run_states.record_progress(db, task, **progress(5))
    assert run_states.run_status(db, run) == "failed"
    assert task_status(db, task) == "failed"
    row = run_row(db, run)
    assert (row.error_log, row.credits_spent, row.records_collected) == ("worker lost", 0, 5)
    assert task_row(db, task).heartbeat_at is None
    assert run_states.fail_dead_run(db, run, "again") == run_states.DeadRunFailed(False, 0)


def test_final_states_are_final_and_order_is_enforced(db):
    run, task = new_run(db)
    assert not run_states.finish_run(db, run, "completed", error=None)  # pending: not running
    assert not run_states.complete_task(db, task, credits_spent=0)  # nor a pending task
    assert run_states.fail_open_tasks(db, run, "not started: refused") == 1
    assert run_states.finish_run(db, run, "failed", error="x")
    assert not run_states.start_run(db, run, estimated_credits=0)
    assert not run_states.start_task(db, task, None)
    assert not run_states.fail_task(db, task, "twice")
    assert run_states.fail_open_tasks(db, run, "again") == 0
    assert run_states.run_status(db, run) == "failed" and task_status(db, task) == "failed"


def test_a_completed_task_cannot_be_failed_afterwards(db):
    run, task = new_run(db)
    run_states.start_run(db, run, estimated_credits=0)
    run_states.start_task(db, task, None)
    run_states.complete_task(db, task, credits_spent=1)
    assert not run_states.fail_task(db, task, "late failure")
    assert run_states.fail_open_tasks(db, run, "aborted") == 0
    assert task_status(db, task) == "completed"


def test_unknown_final_status_is_refused(db):
    run, _ = new_run(db)
    with pytest.raises(ValueError, match="'completed' or 'failed', not 'running'"):
        run_states.finish_run(db, run, "running", error=None)


def test_progress_records_a_heartbeat_and_the_runs_totals(db):
    run, task = new_run(db)
    assert run_row(db, run).created_at is not None  # a pending run has an age
    run_states.start_run(db, run, estimated_credits=3)
    run_states.start_task(db, task, "dagster-1")
    assert task_row(db, task).heartbeat_at is None
    assert run_states.record_progress(db, task, **progress(7, attributed=12))
    first = task_row(db, task).heartbeat_at
    assert first is not None and run_row(db, run).records_collected == 7
    assert task_row(db, task).records_attributed == run_row(db, run).records_attributed == 12
    assert run_states.record_progress(db, task, **progress(9))
    assert task_row(db, task).heartbeat_at > first
    assert run_states.complete_task(db, task, credits_spent=4)
    assert (run_row(db, run).records_collected, run_row(db, run).credits_spent) == (9, 4)
    assert run_states.record_charge(db, task, 3)  # the ledger capped it
    assert run_states.finish_run(db, run, "completed", error=None)
    row = run_row(db, run)
    assert (row.status, row.records_collected, row.credits_spent) == ("completed", 9, 3)
    assert task_row(db, task).credits_spent == 3
    # A finished task's late page: counters only, no heartbeat, still completed.
    assert not run_states.record_progress(db, task, **progress(9))
    assert task_status(db, task) == "completed"
