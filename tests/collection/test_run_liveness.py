"""A working task's heartbeat keeps the sweep off it; a healed run stays healed; a run's counters
are the sums of its tasks'. Real runs (fake collectors over HTTP on 127.0.0.1), real Postgres."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from observatory_pipelines.arenas import registry
from observatory_pipelines.arenas.base import CollectionRequest, Page
from observatory_pipelines.collection.credential_pool import add_credential
from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.collection.sweep import find_stale_runs, sweep
from observatory_pipelines.credits.ledger import CreditLedger
from tests.collection.conftest import rows

from .conftest import FakeNews, item, make_design, make_user

FROM = datetime(2026, 3, 1, tzinfo=UTC)
TO = datetime(2026, 3, 8, tzinfo=UTC)
GRACE = timedelta(hours=6)


class PausingNews(FakeNews):
    """FakeNews that calls ``after_page(n)`` once page n was handed over (and stored)."""

    platform = "pausing_news"
    after_page: Callable[[int], None] | None = None

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        for n, page in enumerate(super().collect(request)):
            yield page
            if PausingNews.after_page is not None:
                PausingNews.after_page(n)


@pytest.fixture()
def pausing(fake_collectors):
    registry.register(PausingNews)
    yield PausingNews
    PausingNews.after_page = None
    registry._collectors.pop(PausingNews.platform, None)


def age_run(db, hours: float, *, heartbeat: bool) -> None:
    """Everything the run wrote looks ``hours`` older; its tasks' heartbeats too if asked."""
    shift = {"s": hours * 3600}
    with db.begin() as conn:
        conn.execute(
            text(
                "UPDATE collection_runs SET created_at = created_at - make_interval(secs => :s),"
                " started_at = started_at - make_interval(secs => :s)"
            ),
            shift,
        )
        conn.execute(
            text(
                "UPDATE collection_tasks SET started_at = started_at - make_interval(secs => :s)"
                + (", heartbeat_at = heartbeat_at - make_interval(secs => :s)" if heartbeat else "")
            ),
            shift,
        )
        conn.execute(
            text(
                "UPDATE credit_transactions SET created_at = created_at - make_interval(secs => :s)"
            ),
            shift,
        )


def assert_run_counters_are_task_sums(db, run_id: str) -> dict:
    (sums,) = rows(
        db,
        "SELECT r.records_collected AS run_records, r.credits_spent AS run_credits,"
        " sum(t.records_collected) AS task_records, sum(t.credits_spent) AS task_credits"
        " FROM collection_runs r JOIN collection_tasks t ON t.collection_run_id = r.id"
        " WHERE r.id = :r GROUP BY r.id",
        r=run_id,
    )
    assert (sums["run_records"], sums["run_credits"]) == (
        sums["task_records"],
        sums["task_credits"],
    )
    return dict(sums)


def test_a_working_task_with_a_recent_heartbeat_is_not_healed(db, json_server, pausing):
    """Started 7 h ago, its Dagster run unknown to the instance, but it stored a page just now."""
    json_server.feed("slow-news", [[item(1)], [item(2)], [item(3)]])
    user = make_user(db, credits=10)
    design = make_design(
        db,
        user,
        {
            "arenas": {
                "pausing_news": {"tier": "premium", "feed": "slow-news", "estimated_units": 900}
            }
        },
    )
    verdicts: list = []

    def sweep_after_first_page(n: int) -> None:
        if n == 0:
            age_run(db, 7, heartbeat=False)
            verdicts.append(find_stale_runs(CreditLedger(db), {}.get, GRACE))

    pausing.after_page = sweep_after_first_page
    report = start_run(db, design, FROM, TO, dagster_run_id=str(uuid.uuid4()))

    assert verdicts == [[]]
    assert report.status == "completed"
    (task,) = rows(db, "SELECT status, records_collected, heartbeat_at FROM collection_tasks")
    assert task["status"] == "completed" and task["records_collected"] == 3
    assert task["heartbeat_at"] is not None
    assert CreditLedger(db).get_balance(user).available == 10 - 2  # 300 units at premium


def test_a_run_healed_while_its_worker_still_works_is_never_revived(db, json_server, pausing):
    """The sweep fails the run between two pages (no heartbeat for 7 h); the worker's next page
    finds its task closed and stops; nothing reopens the run or charges it, and the run's
    counters still add up to what its task stored."""
    json_server.feed("revived-news", [[item(1)], [item(2)], [item(3)]])
    user = make_user(db, credits=10)
    design = make_design(
        db,
        user,
        {
            "arenas": {
                "pausing_news": {"tier": "premium", "feed": "revived-news", "estimated_units": 900}
            }
        },
    )
    healed: list = []

    def heal_after_first_page(n: int) -> None:
        if n == 0:
            age_run(db, 7, heartbeat=True)
            healed.append(sweep(CreditLedger(db), {}.get, GRACE).dead_runs_healed)

    pausing.after_page = heal_after_first_page
    report = start_run(db, design, FROM, TO, dagster_run_id=str(uuid.uuid4()))

    assert healed == [1]
    assert report.status == "failed"
    (run,) = rows(db, "SELECT id, status, error_log, completed_at FROM collection_runs")
    assert run["status"] == "failed" and run["error_log"].startswith("worker lost: Dagster run")
    (task,) = rows(db, "SELECT status, error_message, rate_limit_state FROM collection_tasks")
    assert task["status"] == "failed"
    assert task["error_message"].startswith("not finished: worker lost: Dagster run")
    assert task["rate_limit_state"] == {"requests": 2}  # stopped at the page after the heal
    assert CreditLedger(db).get_balance(user).available == 10  # released, never charged
    stored = rows(
        db, "SELECT count(*) AS n FROM content_records WHERE collection_run_id = :r", r=run["id"]
    )
    sums = assert_run_counters_are_task_sums(db, run["id"])
    assert sums["run_records"] == stored[0]["n"] == 2


def test_run_counters_are_the_sums_of_their_tasks(db, json_server):
    """One arena charged less than it cost (the user ran out: capped), one failing mid-way with
    its first page kept: the run's records and credits are what its tasks recorded."""
    json_server.feed("many-pages", [[item(n)] for n in range(10)])
    json_server.feed("half-social", [[item(20), item(21)], (500, {"error": "boom"})])
    add_credential(db, "fake_social", "key", {"api_key": "good-key"})
    user = make_user(db, credits=2)
    config = {
        "arenas": {
            "fake_news": {"tier": "premium", "feed": "many-pages", "estimated_units": 100},
            "fake_social": {"tier": "free", "feed": "half-social"},
        }
    }
    report = start_run(db, make_design(db, user, config), FROM, TO)

    by = {a.platform: a for a in report.arenas}
    assert (by["fake_news"].status, by["fake_social"].status) == ("completed", "failed")
    tasks = {
        t["platform"]: t
        for t in rows(db, "SELECT platform, records_collected, credits_spent FROM collection_tasks")
    }
    assert tasks["fake_news"]["records_collected"] == 10
    assert tasks["fake_social"]["records_collected"] == 2
    # 1,000 units at premium cost 5 credits; the user had 2: charged 2, the task says so.
    assert tasks["fake_news"]["credits_spent"] == 2 == by["fake_news"].credits_spent
    sums = assert_run_counters_are_task_sums(db, report.run_id)
    assert (sums["run_records"], sums["run_credits"]) == (12, 2)
    assert (report.records_collected, report.credits_spent) == (12, 2)
    assert CreditLedger(db).get_balance(user).available == 0
