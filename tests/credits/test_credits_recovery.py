"""Runs a dead worker left running: failed with a reason, unfinished tasks failed, credits closed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from observatory_pipelines.collection.sweep import (
    find_stale_runs,
    heal_stale_run,
    settle_finished_run,
)
from observatory_pipelines.credits.common import LedgerKey

GRACE = timedelta(hours=6)


def backdate(db, run, hours: float) -> None:
    """The run and its ledger rows look ``hours`` old (the ledger stamps rows with now())."""
    with db.begin() as conn:
        conn.execute(
            text(
                "UPDATE collection_runs SET created_at = now() - make_interval(secs => :s)"
                " WHERE id = :r"
            ),
            {"s": hours * 3600, "r": run},
        )
        conn.execute(
            text(
                "UPDATE credit_transactions SET created_at = now() - make_interval(secs => :s)"
                " WHERE collection_run_id = :r"
            ),
            {"s": hours * 3600, "r": run},
        )
        conn.execute(
            text(
                "UPDATE collection_tasks SET started_at = now() - make_interval(secs => :s)"
                " WHERE collection_run_id = :r AND started_at IS NOT NULL"
            ),
            {"s": hours * 3600, "r": run},
        )


def state(db, run):
    with db.connect() as conn:
        row = conn.execute(
            text("SELECT status, error_log, credits_spent FROM collection_runs WHERE id = :r"),
            {"r": run},
        ).one()
        tasks = dict(
            conn.execute(
                text(
                    "SELECT platform, status || ': ' || COALESCE(error_message, '')"
                    " FROM collection_tasks WHERE collection_run_id = :r"
                ),
                {"r": run},
            ).all()
        )
    return row, tasks


def heal_all(ledger, statuses: dict):
    return [heal_stale_run(ledger, s) for s in find_stale_runs(ledger, statuses.get, GRACE)]


def test_run_whose_dagster_run_failed_is_failed_and_settled(db, ledger, make_user, make_run):
    user = make_user(credits=1000)
    dagster_id = str(uuid.uuid4())
    run = make_run(
        user,
        status="running",
        started_at=datetime.now(UTC),
        dagster_run_id=dagster_id,
        tasks=[
            ("social_media", "youtube", "completed", 12),
            ("social_media", "x_twitter", "running"),
            ("news_media", "gdelt", "pending"),
        ],
    )
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 100)
    ledger.reserve(LedgerKey(user, run, "social_media", "x_twitter", "medium"), 50)
    ledger.reserve(LedgerKey(user, run, "news_media", "gdelt", "medium"), 5)
    assert ledger.unsettled_finished_runs() == []  # still "running": the old job never saw it

    (healed,) = heal_all(ledger, {dagster_id: "FAILURE"})

    assert healed.collection_run_id == run and healed.tasks_failed == 2
    assert healed.settlement.settled == {"social_media/youtube": 12}
    assert healed.settlement.refunded == {"social_media/x_twitter": 50, "news_media/gdelt": 5}
    assert ledger.get_balance(user).available == 988
    row, tasks = state(db, run)
    assert row.status == "failed" and row.credits_spent == 12
    assert row.error_log == (
        f"worker lost: Dagster run {dagster_id} FAILURE ended while the collection run was running"
    )
    assert tasks["youtube"] == "completed: "
    assert tasks["x_twitter"].startswith("failed: not finished: worker lost: Dagster run")
    assert tasks["gdelt"].startswith("failed: not finished: worker lost")

    assert heal_all(ledger, {dagster_id: "FAILURE"}) == []  # idempotent: nothing open any more
    assert settle_finished_run(ledger, run).refunded == {}
    assert ledger.get_balance(user).available == 988


@pytest.mark.parametrize("dagster_status", ["SUCCESS", "CANCELED"])
def test_any_finished_dagster_status_counts(db, ledger, make_user, make_run, dagster_status):
    user = make_user(credits=100)
    dagster_id = str(uuid.uuid4())
    run = make_run(
        user,
        status="pending",
        dagster_run_id=dagster_id,
        tasks=[("news_media", "gdelt", "pending")],
    )
    ledger.reserve(LedgerKey(user, run, "news_media", "gdelt", "free"), 40)
    (healed,) = heal_all(ledger, {dagster_id: dagster_status})
    assert healed.settlement.refunded == {"news_media/gdelt": 40}
    assert f"{dagster_id} {dagster_status} ended" in state(db, run)[0].error_log
    assert "collection run was pending" in state(db, run)[0].error_log
    assert ledger.get_balance(user).available == 100


def test_unknown_dagster_run_is_dead_only_after_the_grace_period(db, ledger, make_user, make_run):
    user = make_user(credits=1000)
    old_started = datetime.now(UTC) - timedelta(hours=7)
    old = make_run(
        user,
        status="running",
        started_at=old_started,
        dagster_run_id=str(uuid.uuid4()),
        tasks=[("social_media", "youtube", "running")],
    )
    recent = make_run(
        user,
        status="running",
        started_at=datetime.now(UTC) - timedelta(hours=5),
        dagster_run_id=str(uuid.uuid4()),
        tasks=[("social_media", "youtube", "running")],
    )
    outside = make_run(  # started outside Dagster (no id), long ago
        user, status="running", started_at=old_started, tasks=[("news_media", "gdelt", "running")]
    )
    for run in (old, recent, outside):
        ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 100)
    backdate(db, old, 7)
    backdate(db, outside, 6.5)
    backdate(db, recent, 5)
    assert ledger.get_balance(user).available == 700

    healed = heal_all(ledger, {})  # the instance knows none of them

    assert {h.collection_run_id for h in healed} == {old, outside}
    assert ledger.get_balance(user).available == 900  # recent still holds its 100
    assert state(db, recent)[0].status == "running"
    old_log = state(db, old)[0].error_log
    assert "unknown to this instance and no activity since" in old_log and "(over 6 h)" in old_log
    assert "worker lost: no Dagster run and no activity since" in state(db, outside)[0].error_log


def test_alive_dagster_run_or_a_failing_lookup_leaves_the_run_alone(
    db, ledger, make_user, make_run
):
    user = make_user(credits=1000)
    alive_id, flaky_id = str(uuid.uuid4()), str(uuid.uuid4())
    week_ago = datetime.now(UTC) - timedelta(days=7)
    alive = make_run(
        user, status="running", started_at=week_ago, dagster_run_id=alive_id,
        tasks=[("social_media", "youtube", "running")],
    )  # fmt: skip
    flaky = make_run(
        user, status="running", started_at=week_ago, dagster_run_id=flaky_id,
        tasks=[("social_media", "youtube", "running")],
    )  # fmt: skip
    just_created = make_run(user, status="pending")  # created now: not idle
    for run in (alive, flaky):
        ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 10)
        backdate(db, run, 24 * 7)

    def lookup(run_id: str) -> str | None:
        if run_id == flaky_id:
            raise ConnectionError("run storage unavailable")
        return {alive_id: "STARTED"}.get(run_id)

    assert find_stale_runs(ledger, lookup, GRACE) == []
    assert [state(db, r)[0].status for r in (alive, flaky, just_created)] == [
        "running",
        "running",
        "pending",
    ]
    assert ledger.get_balance(user).available == 980


def test_a_run_that_finishes_meanwhile_is_not_overwritten(db, ledger, make_user, make_run):
    user = make_user(credits=100)
    dagster_id = str(uuid.uuid4())
    run = make_run(
        user, status="running", dagster_run_id=dagster_id,
        tasks=[("news_media", "gdelt", "completed", 3)],
    )  # fmt: skip
    ledger.reserve(LedgerKey(user, run, "news_media", "gdelt", "medium"), 10)
    (stale,) = find_stale_runs(ledger, {dagster_id: "SUCCESS"}.get, GRACE)
    with db.begin() as conn:  # the worker writes its end between the check and the heal
        conn.execute(
            text("UPDATE collection_runs SET status = 'completed' WHERE id = :r"), {"r": run}
        )
    assert heal_stale_run(ledger, stale) is None
    row, _ = state(db, run)
    assert row.status == "completed" and row.error_log is None
    assert ledger.get_balance(user).available == 90  # left to the ordinary settlement


def test_grace_must_be_positive(ledger):
    with pytest.raises(ValueError, match="grace must be a positive timedelta"):
        find_stale_runs(ledger, {}.get, timedelta(0))


def test_pending_run_idle_past_the_grace_period_is_healed(db, ledger, make_user, make_run):
    """Created 7 h ago, never started (its worker died before the first task): its creation
    time is its age; the reservation comes back."""
    user = make_user(credits=100)
    stuck = make_run(user, status="pending", tasks=[("news_media", "gdelt", "pending")])
    fresh = make_run(user, status="pending", tasks=[("news_media", "gdelt", "pending")])
    for run in (stuck, fresh):
        ledger.reserve(LedgerKey(user, run, "news_media", "gdelt", "medium"), 10)
    backdate(db, stuck, 7)

    (healed,) = heal_all(ledger, {})

    assert healed.collection_run_id == stuck
    assert healed.settlement.refunded == {"news_media/gdelt": 10}
    row, tasks = state(db, stuck)
    assert row.status == "failed" and "no Dagster run and no activity since" in row.error_log
    assert "while the collection run was pending" in row.error_log
    assert tasks["gdelt"].startswith("failed: not finished: worker lost")
    assert state(db, fresh)[0].status == "pending"
    assert ledger.get_balance(user).available == 90


def test_a_recent_heartbeat_keeps_a_long_running_run_alive(db, ledger, make_user, make_run):
    """Started a week ago, Dagster run unknown, but its task stored a page a minute ago."""
    user = make_user(credits=100)
    run = make_run(
        user, status="running", started_at=datetime.now(UTC) - timedelta(days=7),
        dagster_run_id=str(uuid.uuid4()), tasks=[("social_media", "youtube", "running")],
    )  # fmt: skip
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 10)
    backdate(db, run, 24 * 7)
    with db.begin() as conn:
        conn.execute(
            text(
                "UPDATE collection_tasks SET heartbeat_at = now() - interval '1 minute'"
                " WHERE collection_run_id = :r"
            ),
            {"r": run},
        )
    assert find_stale_runs(ledger, {}.get, GRACE) == []
    with db.begin() as conn:  # the heartbeat stops: a week of silence
        conn.execute(
            text(
                "UPDATE collection_tasks SET heartbeat_at = now() - interval '7 days'"
                " WHERE collection_run_id = :r"
            ),
            {"r": run},
        )
    (stale,) = find_stale_runs(ledger, {}.get, GRACE)
    assert stale.collection_run_id == run
