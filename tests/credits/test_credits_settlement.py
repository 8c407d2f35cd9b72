"""Healing runs that finished without settling their reservations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from observatory_pipelines.credits.settlement import _split


def test_completed_run_is_charged_what_it_spent(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(
        user,
        status="completed",
        credits_spent=50,
        completed_at=datetime.now(UTC),
        tasks=[
            ("social_media", "youtube", "completed"),
            ("social_media", "x_twitter", "completed"),
            ("news_media", "google_search", "failed"),
        ],
    )
    ledger.reserve(user, run, "social_media", "youtube", "medium", 60)
    ledger.reserve(user, run, "social_media", "x_twitter", "medium", 20)
    ledger.reserve(user, run, "news_media", "google_search", "medium", 30)
    assert [r.collection_run_id for r in ledger.unsettled_finished_runs()] == [run]

    outcome = ledger.settle_finished_run(run)
    # 50 split 60:20 is 37.5 / 12.5; the tie goes to the first key in (arena, platform) order.
    assert outcome.settled == {"social_media/x_twitter": 13, "social_media/youtube": 37}
    assert outcome.refunded == {"news_media/google_search": 30}
    assert ledger.get_balance(user).available == 950
    assert ledger.unsettled_finished_runs() == []

    again = ledger.settle_finished_run(run)  # nothing left open: nothing changes
    assert again.settled == {} and again.refunded == {}
    assert ledger.get_balance(user).available == 950


def test_completed_run_counts_settlements_already_written(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(
        user,
        status="completed",
        credits_spent=70,
        tasks=[
            ("social_media", "youtube", "completed"),
            ("social_media", "x_twitter", "completed"),
        ],
    )
    ledger.reserve(user, run, "social_media", "youtube", "medium", 60)
    ledger.reserve(user, run, "social_media", "x_twitter", "medium", 40)
    ledger.settle(user, run, "social_media", "youtube", "medium", 45)  # then the worker died
    outcome = ledger.settle_finished_run(run)
    assert outcome.settled == {"social_media/x_twitter": 25}
    assert ledger.get_balance(user).available == 930


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_failed_or_cancelled_run_is_refunded(ledger, make_user, make_run, status):
    user = make_user(credits=1000)
    run = make_run(
        user, status=status, credits_spent=10, tasks=[("social_media", "youtube", "completed")]
    )
    ledger.reserve(user, run, "social_media", "youtube", "medium", 100)
    outcome = ledger.settle_finished_run(run)
    assert outcome.refunded == {"social_media/youtube": 100} and outcome.settled == {}
    assert ledger.get_balance(user).available == 1000


def test_running_runs_are_left_alone(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(user, status="running")
    ledger.reserve(user, run, "social_media", "youtube", "medium", 100)
    assert ledger.unsettled_finished_runs() == []
    with pytest.raises(ValueError, match="is not finished"):
        ledger.settle_finished_run(run)
    assert ledger.get_balance(user).available == 900


def test_older_than_filters_by_finish_time(ledger, make_user, make_run):
    user = make_user(credits=1000)
    now = datetime.now(UTC)
    old = make_run(user, status="failed", completed_at=now - timedelta(days=2))
    recent = make_run(user, status="failed", completed_at=now - timedelta(hours=1))
    for run in (old, recent):
        ledger.reserve(user, run, "social_media", "youtube", "medium", 10)
    stale = ledger.unsettled_finished_runs(older_than=timedelta(days=1))
    assert [r.collection_run_id for r in stale] == [old]
    assert stale[0].open_credits == 10 and stale[0].open_reservations == 1
    assert {r.collection_run_id for r in ledger.unsettled_finished_runs()} == {old, recent}


def test_split_is_proportional_and_exact():
    assert _split(50, [60, 20]) == [38, 12]
    assert _split(10, [1, 1, 1]) == [4, 3, 3]
    assert _split(7, [0, 0]) == [4, 3]
    assert _split(0, [5, 5]) == [0, 0]
    assert sum(_split(1001, [3, 7, 11, 13])) == 1001
