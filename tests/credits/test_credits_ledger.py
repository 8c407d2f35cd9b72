"""Balance arithmetic and the reserve / settle / refund rows, against real Postgres."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from observatory_pipelines.credits.common import (
    Balance,
    InsufficientCredits,
    InvalidLedgerRequest,
    LedgerError,
    LedgerKey,
    LedgerUnavailable,
    ReservationConflict,
    SettlementConflict,
    UnknownReservation,
    UnknownUser,
)
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.db.models import CreditTransaction


def tx_rows(engine, run_id) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(CreditTransaction.transaction_type, CreditTransaction.credits_consumed)
            .where(CreditTransaction.collection_run_id == run_id)
            .order_by(CreditTransaction.transaction_type)
        )
        return [tuple(r) for r in rows]


def tx_count(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(CreditTransaction))


def test_balance_counts_only_allocations_valid_today(ledger, make_user, allocate):
    today = ledger.today()
    user = make_user(credits=100, valid_from=today, valid_until=today)  # valid exactly today
    allocate(user, 1000, today - timedelta(days=60), today - timedelta(days=1))  # expired
    allocate(user, 5000, today + timedelta(days=1))  # not yet valid
    allocate(user, 20, today - timedelta(days=5))  # open-ended
    assert ledger.get_balance(user) == Balance(
        allocated=120, reserved=0, settled=0, refunded=0, available=120
    )


def test_validity_is_judged_on_the_utc_date(db, make_user, allocate):
    # 00:30 in Copenhagen on 2 March is still 1 March in UTC.
    local = timezone(timedelta(hours=2))
    ledger = CreditLedger(db, clock=lambda: datetime(2026, 3, 2, 0, 30, tzinfo=local))
    assert ledger.today() == date(2026, 3, 1)
    user = make_user(credits=None)
    allocate(user, 10, date(2026, 2, 1), date(2026, 3, 1))  # last valid day = UTC today
    allocate(user, 500, date(2026, 3, 2))  # starts on the local date, not yet in UTC
    assert ledger.get_balance(user).allocated == 10

    later = CreditLedger(db, clock=lambda: datetime(2026, 3, 2, 0, 30, tzinfo=UTC))
    assert later.get_balance(user).allocated == 500


def test_naive_clock_is_refused(db):
    ledger = CreditLedger(db, clock=lambda: datetime(2026, 3, 2))
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger.today()


def test_reserve_then_settle_costs_exactly_the_actual(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(user)
    before = ledger.get_balance(user).available
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 100)
    assert ledger.get_balance(user).available == before - 100
    ledger.settle(LedgerKey(user, run, "social_media", "youtube", "medium"), 60)
    balance = ledger.get_balance(user)
    assert balance.available == before - 60
    assert (balance.reserved, balance.settled, balance.refunded) == (100, 60, 100)
    assert tx_rows(ledger.engine, run) == [
        ("refund", 100),
        ("reservation", 100),
        ("settlement", 60),
    ]


def test_failed_run_is_refunded_in_full(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(user)
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 100)
    ledger.release(LedgerKey(user, run, "social_media", "youtube", "medium"))
    assert ledger.get_balance(user).available == 1000
    assert tx_rows(ledger.engine, run) == [("refund", 100), ("reservation", 100)]


def test_settle_and_release_again_change_nothing(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(user)
    key = LedgerKey(user, run, "social_media", "youtube", "medium")
    ledger.reserve(key, 100)
    ledger.settle(key, 60)
    after_first = ledger.get_balance(user)
    rows = tx_count(ledger.engine)
    assert ledger.settle(key, 60).charged == 60  # same actual: an idempotent no-op
    assert ledger.release(key) == 0  # already closed: nothing held, nothing released
    assert ledger.get_balance(user) == after_first
    assert tx_count(ledger.engine) == rows


def test_second_settle_with_another_amount_is_a_conflict(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(user)
    key = LedgerKey(user, run, "social_media", "youtube", "medium")
    ledger.reserve(key, 100)
    ledger.settle(key, 60)
    rows = tx_count(ledger.engine)
    with pytest.raises(SettlementConflict, match="cannot settle .* at 90: already settled at 60"):
        ledger.settle(key, 90)
    released = LedgerKey(user, run, "social_media", "x_twitter", "medium")
    ledger.reserve(released, 10)
    ledger.release(released)
    with pytest.raises(SettlementConflict, match="was released without a charge"):
        ledger.settle(released, 5)
    assert tx_count(ledger.engine) == rows + 2  # the reservation and its release only
    assert ledger.get_balance(user).available == 940


def test_a_partial_charge_is_a_settle_of_the_part_used(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(user)
    key = LedgerKey(user, run, "news_media", "google_search", "medium")
    ledger.reserve(key, 100)
    ledger.settle(key, 70)
    assert ledger.get_balance(user).available == 930


def test_settle_above_reservation_is_capped_at_what_the_user_has(ledger, make_user, make_run):
    user = make_user(credits=30)
    run = make_run(user)
    key = LedgerKey(user, run, "social_media", "x_twitter", "medium")
    ledger.reserve(key, 10)  # available 20
    within = ledger.settle(key, 25)  # 25 <= 10 reserved + 20 available: charged in full
    assert (within.charged, within.uncharged) == (25, 0)
    assert ledger.get_balance(user).available == 5

    run2 = make_run(user)
    key2 = LedgerKey(user, run2, "social_media", "x_twitter", "medium")
    ledger.reserve(key2, 4)  # available 1
    capped = ledger.settle(key2, 50)  # only 4 + 1 can be charged
    assert (capped.actual, capped.charged, capped.uncharged) == (50, 5, 45)
    assert ledger.get_balance(user).available == 0
    assert tx_rows(ledger.engine, run2) == [
        ("refund", 4),
        ("reservation", 4),
        ("settlement", 5),
        ("uncharged", 45),
    ]
    assert ledger.settle(key2, 50).charged == 5  # the same actual again: no-op
    with pytest.raises(SettlementConflict, match="already settled at 50"):
        ledger.settle(key2, 5)
    assert ledger.get_balance(user).available == 0


def test_insufficient_credits_is_a_clear_error_and_writes_nothing(ledger, make_user, make_run):
    user = make_user(credits=50)
    run = make_run(user)
    with pytest.raises(InsufficientCredits) as info:
        ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 51)
    assert str(info.value) == "insufficient credits: need 51, available 50"
    assert (info.value.needed, info.value.available) == (51, 50)
    assert info.value.collection_run_id == run
    assert isinstance(info.value, LedgerError)
    assert tx_count(ledger.engine) == 0
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 50)  # exactly enough
    assert ledger.get_balance(user).available == 0


def test_reserve_is_idempotent_per_key_and_refuses_a_closed_key(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(user)
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 40)
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 40)
    assert ledger.get_balance(user).reserved == 40
    with pytest.raises(ReservationConflict, match="already holds a reservation of 40"):
        ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 70)
    ledger.settle(LedgerKey(user, run, "social_media", "youtube", "medium"), 40)
    with pytest.raises(ReservationConflict, match="already settled"):
        ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 40)
    assert ledger.get_balance(user).available == 960


def test_database_errors_are_wrapped_with_the_run_id(ledger, make_user):
    user = make_user(credits=1000)
    missing_run = uuid.uuid4()  # violates the collection_runs foreign key
    with pytest.raises(LedgerUnavailable) as info:
        ledger.reserve(LedgerKey(user, missing_run, "social_media", "youtube", "medium"), 5)
    assert info.value.collection_run_id == missing_run
    assert "ForeignKeyViolation" in str(info.value)
    assert tx_count(ledger.engine) == 0


@pytest.mark.parametrize(
    ("arena", "platform", "credits", "message"),
    [
        ("", "youtube", 5, "arena and platform are required"),
        ("social_media", "youtube", -1, "non-negative integer"),
        ("social_media", "youtube", 2.5, "non-negative integer"),
    ],
)
def test_bad_input_is_refused_by_name(
    ledger, make_user, make_run, arena, platform, credits, message
):
    user = make_user(credits=1000)
    run = make_run(user)
    with pytest.raises(InvalidLedgerRequest, match=message):
        ledger.reserve(LedgerKey(user, run, arena, platform, "medium"), credits)
    with pytest.raises(InvalidLedgerRequest, match="collection_run_id must be a UUID"):
        LedgerKey(user, "not-a-uuid", "social_media", "youtube", "medium")
    with pytest.raises(InvalidLedgerRequest, match="user_id must be a UUID"):
        LedgerKey("nobody", run, "social_media", "youtube", "medium")
    assert tx_count(ledger.engine) == 0


def test_settle_or_release_without_reservation_is_refused_naming_the_key(
    ledger, make_user, make_run
):
    user = make_user(credits=100)
    run = make_run(user)
    key = LedgerKey(user, run, "news_media", "rss_feeds", "free")
    with pytest.raises(UnknownReservation) as info:
        ledger.settle(key, 5000)
    assert str(info.value) == (
        f"cannot settle run {run} news_media/rss_feeds (user {user}): it was never reserved"
    )
    assert info.value.collection_run_id == run
    with pytest.raises(UnknownReservation, match=f"cannot release run {run} news_media/rss_feeds"):
        ledger.release(key)
    assert tx_count(ledger.engine) == 0
    assert ledger.get_balance(user).available == 100
    ledger.reserve(key, 10)  # the key was not closed by the refused calls
    assert ledger.get_balance(user).available == 90


def test_settle_by_another_user_is_refused(ledger, make_user, make_run):
    owner, other = make_user(credits=100), make_user(credits=100)
    run = make_run(owner)
    ledger.reserve(LedgerKey(owner, run, "social_media", "youtube", "medium"), 10)
    with pytest.raises(ReservationConflict, match=f"reserved by user {owner}"):
        ledger.settle(LedgerKey(other, run, "social_media", "youtube", "medium"), 10)
    assert ledger.get_balance(other).available == 100


def test_reserve_for_an_unknown_user_says_so(ledger, make_user, make_run):
    run = make_run(make_user(credits=100))
    ghost = uuid.uuid4()
    with pytest.raises(UnknownUser) as info:
        ledger.reserve(LedgerKey(ghost, run, "social_media", "youtube", "medium"), 10)
    assert str(info.value) == (
        f"unknown user {ghost}: cannot reserve for social_media/youtube of run {run}"
    )
    assert info.value.collection_run_id == run
    assert tx_count(ledger.engine) == 0
