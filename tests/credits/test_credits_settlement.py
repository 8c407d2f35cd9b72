"""Healing runs that finished without settling their reservations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from observatory_pipelines.collection.sweep import settle_finished_run
from observatory_pipelines.credits.common import LedgerKey


def test_completed_run_charges_each_task_its_own_cost(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(
        user,
        status="completed",
        credits_spent=50,
        completed_at=datetime.now(UTC),
        tasks=[
            ("social_media", "youtube", "completed", 48),
            ("social_media", "x_twitter", "completed", 2),
            ("news_media", "google_search", "failed", 0),
        ],
    )
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 60)
    ledger.reserve(LedgerKey(user, run, "social_media", "x_twitter", "medium"), 20)
    ledger.reserve(LedgerKey(user, run, "news_media", "google_search", "medium"), 30)
    assert [r.collection_run_id for r in ledger.unsettled_finished_runs()] == [run]

    outcome = settle_finished_run(ledger, run)
    # Not 50 split 60:20 (38 / 12): what each task recorded.
    assert outcome.settled == {"social_media/x_twitter": 2, "social_media/youtube": 48}
    assert outcome.refunded == {"news_media/google_search": 30}
    assert ledger.get_balance(user).available == 950
    assert ledger.unsettled_finished_runs() == []

    again = settle_finished_run(ledger, run)  # nothing left open: nothing changes
    assert again.settled == {} and again.refunded == {}
    assert ledger.get_balance(user).available == 950


def test_settlements_already_written_are_not_charged_again(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(
        user,
        status="completed",
        credits_spent=70,
        tasks=[
            ("social_media", "youtube", "completed", 45),
            ("social_media", "x_twitter", "completed", 25),
        ],
    )
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 60)
    ledger.reserve(LedgerKey(user, run, "social_media", "x_twitter", "medium"), 40)
    ledger.settle(
        LedgerKey(user, run, "social_media", "youtube", "medium"), 45
    )  # then the worker died
    outcome = settle_finished_run(ledger, run)
    assert outcome.settled == {"social_media/x_twitter": 25}
    assert ledger.get_balance(user).available == 930


def test_free_completed_task_is_charged_zero(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(
        user, status="completed", credits_spent=0, tasks=[("news_media", "rss_feeds", "completed")]
    )
    ledger.reserve(LedgerKey(user, run, "news_media", "rss_feeds", "free"), 5)
    assert settle_finished_run(ledger, run).settled == {"news_media/rss_feeds": 0}
    assert ledger.get_balance(user).available == 1000


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_failed_or_cancelled_run_refunds_every_unfinished_task(ledger, make_user, make_run, status):
    user = make_user(credits=1000)
    run = make_run(
        user,
        status=status,
        credits_spent=0,
        tasks=[("social_media", "youtube", "failed", 0), ("social_media", "x_twitter", "running")],
    )
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 100)
    ledger.reserve(LedgerKey(user, run, "social_media", "x_twitter", "medium"), 10)
    ledger.reserve(
        LedgerKey(user, run, "news_media", "google_search", "medium"), 7
    )  # no task row at all
    outcome = settle_finished_run(ledger, run)
    assert outcome.settled == {}
    assert outcome.refunded == {
        "social_media/youtube": 100,
        "social_media/x_twitter": 10,
        "news_media/google_search": 7,
    }
    assert ledger.get_balance(user).available == 1000


def test_failed_run_still_charges_a_task_that_completed(ledger, make_user, make_run):
    """The worker completed one arena, recorded its cost and died before the ledger heard of it;
    the run was then marked failed. The completed arena's work is kept, so is its charge."""
    user = make_user(credits=1000)
    run = make_run(
        user,
        status="failed",
        tasks=[
            ("social_media", "youtube", "completed", 12),
            ("social_media", "x_twitter", "failed"),
        ],
    )
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 100)
    ledger.reserve(LedgerKey(user, run, "social_media", "x_twitter", "medium"), 50)
    outcome = settle_finished_run(ledger, run)
    assert outcome.settled == {"social_media/youtube": 12}
    assert outcome.refunded == {"social_media/x_twitter": 50}
    assert ledger.get_balance(user).available == 988


def test_running_runs_are_left_alone(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(user, status="running")
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 100)
    assert ledger.unsettled_finished_runs() == []
    with pytest.raises(ValueError, match="is not finished"):
        settle_finished_run(ledger, run)
    assert ledger.get_balance(user).available == 900


def test_older_than_filters_by_finish_time(ledger, make_user, make_run):
    user = make_user(credits=1000)
    now = datetime.now(UTC)
    old = make_run(user, status="failed", completed_at=now - timedelta(days=2))
    recent = make_run(user, status="failed", completed_at=now - timedelta(hours=1))
    for run in (old, recent):
        ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 10)
    stale = ledger.unsettled_finished_runs(older_than=timedelta(days=1))
    assert [r.collection_run_id for r in stale] == [old]
    assert stale[0].open_credits == 10 and stale[0].open_reservations == 1
    assert {r.collection_run_id for r in ledger.unsettled_finished_runs()} == {old, recent}
